#!/usr/bin/env bash
# Builds the five services into dist/apps/<name>/main.js (webpack, Nest CLI monorepo mode).
set -euo pipefail
cd "$(dirname "$0")/.."
for app in token-registry presence routing apns-dispatcher fcm-dispatcher; do
  npx --no-install nest build "$app"
done
