#!/usr/bin/env bash
# deploy/local/infra.sh from a checkout the postgres user cannot reach (root cloning into /root,
# or any directory with mode 0700): `up` must start Kafka and PostgreSQL there, `status` must call
# both ours, `down` must stop both. Needs root (initdb runs as postgres through runuser), the
# npm packages of this checkout and PostgreSQL's Debian package (what `infra.sh up` installs).
#
#   bash test/infra/infra-private-checkout.sh     10-40 s (Kafka start); exit 0 = passed
#
# The checkout under test is a `git clone` of this repository's HEAD with this working tree's
# deploy/local copied over it, inside a fresh mode 0700 directory. It borrows this checkout's
# node_modules and cached Kafka jars (symlinks) and its own ports: KAFKA_PORT (19396),
# KAFKA_CONTROLLER_PORT (19397), PG_PORT (55439). The cluster goes to a temporary
# PUSH_PG_FALLBACK_DIR, so nothing is left under /var/lib.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KAFKA_PORT="${KAFKA_PORT:-19396}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19397}"
PG_PORT="${PG_PORT:-55439}"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

say() { printf '[private-checkout] %s\n' "$*" >&2; }
fail() { printf '[private-checkout] FAILED: %s\n' "$*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[ "$(id -u)" = 0 ] || { say "SKIPPED: needs root (the failure it guards against is root's)"; exit 0; }
[ -d "$ROOT/node_modules" ] || fail "run 'npm ci' first (topics are created from libs/contracts)"
for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$PG_PORT"; do
  if port_open "$p"; then fail "port $p is taken; set KAFKA_PORT, KAFKA_CONTROLLER_PORT, PG_PORT"; fi
done
# shellcheck source=../../scripts/lib/node24.sh
source "$ROOT/scripts/lib/node24.sh"
ensure_node24 >/dev/null

PARENT="$(mktemp -d)"   # mode 0700, owned by root
FALLBACK="$(mktemp -d)" # where the cluster must land instead
chmod 755 "$FALLBACK"
CLONE="$PARENT/clone"
ENV=(env KAFKA_PORT="$KAFKA_PORT" KAFKA_CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT"
  DATABASE_URL="postgres://push:push@127.0.0.1:$PG_PORT/push" PUSH_PG_FALLBACK_DIR="$FALLBACK")
infra() { (cd "$CLONE" && "${ENV[@]}" bash deploy/local/infra.sh "$@"); }
cleanup() {
  [ -d "$CLONE" ] && infra down >/dev/null 2>&1 || true
  rm -rf "$PARENT" "$FALLBACK"
}
trap cleanup EXIT

git clone -q "$ROOT" "$CLONE"
cp -r "$ROOT/deploy/local/." "$CLONE/deploy/local/"
ln -s "$ROOT/node_modules" "$CLONE/node_modules"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$CLONE/deploy/local/kafka/pom.xml")"
if [ -f "$ROOT/.local/kafka/libs-$version/.complete" ]; then
  mkdir -p "$CLONE/.local/kafka"
  ln -s "$ROOT/.local/kafka/libs-$version" "$CLONE/.local/kafka/libs-$version"
fi
if (cd / && runuser -u postgres -- test -x "$CLONE"); then fail "the postgres user can reach $CLONE: the test proves nothing"; fi

say "infra.sh up in $CLONE"
infra up || fail "infra.sh up failed"
status="$(infra status)"
printf '%s\n' "$status" >&2
grep -q "^kafka: running (ours" <<<"$status" || fail "Kafka is not ours after up"
grep -q "^postgres: answers at 127.0.0.1:$PG_PORT/push (ours, cluster in $FALLBACK/postgres-" <<<"$status" ||
  fail "PostgreSQL is not ours, or its cluster is not under $FALLBACK"
PGPASSWORD=push psql -h 127.0.0.1 -p "$PG_PORT" -U push -d push -Atqc 'select 1' | grep -qx 1 ||
  fail "PostgreSQL does not answer as push"
[ "$(stat -c %U "$FALLBACK"/postgres-*/data)" = postgres ] || fail "the cluster is not owned by postgres"

say "infra.sh up again (nothing to start)"
infra up >/dev/null 2>&1 || fail "a second up failed"

say "infra.sh down"
infra down
status="$(infra status)"
printf '%s\n' "$status" >&2
grep -q "^kafka: down" <<<"$status" || fail "Kafka still answers after down"
grep -q "^postgres: down" <<<"$status" || fail "PostgreSQL still answers after down"
if port_open "$PG_PORT"; then fail "port $PG_PORT still open after down"; fi
say "passed"
