// Package secretscan holds the secret scan, a test of the built binaries
// in bin/ (`make test` builds them first): one end-to-end run of
// certctl-server on its embedded PostgreSQL and a certctl-agent (a local CA
// given its own private key, server-key and agent-key certificates, every
// built-in notifier type with secrets, private key export, renewal,
// revocation, an agent deployment, an API key and an enrollment token),
// after which every place a secret could end up is searched for the
// secrets used: the server's and the agent's output, every API reply, the
// audit trail, a pg_dump of the database, the environment of every process
// the server and the agent started (PostgreSQL's and the plugins'), every
// file under the server's data directory and the agent's state directory.
// The few replies and files whose purpose is to hold a secret are listed
// in the test, by name; anything else that holds one fails the test, saying
// which secret was found where.
package secretscan
