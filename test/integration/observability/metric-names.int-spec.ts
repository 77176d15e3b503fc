import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { waitFor } from '@app/testing';
import { DataSource } from 'typeorm';
import { parse } from 'yaml';
import { reportsDataSourceOptions } from '@apps/delivery-reports/database/reports-data-source';
import {
  dashboardExpressions,
  exposedNames,
  metricNamesIn,
  metricNamesInVariable,
} from './promql-names';

/**
 * Every metric the Grafana dashboard and the Prometheus alert rules name is exposed by one of the
 * six services: each runs as a process of its own from its sources (real broker and database),
 * and its `/metrics` is scraped. A metric renamed or dropped in the code fails here, not on a
 * dashboard panel that silently shows nothing. Labelled counters and gauges that have not counted
 * anything yet are found by their `# TYPE` line (prom-client writes it for every registered metric).
 */
const ROOT = resolve(__dirname, '../../..');
const SERVICES = [
  'token-registry',
  'presence',
  'routing',
  'apns-dispatcher',
  'fcm-dispatcher',
  'delivery-reports',
];
/**
 * delivery-reports on a schema and consumer groups of its own (as its specs do): its tables and
 * partitions are nobody else's, and it reads no other test's outcomes. The schema is dropped after.
 */
const REPORTS_SCHEMA = `dr_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const EXTRA_ENV: Record<string, Record<string, string>> = {
  'delivery-reports': {
    DELIVERY_REPORTS_SCHEMA: REPORTS_SCHEMA,
    DELIVERY_REPORTS_RUN_MIGRATIONS: 'true',
    DELIVERY_REPORTS_STORE_GROUP_ID: `metric-names-store-${REPORTS_SCHEMA}`,
    DELIVERY_REPORTS_NEW_GROUP_START: 'latest',
    WEBHOOK_GROUP_ID: `metric-names-webhooks-${REPORTS_SCHEMA}`,
  },
};
/** Metrics of other exporters that the rules use on purpose. */
const EXTERNAL = new Map([
  ['up', 'Prometheus itself (scrape health)'],
  ['kube_pod_status_ready', 'kube-state-metrics (pod readiness)'],
]);

const freePort = () =>
  new Promise<number>((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });

describe('metric names of the dashboard and the alert rules', () => {
  const children: ChildProcess[] = [];
  const scraped = new Map<string, string>();
  let ports: number[] = [];

  beforeAll(async () => {
    ports = await Promise.all(SERVICES.map(() => freePort()));
    const outputs = SERVICES.map(() => ({ text: '' }));
    SERVICES.forEach((name, i) => {
      const child = spawn(
        process.execPath,
        ['-r', './libs/testing/src/swc-register.js', `apps/${name}/src/main.ts`],
        {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH,
            KAFKA_BROKERS: process.env.KAFKA_BROKERS,
            DATABASE_URL: process.env.DATABASE_URL,
            PUSH_APPS_FILE: process.env.PUSH_APPS_FILE ?? resolve(ROOT, 'deploy/local/apps.yaml'),
            HTTP_PORT: String(ports[i]),
            HTTP_HOST: '127.0.0.1',
            LOG_LEVEL: 'warn',
            ...EXTRA_ENV[name],
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout?.on('data', (d: Buffer) => (outputs[i].text += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (outputs[i].text += d.toString()));
      children.push(child);
    });
    await Promise.all(
      SERVICES.map(async (name, i) => {
        const text = await waitFor(
          async () => {
            if (children[i].exitCode !== null) {
              throw new Error(`${name} exited: ${outputs[i].text.slice(-2000)}`);
            }
            const r = await fetch(`http://127.0.0.1:${ports[i]}/metrics`).catch(() => undefined);
            return r?.status === 200 ? r.text() : undefined;
          },
          { what: `${name} /metrics`, timeoutMs: 45000, intervalMs: 250 },
        );
        scraped.set(name, text);
      }),
    );
  }, 60000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((done) => {
            if (c.exitCode !== null) return done();
            c.once('exit', () => done());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 10000).unref();
          }),
      ),
    );
    const ds = await new DataSource(
      reportsDataSourceOptions({
        DATABASE_URL: process.env.DATABASE_URL!,
        DATABASE_POOL_SIZE: 1,
        DELIVERY_REPORTS_SCHEMA: REPORTS_SCHEMA,
      }),
    ).initialize();
    await ds.query(`DROP SCHEMA IF EXISTS "${REPORTS_SCHEMA}" CASCADE`);
    await ds.destroy();
  });

  /** Metric name → the services exposing it. */
  const exposition = () => {
    const by = new Map<string, string[]>();
    for (const [service, text] of scraped) {
      for (const n of exposedNames(text)) by.set(n, [...(by.get(n) ?? []), service]);
    }
    return by;
  };

  it('the expression parser finds metric names and nothing else', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (provider, le) (rate(push_dispatch_send_seconds_bucket{app=~"$app", status!="x"}[$__rate_interval]))) > 1e3 and on (le) up offset 5m or vector(0)',
      ).sort(),
    ).toEqual(['push_dispatch_send_seconds_bucket', 'up']);
    expect(metricNamesIn('sum(rate(a_total[5m])) * 60 > 1 unless bool b:recorded')).toEqual([
      'a_total',
      'b:recorded',
    ]);
    expect(metricNamesInVariable('label_values(push_dispatch_outcomes_total, app)')).toEqual([
      'push_dispatch_outcomes_total',
    ]);
    expect(
      [
        ...exposedNames(
          '# HELP h_seconds x\n# TYPE h_seconds histogram\n# TYPE c_total counter\nc_total{a="b"} 1\ng 2\n',
        ),
      ].sort(),
    ).toEqual([
      'c_total',
      'g',
      'h_seconds',
      'h_seconds_bucket',
      'h_seconds_count',
      'h_seconds_sum',
    ]);
  });

  it('each service labels its series with its name', () => {
    for (const [service, text] of scraped) expect(text).toContain(`service="${service}"`);
  });

  it('every metric of the alert rules is exposed by a service (or is a known external one)', () => {
    const rules = parse(readFileSync(resolve(ROOT, 'deploy/prometheus/alerts.yaml'), 'utf8')) as {
      groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
    };
    const exposed = exposition();
    const missing: string[] = [];
    const external = new Set<string>();
    let count = 0;
    for (const g of rules.groups) {
      for (const r of g.rules) {
        count++;
        for (const name of metricNamesIn(String(r.expr))) {
          if (EXTERNAL.has(name)) external.add(name);
          else if (!exposed.has(name)) missing.push(`${r.alert ?? r.record}: ${name}`);
        }
      }
    }
    expect(count).toBeGreaterThanOrEqual(16);
    expect(missing).toEqual([]);
    // The exceptions are all used: none lingers after a rule stops needing it.
    expect([...external].sort()).toEqual([...EXTERNAL.keys()].sort());
  });

  it('every metric of the Grafana dashboard is exposed by a service', () => {
    const dashboard: unknown = JSON.parse(
      readFileSync(resolve(ROOT, 'deploy/grafana/offline-push.json'), 'utf8'),
    );
    const exposed = exposition();
    const exprs = dashboardExpressions(dashboard);
    expect(exprs.length).toBeGreaterThan(20);
    const missing = exprs.flatMap(({ where, names }) =>
      names.filter((n) => !exposed.has(n) && !EXTERNAL.has(n)).map((n) => `${where}: ${n}`),
    );
    expect(missing).toEqual([]);
    for (const { where, names } of exprs) {
      expect({ where, names }).not.toEqual({ where, names: [] });
    }
  });

  it('the consumers report their lag from the real broker', async () => {
    // Routing's decide stage reads its state topics from their start at every assignment, so a
    // lag series appears as soon as its group has joined (whatever else the broker holds).
    const port = ports[SERVICES.indexOf('routing')];
    const lag = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /^push_kafka_consumer_lag\{[^}]*group="routing-decide"[^}]*\} \d+$/m.exec(text)?.[0];
      },
      { what: 'a push_kafka_consumer_lag sample of routing-decide', timeoutMs: 30000 },
    );
    expect(lag).toContain('partition="');
  });
});
