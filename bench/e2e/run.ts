/**
 * The platform end to end, as a user sees it: messages published to im.message.sent.v1, pushes
 * arriving at the fake providers. `npm run bench [-- --quick] [-- --profile]`
 *
 * Every service runs as its own process from the built output (`node dist/apps/<name>/main.js`;
 * built first when dist/ is missing or older than the sources), on a broker of its own
 * (127.0.0.1:19692, empty at start, removed at the end) and in two PostgreSQL schemas of their
 * own on the shared database (created, then dropped). The fakes run as processes and timestamp
 * each push they accept. Each service runs with `--expose-gc --require bench/e2e/gc-hook.js`
 * (bench only): on SIGUSR2 it collects twice and writes its memory usage to a file, which gives
 * the heap per user after a forced collection next to the unforced reading of earlier runs.
 * In one invocation:
 *   0. the broker, the fakes and the schemas at once; routing's first start (new consumer groups,
 *      ~20 s of waiting on the broker) while the baselines run, the other services after them,
 *      then routing restarted alone with empty state (the restore figure subtracts that boot);
 *   1. baselines: the passthrough (the machine's limit for this path), @parse/push-adapter,
 *      bare firebase-admin sendEach;
 *   2. users: a sample through the registry's and presence's HTTP APIs, the rest published as the
 *      registry's snapshots and presence's device events (bench/e2e/population.ts);
 *   3. C2C messages at fixed rates (latency sentAt → provider), then as fast as possible
 *      (sustained pushes/s, CPU per 1,000 pushes per process);
 *   4. one message to each group (10 … 100,000 members): time until its last push arrived;
 *   5. routing restarted: the decide state's restore time.
 * Prints a table, the wall time of each phase and the total (`wallSeconds` in the JSON: quick
 * should stay under two minutes); writes bench/results/<date>-<host>[-quick].json. Quick mode:
 * 12,000 users, 2 s rate phases, no 100,000-member group (its row shows "—"). See
 * docs/performance.md.
 */
import { TOPICS, type ImMessageSent } from '@app/contracts';
import { EventProducer, outbound, type OutboundRecord } from '@app/kafka';
import { startDisposableBroker, type DisposableBroker } from '@app/testing';
import { Kafka, logLevel } from 'kafkajs';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { procStats, ROOT } from '../procs';
import { summarizeProfile } from '../apns-dispatcher/profile-summary';
import { bareSendEach, parsePushAdapter, passthrough, type BaselineResult } from './baselines';
import { Arrivals, startFakes, type Fakes } from './fakes';
import { hopLatencies } from './stages';
import {
  APP,
  publishBulk,
  pushed,
  pushedAmong,
  registerSample,
  reportedAmong,
  userId,
} from './population';
import {
  distIsStale,
  markBuilt,
  reapLeftovers,
  Service,
  SERVICES,
  forcedGcHeap,
  settledHeap,
  stopAll,
  WORK_DIR,
  type ServiceName,
} from './processes';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    users: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-baselines': { type: 'boolean', default: false },
  },
});
const QUICK = values.quick;
/** The full run's rates and groups: the table has a row for each, "—" where quick skips one. */
const FULL_RATES = [200, 500, 1000, 2000];
const FULL_GROUPS = [10, 1_000, 10_000, 100_000];
const CFG = QUICK
  ? {
      users: 12_000,
      sample: 200,
      rates: FULL_RATES,
      rateSeconds: 2,
      /** Pause after each rate phase's last push (the next starts on a drained pipeline). */
      ratePauseMs: 200,
      burst: 5_000,
      groups: [10, 1_000, 10_000],
      passthrough: 10_000,
      parse: 3_000,
      sendEach: 3_000,
      /** Heap samples (lowest) over this long, before and after the users. */
      heapSampleMs: 2000,
    }
  : {
      users: 100_000,
      sample: 1_000,
      rates: FULL_RATES,
      rateSeconds: 10,
      ratePauseMs: 500,
      burst: 30_000,
      groups: FULL_GROUPS,
      passthrough: 50_000,
      parse: 20_000,
      sendEach: 20_000,
      heapSampleMs: 4000,
    };
const N = values.users ? Number(values.users) : CFG.users;
// BENCH_E2E_PORT moves the broker (and the services, on the next 8 ports) and names the schemas
// after it, so that two worktrees can run this benchmark at the same time.
const BROKER_PORT = Number(process.env.BENCH_E2E_PORT ?? 19692);
const HTTP_BASE = BROKER_PORT + 8; // services on 19701 … 19706 by default
const SCHEMA_SUFFIX = BROKER_PORT === 19692 ? '' : `_${BROKER_PORT}`;
const SCHEMAS = {
  registry: `bench_e2e_registry${SCHEMA_SUFFIX}`,
  reports: `bench_e2e_reports${SCHEMA_SUFFIX}`,
};
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://push:push@127.0.0.1:5432/push';

// Times are since the process started (performance.now()): the wall time includes tsx's start.
const log = (s: string) =>
  process.stderr.write(`[e2e ${(performance.now() / 1000).toFixed(1)}s] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Wall seconds of each phase of the run, in order (printed at the end and in the JSON). */
const phaseSeconds: Record<string, number> = {};
let phaseFrom = 0;
function phaseDone(name: string): void {
  const now = performance.now();
  phaseSeconds[name] = r1((now - phaseFrom) / 1000);
  phaseFrom = now;
  log(`phase done: ${name} (${phaseSeconds[name]} s)`);
}

/** A well-spread deterministic hash of an integer (picking recipients). */
function mix(x: number): number {
  let h = (x ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A message as the IM server publishes it; `offlinePush.ext` carries its id to the fakes. */
function imMessage(
  id: string,
  conv: { type: 'c2c'; from: string; to: string } | { type: 'group'; groupId: string },
  sentAt: number,
): ImMessageSent {
  const c2c = conv.type === 'c2c';
  return {
    appId: APP,
    messageId: id,
    sentAt: new Date(sentAt).toISOString(),
    conversation: c2c
      ? { type: 'c2c', id: conv.from, name: null }
      : { type: 'group', id: conv.groupId, name: 'Weekend hikers' },
    sender: { userId: c2c ? conv.from : 'group-sender', nickname: 'Alice', nameCard: null },
    recipients: c2c ? [conv.to] : null,
    elements: [{ type: 'text', text: 'Are we still on for Saturday?' }],
    mentions: null,
    offlinePush: { ext: id },
    ttlSeconds: 3600,
  };
}

const c2cTo = (id: string, k: number, to: number, at: number) =>
  outbound(
    TOPICS.imMessageSent,
    imMessage(id, { type: 'c2c', from: `s${mix(k * 7 + 1) % 5000}`, to: userId(to) }, at),
  );

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

type CpuSnapshot = Record<string, number>;

interface World {
  kafka: Kafka;
  broker: DisposableBroker;
  fakes: Fakes;
  services: Record<ServiceName, Service>;
  producer: EventProducer;
  arrivals: Arrivals;
  /** sentAt (epoch ms) of every message published, by id. */
  sent: Map<string, number>;
}

function cpuSnapshot(w: World): CpuSnapshot {
  const out: CpuSnapshot = {};
  for (const name of SERVICES) out[name] = w.services[name].cpuMs();
  const bp = w.broker.pid?.();
  out.broker = bp ? procStats(bp).cpuMs : NaN;
  out['fake-apns'] = procStats(w.fakes.apns.child.pid!).cpuMs;
  out['fake-fcm'] = procStats(w.fakes.fcm.pid).cpuMs;
  const me = process.cpuUsage();
  out.harness = (me.user + me.system) / 1000;
  return out;
}

/** CPU seconds per 1,000 pushes of each process between two snapshots. */
function cpuPer1000(a: CpuSnapshot, b: CpuSnapshot, pushes: number): Record<string, number> {
  const out: Record<string, number> = {};
  let platform = 0;
  for (const k of Object.keys(a)) {
    const s = (b[k] - a[k]) / 1000 / (pushes / 1000);
    out[k] = r3(s);
    if ((SERVICES as readonly string[]).includes(k) || k === 'broker') platform += s;
  }
  out['platform (services + broker)'] = r3(platform);
  return out;
}

/** Arrival times (epoch ms) of the pushes whose message id starts with `prefix`, sorted. */
function arrivalsOf(w: World, prefix: string): Array<{ key: string; at: number }> {
  const out: Array<{ key: string; at: number }> = [];
  for (let i = 0; i < w.arrivals.keys.length; i++) {
    if (w.arrivals.keys[i].startsWith(prefix)) {
      out.push({ key: w.arrivals.keys[i], at: w.arrivals.ats[i] });
    }
  }
  return out.sort((x, y) => x.at - y.at);
}

async function sendChunks(producer: EventProducer, records: OutboundRecord[], inFlight = 4) {
  const pending: Promise<void>[] = [];
  for (let i = 0; i < records.length; i += 2000) {
    pending.push(producer.send(records.slice(i, i + 2000)));
    if (pending.length >= inFlight) await pending.shift();
  }
  await Promise.all(pending);
}

async function ratePhase(w: World, rate: number, seconds: number) {
  const total = rate * seconds;
  const prefix = `r${rate}-`;
  const base = await w.arrivals.count();
  let expected = 0;
  let k = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  while (k < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    if (due > k) {
      const batch: OutboundRecord[] = [];
      const at = Date.now();
      for (; k < due; k++) {
        const id = `${prefix}${k}`;
        const to = mix(rate * 1_000_003 + k) % N;
        if (pushed(to)) expected++;
        w.sent.set(id, at);
        batch.push(c2cTo(id, k, to, at));
      }
      pending.push(w.producer.send(batch));
    }
    await sleep(5);
  }
  await Promise.all(pending);
  const offeredSeconds = (performance.now() - t0) / 1000;
  const complete = await w.arrivals.waitFor(base + expected, 30000);
  await w.arrivals.read();
  const got = arrivalsOf(w, prefix);
  const lat = got.map((a) => a.at - w.sent.get(a.key)!).sort((a, b) => a - b);
  const res = {
    rate,
    messages: total,
    offeredPerSecond: Math.round(total / offeredSeconds),
    pushesExpected: expected,
    pushesArrived: got.length,
    complete,
    p50Ms: r1(percentile(lat, 50)),
    p95Ms: r1(percentile(lat, 95)),
    p99Ms: r1(percentile(lat, 99)),
    maxMs: r1(lat[lat.length - 1] ?? NaN),
  };
  log(`rate ${rate}/s: ${JSON.stringify(res)}`);
  return res;
}

async function burstPhase(w: World, m: number) {
  const prefix = 'burst-';
  const base = await w.arrivals.count();
  const at = Date.now();
  const records: OutboundRecord[] = [];
  for (let k = 0; k < m; k++) {
    let to = mix(k * 31 + 17) % N;
    while (!pushed(to)) to = (to + 1) % N;
    const id = `${prefix}${k}`;
    w.sent.set(id, at);
    records.push(c2cTo(id, k, to, at));
  }
  const cpu0 = cpuSnapshot(w);
  const t0 = Date.now();
  await sendChunks(w.producer, records);
  const producedMs = Date.now() - t0;
  const complete = await w.arrivals.waitFor(base + m, 30000);
  const cpu1 = cpuSnapshot(w);
  await w.arrivals.read();
  const got = arrivalsOf(w, prefix);
  const first = got[0]?.at ?? NaN;
  const last = got[got.length - 1]?.at ?? NaN;
  // The steady part: from the 5th to the 95th percentile of arrivals (start-up and tail left out).
  const a5 = got[Math.floor(got.length * 0.05)]?.at ?? NaN;
  const a95 = got[Math.floor(got.length * 0.95)]?.at ?? NaN;
  const res = {
    messages: m,
    pushes: got.length,
    complete,
    producedSeconds: r1(producedMs / 1000),
    seconds: r1((last - t0) / 1000),
    pushesPerSecond: Math.round(got.length / ((last - t0) / 1000)),
    steadyPushesPerSecond: Math.round((got.length * 0.9) / ((a95 - a5) / 1000)),
    firstPushAfterMs: first - t0,
    cpuSecondsPer1000: cpuPer1000(cpu0, cpu1, got.length),
  };
  log(`burst: ${JSON.stringify({ ...res, cpuSecondsPer1000: undefined })}`);
  return res;
}

async function groupPhases(w: World, sizes: number[]) {
  const results = [];
  const cpu0 = cpuSnapshot(w);
  let pushes = 0;
  for (const size of sizes) {
    const id = `g${size}-0`;
    const base = await w.arrivals.count();
    const expected = pushedAmong(size);
    const at = Date.now();
    w.sent.set(id, at);
    await w.producer.send([
      outbound(TOPICS.imMessageSent, imMessage(id, { type: 'group', groupId: `g${size}` }, at)),
    ]);
    const complete = await w.arrivals.waitFor(base + expected, 30000, 100);
    await w.arrivals.read();
    const got = arrivalsOf(w, `${id}`).filter((a) => a.key === id);
    pushes += got.length;
    const last = got[got.length - 1]?.at ?? NaN;
    const r = {
      members: size,
      pushesExpected: expected,
      pushesArrived: got.length,
      complete,
      firstPushMs: (got[0]?.at ?? NaN) - at,
      lastPushMs: last - at,
      pushesPerSecond: Math.round(got.length / ((last - at) / 1000)),
    };
    log(`group ${size}: ${JSON.stringify(r)}`);
    results.push(r);
  }
  const cpu1 = cpuSnapshot(w);
  return { groups: results, cpuSecondsPer1000: cpuPer1000(cpu0, cpu1, pushes) };
}

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs: number) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

function versions(): Record<string, string> {
  const v = (pkg: string) => {
    try {
      return (
        JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    } catch {
      return '?';
    }
  };
  let commit = '?';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '-uno', 'apps', 'libs', 'bench'], {
      cwd: ROOT,
    }).toString();
    if (dirty.trim()) commit += '+changes';
  } catch {
    // not a checkout
  }
  return {
    node: process.version,
    kafka: '4.4.0 (KRaft, one broker, 384 MB heap)',
    kafkajs: v('kafkajs'),
    'firebase-admin': v('firebase-admin'),
    '@parse/node-apn': v('@parse/node-apn'),
    '@parse/push-adapter': v('@parse/push-adapter'),
    '@nestjs/core': v('@nestjs/core'),
    commit,
  };
}

async function db(sql: string): Promise<void> {
  const c = new Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function serviceEnv(name: ServiceName, brokers: string[], appsFile: string) {
  const base: Record<string, string> = {
    KAFKA_BROKERS: brokers.join(','),
    PUSH_APPS_FILE: appsFile,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    SHUTDOWN_TIMEOUT_MS: '10000',
    INSTANCE_ID: `bench-${name}`,
  };
  const sep = DATABASE_URL.includes('?') ? '&' : '?';
  const own: Record<ServiceName, Record<string, string>> = {
    'token-registry': {
      DATABASE_URL: `${DATABASE_URL}${sep}options=-c%20search_path%3D${SCHEMAS.registry}`,
      REGISTRY_RUN_MIGRATIONS: 'true',
    },
    // Reports only, no heartbeats: nothing may time out during the run.
    presence: {
      PRESENCE_HEARTBEAT_INTERVAL_SECONDS: '3600',
      PRESENCE_HEARTBEAT_TIMEOUT_SECONDS: '86400',
    },
    routing: {},
    'apns-dispatcher': {},
    'fcm-dispatcher': {},
    'delivery-reports': {
      DATABASE_URL,
      DELIVERY_REPORTS_SCHEMA: SCHEMAS.reports,
      DELIVERY_REPORTS_RUN_MIGRATIONS: 'true',
    },
  };
  return { ...base, ...own[name], ...settingsFromBenchEnv() };
}

/** `BENCH_ENV_<NAME>=<value>` in the benchmark's environment: `<NAME>=<value>` for every service. */
function settingsFromBenchEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('BENCH_ENV_') && v !== undefined) out[k.slice('BENCH_ENV_'.length)] = v;
  }
  return out;
}

function printTable(r: Report): void {
  const line = (label: string, value: string, ratio = '') =>
    console.log(`${label.padEnd(64)} ${value.padStart(18)}  ${ratio}`);
  const met = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? 'met' : 'MISSED');
  console.log(
    `\nEnd to end, ${r.mode} run, ${r.users.toLocaleString('en')} users, ${r.machine.cpus} CPUs, load ${r.machine.loadavgStart.join('/')} → ${r.machine.loadavgEnd.join('/')}, ${r.date}`,
  );
  line('figure', 'value', 'ratio, target');
  for (const b of r.baselines) line(`baseline: ${b.name}`, `${b.perSecond} /s`);
  const t = r.targets;
  line(
    'sustained pushes/s end to end (C2C, as fast as possible)',
    `${r.burst.pushesPerSecond} /s`,
    t.endToEndVsPassthrough.value === null
      ? ''
      : `${t.endToEndVsPassthrough.value}x passthrough (≥ 0.6: ${met(t.endToEndVsPassthrough.met)}); ${t.vsParse}x Parse, ${t.vsSendEach}x sendEach`,
  );
  line('  steady part (5th → 95th percentile of arrivals)', `${r.burst.steadyPushesPerSecond} /s`);
  const skipped = `skipped (${r.mode} run)`;
  for (const rate of FULL_RATES) {
    const l = r.latency.find((x) => x.rate === rate);
    if (!l) {
      line(`latency p50/p95/p99 at ${rate} msg/s`, '—', skipped);
      continue;
    }
    line(
      `latency p50/p95/p99 at ${l.rate} msg/s (${l.pushesArrived}/${l.pushesExpected} pushes)`,
      `${l.p50Ms}/${l.p95Ms}/${l.p99Ms} ms`,
      l.rate === 1000 ? `p99 < 100 ms: ${met(t.p99At1000.met)}` : '',
    );
    const h = r.latencyPerHop.byRate[`r${l.rate}-`];
    if (h) {
      line(
        '  p50 per hop: fan-out / decide / dispatch / outcome',
        `${[h.fanoutMs[0], h.decideMs[0], h.dispatchMs[0], h.outcomeMs[0]].join('/')} ms`,
      );
    }
  }
  for (const size of FULL_GROUPS) {
    const g = r.groups.groups.find((x) => x.members === size);
    if (!g) {
      line(`group of ${size.toLocaleString('en')}: last push at the fakes`, '—', skipped);
      continue;
    }
    line(
      `group of ${g.members.toLocaleString('en')}: last push at the fakes (${g.pushesArrived} pushes)`,
      `${(g.lastPushMs / 1000).toFixed(2)} s`,
      `${g.pushesPerSecond} pushes/s${g.members === 100_000 ? `; < 10 s: ${met(t.group100kUnder10s.met)}` : ''}`,
    );
  }
  const c = r.burst.cpuSecondsPer1000;
  const gc = r.groups.cpuSecondsPer1000;
  console.log('\nCPU seconds per 1,000 pushes');
  line('process', 'C2C burst | groups');
  for (const k of Object.keys(c)) {
    line(`  ${k}`, `${c[k].toFixed(3)} | ${(gc[k] ?? NaN).toFixed(3)}`);
  }
  for (const b of r.baselines) {
    const x = b.cpuMsPer1000;
    line(
      `  baseline ${b.name.split(' ')[0]} (itself + fake${x.broker !== undefined ? ' + broker' : ''})`,
      ((x.contender + x.fake + (x.broker ?? 0)) / 1000).toFixed(3),
    );
  }
  console.log('\nMemory, restore, users');
  for (const s of ['routing', 'presence'] as const) {
    const m = r.memory[s];
    line(
      `${s} heap per user (1 device)`,
      `${m.heapBytesPerUser} B`,
      `${m.gibPerMillionUsers} GiB per 1,000,000 users (no forced GC, as before)`,
    );
    const f = r.memory.forcedGc[s];
    line(
      `  after a forced full GC`,
      `${f.heapBytesPerUser} B`,
      `${f.gibPerMillionUsers} GiB per 1,000,000 users; ${f.garbageMbAfter} MB garbage collected`,
    );
  }
  line(
    'decide restore per 1,000,000 users (routing restart to ready)',
    `${r.restore.secondsPerMillionUsers} s`,
    `${r.restore.readyMsWithUsers} ms with ${r.users} users, ${r.restore.readyMsEmpty} ms empty`,
  );
  const p = r.population;
  line(
    `registry device API, real path (${p.sample.registry.count} users)`,
    `${p.sample.registry.perSecond} /s`,
    `p50 ${p.sample.registry.p50Ms} ms, p99 ${p.sample.registry.p99Ms} ms`,
  );
  line(
    `presence report API, real path (${p.sample.presence.count} users)`,
    `${p.sample.presence.perSecond} /s`,
    `p50 ${p.sample.presence.p50Ms} ms, p99 ${p.sample.presence.p99Ms} ms`,
  );
  line(
    `bulk: snapshots + device events, until presence held them`,
    `${p.bulk.usersPerSecond} users/s`,
    `${p.bulk.users} users`,
  );
}

type Report = Awaited<ReturnType<typeof run>>;

/** Records of `topic` routing's fan-out state reader has applied (its Kafka metrics). */
async function fanoutApplied(routing: Service, topic: string): Promise<number> {
  const group = settingsFromBenchEnv().ROUTING_FANOUT_GROUP ?? 'routing-fanout';
  let n = 0;
  for (const [k, v] of await routing.metrics('push_kafka_records_consumed_total{')) {
    if (k.includes(`group="${group}"`) && k.includes(`topic="${topic}"`)) {
      if (k.includes('result="ok"')) n += v;
    }
  }
  return n;
}

async function run(
  w: World,
  baselines: BaselineResult[],
  loadStart: number[],
  emptyBootMs: number,
) {
  const { services, producer, arrivals } = w;
  await sleep(1000);
  // Heap in use as before (lowest sample, no forced collection), then after a forced full GC in
  // the service (bench/e2e/gc-hook.js): the unforced reading is taken first, so it is unchanged.
  const settled = async () => {
    const [routing, presence] = await Promise.all([
      settledHeap(services.routing, CFG.heapSampleMs),
      settledHeap(services.presence, CFG.heapSampleMs),
    ]);
    const [routingGc, presenceGc] = await Promise.all([
      forcedGcHeap(services.routing),
      forcedGcHeap(services.presence),
    ]);
    return { routing, presence, forced: { routing: routingGc, presence: presenceGc } };
  };
  const mem0 = await settled();
  phaseDone('memory before the users');

  // Users: a sample through the APIs, the rest published directly.
  const sampleN = Math.min(CFG.sample, N);
  log(`registering ${sampleN} users through the registry's and presence's HTTP APIs`);
  const sample = await registerSample(sampleN, {
    registry: services['token-registry'].port,
    presence: services.presence.port,
  });
  log(`  ${JSON.stringify(sample)}`);
  log(`publishing ${N - sampleN} users (registry snapshots, presence device events)`);
  const tb = performance.now();
  const bulk = await publishBulk(producer, sampleN, N);
  const wantPresence = reportedAmong(N);
  await waitUntil(
    `presence holding ${wantPresence} users`,
    async () => (await services.presence.metric('push_presence_users')) >= wantPresence,
    600000,
  );
  const bulkSeconds = (performance.now() - tb) / 1000;
  log(`  published and absorbed by presence in ${bulkSeconds.toFixed(1)} s`);
  phaseDone('users (sample and bulk)');
  // Routing holds the last users written: probe pushes to some of them arrive.
  const probes: number[] = [];
  for (let i = N - 1; probes.length < 48 && i >= 0; i -= 97) if (pushed(i)) probes.push(i);
  const base = await arrivals.count();
  const at = Date.now();
  await producer.send(probes.map((u, k) => c2cTo(`probe-${k}`, k, u, at)));
  if (!(await arrivals.waitFor(base + probes.length, 60000))) {
    throw new Error('probe pushes did not all arrive: see .local/bench-e2e/logs');
  }
  const routingReadyMs = Math.round(performance.now() - tb);
  phaseDone('probes (routing holds the users)');
  await sleep(1000);
  const mem1 = await settled();
  const perUser = (a: { heap: number; rss: number }, b: { heap: number; rss: number }) => ({
    heapBytesPerUser: Math.round((b.heap - a.heap) / N),
    gibPerMillionUsers: Math.round(((((b.heap - a.heap) / N) * 1e6) / 2 ** 30) * 100) / 100,
    rssBytesPerUser: Math.round((b.rss - a.rss) / N),
    heapMbBefore: r1(a.heap / 2 ** 20),
    heapMbAfter: r1(b.heap / 2 ** 20),
  });
  const forcedPerUser = (
    a: Awaited<ReturnType<typeof forcedGcHeap>>,
    b: Awaited<ReturnType<typeof forcedGcHeap>>,
  ) => ({
    ...perUser(a, b),
    // What the collection removed from heap in use after the users (garbage of the bulk load).
    garbageMbAfter: r1((b.heapBeforeGc - b.heap) / 2 ** 20),
    gcMs: [Math.round(a.gcMs), Math.round(b.gcMs)],
  });
  const memory = {
    how: `heap in use (nodejs_heap_size_used_bytes), the lowest of samples over ${CFG.heapSampleMs / 1000} s, no forced collection (the figure of earlier runs: includes garbage the bulk load left in the old generation)`,
    routing: perUser(mem0.routing, mem1.routing),
    presence: perUser(mem0.presence, mem1.presence),
    forcedGc: {
      how: "heap in use (process.memoryUsage().heapUsed) right after two forced full collections (global.gc() in the service on SIGUSR2: node --expose-gc --require bench/e2e/gc-hook.js, bench only), taken after the unforced samples; rss: the service's RSS then",
      routing: forcedPerUser(mem0.forced.routing, mem1.forced.routing),
      presence: forcedPerUser(mem0.forced.presence, mem1.forced.presence),
    },
  };
  log(`memory: ${JSON.stringify(memory)}`);
  phaseDone('memory after the users');

  // Groups (members u0 …), known to routing's fan-out before their messages: waits until its
  // state reader applied them (its Kafka metrics), at most 10 s.
  const groupsTopic = TOPICS.imGroupMembers.name;
  const membershipsBefore = await fanoutApplied(services.routing, groupsTopic);
  for (const size of CFG.groups) {
    await producer.send([
      outbound(TOPICS.imGroupMembers, {
        appId: APP,
        groupId: `g${size}`,
        version: 1,
        members: Array.from({ length: size }, (_, i) => userId(i)),
      }),
    ]);
  }
  await waitUntil(
    'routing applying the group memberships',
    async () =>
      (await fanoutApplied(services.routing, groupsTopic)) >= membershipsBefore + CFG.groups.length,
    10000,
  ).catch(() => log('  memberships not seen in routing metrics after 10 s; going on'));
  phaseDone('group memberships');

  const latency = [];
  const ratesSince = Date.now();
  for (const rate of CFG.rates) {
    latency.push(await ratePhase(w, rate, CFG.rateSeconds));
    await sleep(CFG.ratePauseMs);
  }
  phaseDone('rate phases');
  const hopTopics = [
    TOPICS.pushIntent.name,
    TOPICS.apnsRequest.name,
    TOPICS.fcmRequest.name,
    TOPICS.pushOutcome.name,
  ];
  const admin = w.kafka.admin();
  await admin.connect();
  const stopAt: Record<string, Record<number, string>> = {};
  for (const t of hopTopics) {
    stopAt[t] = Object.fromEntries(
      (await admin.fetchTopicOffsets(t)).map((p) => [p.partition, p.high]),
    );
  }
  await admin.disconnect();
  const burst = await burstPhase(w, CFG.burst);
  phaseDone('burst');
  await sleep(CFG.ratePauseMs);
  const groups = await groupPhases(w, CFG.groups);
  phaseDone('groups');

  // Restore: routing restarted with every user's state on its topics.
  await services.routing.stop();
  services.routing.start();
  const fullBootMs = await services.routing.waitReady();
  const restoreMs = Math.max(0, fullBootMs - emptyBootMs);
  const restore = {
    users: N,
    readyMsEmpty: Math.round(emptyBootMs),
    readyMsWithUsers: Math.round(fullBootMs),
    secondsPerMillionUsers: r1((restoreMs / 1000 / N) * 1e6),
  };
  log(`restore: ${JSON.stringify(restore)}`);
  phaseDone('restore (routing restarted)');
  const hops = await hopLatencies(
    w.kafka,
    { since: ratesSince, stopAt },
    CFG.rates.map((r) => `r${r}-`),
    w.sent,
    w.arrivals,
  );
  log(`latency per hop (p50, p99 ms): ${JSON.stringify(hops)}`);
  phaseDone('latency per hop (topics read)');

  const load = os.loadavg().map((x) => r1(x));
  const rate = (prefix: string) => baselines.find((b) => b.name.startsWith(prefix))?.perSecond;
  const ratio = (x: number | undefined) =>
    x ? Math.round((burst.pushesPerSecond / x) * 100) / 100 : null;
  const at1000 = latency.find((l) => l.rate === 1000);
  const g100k = groups.groups.find((g) => g.members === 100_000);
  const targets = {
    endToEndVsPassthrough: {
      value: ratio(rate('passthrough')),
      target: 0.6,
      met: rate('passthrough') ? burst.pushesPerSecond / rate('passthrough')! >= 0.6 : undefined,
    },
    vsParse: ratio(rate('@parse')),
    vsSendEach: ratio(rate('firebase-admin')),
    p99At1000: {
      valueMs: at1000?.p99Ms,
      targetMs: 100,
      met: at1000 ? at1000.p99Ms < 100 : undefined,
    },
    group100kUnder10s: {
      valueMs: g100k?.lastPushMs,
      targetMs: 10000,
      met: g100k ? g100k.complete && g100k.lastPushMs < 10000 : undefined,
    },
  };
  const date = new Date().toISOString();
  return {
    date,
    mode: QUICK ? 'quick' : 'full',
    users: N,
    machine: {
      host: os.hostname(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      memoryGb: r1(os.totalmem() / 2 ** 30),
      loadavgStart: loadStart,
      loadavgEnd: load,
      note: 'The machine is shared: compare ratios to the baselines of the same run.',
    },
    versions: versions(),
    config: { ...CFG, users: N },
    population: {
      how: `u0…u${sampleN - 1} through the registry's device API and presence's report API; the other ${N - sampleN} as token.user-devices.v1 snapshots from the registry's snapshot builder and presence.device-event.v1 events (what the report API publishes); presence computes their state`,
      sample,
      bulk: {
        users: N - sampleN,
        snapshotsSeconds: r1(bulk.snapshotsSeconds),
        eventsSeconds: r1(bulk.eventsSeconds),
        events: bulk.events,
        absorbedByPresenceSeconds: r1(bulkSeconds),
        usersPerSecond: Math.round((N - sampleN) / bulkSeconds),
        routingProbesArrivedMs: routingReadyMs,
      },
    },
    baselines: baselines.map((b) => ({
      ...b,
      seconds: r1(b.seconds),
      perSecond: Math.round(b.perSecond),
      cpuMsPer1000: Object.fromEntries(
        Object.entries(b.cpuMsPer1000).map(([k, v]) => [k, Math.round(v)]),
      ),
    })),
    targets,
    burst,
    latency,
    latencyPerHop: {
      how: 'p50 and p99 (ms) per hop, from record timestamps (producer time): sentAt → push.intent.v1 (fan-out) → push.*.request.v1 (decide) → arrival at the fake (dispatcher) → push.outcome.v1',
      byRate: hops,
    },
    groups,
    memory,
    restore,
  };
}

async function main(): Promise<void> {
  const loadStart = os.loadavg().map((x) => r1(x));
  mkdirSync(WORK_DIR, { recursive: true });
  reapLeftovers(log);
  if (distIsStale()) {
    log('dist/ is missing or older than the sources: npm run build');
    const b = spawnSync('npm', ['run', 'build'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (b.status !== 0) throw new Error('npm run build failed');
    markBuilt();
    phaseDone('build');
  }
  const runDir = join(WORK_DIR, 'run');
  rmSync(runDir, { recursive: true, force: true });
  rmSync(join(WORK_DIR, 'logs'), { recursive: true, force: true });
  const profileDir = join(WORK_DIR, 'profiles');
  if (values.profile) rmSync(profileDir, { recursive: true, force: true });
  const dropSchemas = `DROP SCHEMA IF EXISTS ${SCHEMAS.registry} CASCADE; DROP SCHEMA IF EXISTS ${SCHEMAS.reports} CASCADE`;
  let broker: DisposableBroker | undefined;
  let producer: EventProducer | undefined;
  let tornDown = false;
  // Everything the run started, gone: services (SIGKILL unless profiling: nothing is measured
  // any more, and a graceful stop of six services takes seconds), fakes, broker, schemas.
  const teardown = async () => {
    if (tornDown) return;
    tornDown = true;
    await producer?.disconnect().catch(() => undefined);
    await stopAll({ kill: !values.profile });
    await broker?.destroy();
    await db(dropSchemas).catch((e: Error) => log(`dropping the schemas: ${e.message}`));
  };
  try {
    // The fakes and the schemas are started first, then the broker: startDisposableBroker blocks
    // this process while the JVM starts, and the fakes (processes of their own) start meanwhile.
    log(`broker on 127.0.0.1:${BROKER_PORT} (empty), the fakes and the schemas at the same time`);
    const fakesStarting = startFakes(runDir);
    const schemasReset = db(`${dropSchemas}; CREATE SCHEMA ${SCHEMAS.registry}`);
    const brokerStarting = startDisposableBroker(BROKER_PORT).then((b) => (broker = b));
    const started = await Promise.allSettled([brokerStarting, fakesStarting, schemasReset]);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    if (!broker) throw new Error('the broker did not start');
    const fakes = await fakesStarting;
    phaseDone('broker, fakes, schemas');
    const kafka = new Kafka({
      clientId: 'bench-e2e',
      brokers: broker.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 8 },
    });
    const arrivals = new Arrivals({
      apns: fakes.apns.controlPort,
      fcm: fakes.fcm.info.controlPort!,
    });
    const brokers = broker.brokers;
    const services = Object.fromEntries(
      SERVICES.map((name, i) => [
        name,
        new Service(
          name,
          HTTP_BASE + 1 + i,
          serviceEnv(name, brokers, fakes.appsFile),
          values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : [],
        ),
      ]),
    ) as Record<ServiceName, Service>;
    // Routing's first start on a fresh broker is long and idle: each of its new consumer groups'
    // input topics gets its offsets set to the end (kafkajs's admin.setOffsets, about 5 s a topic
    // on an empty topic, one after another: ~20 s). It runs while the baselines do, once its
    // process has booted (its HTTP server answers); its CPU meanwhile is in the JSON. Its time to
    // ready is not a figure: the restore figure subtracts a restart with empty state (below).
    log('starting routing (first start: new consumer groups), then the baselines meanwhile');
    services.routing.start();
    await services.routing.waitReady(180000, '/health/live');
    const routingCpu0 = services.routing.cpuMs();
    const baselines: BaselineResult[] = [];
    if (!values['no-baselines']) {
      log(`baseline: passthrough, ${CFG.passthrough} prebuilt APNs requests`);
      baselines.push(
        await passthrough(broker.brokers, fakes.apns, CFG.passthrough, broker.pid?.()),
      );
      log(`  ${Math.round(baselines[0].perSecond)} pushes/s`);
      log(`baseline: @parse/push-adapter, ${CFG.parse} notifications`);
      baselines.push(await parsePushAdapter(fakes.apns, CFG.parse));
      log(`  ${Math.round(baselines[1].perSecond)} pushes/s`);
      log(`baseline: firebase-admin sendEach, ${CFG.sendEach} messages`);
      baselines.push(await bareSendEach(fakes.fcm, CFG.sendEach));
      log(`  ${Math.round(baselines[2].perSecond)} pushes/s`);
      phaseDone('baselines');
    }
    await arrivals.clear();
    const routingCpuDuringBaselinesMs = services.routing.cpuMs() - routingCpu0;
    log(`  routing's CPU during the baselines: ${routingCpuDuringBaselinesMs} ms`);

    log('starting the other five services from dist/ side by side');
    const others = Object.values(services).filter((s) => s.name !== 'routing');
    for (const s of others) s.start();
    const readyMs: Record<string, number> = {};
    await Promise.all(
      [...others, services.routing].map(async (s) => {
        readyMs[s.name] = Math.round(await s.waitReady());
        log(`  ${s.name} ready after ${readyMs[s.name]} ms`);
      }),
    );
    const routingFirstStart = {
      how: "routing's first start on the fresh broker (new consumer groups: offsets set to the end of each input topic), while the baselines ran; not a figure, only what it overlapped",
      readyMs: readyMs.routing,
      cpuMsDuringBaselines: routingCpuDuringBaselinesMs,
    };
    // Routing restarted alone, with empty state topics (the restore figure subtracts it).
    await services.routing.stop();
    services.routing.start();
    const emptyBootMs = await services.routing.waitReady();
    log(`routing boot with empty state: ${Math.round(emptyBootMs)} ms`);
    log('services ready');
    phaseDone('services start');
    producer = new EventProducer(kafka);
    await producer.connect();
    const world: World = { kafka, broker, fakes, services, producer, arrivals, sent: new Map() };
    const report = await run(world, baselines, loadStart, emptyBootMs);
    await teardown();
    phaseDone('teardown (processes, broker, schemas)');
    let profiles: Record<string, string[]> | undefined;
    if (values.profile) {
      profiles = {};
      for (const name of SERVICES) {
        const dir = join(profileDir, name);
        let files: string[] = [];
        try {
          files = readdirSync(dir).map((f) => join(dir, f));
        } catch {
          continue;
        }
        // The largest profile of the service: the process that ran the phases.
        const file = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
        if (file) profiles[name] = summarizeProfile(file, 8, 10);
      }
    }
    const wallSeconds = r1(performance.now() / 1000);
    const full = { ...report, wallSeconds, phaseSeconds, routingFirstStart, profiles };
    printTable(report);
    if (profiles) {
      for (const [name, lines] of Object.entries(profiles)) {
        console.log(`\nprofile of ${name}:\n${lines.join('\n')}`);
      }
    }
    const dir = join(ROOT, 'bench/results');
    mkdirSync(dir, { recursive: true });
    // A second run the same day does not overwrite the first (results are committed by name).
    const base = `${report.date.slice(0, 10)}-${report.machine.host}${QUICK ? '-quick' : ''}`;
    let file = join(dir, `${base}.json`);
    for (let n = 2; existsSync(file); n++) file = join(dir, `${base}-${n}.json`);
    console.log('\nWall time per phase (s)');
    for (const [k, v] of Object.entries(phaseSeconds)) console.log(`  ${k.padEnd(62)} ${v}`);
    console.log(
      `wall time: ${wallSeconds} s (${report.mode} run${QUICK ? '; the goal is under 120 s' : ''})`,
    );
    writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
    console.log(`written: ${file.slice(ROOT.length + 1)}`);
  } finally {
    await teardown();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
