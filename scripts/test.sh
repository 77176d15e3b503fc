#!/usr/bin/env bash
# The whole test suite from a fresh clone: Node 24, npm packages, a real Kafka broker and a real
# PostgreSQL (deploy/local/infra.sh, no Docker needed), then lint, typecheck, build, unit and
# integration tests (the quick fault suite among them), the Helm chart and alert-rule checks
# (Go tools built once into .tools/go). CI runs exactly this (.ci/run).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/node24.sh
source scripts/lib/node24.sh
started=$(date +%s)
say() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

# The provider fakes generate their throw-away CAs with the openssl CLI.
command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
say "Node 24"; ensure_node24; node --version
say "npm packages"; ensure_npm_packages

export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
export DATABASE_URL="${DATABASE_URL:-postgres://push:push@127.0.0.1:5432/push}"
export PUSH_APPS_FILE="${PUSH_APPS_FILE:-$ROOT/deploy/local/apps.yaml}"
say "Kafka and PostgreSQL"
# In CI, stop what this run started, also when starting it failed half-way.
if [ "${CI:-}" = true ]; then trap 'bash "$ROOT/deploy/local/infra.sh" down || true' EXIT; fi
bash deploy/local/infra.sh up
# infra.sh from a checkout the postgres user cannot enter (root cloning into /root, mode 0700).
say "infra.sh from a private checkout"; bash test/infra/infra-private-checkout.sh

say "npm test: lint, typecheck, build, unit, integration"
export JEST_JSON_DIR="$ROOT/.local/test-results"
mkdir -p "$JEST_JSON_DIR"; rm -f "$JEST_JSON_DIR"/*.json
status=0
npm test || status=$?

# Deployment artefacts: the Helm chart (helm lint/template, kubeconform against committed schemas)
# and the alert rules (promtool check/test). The Go tools are built once into .tools/go/bin.
for check in scripts/ci/check-chart.sh scripts/ci/check-alerts.sh; do
  [ -f "$check" ] || continue
  say "$check"; bash "$check" || status=1
done

node -e '
  const fs = require("fs"); const dir = process.env.JEST_JSON_DIR;
  let p = 0, f = 0, s = 0;
  for (const n of ["unit.json", "int.json"]) {
    try { const r = JSON.parse(fs.readFileSync(dir + "/" + n, "utf8"));
      p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests; } catch {}
  }
  console.log(`tests: ${p} passed, ${f} failed, ${s} skipped`);
'
say "done (exit $status)"
exit "$status"
