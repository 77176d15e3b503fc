#!/usr/bin/env bash
# Local infrastructure without Docker: a real Kafka broker (KRaft, official jars from Maven Central)
# and a real PostgreSQL (Debian package), plus every topic of libs/contracts.
#
#   deploy/local/infra.sh up       start what is not running, create topics (idempotent)
#   deploy/local/infra.sh down     stop only what this script started
#   deploy/local/infra.sh status   say what runs
#   deploy/local/infra.sh kafka-stop | kafka-start   (used by tests that take the broker away)
#   deploy/local/infra.sh jars     resolve the Kafka jars only (tests that start brokers of their own)
#
# Settings (environment): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_HEAP (512m),
# DATABASE_URL (postgres://push:push@127.0.0.1:5432/push), PUSH_LOCAL_DIR (<repo>/.local),
# PUSH_PG_FALLBACK_DIR (/var/lib/offline-push: where root keeps the PostgreSQL cluster when the
# postgres user cannot reach PUSH_LOCAL_DIR, e.g. a checkout under /root).
set -euo pipefail
# runuser, useradd and pg tools live in sbin, which a non-login PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${PUSH_LOCAL_DIR:-$ROOT/.local}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"
DATABASE_URL="${DATABASE_URL:-postgres://push:push@127.0.0.1:5432/push}"
POM="$ROOT/deploy/local/kafka/pom.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")"
KAFKA_DIR="$STATE/kafka"
KAFKA_LIBS="$KAFKA_DIR/libs-$KAFKA_VERSION"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
# The PostgreSQL cluster, its socket and log: $STATE/postgres unless pg_choose_dir moves them.
PG_DIR="$STATE/postgres"
PG_PID_MARK="$PG_DIR/started-by-infra"
PG_LOCATION_FILE="$STATE/postgres.location"
PG_FALLBACK_BASE="${PUSH_PG_FALLBACK_DIR:-/var/lib/offline-push}"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || die "cannot install $* (no apt-get); install it yourself"
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---------------------------------------------------------------- Kafka
java_ok() { command -v java >/dev/null && java -version 2>&1 | grep -Eq 'version "(1[7-9]|2[0-9])'; }

ensure_kafka_jars() {
  if [ -f "$KAFKA_LIBS/.complete" ]; then return; fi
  java_ok || { log "installing a Java 17+ runtime"; apt_install openjdk-17-jre-headless; }
  command -v mvn >/dev/null || { log "installing Maven"; apt_install maven; }
  log "resolving Kafka $KAFKA_VERSION jars from Maven Central (cached in ~/.m2 afterwards)"
  rm -rf "$KAFKA_LIBS"; mkdir -p "$KAFKA_LIBS"
  mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$KAFKA_LIBS" >"$KAFKA_DIR/maven.log" 2>&1 ||
    { tail -20 "$KAFKA_DIR/maven.log" >&2; die "Maven could not resolve Kafka $KAFKA_VERSION"; }
  touch "$KAFKA_LIBS/.complete"
}

# Short-lived tools (storage format); the broker itself is started in kafka_start.
kafka_tool() {
  java -Xmx256m -Dlog4j2.configurationFile="$ROOT/deploy/local/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$KAFKA_DIR/logs" -cp "$KAFKA_LIBS/*" "$@"
}

kafka_running_ours() { [ -f "$KAFKA_PID" ] && kill -0 "$(cat "$KAFKA_PID")" 2>/dev/null; }

kafka_start() {
  if kafka_running_ours; then log "Kafka already running (pid $(cat "$KAFKA_PID"))"; return; fi
  if port_open 127.0.0.1 "$KAFKA_PORT"; then log "something already listens on 127.0.0.1:$KAFKA_PORT; using it"; return; fi
  mkdir -p "$KAFKA_DIR/logs"
  ensure_kafka_jars
  sed -e "s#@DATA_DIR@#$KAFKA_DATA#" -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" \
    -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
    "$ROOT/deploy/local/kafka/server.properties.template" >"$KAFKA_DIR/server.properties"
  if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
    local cluster_id
    cluster_id="$(kafka_tool kafka.tools.StorageTool random-uuid | tail -1)"
    log "formatting KRaft storage (cluster $cluster_id)"
    kafka_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" \
      >>"$KAFKA_DIR/logs/format.log" 2>&1 || die "storage format failed: see $KAFKA_DIR/logs/format.log"
  fi
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
  : >"$KAFKA_DIR/logs/server.log"
  nohup java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -Dkafka.logs.dir="$KAFKA_DIR/logs" \
    -Dlog4j2.configurationFile="$ROOT/deploy/local/kafka/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >"$KAFKA_DIR/logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$KAFKA_PID"
  local i
  for i in $(seq 1 120); do
    if port_open 127.0.0.1 "$KAFKA_PORT" && grep -q "Kafka Server started" "$KAFKA_DIR/logs/server.log" 2>/dev/null; then
      log "Kafka is up"; return
    fi
    kafka_running_ours || { tail -30 "$KAFKA_DIR/logs/stdout.log" >&2; die "Kafka exited during start"; }
    sleep 0.5
  done
  die "Kafka did not answer within 60 s (see $KAFKA_DIR/logs)"
}

kafka_stop() {
  if ! kafka_running_ours; then log "Kafka: not started by this script"; rm -f "$KAFKA_PID"; return; fi
  local pid; pid="$(cat "$KAFKA_PID")"
  log "stopping Kafka (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && { log "Kafka did not stop in 30 s; killing"; kill -KILL "$pid" || true; }
  rm -f "$KAFKA_PID"
  # The listener can linger for a moment after the process is gone.
  for i in $(seq 1 20); do port_open 127.0.0.1 "$KAFKA_PORT" || break; sleep 0.25; done
}

# ---------------------------------------------------------------- PostgreSQL
# DATABASE_URL=postgres://user:password@host:port/db
parse_db_url() {
  local rest="${DATABASE_URL#*://}"
  local creds="${rest%%@*}" hostpart="${rest#*@}"
  DB_USER="${creds%%:*}"; DB_PASS="${creds#*:}"
  local hostport="${hostpart%%/*}"
  DB_NAME="${hostpart#*/}"; DB_NAME="${DB_NAME%%\?*}"
  DB_HOST="${hostport%%:*}"; DB_PORT="${hostport##*:}"
  [ "$DB_PORT" = "$hostport" ] && DB_PORT=5432
  return 0
}

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return; }; done
  return 1
}

pg_answers() { command -v psql >/dev/null && PGPASSWORD="$DB_PASS" PGCONNECT_TIMEOUT=2 psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; }

# As root, from / : the caller's working directory (a checkout under /root) may be closed to the
# postgres user, and initdb and pg_ctl fail when they cannot resolve it.
run_as_pg() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Where an earlier `up` put the cluster (see pg_choose_dir); $STATE/postgres otherwise.
pg_locate() {
  if [ -f "$PG_LOCATION_FILE" ]; then PG_DIR="$(cat "$PG_LOCATION_FILE")"; else PG_DIR="$STATE/postgres"; fi
  PG_PID_MARK="$PG_DIR/started-by-infra"
}

# initdb and the server run as the postgres user (when we are root), so the cluster must live where
# that user can reach it. A checkout in a directory it cannot traverse (root cloning into /root, any
# mode 0700 parent) gets its cluster in $PG_FALLBACK_BASE/postgres-<hash of $STATE> instead, owned
# by postgres; so does one whose socket path would pass the 107-byte limit of Unix sockets. The
# choice is recorded in $STATE/postgres.location for later `up`, `down` and `status` runs.
pg_choose_dir() {
  pg_locate
  [ "$(id -u)" = 0 ] || return 0
  [ -f "$PG_LOCATION_FILE" ] && return 0
  local why=""
  if ! (cd / && runuser -u postgres -- test -x "$STATE" -a -r "$STATE"); then
    why="the postgres user cannot reach $STATE"
  elif [ $(( ${#PG_DIR} + ${#DB_PORT} + 10 )) -gt 107 ]; then
    why="the socket path under $PG_DIR would be too long"
  fi
  [ -n "$why" ] || return 0
  local real hash
  real="$(cd "$STATE" && pwd -P)"
  hash="$(printf '%s' "$real" | sha256sum | cut -c1-12)"
  PG_DIR="$PG_FALLBACK_BASE/postgres-$hash"
  PG_PID_MARK="$PG_DIR/started-by-infra"
  log "$why; the PostgreSQL cluster goes to $PG_DIR"
  install -d -m 755 "$PG_FALLBACK_BASE"
  install -d -m 700 -o postgres "$PG_DIR"
  # Which checkout this cluster belongs to, for whoever finds it later.
  printf '%s\n' "$real" >"$PG_DIR/checkout"
  printf '%s\n' "$PG_DIR" >"$PG_LOCATION_FILE"
}

pg_start() {
  parse_db_url
  pg_locate
  if pg_answers; then log "PostgreSQL answers at $DB_HOST:$DB_PORT/$DB_NAME; using it"; return; fi
  if port_open "$DB_HOST" "$DB_PORT" && [ ! -f "$PG_PID_MARK" ]; then
    log "a server listens on $DB_HOST:$DB_PORT but rejects $DB_USER@$DB_NAME; will try to create them"
  fi
  local bin
  bin="$(pg_bin)" || { log "installing PostgreSQL (Debian package)"; apt_install postgresql postgresql-client; bin="$(pg_bin)"; }
  command -v psql >/dev/null || apt_install postgresql-client
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --no-create-home postgres; fi
  pg_choose_dir
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; fi
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    log "initialising a PostgreSQL cluster in $PG_DIR/data"
    run_as_pg "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  if ! port_open "$DB_HOST" "$DB_PORT"; then
    log "starting PostgreSQL on $DB_HOST:$DB_PORT"
    run_as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-p $DB_PORT -c listen_addresses=$DB_HOST -k $PG_DIR -c max_connections=200 -c fsync=on" start >/dev/null
    touch "$PG_PID_MARK"
  fi
  local sock="$PG_DIR"
  if [ ! -f "$PG_PID_MARK" ]; then
    # Another server holds the port, e.g. the cluster Debian's package starts on install: create
    # the role and database there, as its superuser over the local socket.
    [ -S "/var/run/postgresql/.s.PGSQL.$DB_PORT" ] ||
      die "PostgreSQL at $DB_HOST:$DB_PORT is not ours and rejects $DATABASE_URL"
    sock=/var/run/postgresql
  fi
  local psql_su=(psql -h "$sock" -p "$DB_PORT" -U postgres -v ON_ERROR_STOP=1 -Atq)
  run_as_pg "${psql_su[@]}" -d postgres -c "DO \$\$BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER') THEN
        CREATE ROLE \"$DB_USER\" LOGIN PASSWORD '$DB_PASS';
      ELSE ALTER ROLE \"$DB_USER\" LOGIN PASSWORD '$DB_PASS'; END IF; END\$\$;"
  if [ -z "$(run_as_pg "${psql_su[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
    run_as_pg "${psql_su[@]}" -d postgres -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\""
  fi
  pg_answers || die "PostgreSQL started but $DATABASE_URL does not answer"
  log "PostgreSQL is up ($DB_NAME)"
}

pg_stop() {
  pg_locate
  if [ ! -f "$PG_PID_MARK" ]; then log "PostgreSQL: not started by this script"; return; fi
  local bin; bin="$(pg_bin)"
  log "stopping PostgreSQL"
  run_as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
  rm -f "$PG_PID_MARK"
}

# ---------------------------------------------------------------- topics
create_topics() {
  [ -d "$ROOT/node_modules" ] || die "node_modules missing: run 'npm ci' first (topics are created from libs/contracts)"
  log "creating topics from libs/contracts"
  # On this script's own plaintext broker: TLS or SASL settings meant for another cluster stay out.
  (cd "$ROOT" && env -u KAFKA_SSL -u KAFKA_SSL_CA_FILE -u KAFKA_SSL_CERT_FILE -u KAFKA_SSL_KEY_FILE \
    -u KAFKA_SSL_REJECT_UNAUTHORIZED -u KAFKA_SASL_MECHANISM -u KAFKA_SASL_USERNAME \
    -u KAFKA_SASL_PASSWORD_FILE KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" \
    npx --no-install tsx scripts/ops/create-topics.ts)
}

status() {
  parse_db_url
  pg_locate
  if kafka_running_ours; then echo "kafka: running (ours, pid $(cat "$KAFKA_PID"), $KAFKA_VERSION) on 127.0.0.1:$KAFKA_PORT"
  elif port_open 127.0.0.1 "$KAFKA_PORT"; then echo "kafka: something answers on 127.0.0.1:$KAFKA_PORT (not ours)"
  else echo "kafka: down"; fi
  if pg_answers; then echo "postgres: answers at $DB_HOST:$DB_PORT/$DB_NAME$([ -f "$PG_PID_MARK" ] && echo " (ours, cluster in $PG_DIR)")"
  else echo "postgres: down"; fi
}

cmd="${1:-}"
case "$cmd" in
  up) mkdir -p "$STATE"; start=$(date +%s); kafka_start; pg_start; create_topics; log "up in $(( $(date +%s) - start )) s" ;;
  down) kafka_stop; pg_stop ;;
  status) status ;;
  kafka-stop) kafka_stop ;;
  kafka-start) mkdir -p "$STATE"; kafka_start ;;
  jars) mkdir -p "$KAFKA_DIR"; ensure_kafka_jars ;;
  *) echo "usage: $0 up|down|status|kafka-stop|kafka-start|jars" >&2; exit 2 ;;
esac
