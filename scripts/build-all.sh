#!/usr/bin/env bash
# Builds the five services into dist/apps/<name>/main.js (webpack, Nest CLI monorepo mode) and the
# operational scripts into dist/scripts/*.js (esbuild), so that images need no TypeScript tooling.
set -euo pipefail
cd "$(dirname "$0")/.."
for app in token-registry presence routing apns-dispatcher fcm-dispatcher; do
  npx --no-install nest build "$app"
done
for script in scripts/ops/*.ts; do
  [ -f "$script" ] || continue
  npx --no-install esbuild "$script" --bundle --platform=node --target=node24 --packages=external \
    --log-level=warning --outfile="dist/scripts/$(basename "$script" .ts).js"
done
