#!/usr/bin/env bash
# make load-reissue: a CA-distrust day against one real server on this
# machine. Starts bin/certctl-server with default settings on its embedded
# PostgreSQL, in a fresh data directory on a free loopback port, waits until
# it is ready, runs tools/reissueload against it (arguments are passed on,
# e.g. -n 100000), then stops the server and removes every file it made,
# also when something fails or on Ctrl-C. reissueload bulk-loads the
# certificates into the server's embedded database, so it is given the
# data directory.
#
# Server settings come from the environment as usual, e.g.
#   CERTCTL_WORKERS=32 make load-reissue
# REISSUELOAD_SERVER_LOG=<file> keeps a copy of the server's log.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${LOAD_BIN_DIR:-$PWD/bin} # another build to compare with, e.g. of an earlier commit
[ -x "$BIN/certctl-server" ] || { echo "load-reissue: $BIN/certctl-server is missing: run make build"; exit 2; }
command -v curl >/dev/null || { echo "load-reissue: curl is needed (apt-get install curl)"; exit 2; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/certctl-reissue.XXXXXX")
chmod 711 "$DIR" # as root the embedded PostgreSQL runs as another user, which must reach its data dir
SERVER_PID=
cleanup() {
  rc=$?
  trap - EXIT INT TERM
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "load-reissue: stopping the server (pid $SERVER_PID)"
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "load-reissue: the server did not stop in 60 s; killing it"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$rc" != 0 ] && [ -f "$DIR/server.log" ]; then
    problems=$(grep -v 'msg="http request"' "$DIR/server.log" | grep -E 'level=(WARN|ERROR)' | tail -n 20 || true)
    if [ -n "$problems" ]; then
      echo "load-reissue: the server's last warnings and errors:"
      echo "$problems"
    fi
  fi
  if [ -n "${REISSUELOAD_SERVER_LOG:-}" ] && [ -f "$DIR/server.log" ]; then
    cp "$DIR/server.log" "$REISSUELOAD_SERVER_LOG" || true
  fi
  rm -rf "$DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 10000)))
URL=http://127.0.0.1:$PORT
KEY=$(head -c 300 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9' | head -c 40)
[ ${#KEY} = 40 ] || { echo "load-reissue: could not make a random admin key"; exit 2; }

echo "load-reissue: server on $URL, data in $DIR"
# In a session of its own, so that Ctrl-C reaches only the load generator;
# this script stops the server after it.
SETSID=
command -v setsid >/dev/null && SETSID=setsid
CERTCTL_DATA_DIR=$DIR/server CERTCTL_LISTEN_ADDR=127.0.0.1:$PORT CERTCTL_BOOTSTRAP_ADMIN_KEY=$KEY \
  CERTCTL_PLUGIN_DIR=${CERTCTL_PLUGIN_DIR:-$BIN/plugins} CERTCTL_DATABASE_URL= \
  $SETSID "$BIN/certctl-server" >"$DIR/server.log" 2>&1 &
SERVER_PID=$!

for i in $(seq 240); do
  curl -sf -o /dev/null "$URL/readyz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "load-reissue: the server exited while starting"; exit 1; }
  [ "$i" = 240 ] && { echo "load-reissue: the server was not ready within 120 s"; exit 1; }
  sleep 0.5
done
echo "load-reissue: server ready (pid $SERVER_PID)"

set +e
go run ./tools/reissueload -server "$URL" -admin-key "$KEY" -server-pid "$SERVER_PID" -data-dir "$DIR/server" "$@"
rc=$?
set -e
if [ "$rc" = 0 ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "load-reissue: the server is gone"
  rc=1
fi
exit "$rc"
