#!/usr/bin/env bash
# make demo: the whole lifecycle on one machine. A server on its embedded
# PostgreSQL, an enrolled agent, a local NGINX on a loopback port; a
# certificate is issued from the agent's CSR, deployed, verified with a TLS
# handshake, and renewed. Everything lives in a temporary directory and
# stops with Ctrl-C (or at once with DEMO_EXIT=1).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$PWD/bin

need() { command -v "$1" >/dev/null || { echo "demo: $1 is needed ($2)"; exit 1; }; }
need curl "apt-get install curl"
need jq "apt-get install jq"
need openssl "apt-get install openssl"
HAVE_NGINX=1
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || HAVE_NGINX=0
export PATH="$PATH:/usr/sbin"

DIR=$(mktemp -d /tmp/certctl-demo.XXXXXX)
chmod 711 "$DIR"
PIDS=()
cleanup() {
  echo; echo "demo: stopping"
  [ "$HAVE_NGINX" = 1 ] && [ -f "$DIR/nginx/nginx.pid" ] && nginx -c "$DIR/nginx/nginx.conf" -s quit 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
KEY=cck_demo-$(openssl rand -hex 20)
AUTH="Authorization: Bearer $KEY"
api() { curl -sf -H "$AUTH" -H "Content-Type: application/json" "$@"; }
wait_for() { # wait_for "what" seconds command...
  local what=$1 n=$2; shift 2
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "demo: timed out waiting for $what"; exit 1
}

echo "== server: $URL (embedded PostgreSQL in $DIR/server)"
CERTCTL_DATA_DIR=$DIR/server CERTCTL_LISTEN_ADDR=127.0.0.1:$PORT CERTCTL_BOOTSTRAP_ADMIN_KEY=$KEY \
  CERTCTL_SCHEDULER_INTERVAL=2s "$BIN/certctl-server" >"$DIR/server.log" 2>&1 &
PIDS+=($!)
wait_for "the server" 60 curl -sf "$URL/readyz"

TOKEN=$(api -X POST "$URL/api/v1/enrollment-tokens" -d '{"agent_name":"demo-host","ttl":"1h"}' | jq -r .token)
echo "== agent: enrolling as demo-host"
CERTCTL_SERVER_URL=$URL CERTCTL_AGENT_TOKEN=$TOKEN CERTCTL_AGENT_STATE_DIR=$DIR/agent \
  CERTCTL_PLUGIN_DIR=$BIN/plugins "$BIN/certctl-agent" >"$DIR/agent.log" 2>&1 &
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
daemon on; user root; pid $DIR/nginx/nginx.pid; error_log $DIR/nginx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $DIR/nginx/body; proxy_temp_path $DIR/nginx/proxy; fastcgi_temp_path $DIR/nginx/fcgi;
  uwsgi_temp_path $DIR/nginx/uwsgi; scgi_temp_path $DIR/nginx/scgi;
  server { listen 127.0.0.1:$NGINX_PORT ssl; ssl_certificate $DIR/nginx/site.crt; ssl_certificate_key $DIR/nginx/site.key;
           location / { return 200 "hello from certctl's demo\n"; } }
}
CONF
  nginx -c "$DIR/nginx/nginx.conf"
  echo "== nginx: https://127.0.0.1:$NGINX_PORT"
  TARGET_ID=$(api -X POST "$URL/api/v1/targets" -d '{"name":"demo-nginx","type":"nginx","agent_id":"'"$AGENT_ID"'",
    "config":{"certificate_path":"'"$DIR/nginx/site.crt"'","key_path":"'"$DIR/nginx/site.key"'",
    "validate_command":["nginx","-t","-c","'"$DIR/nginx/nginx.conf"'"],
    "reload_command":["nginx","-c","'"$DIR/nginx/nginx.conf"'","-s","reload"],
    "verify_address":"127.0.0.1:'"$NGINX_PORT"'"}}' | jq -r .id)
  TARGETS='["'"$TARGET_ID"'"]'
fi

CERT_ID=$(api -X POST "$URL/api/v1/certificates" -d '{"name":"demo-site","common_name":"localhost","sans":["127.0.0.1"],
  "issuer_id":"'"$ISSUER_ID"'","target_ids":'"$TARGETS"'}' | jq -r .id)
echo "== certificate demo-site declared; the agent makes its key and sends a CSR"
wait_for "issuance" 60 sh -c "curl -sf -H '$AUTH' '$URL/api/v1/certificates/$CERT_ID' | jq -e '.status == \"active\"'"
serial() { api "$URL/api/v1/certificates/$CERT_ID/versions" | jq -r '.items[0].serial_number'; }
served() { echo | openssl s_client -connect "127.0.0.1:$NGINX_PORT" 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//'; }
S1=$(serial)
echo "   issued serial $S1"
if [ "$HAVE_NGINX" = 1 ]; then
  wait_for "nginx to serve it" 60 sh -c "[ \"\$(echo | openssl s_client -connect 127.0.0.1:$NGINX_PORT 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//')\" = '$S1' ]"
  echo "   nginx serves $(served)"
fi

echo "== forcing a renewal"
api -X POST "$URL/api/v1/certificates/$CERT_ID/renew" >/dev/null
wait_for "the renewal" 60 sh -c "[ \"\$(curl -sf -H '$AUTH' '$URL/api/v1/certificates/$CERT_ID/versions' | jq -r '.items[0].serial_number')\" != '$S1' ]"
S2=$(serial)
echo "   renewed serial $S2"
if [ "$HAVE_NGINX" = 1 ]; then
  wait_for "nginx to serve the renewal" 60 sh -c "[ \"\$(echo | openssl s_client -connect 127.0.0.1:$NGINX_PORT 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//')\" = '$S2' ]"
  echo "   nginx serves $(served)"
fi
echo "== renewal plan: $(api "$URL/api/v1/certificates/$CERT_ID/renewal" | jq -r .reason)"
echo
echo "Server (API; the web console is not built yet): $URL"
echo "  export CERTCTL_API_KEY=$KEY"
echo "  curl -H \"Authorization: Bearer \$CERTCTL_API_KEY\" $URL/api/v1/audit-events | jq ."
echo "Logs: $DIR/server.log $DIR/agent.log"
if [ "${DEMO_EXIT:-0}" = 1 ]; then exit 0; fi
echo "Press Ctrl-C to stop the demo."
while true; do sleep 3600; done
