#!/bin/sh
# Starts certctl-agent in the background with the enrollment token in
# CERTCTL_AGENT_TOKEN, and returns once it has enrolled (its credential is
# in its state directory), so that the certctl_agent data source finds it.
# Its pid goes to $CERTCTL_AGENT_STATE_DIR/agent.pid, its log to agent.log.
set -eu
: "${AGENT_BINARY:?}" "${CERTCTL_SERVER_URL:?}" "${CERTCTL_AGENT_STATE_DIR:?}" "${CERTCTL_AGENT_TOKEN:?}"
mkdir -p "$CERTCTL_AGENT_STATE_DIR"
export CERTCTL_SERVER_URL CERTCTL_AGENT_STATE_DIR CERTCTL_AGENT_TOKEN
nohup "$AGENT_BINARY" </dev/null >"$CERTCTL_AGENT_STATE_DIR/agent.log" 2>&1 &
echo $! >"$CERTCTL_AGENT_STATE_DIR/agent.pid"
i=0
while [ ! -s "$CERTCTL_AGENT_STATE_DIR/credential" ]; do
  i=$((i + 1))
  if [ "$i" -gt 120 ] || ! kill -0 "$(cat "$CERTCTL_AGENT_STATE_DIR/agent.pid")" 2>/dev/null; then
    echo "certctl-agent did not enroll; its log:" >&2
    cat "$CERTCTL_AGENT_STATE_DIR/agent.log" >&2
    exit 1
  fi
  sleep 0.5
done
# The server lists the agent once its first heartbeat is in.
sleep 1
