import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createWriteStream,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { Client } from 'pg';
import { startDisposableBroker, REPO_ROOT, type DisposableBroker } from './infra';
import { FakeApns, generateApnsKey } from './fake-apns';
import { FakeFcm } from './fake-fcm';
import { ensureTlsMaterial } from './tls-material';
import { FaultProxy } from './fault-proxy';
import { apnsToken } from './devices';
import { apnsAtFake, fcmAtFake, writeAppsFile } from './tenants';
import { readWindow } from './pipeline-audit.reader';

/**
 * The world a fault run happens in: a disposable broker of its own with the contract topics, the
 * fake APNs and FCM, a tenant pointed at them, the five services as separate processes (their
 * TypeScript sources through SWC, so that `kill -9` hits exactly one service), the registry's
 * PostgreSQL behind a proxy that can be cut (its own schema in the shared database), a population
 * of users registered and reported through the HTTP APIs, and a steady load of c2c and small-group
 * messages on im.message.sent.v1. See docs/fault-suite.md.
 */

export const SERVICE_NAMES = [
  'token-registry',
  'presence',
  'routing',
  'apns-dispatcher',
  'fcm-dispatcher',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const FAULTS_APP = 'faults';
export const FAULTS_API_KEY = 'faults-api-key';
const APNS_TOPIC = 'com.example.faults';
const FCM_PROJECT = 'faults-project';

export interface FaultWorldOptions {
  /** The disposable broker's port (its controller uses port + 1). Ports 19600-19699 are ours. */
  brokerPort: number;
  /** The services listen on base + 1 … base + 5 (registry, presence, routing, APNs, FCM). */
  httpBasePort: number;
  /** Users registered (default 60) and groups of 3–6 of them (default 10). */
  users?: number;
  groups?: number;
  /** Start from an empty broker (default true): no records or offsets of an earlier run. */
  fresh?: boolean;
  /** The shared PostgreSQL (default DATABASE_URL or the local one); a schema of our own is used. */
  databaseUrl?: string;
  /** Extra settings for every service, or for one. */
  env?: Record<string, string>;
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  log?: (line: string) => void;
}

/** One service as a process: started, killed with SIGKILL, restarted; its output in a file. */
export class ServiceProcess {
  child?: ChildProcess;
  starts = 0;
  private out?: WriteStream;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: () => Record<string, string>,
    private readonly logFile: string,
    private readonly pidFile: string,
  ) {}

  /**
   * A process of this service left behind by an earlier run that was itself killed (its pid file
   * names it and its command line is this service's): killed, so that its port is free.
   */
  static reapLeftover(name: ServiceName, pidFile: string): void {
    let pid: number;
    try {
      pid = Number(readFileSync(pidFile, 'utf8').trim());
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(`apps/${name}/src/main.ts`)) return;
    } catch {
      return; // no pid file, or the process is gone
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && !this.child.killed;
  }

  start(): void {
    if (this.running) return;
    this.out ??= createWriteStream(this.logFile, { flags: 'a' });
    this.out.write(`\n===== start ${++this.starts} at ${new Date().toISOString()} =====\n`);
    const child = spawn(
      process.execPath,
      ['-r', './libs/testing/src/swc-register.js', `apps/${this.name}/src/main.ts`],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH, TS_NODE_PROJECT: 'tsconfig.json', ...this.env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (d: Buffer) => this.out?.write(d));
    child.stderr?.on('data', (d: Buffer) => this.out?.write(d));
    if (child.pid) writeFileSync(this.pidFile, String(child.pid));
    this.child = child;
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    this.out?.write(`\n===== SIGKILL at ${new Date().toISOString()} =====\n`);
  }

  /** SIGTERM (a clean shutdown), SIGKILL after `ms`. */
  async stop(ms = 20000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    await gone;
    clearTimeout(t);
  }

  async ready(): Promise<boolean> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.port}/health/ready`, {
        signal: AbortSignal.timeout(5000),
      });
      return r.status === 200;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.stop(5000);
    await new Promise<void>((r) => (this.out ? this.out.end(r) : r()));
    this.out = undefined;
    rmSync(this.pidFile, { force: true });
  }
}

/** Deliveries the fakes answered 200, per job: APNs by apns-id, FCM by token and message id. */
export class DeliveryCounter {
  private readonly counts = new Map<string, { n: number; first: number; last: number }>();
  answers = { apns: 0, fcm: 0 };
  byStatus: Record<string, number> = {};

  add(provider: 'apns' | 'fcm', key: string | undefined, status: number, at: number): void {
    this.answers[provider]++;
    this.byStatus[`${provider} ${status}`] = (this.byStatus[`${provider} ${status}`] ?? 0) + 1;
    if (status !== 200 || !key) return;
    const k = `${provider}|${key}`;
    const c = this.counts.get(k);
    if (c) {
      c.n++;
      c.last = at;
    } else this.counts.set(k, { n: 1, first: at, last: at });
  }

  /** Jobs delivered more than once whose later delivery happened at or after `since`. */
  duplicates(since = 0): Array<{ provider: string; key: string; n: number; first: number }> {
    const out: Array<{ provider: string; key: string; n: number; first: number }> = [];
    for (const [k, c] of this.counts) {
      if (c.n < 2 || c.last < since) continue;
      const cut = k.indexOf('|');
      out.push({ provider: k.slice(0, cut), key: k.slice(cut + 1), n: c.n, first: c.first });
    }
    return out;
  }

  delivered(): number {
    return this.counts.size;
  }
}

export interface User {
  id: string;
  ios?: string;
  android?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FaultWorld {
  readonly run = randomUUID().slice(0, 6);
  readonly dir: string;
  broker!: DisposableBroker;
  kafka!: Kafka;
  apns!: FakeApns;
  fcm!: FakeFcm;
  db!: FaultProxy;
  readonly deliveries = new DeliveryCounter();
  readonly services = {} as Record<ServiceName, ServiceProcess>;
  users: User[] = [];
  /** Users the churn leaves alone (a fault watches their devices). */
  readonly churnSkip = new Set<string>();
  groups: Array<{ id: string; members: string[] }> = [];
  appsFile = '';
  private producer?: Producer;
  private readonly schema: string;
  readonly log: (line: string) => void;

  constructor(readonly opts: FaultWorldOptions) {
    this.dir = resolve(REPO_ROOT, `.local/faults-${opts.brokerPort}`);
    this.schema = `faults_${opts.brokerPort}`;
    this.log = opts.log ?? ((l) => process.stderr.write(`[faults] ${l}\n`));
  }

  get brokers(): string[] {
    return this.broker.brokers;
  }

  portOf(name: ServiceName): number {
    return this.opts.httpBasePort + 1 + SERVICE_NAMES.indexOf(name);
  }

  /** Everything up and ready, the population registered and visible to routing. */
  async start(): Promise<void> {
    const t0 = Date.now();
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    await this.startBroker();
    this.log(`broker on ${this.brokers.join(',')} (${Date.now() - t0} ms)`);
    await this.startFakes();
    await this.startDatabase();
    this.startServices();
    await this.waitReady(SERVICE_NAMES, 180000);
    this.log(`services ready (${Date.now() - t0} ms)`);
    await this.populate();
    this.log(
      `${this.users.length} users, ${this.groups.length} groups registered (${Date.now() - t0} ms)`,
    );
  }

  private async startBroker(): Promise<void> {
    const port = this.opts.brokerPort;
    const local = resolve(REPO_ROOT, `.local/disposable-${port}`);
    if (this.opts.fresh ?? true) {
      const env = {
        ...process.env,
        KAFKA_PORT: String(port),
        KAFKA_CONTROLLER_PORT: String(port + 1),
        PUSH_LOCAL_DIR: local,
      };
      execFileSync('bash', [resolve(REPO_ROOT, 'deploy/local/infra.sh'), 'kafka-stop'], {
        env,
        stdio: 'ignore',
      });
      rmSync(join(local, 'kafka/data'), { recursive: true, force: true });
    }
    this.broker = await startDisposableBroker(port);
    this.kafka = new Kafka({
      clientId: `faults-${this.run}`,
      brokers: this.broker.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 5 },
    });
  }

  private async startFakes(): Promise<void> {
    const tls = ensureTlsMaterial(join(this.dir, 'tls'));
    const key = generateApnsKey(join(this.dir, 'apns'), 'FAULTKEY01', 'FAULTTEAM1');
    this.apns = await new FakeApns({
      tls,
      keys: [key],
      topics: [APNS_TOPIC],
      record: false,
      observe: (a) => this.deliveries.add('apns', a.apnsId, a.status, a.at),
    }).start();
    this.fcm = await FakeFcm.start({
      tls,
      record: false,
      defaultRetryAfterSeconds: 2,
      observe: (s) => {
        const data = s.message.data as Record<string, unknown> | undefined;
        const id = typeof data?.messageId === 'string' ? data.messageId : undefined;
        this.deliveries.add(
          'fcm',
          s.token && id ? `${s.token}|${id}` : undefined,
          s.httpStatus,
          s.at,
        );
      },
    });
    this.appsFile = writeAppsFile(
      [
        {
          id: FAULTS_APP,
          apiKey: FAULTS_API_KEY,
          apns: apnsAtFake(this.apns, tls, key, [APNS_TOPIC]),
          fcm: fcmAtFake(this.fcm, FCM_PROJECT, join(this.dir, 'fcm')),
        },
      ],
      { file: join(this.dir, 'apps.yaml') },
    );
  }

  private async startDatabase(): Promise<void> {
    const url =
      this.opts.databaseUrl ??
      process.env.DATABASE_URL ??
      'postgres://push:push@127.0.0.1:5432/push';
    const c = new Client({ connectionString: url });
    await c.connect();
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await c.end();
    const target = new URL(url);
    this.db = new FaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await this.db.restore();
    this.databaseUrl = this.db.via(url);
  }

  private databaseUrl = '';

  private envFor(name: ServiceName): Record<string, string> {
    const base: Record<string, string> = {
      KAFKA_BROKERS: this.brokers.join(','),
      PUSH_APPS_FILE: this.appsFile,
      HTTP_PORT: String(this.portOf(name)),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      SHUTDOWN_TIMEOUT_MS: '10000',
    };
    const own: Record<ServiceName, Record<string, string>> = {
      'token-registry': {
        DATABASE_URL: `${this.databaseUrl}${this.databaseUrl.includes('?') ? '&' : '?'}options=-c%20search_path%3D${this.schema}`,
        REGISTRY_RUN_MIGRATIONS: 'true',
        DATABASE_POOL_SIZE: '4',
      },
      presence: {},
      routing: {
        // A group that never committed decides everything written since the broker started.
        ROUTING_NEW_GROUP_START: 'earliest',
      },
      'apns-dispatcher': {
        APNS_SESSION_TIMEOUT_MS: '6000',
        APNS_CONNECTIONS_PER_POOL: '2',
        APNS_RETRY_BASE_MS: '500',
        APNS_RETRY_MAX_MS: '8000',
        APNS_REQUEST_TIMEOUT_MS: '5000',
      },
      'fcm-dispatcher': {
        FCM_SESSION_TIMEOUT_MS: '6000',
        FCM_RETRY_BASE_MS: '500',
        FCM_RETRY_MAX_MS: '8000',
        FCM_QUOTA_MIN_DELAY_MS: '2000',
        FCM_SEND_TIMEOUT_MS: '10000',
      },
    };
    return { ...base, ...own[name], ...this.opts.env, ...this.opts.serviceEnv?.[name] };
  }

  private startServices(): void {
    mkdirSync(join(this.dir, 'pids'), { recursive: true });
    for (const name of SERVICE_NAMES) {
      const pidFile = join(this.dir, 'pids', `${name}.pid`);
      ServiceProcess.reapLeftover(name, pidFile);
      const svc = new ServiceProcess(
        name,
        this.portOf(name),
        () => this.envFor(name),
        join(this.dir, 'logs', `${name}.log`),
        pidFile,
      );
      this.services[name] = svc;
      svc.start();
    }
  }

  async waitReady(
    names: readonly ServiceName[] = SERVICE_NAMES,
    timeoutMs = 120000,
  ): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const states = await Promise.all(names.map((n) => this.services[n].ready()));
      if (states.every(Boolean)) return Date.now() - t0;
      for (const n of names) {
        const c = this.services[n].child;
        if (c && c.exitCode !== null) {
          throw new Error(`${n} exited (code ${c.exitCode}); see ${this.dir}/logs/${n}.log`);
        }
      }
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(
          `not ready within ${timeoutMs} ms: ${names.filter((_, i) => !states[i]).join(', ')} (see ${this.dir}/logs)`,
        );
      }
      await sleep(500);
    }
  }

  /** Readiness of every service right now. */
  async readiness(): Promise<Record<ServiceName, boolean>> {
    const states = await Promise.all(SERVICE_NAMES.map((n) => this.services[n].ready()));
    return Object.fromEntries(SERVICE_NAMES.map((n, i) => [n, states[i]])) as Record<
      ServiceName,
      boolean
    >;
  }

  async api(method: string, port: number, path: string, body?: unknown): Promise<number> {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${FAULTS_API_KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10000),
      });
      await r.arrayBuffer();
      return r.status;
    } catch {
      return 0;
    }
  }

  /** Registers a device (retrying while the registry answers 5xx or not at all); the HTTP status. */
  async registerDevice(u: User, platform: 'ios' | 'android', deadlineMs = 60000): Promise<number> {
    const port = this.portOf('token-registry');
    const body =
      platform === 'ios'
        ? { platform, token: u.ios, topic: APNS_TOPIC, environment: 'production' }
        : { platform, token: u.android };
    const until = Date.now() + deadlineMs;
    for (;;) {
      const s = await this.api(
        'PUT',
        port,
        `/v1/apps/${FAULTS_APP}/users/${u.id}/devices/${platform}-1`,
        body,
      );
      if ((s > 0 && s < 500) || Date.now() > until) return s;
      await sleep(500);
    }
  }

  async reportPresence(
    userId: string,
    deviceId: string,
    foreground: boolean,
    unread = 0,
  ): Promise<number> {
    return this.api(
      'POST',
      this.portOf('presence'),
      `/v1/apps/${FAULTS_APP}/users/${userId}/devices/${deviceId}/presence`,
      foreground ? { type: 'foreground' } : { type: 'background', unreadCount: unread },
    );
  }

  private async populate(): Promise<void> {
    const n = this.opts.users ?? 60;
    this.users = Array.from({ length: n }, (_, k) => ({
      id: `u${k}-${this.run}`,
      ios: k % 3 !== 2 ? apnsToken() : undefined,
      android:
        k % 3 !== 0 ? `fcm-${this.run}-${k}-${randomBytes(16).toString('base64url')}` : undefined,
    }));
    let devices = 0;
    await mapLimit(this.users, 6, async (u, k) => {
      for (const p of ['ios', 'android'] as const) {
        if (!(p === 'ios' ? u.ios : u.android)) continue;
        const s = await this.registerDevice(u, p);
        if (s !== 200) throw new Error(`registering ${u.id} ${p}: HTTP ${s}`);
        devices++;
        // One user in ten has the app open (routing suppresses: online); the rest are in the background.
        const s2 = await this.reportPresence(u.id, `${p}-1`, k % 10 === 0, k % 5);
        if (s2 !== 202) throw new Error(`presence of ${u.id}: HTTP ${s2}`);
      }
    });
    const groupCount = this.opts.groups ?? 10;
    for (let g = 0; g < groupCount; g++) {
      const size = 3 + (g % 4);
      const members = Array.from({ length: size }, (_, i) => this.users[(g * 7 + i * 3) % n].id);
      this.groups.push({ id: `g${g}-${this.run}`, members: [...new Set(members)] });
    }
    await this.produce(
      'im.group-members.v1',
      this.groups.map((g) => ({
        key: `${FAULTS_APP}:group:${g.id}`,
        value: JSON.stringify({ appId: FAULTS_APP, groupId: g.id, members: g.members, version: 1 }),
      })),
    );
    // Routing must hold the devices and presence before the load starts.
    const want = new Map(
      this.users.map((u) => [`${FAULTS_APP}:${u.id}`, (u.ios ? 1 : 0) + (u.android ? 1 : 0)]),
    );
    await waitUntil(
      async () => {
        const read = await readWindow(this.kafka, {
          topics: { 'token.user-devices.v1': 'earliest', 'presence.user-state.v1': 'earliest' },
          idleTimeoutMs: 5000,
        });
        const tokens = new Map<string, number>();
        const presence = new Set<string>();
        for (const r of read.records) {
          if (!r.key || !r.value) continue;
          if (r.topic === 'presence.user-state.v1') presence.add(r.key);
          else {
            const v = JSON.parse(r.value.toString()) as { devices?: unknown[] };
            tokens.set(r.key, v.devices?.length ?? 0);
          }
        }
        return [...want].every(([k, d]) => tokens.get(k) === d && presence.has(k));
      },
      60000,
      `${devices} devices and ${n} users' presence on their topics`,
      1000,
    );
    await sleep(3000);
  }

  /** Records on a topic (sum of partition ends; the broker is ours). */
  async records(topic: string): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  /** Produces raw records (bytes as given) with the platform's partitioner. */
  async produce(
    topic: string,
    messages: Array<{
      key: string;
      value: string | Buffer | null;
      headers?: Record<string, string>;
    }>,
  ): Promise<void> {
    if (!this.producer) {
      const p = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: 3 },
      });
      await p.connect();
      this.producer = p;
    }
    try {
      await this.producer.send({
        topic,
        acks: -1,
        messages: messages.map((m) => ({
          key: m.key,
          value: m.value,
          headers: {
            'content-type': 'application/json',
            'event-type': topic.replace(/\.v1$/, ''),
            ...m.headers,
          },
        })),
      });
    } catch (e) {
      // After a failed send kafkajs rolls its sequence back: a new producer (id) for the next one.
      const p = this.producer;
      this.producer = undefined;
      await p?.disconnect().catch(() => undefined);
      throw e;
    }
  }

  /** A message of the load: c2c between two users, or from a member to its group. */
  message(id: string, kind: 'c2c' | 'group', k: number): { key: string; value: string } {
    const now = new Date().toISOString();
    const pick = (salt: number, n: number) => mix(k * 31 + salt) % n;
    if (kind === 'group' && this.groups.length) {
      const g = this.groups[pick(1, this.groups.length)];
      const sender = g.members[pick(2, g.members.length)];
      return {
        key: `${FAULTS_APP}:group:${g.id}`,
        value: JSON.stringify({
          appId: FAULTS_APP,
          messageId: id,
          sentAt: now,
          conversation: { type: 'group', id: g.id, name: `Group ${g.id}` },
          sender: { userId: sender, nickname: sender },
          recipients: null,
          elements: [{ type: 'text', text: `group message ${k}` }],
          ttlSeconds: 3600,
        }),
      };
    }
    const n = this.users.length;
    const a = pick(3, n);
    const b = (a + 1 + pick(4, n - 1)) % n; // never the sender
    const from = this.users[a].id;
    const to = this.users[b].id;
    return {
      key: `${FAULTS_APP}:c2c:${from}`,
      value: JSON.stringify({
        appId: FAULTS_APP,
        messageId: id,
        sentAt: now,
        conversation: { type: 'c2c', id: from },
        sender: { userId: from, nickname: from },
        recipients: [to],
        elements: [{ type: 'text', text: `hello ${k}` }],
        ttlSeconds: 3600,
      }),
    };
  }

  /**
   * Stops or starts the disposable broker without blocking this process (the fakes run here: a
   * synchronous stop would freeze them too and turn their late answers into duplicates).
   */
  async brokerCommand(cmd: 'kafka-stop' | 'kafka-start'): Promise<void> {
    const port = this.opts.brokerPort;
    const env = {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(port + 1),
      KAFKA_HEAP: '384m',
      PUSH_LOCAL_DIR: resolve(REPO_ROOT, `.local/disposable-${port}`),
    };
    const child = spawn('bash', [resolve(REPO_ROOT, 'deploy/local/infra.sh'), cmd], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`infra.sh ${cmd} failed (${code}): ${err.slice(-500)}`);
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    await Promise.all(Object.values(this.services).map((s) => s.close()));
    await this.db?.restore().catch(() => undefined);
    await this.db?.cutNow().catch(() => undefined);
    await this.apns?.stop();
    await this.fcm?.stop();
    await this.broker?.destroy();
  }
}

/**
 * A steady load on im.message.sent.v1: `rate` messages a second (70 % c2c, 30 % small groups),
 * ids `<prefix><n>`, sent in one produce call per 100 ms tick. A tick that finds the previous send
 * still running joins the next one; while the broker is away sends fail and are counted, not
 * repeated (the audit reads what the topic holds).
 */
export class LoadGenerator {
  sent = 0;
  failed = 0;
  private n = 0;
  private carry = 0;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private queue: Array<{ key: string; value: string }> = [];

  constructor(
    private readonly world: FaultWorld,
    readonly prefix: string,
    readonly rate: number,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.tick(), 100);
    return this;
  }

  private async tick(): Promise<void> {
    this.carry += this.rate / 10;
    const count = Math.floor(this.carry);
    this.carry -= count;
    for (let i = 0; i < count; i++) {
      const k = this.n++;
      this.queue.push(this.world.message(`${this.prefix}${k}`, mixKind(k) ? 'group' : 'c2c', k));
    }
    // Bounded: during a long outage the oldest unsent messages are given up.
    if (this.queue.length > this.rate * 30) {
      this.failed += this.queue.length - this.rate * 30;
      this.queue.splice(0, this.queue.length - this.rate * 30);
    }
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    const batch = this.queue.splice(0, this.queue.length);
    try {
      await this.world.produce('im.message.sent.v1', batch);
      this.sent += batch.length;
    } catch {
      this.failed += batch.length;
    } finally {
      this.busy = false;
    }
  }

  /** Stops generating and waits for the send in flight. */
  async stop(): Promise<{ sent: number; failed: number }> {
    clearInterval(this.timer);
    while (this.busy) await sleep(50);
    if (this.queue.length) {
      const batch = this.queue.splice(0, this.queue.length);
      try {
        await this.world.produce('im.message.sent.v1', batch);
        this.sent += batch.length;
      } catch {
        this.failed += batch.length;
      }
    }
    return { sent: this.sent, failed: this.failed };
  }
}

/** 30 % of the messages go to a group. */
const mixKind = (k: number) => mix(k * 31 + 5) % 10 < 3;

export async function waitUntil(
  fn: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  intervalMs = 500,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A well-spread deterministic hash of an integer (for picking users and groups). */
function mix(x: number): number {
  let h = (x ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

async function mapLimit<T>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}
