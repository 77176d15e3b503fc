import { auditPipeline, consumerLag, type AuditReport } from './pipeline-audit';
import type { FakeApnsRule } from './fake-apns';
import type { FakeFcmBehaviour } from './fake-fcm';
import {
  FAULTS_APP,
  LoadGenerator,
  SERVICE_NAMES,
  waitUntil,
  type FaultWorld,
  type ServiceName,
} from './fault-world';

/**
 * The faults of the fault suite and the loop that runs one: load on, fault in, recovery, load
 * off, then the audit until the pipeline has settled, readiness of every service and the lag of
 * every consumer group. See docs/fault-suite.md.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FaultContext {
  world: FaultWorld;
  /** The id prefix of this phase's messages (poison inputs use it for their valid oversized message). */
  prefix: string;
  log: (line: string) => void;
  /** Notes for the report (what happened during the fault). */
  note: (line: string) => void;
  /** Dispatcher crashes, with their time: a job delivered before one may be delivered again. */
  crashed: Array<{ provider: 'apns' | 'fcm'; at: number }>;
}

export interface FaultCase {
  name: string;
  /** Injects the fault and recovers from it; returns how many faults it injected. */
  inject(ctx: FaultContext): Promise<number>;
}

export interface FaultRunOptions {
  /** Messages a second during the phase. */
  rate: number;
  /** Load before the fault and after the recovery (ms). */
  warmMs?: number;
  coolMs?: number;
  /** How long the pipeline may take to settle after the load stops (ms). */
  settleTimeoutMs?: number;
  /** Also change presence and devices during the phase (registry and presence at work). */
  churn?: boolean;
}

export interface FaultResult {
  name: string;
  ok: boolean;
  problems: string[];
  injected: number;
  sent: number;
  sendFailures: number;
  /** Valid messages audited (each followed to its final outcomes). */
  messages: number;
  /** Inputs checked: valid messages, messages the fan-out dead-lettered, invalid records. */
  checked: number;
  intents: number;
  requests: number;
  lost: number;
  routingDuplicates: number;
  /** Jobs with several final outcomes on push.outcome.v1 (copies of one included). */
  providerDuplicateOutcomes: number;
  /** Jobs the fakes answered 200 more than once. */
  deliveredTwice: number;
  /** The at-least-once bound for this fault (0 unless a dispatcher crashed). */
  duplicatesAllowed: string;
  deadLetters: number;
  invalidInputs: number;
  ready: boolean;
  lagPending: number;
  settleMs: number;
  durationMs: number;
  notes: string[];
  audit: AuditReport;
}

/** Presence reports and device re-registrations while the fault runs. */
class Churn {
  ok = 0;
  failed = 0;
  private timer?: NodeJS.Timeout;
  private k = 0;
  constructor(private readonly world: FaultWorld) {}
  start(): this {
    this.timer = setInterval(() => void this.step(), 1000);
    return this;
  }
  private async step(): Promise<void> {
    const users = this.world.users;
    const u = users[(this.k++ * 13) % users.length];
    if (this.world.churnSkip.has(u.id)) return;
    const device = u.ios ? 'ios' : 'android';
    const a = await this.world.reportPresence(u.id, `${device}-1`, false, this.k % 7);
    const b = await this.world.registerDevice(u, device, 0);
    for (const s of [a, b]) {
      if (s >= 200 && s < 300) this.ok++;
      else this.failed++;
    }
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Runs one fault under load and audits the pipeline afterwards. */
export async function runFault(
  world: FaultWorld,
  fault: FaultCase,
  index: number,
  opts: FaultRunOptions,
): Promise<FaultResult> {
  const log = (l: string) => world.log(`[${fault.name}] ${l}`);
  const notes: string[] = [];
  const prefix = `f-${world.run}-${index}-`;
  const started = Date.now();
  log(`load ${opts.rate}/s`);
  const load = new LoadGenerator(world, prefix, opts.rate).start();
  const churn = opts.churn === false ? undefined : new Churn(world).start();
  let injected = 0;
  const crashed: FaultContext['crashed'] = [];
  try {
    await sleep(opts.warmMs ?? 3000);
    injected = await fault.inject({ world, prefix, log, note: (n) => notes.push(n), crashed });
    await sleep(opts.coolMs ?? 3000);
  } finally {
    churn?.stop();
    await load.stop();
  }
  if (churn) {
    notes.push(`churn: ${churn.ok} presence/device calls accepted, ${churn.failed} refused`);
  }
  log(`load stopped: ${load.sent} sent, ${load.failed} not acknowledged; settling`);

  // Settle: audit until nothing is missing and nothing is pending (or the time is up).
  const settleStart = Date.now();
  const timeout = opts.settleTimeoutMs ?? 120000;
  const audit = (graceMs: number) =>
    auditPipeline({
      kafka: world.kafka,
      since: started - 1000,
      messageIdPrefix: prefix,
      downstreamSlackMs: 5000,
      graceMs,
      idleTimeoutMs: 10000,
    });
  let report = await audit(20000);
  while ((report.lost > 0 || report.counts.pending > 0) && Date.now() - settleStart < timeout) {
    await sleep(3000);
    report = await audit(20000);
  }
  if (report.lost > 0 || report.counts.pending > 0) report = await audit(0);
  const settleMs = Date.now() - settleStart;

  // Every service ready and every consumer group drained.
  const problems: string[] = [];
  let ready = true;
  try {
    await world.waitReady(SERVICE_NAMES, 60000);
  } catch (e) {
    ready = false;
    problems.push((e as Error).message);
  }
  let lagPending = 0;
  try {
    await waitUntil(
      async () => {
        const rows = await consumerLag(world.kafka);
        lagPending = rows.reduce((s, r) => s + r.pending, 0);
        return lagPending === 0;
      },
      60000,
      'consumer groups drained',
      2000,
    );
  } catch {
    problems.push(`consumer lag not drained: ${lagPending} records`);
  }

  // Provider-side duplicates: deliveries counted by the fakes during this phase. The bound
  // (docs/dispatch-library.md): a job is delivered again only when its dispatcher crashed after
  // sending it and before committing, so at most once more per crash, and only a job first
  // delivered before a crash of its provider's dispatcher.
  const dups = world.deliveries.duplicates(started);
  const crashes = crashed.map((c) => c.provider);
  const unexplained = dups.filter((d) => {
    const mine = crashed.filter((c) => c.provider === d.provider);
    return !mine.some((c) => d.first <= c.at) || d.n > 1 + mine.length;
  });
  const c = report.counts;
  if (report.lost > 0) problems.push(`${report.lost} lost`);
  if (c.routingDuplicateRequests > 0) {
    problems.push(
      `${c.routingDuplicateRequests} jobs written twice by routing (${c.routingDuplicatesAfterRepeatedIntent} after an intent the fan-out repeated, ${c.intentRepeats} repeated intents in all)`,
    );
  }
  if (unexplained.length > 0) {
    problems.push(
      `${unexplained.length} jobs delivered twice outside the at-least-once bound (${unexplained
        .slice(0, 3)
        .map((d) => `${d.provider} ${d.key} ×${d.n}`)
        .join('; ')})`,
    );
  }
  if (report.incomplete.length > 0) {
    problems.push(`audit could not read ${report.incomplete.join(', ')} to the end`);
  }
  problems.push(...report.failures.filter((f) => !/lost|written twice|could not read/.test(f)));
  const result: FaultResult = {
    name: fault.name,
    ok: problems.length === 0,
    problems,
    injected,
    sent: load.sent,
    sendFailures: load.failed,
    messages: c.messages,
    checked: c.messages + c.messagesDeadLettered + c.invalidInputs,
    intents: c.intents,
    requests: c.requests,
    lost: report.lost,
    routingDuplicates: c.routingDuplicateRequests,
    providerDuplicateOutcomes: c.providerDuplicateOutcomes,
    deliveredTwice: dups.length,
    duplicatesAllowed: crashes.length
      ? `jobs delivered before the ${crashes.join('+')} crash, ≤ ${1 + crashes.length} deliveries each`
      : '0',
    deadLetters: c.deadLetters,
    invalidInputs: c.invalidInputs,
    ready,
    lagPending,
    settleMs,
    durationMs: Date.now() - started,
    notes,
    audit: report,
  };
  log(
    `${result.ok ? 'OK' : 'FAILED'}: ${c.messages} messages, ${c.requests} jobs, lost ${report.lost}, routing duplicates ${c.routingDuplicateRequests}, delivered twice ${dups.length}, settled in ${settleMs} ms${problems.length ? ` — ${problems.join('; ')}` : ''}`,
  );
  return result;
}

// ------------------------------------------------------------------ the faults

/**
 * kill -9 of one service, restarted after `downMs`; waits until it is ready again. With `burst`,
 * that many messages are written at once just before the kill, so that it lands while the
 * service has work in flight (an uncommitted fan-out batch, an open transaction, sends waiting
 * for their answers).
 */
export function killService(
  name: ServiceName,
  opts: { downMs?: number; burst?: number; burstLeadMs?: number } = {},
): FaultCase {
  return {
    name: `kill -9 ${name}${opts.burst ? ` (after a burst of ${opts.burst})` : ''}`,
    async inject({ world, prefix, log, note, crashed }) {
      const svc = world.services[name];
      if (opts.burst) {
        const burst = Array.from({ length: opts.burst }, (_, i) =>
          world.message(`${prefix}burst-${i}`, i % 10 < 3 ? 'group' : 'c2c', 100000 + i),
        );
        for (let i = 0; i < burst.length; i += 500) {
          await world.produce('im.message.sent.v1', burst.slice(i, i + 500));
        }
        await sleep(opts.burstLeadMs ?? 300);
      }
      const at = Date.now();
      await svc.kill9();
      if (name === 'apns-dispatcher') crashed.push({ provider: 'apns', at });
      if (name === 'fcm-dispatcher') crashed.push({ provider: 'fcm', at });
      log('killed');
      await sleep(opts.downMs ?? 2000);
      svc.start();
      const ms = await world.waitReady([name], 180000);
      note(`${name} ready ${ms} ms after its restart`);
      return 1;
    },
  };
}

/** The disposable broker stopped (SIGTERM) and started again after `downMs`. */
export function restartBroker(downMs = 5000): FaultCase {
  return {
    name: 'broker restart',
    async inject({ world, log, note }) {
      const t = Date.now();
      await world.brokerCommand('kafka-stop');
      log(`broker stopped (${Date.now() - t} ms)`);
      await sleep(downMs);
      await world.brokerCommand('kafka-start');
      const ms = await world.waitReady(SERVICE_NAMES, 180000);
      note(`broker away ${Date.now() - t} ms; every service ready ${ms} ms after it came back`);
      return 1;
    },
  };
}

/**
 * PostgreSQL unreachable for `outageMs` (the registry's proxy cut): registrations are refused
 * meanwhile (503, never a hang), invalidations wait in the consumer (a few tokens answer 410 during
 * the outage), and both go through once it is back.
 */
export function databaseOutage(outageMs = 30000): FaultCase {
  return {
    name: `PostgreSQL unreachable ${Math.round(outageMs / 1000)} s`,
    async inject({ world, log, note }) {
      const victims = world.users.filter((u) => u.ios).slice(-3);
      for (const v of victims) world.churnSkip.add(v.id);
      await world.db.cutNow();
      log('database cut');
      const now = Math.floor(Date.now() / 1000);
      for (const v of victims) {
        world.apns.rule(v.ios!, {
          kind: 'error',
          status: 410,
          reason: 'Unregistered',
          timestamp: now * 1000,
        });
      }
      const t = Date.now();
      const during = await world.registerDevice(
        world.users[1],
        world.users[1].android ? 'android' : 'ios',
        0,
      );
      note(`a registration during the outage answered ${during} in ${Date.now() - t} ms`);
      await sleep(outageMs);
      await world.db.restore();
      log('database back');
      const t2 = Date.now();
      const after = await world.registerDevice(
        world.users[2],
        world.users[2].android ? 'android' : 'ios',
        60000,
      );
      note(`first registration after the outage: ${after} after ${Date.now() - t2} ms`);
      await world.waitReady(['token-registry'], 60000);
      // The invalidated devices leave the registry once the consumer catches up.
      await waitUntil(
        async () =>
          (
            await Promise.all(
              victims.map((v) =>
                fetch(
                  `http://127.0.0.1:${world.portOf('token-registry')}/v1/apps/${FAULTS_APP}/users/${v.id}/devices`,
                  { headers: { authorization: 'Bearer faults-api-key' } },
                ).then(
                  async (r) =>
                    ((await r.json()) as { devices: Array<{ platform: string }> }).devices,
                ),
              ),
            )
          ).every((devices) => !devices.some((d) => d.platform === 'ios')),
        60000,
        'invalidated devices removed',
        1000,
      ).then(
        () => note(`${victims.length} tokens answered 410 during the outage: removed afterwards`),
        () => note(`tokens answered 410 during the outage: NOT all removed within 60 s`),
      );
      for (const v of victims) world.apns.rule(v.ios!, { kind: 'ok' });
      return 1;
    },
  };
}

/** Both fakes answer by a fault for `ms`, then recover. */
export function providerFault(
  name: string,
  apns: FakeApnsRule | undefined,
  fcm: FakeFcmBehaviour | undefined,
  fraction: number,
  ms: number,
): FaultCase {
  return {
    name,
    async inject({ world, log, note }) {
      const before = { ...world.deliveries.byStatus };
      if (apns) world.apns.setFault({ rule: apns, fraction });
      if (fcm) world.fcm.setFault({ behaviour: fcm, fraction });
      log(`provider fault on (${Math.round(fraction * 100)} % of the requests)`);
      await sleep(ms);
      world.apns.setFault(undefined);
      world.fcm.setFault(undefined);
      const answers = Object.entries(world.deliveries.byStatus)
        .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k}: ${v}`);
      note(`answers during the fault: ${answers.join(', ')}`);
      return (apns ? 1 : 0) + (fcm ? 1 : 0);
    },
  };
}

export const providerFaults = {
  tooManyRequests: (ms = 8000, fraction = 0.5) =>
    providerFault(
      '429 + Retry-After',
      { kind: 'error', status: 429, reason: 'TooManyRequests', retryAfterSeconds: 1 },
      { kind: 'error', code: 'QUOTA_EXCEEDED', retryAfterSeconds: 1 },
      fraction,
      ms,
    ),
  unavailable: (ms = 6000) =>
    providerFault(
      '503 burst',
      { kind: 'error', status: 503, reason: 'ServiceUnavailable' },
      { kind: 'error', code: 'UNAVAILABLE' },
      1,
      ms,
    ),
  slow: (ms = 8000, delayMs = 1500) =>
    providerFault(
      `slow answers (${delayMs} ms)`,
      { kind: 'slow', delayMs },
      { kind: 'slow', delayMs },
      1,
      ms,
    ),
  resets: (ms = 8000, fraction = 0.3) =>
    providerFault('connection resets', { kind: 'reset' }, { kind: 'reset' }, fraction, ms),
  /** Apple's GOAWAY: answered streams finish, later ones are refused (FCM: HTTP/1.1 FIN). */
  goaway: (ms = 8000, fraction = 0.05) =>
    providerFault(
      'HTTP/2 GOAWAY',
      { kind: 'goaway', graceful: true },
      { kind: 'goaway' },
      fraction,
      ms,
    ),
};

/** The ~1,047,900-byte message: valid, 100 text elements, just under the broker's 1 MiB limit. */
export function oversizedMessage(
  world: FaultWorld,
  messageId: string,
  bytes = 1_047_900,
): { key: string; value: string } {
  const base = JSON.parse(world.message(messageId, 'c2c', 1).value) as Record<string, unknown>;
  const elements = Array.from({ length: 100 }, () => ({ type: 'text', text: '' }));
  const value = { ...base, elements };
  const overhead = Buffer.byteLength(JSON.stringify(value));
  const per = Math.floor((bytes - overhead) / 100);
  for (const e of elements) e.text = 'x'.repeat(per);
  elements[99].text += 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify(value)));
  const key = `${FAULTS_APP}:c2c:${(base.sender as { userId: string }).userId}`;
  return { key, value: JSON.stringify(value) };
}

/**
 * Poison and oversized inputs: on im.message.sent.v1 a ~1,047,900-byte message, invalid JSON,
 * invalid UTF-8 and a schema violation (each must be dead-lettered, the fan-out must move on);
 * with `everywhere`, invalid JSON and UTF-8 also on every other consumed topic.
 */
export function poisonInputs(everywhere = false): FaultCase {
  return {
    name: everywhere ? 'poison and oversized inputs (every topic)' : 'poison and oversized inputs',
    async inject({ world, prefix, log, note }) {
      const user = world.users[0].id;
      const bad = [
        { what: 'invalid JSON', value: '{"appId":"faults","messageId":' as string | Buffer },
        { what: 'invalid UTF-8', value: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
        { what: 'schema violation', value: JSON.stringify({ appId: FAULTS_APP, messageId: 'x' }) },
      ];
      let n = 0;
      const big = oversizedMessage(world, `${prefix}oversized`);
      await world.produce('im.message.sent.v1', [big]);
      n++;
      note(`oversized message of ${Buffer.byteLength(big.value)} bytes accepted by the broker`);
      for (const b of bad) {
        await world.produce('im.message.sent.v1', [
          { key: `${FAULTS_APP}:c2c:${user}`, value: b.value },
        ]);
        n++;
      }
      if (everywhere) {
        const topics = [
          'push.intent.v1',
          'push.apns.request.v1',
          'push.fcm.request.v1',
          'presence.device-event.v1',
          'token.invalidated.v1',
        ];
        for (const t of topics) {
          for (const b of bad.slice(0, 2)) {
            await world.produce(t, [{ key: `${FAULTS_APP}:${user}`, value: b.value }]);
            n++;
          }
        }
      }
      log(`${n} poison records written`);
      return n;
    },
  };
}

/** The quick part (inside `npm test`): about three minutes on the 2-core box. */
export const QUICK_FAULTS = (): FaultCase[] => [
  killService('routing', { burst: 300 }),
  killService('apns-dispatcher', { burst: 300 }),
  {
    name: '503 burst then 429 + Retry-After',
    async inject(ctx) {
      const a = await providerFaults.unavailable(5000).inject(ctx);
      const b = await providerFaults.tooManyRequests(6000).inject(ctx);
      return a + b;
    },
  },
  poisonInputs(false),
];

/** Every fault, one after another (`npm run test:faults`). */
export const FULL_FAULTS = (): FaultCase[] => [
  ...SERVICE_NAMES.map((s) => killService(s, { burst: 2000 })),
  restartBroker(),
  databaseOutage(30000),
  providerFaults.tooManyRequests(),
  providerFaults.unavailable(),
  providerFaults.slow(),
  providerFaults.resets(),
  providerFaults.goaway(),
  poisonInputs(true),
];

/** The results as a table, and the totals. */
export function formatFaultResults(results: FaultResult[]): string {
  const head = [
    'fault',
    'injected',
    'sent',
    'checked',
    'jobs',
    'lost',
    'dup routing',
    'dup outcomes',
    'delivered twice',
    'dead letters',
    'ready',
    'lag',
    'settle s',
    'total s',
    'verdict',
  ];
  const rows = results.map((r) => [
    r.name,
    String(r.injected),
    String(r.sent),
    String(r.checked),
    String(r.requests),
    String(r.lost),
    String(r.routingDuplicates),
    String(r.providerDuplicateOutcomes),
    `${r.deliveredTwice}${r.duplicatesAllowed !== '0' ? ' (allowed)' : ''}`,
    String(r.deadLetters),
    r.ready ? 'yes' : 'NO',
    String(r.lagPending),
    (r.settleMs / 1000).toFixed(1),
    (r.durationMs / 1000).toFixed(1),
    r.ok ? 'ok' : 'FAILED',
  ]);
  const total = (f: (r: FaultResult) => number) => String(results.reduce((s, r) => s + f(r), 0));
  rows.push([
    'TOTAL',
    total((r) => r.injected),
    total((r) => r.sent),
    total((r) => r.checked),
    total((r) => r.requests),
    total((r) => r.lost),
    total((r) => r.routingDuplicates),
    total((r) => r.providerDuplicateOutcomes),
    total((r) => r.deliveredTwice),
    total((r) => r.deadLetters),
    '',
    total((r) => r.lagPending),
    '',
    (results.reduce((s, r) => s + r.durationMs, 0) / 1000).toFixed(1),
    results.every((r) => r.ok) ? 'ok' : `${results.filter((r) => !r.ok).length} FAILED`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(head), ...rows.map(line)];
  for (const r of results) {
    if (!r.notes.length && !r.problems.length) continue;
    out.push('', `${r.name}:`);
    for (const n of r.notes) out.push(`  - ${n}`);
    for (const p of r.problems) out.push(`  ! ${p}`);
  }
  return out.join('\n');
}
