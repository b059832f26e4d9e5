#!/usr/bin/env bash
# make load-agents: a simulated fleet of agents against one real server on
# this machine. Starts bin/certctl-server on its embedded PostgreSQL with a
# fresh data directory on a free loopback port, waits until it is ready,
# runs tools/agentload against it (arguments are passed on, e.g.
# -agents 1000 -duration 60s), then stops the server and removes every
# file it made, also when something fails or on Ctrl-C.
#
# Server settings come from the environment as usual, e.g.
#   CERTCTL_DB_MAX_CONNS=40 make load-agents
# AGENTLOAD_SERVER_LOG=<file> keeps a copy of the server's log.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${LOAD_BIN_DIR:-$PWD/bin} # another build to compare with, e.g. of an earlier commit
[ -x "$BIN/certctl-server" ] || { echo "load-agents: $BIN/certctl-server is missing: run make build"; exit 2; }
command -v curl >/dev/null || { echo "load-agents: curl is needed (apt-get install curl)"; exit 2; }

# Each simulated agent holds a connection, so the server and the load
# generator each need more than one descriptor per agent. Raise the limit
# for this script's children where allowed (root may raise the hard limit),
# so that an overloaded run shows as latency, not as "too many open files".
want_files=65536
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want_files" ]; then
  ulimit -Hn "$want_files" 2>/dev/null || true
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

DIR=$(mktemp -d "${TMPDIR:-/tmp}/certctl-load.XXXXXX")
chmod 711 "$DIR" # as root the embedded PostgreSQL runs as another user, which must reach its data dir
SERVER_PID=
cleanup() {
  rc=$?
  trap - EXIT INT TERM
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "load-agents: stopping the server (pid $SERVER_PID)"
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # The server drains requests (CERTCTL_SHUTDOWN_TIMEOUT, 20 s) and stops
    # its PostgreSQL; after a minute it is killed.
    for _ in $(seq 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "load-agents: the server did not stop in 60 s; killing it"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$rc" != 0 ] && [ -f "$DIR/server.log" ]; then
    problems=$(grep -v 'msg="http request"' "$DIR/server.log" | grep -E 'level=(WARN|ERROR)' | tail -n 20 || true)
    if [ -n "$problems" ]; then
      echo "load-agents: the server's last warnings and errors:"
      echo "$problems"
    fi
  fi
  if [ -n "${AGENTLOAD_SERVER_LOG:-}" ] && [ -f "$DIR/server.log" ]; then
    cp "$DIR/server.log" "$AGENTLOAD_SERVER_LOG" || true
  fi
  rm -rf "$DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
  else
    echo $((20000 + RANDOM % 10000))
  fi
}
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
KEY=$(head -c 300 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9' | head -c 40)
[ ${#KEY} = 40 ] || { echo "load-agents: could not make a random admin key"; exit 2; }

echo "load-agents: server on $URL, data in $DIR"
# In a session of its own, so that Ctrl-C reaches only the load generator
# (which then prints its report); this script stops the server after it.
SETSID=
command -v setsid >/dev/null && SETSID=setsid
CERTCTL_DATA_DIR=$DIR/server CERTCTL_LISTEN_ADDR=127.0.0.1:$PORT CERTCTL_BOOTSTRAP_ADMIN_KEY=$KEY \
  CERTCTL_PLUGIN_DIR=${CERTCTL_PLUGIN_DIR:-$BIN/plugins} CERTCTL_DATABASE_URL= \
  $SETSID "$BIN/certctl-server" >"$DIR/server.log" 2>&1 &
SERVER_PID=$!

for i in $(seq 240); do
  curl -sf -o /dev/null "$URL/readyz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "load-agents: the server exited while starting"; exit 1; }
  [ "$i" = 240 ] && { echo "load-agents: the server was not ready within 120 s"; exit 1; }
  sleep 0.5
done
echo "load-agents: server ready (pid $SERVER_PID)"

set +e
# LOAD_TOOL picks another load generator of tools/ that takes the same
# three flags (make load-issuance runs tools/issueload).
go run "./tools/${LOAD_TOOL:-agentload}" -server "$URL" -admin-key "$KEY" -server-pid "$SERVER_PID" "$@"
rc=$?
set -e
if [ "$rc" = 0 ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "load-agents: the server is gone"
  rc=1
fi
exit "$rc"
