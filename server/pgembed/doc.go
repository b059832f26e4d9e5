// Package pgembed runs certctl's embedded default database: a private
// PostgreSQL cluster that certctl-server creates under its data directory and
// supervises as a child process, using the PostgreSQL server binaries
// (initdb, postgres) already installed on the machine. Nothing is downloaded.
//
// # Layout
//
// Everything lives in Options.DataDir:
//
//	pgdata/              the PostgreSQL data directory (initdb'd on first start)
//	superuser-password   the random password of the "postgres" role (0600)
//	pgembed.lock         held (flock) by the process that runs the cluster
//	run/                 the Unix socket directory (0700)
//
// # Connections and authentication
//
// The cluster listens on a Unix socket only (listen_addresses is empty, so
// there is no TCP port to protect). The socket lives in a 0700 directory owned
// by the cluster's user; when DataDir is so long that the socket path would
// pass the kernel's limit (about 100 bytes), a short private directory from
// os.MkdirTemp is used instead and removed by Stop. On top of that the
// superuser authenticates with scram-sha-256 and a random password kept in
// DataDir (0600, readable only by the user that runs certctl-server), so a
// process that happens to share the cluster's OS user (the "nobody" fallback
// below) still cannot log in. Applications log in as the owner role that
// CreateDatabase makes for their database, which is no superuser: its
// sessions cannot read the machine's files or run its programs.
//
// # Environment
//
// initdb, postgres and pg_config get only PATH, TZ and LC_ALL=C (see
// childEnv), never this process' own variables such as
// CERTCTL_ENCRYPTION_KEY.
//
// # Users
//
// PostgreSQL refuses to run as root. When certctl-server runs as root (CI,
// containers), initdb and postgres run as the "postgres" system user, or as
// "nobody" when there is none: DataDir is chowned to that user and the
// children get its credentials. That user must be able to traverse every
// parent directory of DataDir; directories that Start creates are made 0711
// for that reason, and Start fails with a clear message naming the directory
// when an existing parent is closed (for example a 0700 directory owned by
// root).
//
// # Crash safety
//
// Durability settings keep PostgreSQL's defaults (fsync on); Options.Fast
// turns them off and is for tests only. A postmaster that exits while the
// cluster runs is restarted in place (after its orphaned backends are
// gone; PostgreSQL runs crash recovery), with the same socket and roles, so
// connection URLs stay valid; the delay doubles from half a second at each
// failure, and after the sixth failure within ten minutes the cluster gives
// up: Done closes and Err says why. On Linux the postmaster gets a
// parent-death signal (SIGINT, PostgreSQL's "fast" shutdown), so it shuts down
// cleanly when certctl-server dies, even by SIGKILL. The data directory lock
// is released by the kernel when its holder dies, so a later Start knows that
// any postgres still serving the directory was left behind; it stops that
// process (and, on Linux, its orphaned backends) before starting a new one,
// and removes a postmaster.pid whose process id now belongs to an unrelated
// process. A second Start on a DataDir in use fails instead of interfering.
package pgembed
