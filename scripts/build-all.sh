#!/usr/bin/env bash
# Builds the six services into dist/apps/<name>/main.js (webpack, Nest CLI monorepo mode) and the
# operational scripts into dist/scripts/*.js (esbuild), so that images need no TypeScript tooling.
set -euo pipefail
cd "$(dirname "$0")/.."
for app in token-registry presence routing apns-dispatcher fcm-dispatcher delivery-reports; do
  npx --no-install nest build "$app"
done
bundle() { # entry, output name
  npx --no-install esbuild "$1" --bundle --platform=node --target=node24 --packages=external \
    --log-level=warning --outfile="dist/scripts/$2.js"
}
bundle scripts/ops/create-topics.ts create-topics
bundle apps/token-registry/src/database/migrate.ts migrate-registry
bundle apps/token-registry/src/outbox/republish.ts republish-registry
bundle apps/delivery-reports/src/database/migrate.ts migrate-delivery-reports
bundle scripts/ops/replay-dead-letters.ts replay-dead-letters
bundle scripts/ops/audit-pipeline.ts audit-pipeline
