#!/usr/bin/env bash
# Starts the whole platform on this machine without Docker: Kafka + PostgreSQL (infra script),
# the fake APNs and FCM servers, a webhook receiver, the registry's and the delivery reports' migrations, the six
# services, and then runs the demo (a message from alice reaches bob's phone). Stop everything with: bash scripts/stop-all.sh
#
#   bash scripts/start-all.sh            start and run the demo
#   DEMO=0 bash scripts/start-all.sh     start only
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/node24.sh
source scripts/lib/node24.sh
command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
ensure_node24
ensure_npm_packages

export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
export DATABASE_URL="${DATABASE_URL:-postgres://push:push@127.0.0.1:5432/push}"
RUN="$ROOT/.local/run"
mkdir -p "$RUN/logs"

bash deploy/local/infra.sh up
echo "[start] building the services"
npm run build >"$RUN/logs/build.log" 2>&1 || { tail -30 "$RUN/logs/build.log"; exit 1; }


start_bg() { # name, command...
  local name="$1"; shift
  if [ -f "$RUN/$name.pid" ] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
    echo "[start] $name already running"; return
  fi
  nohup "$@" >"$RUN/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  echo "[start] $name (pid $!) → .local/run/logs/$name.log"
}

# The fakes write the demo tenant's apps file (credentials generated here, never committed).
rm -f "$RUN/apps.yaml"
start_bg fakes node --import tsx scripts/demo/fakes.ts "$RUN"
for _ in $(seq 1 60); do [ -f "$RUN/apps.yaml" ] && break; sleep 0.5; done
[ -f "$RUN/apps.yaml" ] || { echo "[start] the fakes did not start; see .local/run/logs/fakes.log"; exit 1; }
export PUSH_APPS_FILE="$RUN/apps.yaml"
# The demo app's outcome webhook points at this receiver (the fakes wrote its secret).
start_bg webhook-receiver node --import tsx scripts/demo/webhook-receiver.ts "$RUN"
npm run --silent migrate:registry
npm run --silent migrate:reports
for svc in token-registry presence routing apns-dispatcher fcm-dispatcher delivery-reports; do
  start_bg "$svc" node "dist/apps/$svc/main.js"
done

echo "[start] waiting for every service to be ready"
for port in 3001 3002 3003 3004 3005 3006; do
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "[start] :$port is not ready; see .local/run/logs"; exit 1; }
done
echo "[start] ready: token-registry :3001, presence :3002, routing :3003, apns-dispatcher :3004, fcm-dispatcher :3005, delivery-reports :3006"

if [ "${DEMO:-1}" = 1 ]; then
  npx --no-install tsx scripts/demo/demo.ts
fi
