#!/usr/bin/env bash
# make demo: the whole lifecycle on one machine. A server on its embedded
# PostgreSQL, an enrolled agent, a local NGINX on a loopback port; a
# certificate is issued from the agent's CSR, deployed, verified with a TLS
# handshake, and renewed. Everything lives in a temporary directory and
# stops with Ctrl-C (or at once with DEMO_EXIT=1). tools/doctest's TestDemo
# runs it and compares its output with docs/demo.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$PWD/bin
export PATH="$PATH:/usr/sbin" # Debian keeps nginx there

need() { command -v "$1" >/dev/null || { echo "demo: $1 is needed ($2)" >&2; exit 1; }; }
need curl "apt-get install curl"
need jq "apt-get install jq"
need openssl "apt-get install openssl"
for b in certctl-server certctl-agent plugins/certctl-plugin-target-nginx; do
  [ -x "$BIN/$b" ] || { echo "demo: $BIN/$b is missing: run make build (make demo does)" >&2; exit 1; }
done
HAVE_NGINX=1
command -v nginx >/dev/null || HAVE_NGINX=0

# The embedded PostgreSQL runs as the postgres user when this runs as root:
# it must be able to enter the directory.
DIR=$(mktemp -d "${TMPDIR:-/tmp}/certctl-demo.XXXXXX")
chmod 711 "$DIR"
PIDS=()
cleanup() {
  echo
  echo "demo: stopping"
  if [ "$HAVE_NGINX" = 1 ] && [ -f "$DIR/nginx/nginx.pid" ]; then
    local npid
    npid=$(cat "$DIR/nginx/nginx.pid")
    nginx -c "$DIR/nginx/nginx.conf" -s quit 2>/dev/null || true
    # -s quit only asks; wait (a few seconds at most) until nginx is gone.
    for _ in $(seq 50); do kill -0 "$npid" 2>/dev/null || break; sleep 0.2; done
  fi
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a loopback port nothing listens on now.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "demo: no free port found" >&2
  return 1
}

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
KEY=cck_demo-$(openssl rand -hex 20)
AUTH="Authorization: Bearer $KEY"
api() { curl -sf -H "$AUTH" -H "Content-Type: application/json" "$@"; }
# fail says what went wrong, with the end of the logs, and exits (cleanup
# stops everything).
fail() {
  echo "demo: $*" >&2
  for log in "$DIR/server.log" "$DIR/agent.log"; do
    [ -f "$log" ] && { echo "--- end of $log" >&2; tail -n 20 "$log" >&2; }
  done
  exit 1
}
wait_for() { # wait_for "what" seconds command...
  local what=$1 n=$2
  shift 2
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  fail "timed out waiting for $what"
}
health() { # health CERT_ID: the certificate's deployment health in words
  api "$URL/api/v1/certificates/$1" | jq -r '.deployment_health
    | "\(.succeeded) of \(.total) deployment(s) succeeded, \(.failed) failed\(if .last_error != "" then ": " + .last_error else "" end)"'
}

echo "== server: $URL (embedded PostgreSQL in $DIR/server)"
CERTCTL_DATA_DIR=$DIR/server CERTCTL_LISTEN_ADDR=127.0.0.1:$PORT CERTCTL_BOOTSTRAP_ADMIN_KEY=$KEY \
  "$BIN/certctl-server" >"$DIR/server.log" 2>&1 &
PIDS+=($!)
wait_for "the server" 90 curl -sf "$URL/readyz"

TOKEN=$(api -X POST "$URL/api/v1/enrollment-tokens" -d '{"agent_name":"demo-host","ttl":"1h"}' | jq -r .token)
echo "== agent: enrolling as demo-host"
CERTCTL_SERVER_URL=$URL CERTCTL_AGENT_TOKEN=$TOKEN CERTCTL_AGENT_STATE_DIR=$DIR/agent \
  "$BIN/certctl-agent" >"$DIR/agent.log" 2>&1 &
PIDS+=($!)
wait_for "the agent" 30 sh -c "curl -sf -H '$AUTH' '$URL/api/v1/agents?status=online' | jq -e '.items | length == 1'"
AGENT_ID=$(api "$URL/api/v1/agents" | jq -r '.items[0].id')
ISSUER_ID=$(api "$URL/api/v1/issuers" | jq -r '.items[] | select(.name=="local") | .id')

if [ "$HAVE_NGINX" = 0 ]; then
  echo "== nginx is not installed (apt-get install nginx): the certificate is issued but not deployed"
  TARGETS='[]'
else
  NGINX_PORT=$(free_port)
  mkdir -p "$DIR/nginx"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bootstrap -days 1 \
    -keyout "$DIR/nginx/site.key" -out "$DIR/nginx/site.crt" 2>/dev/null
  cat >"$DIR/nginx/nginx.conf" <<CONF
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $DIR/nginx/tmp; proxy_temp_path $DIR/nginx/tmp; fastcgi_temp_path $DIR/nginx/tmp;
  uwsgi_temp_path $DIR/nginx/tmp; scgi_temp_path $DIR/nginx/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $DIR/nginx/site.crt;
    ssl_certificate_key $DIR/nginx/site.key;
    location / { return 200 "hello from certctl's demo\n"; }
  }
}
CONF
  nginx -c "$DIR/nginx/nginx.conf" 2>>"$DIR/nginx/error.log"
  echo "== nginx: https://127.0.0.1:$NGINX_PORT"
  TARGET_ID=$(api -X POST "$URL/api/v1/targets" -d '{"name":"demo-nginx","type":"nginx","agent_id":"'"$AGENT_ID"'",
    "config":{"certificate_path":"'"$DIR/nginx/site.crt"'","key_path":"'"$DIR/nginx/site.key"'",
    "validate_command":["nginx","-t","-q","-c","'"$DIR/nginx/nginx.conf"'"],
    "reload_command":["nginx","-s","reload","-c","'"$DIR/nginx/nginx.conf"'"],
    "verify_address":"127.0.0.1:'"$NGINX_PORT"'"}}' | jq -r .id)
  TARGETS='["'"$TARGET_ID"'"]'
fi

serial() { api "$URL/api/v1/certificates/$CERT_ID/versions" | jq -r '.items[0].serial_number'; }
served() {
  echo | openssl s_client -connect "127.0.0.1:$NGINX_PORT" 2>/dev/null \
    | openssl x509 -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//'
}
# settle CERT_ID: wait (?wait=60s answers once issuance and deployment are
# done) and insist that the certificate is active.
settle() {
  local status
  status=$(api "$URL/api/v1/certificates/$1?wait=60s" | jq -r .status)
  [ "$status" = active ] || fail "the certificate is $status, not active"
}
check_served() { # check_served SERIAL
  [ "$HAVE_NGINX" = 1 ] || return 0
  local s
  s=$(served)
  echo "   nginx serves $s"
  [ "$s" = "$1" ] || fail "nginx serves $s, not $1"
}

CERT_ID=$(api -X POST "$URL/api/v1/certificates" -d '{"name":"demo-site","common_name":"localhost","sans":["127.0.0.1"],
  "issuer_id":"'"$ISSUER_ID"'","target_ids":'"$TARGETS"'}' | jq -r .id)
echo "== certificate demo-site declared; the agent makes its key and sends a CSR"
settle "$CERT_ID"
S1=$(serial)
echo "   issued serial $S1"
echo "   $(health "$CERT_ID")"
check_served "$S1"

echo "== forcing a renewal"
api -X POST "$URL/api/v1/certificates/$CERT_ID/renew" >/dev/null
settle "$CERT_ID"
S2=$(serial)
echo "   renewed serial $S2"
echo "   $(health "$CERT_ID")"
check_served "$S2"
echo "== renewal plan: $(api "$URL/api/v1/certificates/$CERT_ID/renewal" | jq -r .reason)"
echo
echo "Server (API and web console; sign in with the key below): $URL"
echo "  export CERTCTL_URL=$URL CERTCTL_API_KEY=$KEY"
echo "  curl -H \"Authorization: Bearer \$CERTCTL_API_KEY\" \$CERTCTL_URL/api/v1/audit-events | jq ."
echo "Logs: $DIR/server.log $DIR/agent.log"
if [ "${DEMO_EXIT:-0}" = 1 ]; then exit 0; fi
echo "Press Ctrl-C to stop the demo."
# wait, unlike a foreground sleep, returns as soon as a signal arrives.
while true; do
  sleep 3600 &
  PIDS+=($!)
  wait $! || true
done
