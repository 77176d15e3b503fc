#!/usr/bin/env bash
# Checks the Prometheus alert rules: syntax and PromQL (`promtool check rules`), the unit tests in
# deploy/prometheus/alerts.test.yaml (`promtool test rules`: each alert fires when it should and
# stays quiet when it should not), and that every runbook_url names a section of
# docs/operations.md. promtool is built from the Go module proxy once per version into
# .tools/go/bin (scripts/lib/go-tools.sh; minutes on a fresh machine, then cached).
#
#   bash scripts/ci/check-alerts.sh      (also: npm run check:alerts)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
started=$(date +%s)

PROMTOOL_VERSION="${PROMTOOL_VERSION:-v0.316.0}" # github.com/prometheus/prometheus (Prometheus 3.16)
RULES=deploy/prometheus/alerts.yaml
TESTS=deploy/prometheus/alerts.test.yaml
DOC=docs/operations.md

# A Go toolchain installed from go.dev lives here without being on PATH.
[ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
# shellcheck source=scripts/lib/go-tools.sh
source scripts/lib/go-tools.sh
ensure_go_tool promtool "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION"

echo "== promtool check rules $RULES"
promtool check rules "$RULES"

echo "== promtool test rules $TESTS"
promtool test rules "$TESTS"

echo "== runbook_url anchors in $DOC"
# GitHub's anchor of a heading: lower case, punctuation other than - and _ dropped, spaces → -.
anchors="$(grep -E '^#{1,6} ' "$DOC" | sed -E 's/^#+ +//' | tr '[:upper:]' '[:lower:]' |
  sed -E 's/[^a-z0-9 _-]//g; s/ /-/g')"
missing=0
alerts=0
while read -r url; do
  alerts=$((alerts + 1))
  file="${url%%#*}" anchor="${url#*#}"
  if [ "$file" != "$DOC" ] || ! grep -qx -- "$anchor" <<<"$anchors"; then
    echo "runbook_url $url: no such section in $DOC" >&2
    missing=$((missing + 1))
  fi
done < <(grep -E '^\s*runbook_url:' "$RULES" | sed -E 's/^\s*runbook_url:\s*//; s/^["'\'']//; s/["'\'']$//')
rules="$(grep -cE '^\s*- alert:' "$RULES")"
if [ "$alerts" -ne "$rules" ]; then
  echo "$rules alerts but $alerts runbook_url annotations: every alert needs one" >&2
  missing=$((missing + 1))
fi
[ "$missing" -eq 0 ] || exit 1
echo "$alerts runbook links resolve"

echo "check-alerts: OK in $(($(date +%s) - started)) s"
