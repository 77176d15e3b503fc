import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsRegistry, ConfigException, WEBHOOK_EVENTS, type AppConfig } from '@app/config';
import type { PushOutcome } from '@app/contracts';
import { RetryPolicy } from '@app/dispatch';
import type { ConsumedRecord } from '@app/kafka';
import { buildDeliveries, chunkOutcomes, deliveryIdFor } from './webhook-batcher';
import { urlHashOf, WebhookTargets } from './webhook-targets';

const dir = mkdtempSync(join(tmpdir(), 'webhooks-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, 'a-secret-of-sixteen-bytes-or-more\n');

const policy = { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 };
const hook = (url: string, extra: Partial<NonNullable<AppConfig['webhooks']>[number]> = {}) => ({
  url,
  secretFile,
  events: [...WEBHOOK_EVENTS],
  batchMax: 100,
  timeoutMs: 1000,
  ...extra,
});
const targetsOf = (apps: AppConfig[]) =>
  new WebhookTargets(new AppsRegistry({ apps }), {
    maxInFlight: 2,
    retryPolicy: new RetryPolicy(),
  });

let offset = 0;
const record = (
  appId: string,
  status: PushOutcome['status'],
  n = offset,
): ConsumedRecord<PushOutcome> & { value: PushOutcome } => ({
  topic: 'push.outcome.v1',
  partition: 3,
  offset: String(offset++),
  key: `${appId}:u${n}`,
  headers: {},
  timestamp: '0',
  context: {} as ConsumedRecord<PushOutcome>['context'],
  value: {
    jobId: `job-${n}`,
    messageId: `m${n}`,
    appId,
    userId: `u${n}`,
    deviceId: 'd',
    provider: 'apns',
    status,
    code: null,
    reason: null,
    attempts: 1,
    latencyMs: 5,
    at: '2026-03-01T00:00:00.000Z',
  },
});

describe('webhook batching', () => {
  const targets = targetsOf([
    {
      id: 'a',
      apiKeys: [],
      policy,
      webhooks: [
        hook('https://a.example/all', { batchMax: 3 }),
        hook('https://a.example/sent', { events: ['sent'] }),
      ],
    },
    {
      id: 'b',
      apiKeys: [],
      policy,
      webhooks: [hook('https://b.example/h', { events: ['suppressed', 'expired'] })],
    },
    { id: 'quiet', apiKeys: [], policy },
  ]);

  it('groups outcomes per app webhook by event, in record order, in chunks of batchMax', () => {
    const records = [
      record('a', 'delivered'),
      record('b', 'delivered'),
      record('a', 'suppressed'),
      record('quiet', 'delivered'),
      record('a', 'delivered'),
      record('b', 'expired'),
      record('a', 'failed'),
      record('a', 'invalid_token'),
    ];
    const jobs = buildDeliveries(records, targets, 'g1', Date.parse('2026-03-01T00:00:01Z'));
    const view = jobs.map((j) => ({
      url: j.target.url,
      jobs: j.delivery.outcomes.map((o) => o.jobId),
    }));
    const ids = (i: number[]) => i.map((k) => records[k].value.jobId);
    expect(view).toEqual([
      { url: 'https://a.example/all', jobs: ids([0, 2, 4]) },
      { url: 'https://a.example/all', jobs: ids([6, 7]) },
      { url: 'https://a.example/sent', jobs: ids([0, 4]) },
      { url: 'https://b.example/h', jobs: ids([5]) },
    ]);
    const first = jobs[0].delivery;
    expect(first).toMatchObject({
      appId: 'a',
      group: 'g1',
      webhook: { index: 0, urlHash: urlHashOf('https://a.example/all') },
      attempts: 0,
      queuedAt: '2026-03-01T00:00:01.000Z',
      notBefore: '2026-03-01T00:00:01.000Z',
      lastError: null,
    });
    // One id per delivery, derived from where the outcomes were read: the same batch, the same ids.
    expect(new Set(jobs.map((j) => j.delivery.deliveryId)).size).toBe(4);
    expect(buildDeliveries(records, targets, 'g1').map((j) => j.delivery.deliveryId)).toEqual(
      jobs.map((j) => j.delivery.deliveryId),
    );
    expect(first.deliveryId).toBe(
      deliveryIdFor(
        {
          topic: 'push.outcome.v1',
          partition: 3,
          first: records[0].offset,
          last: records[7].offset,
        },
        jobs[0].target,
        0,
      ),
    );
    expect(first.deliveryId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('makes nothing of apps without webhooks or outcomes nobody subscribed to', () => {
    expect(
      buildDeliveries([record('quiet', 'delivered'), record('b', 'delivered')], targets, 'g1'),
    ).toEqual([]);
    expect(buildDeliveries([], targets, 'g1')).toEqual([]);
  });

  it('cuts chunks by bytes too, always at least one outcome per chunk', () => {
    const outcomes = [0, 1, 2, 3, 4].map((n) => record('a', 'delivered', n).value);
    const size = JSON.stringify(outcomes[0]).length + 1;
    expect(chunkOutcomes(outcomes, 10, size * 2).map((c) => c.length)).toEqual([2, 2, 1]);
    expect(chunkOutcomes(outcomes, 10, 1).map((c) => c.length)).toEqual([1, 1, 1, 1, 1]);
    expect(chunkOutcomes(outcomes, 2).map((c) => c.length)).toEqual([2, 2, 1]);
  });

  it('finds the webhook of a queued delivery by its URL hash, even after the list was reordered', () => {
    const reordered = targetsOf([
      {
        id: 'a',
        apiKeys: [],
        policy,
        webhooks: [hook('https://a.example/sent'), hook('https://a.example/all')],
      },
    ]);
    const all = reordered.forDelivery({
      appId: 'a',
      webhook: { index: 0, urlHash: urlHashOf('https://a.example/all') },
    });
    expect(all?.url).toBe('https://a.example/all');
    expect(
      reordered.forDelivery({
        appId: 'a',
        webhook: { index: 0, urlHash: urlHashOf('https://gone') },
      }),
    ).toBeUndefined();
  });

  it('refuses a secret file that is missing or too short, naming the app and file, not the content', () => {
    const short = join(dir, 'short');
    writeFileSync(short, 'tiny-secret\n');
    const load = (file: string) => () =>
      targetsOf([
        {
          id: 'x',
          apiKeys: [],
          policy,
          webhooks: [{ ...hook('https://x.example/h'), secretFile: file }],
        },
      ]);
    expect(load(join(dir, 'missing'))).toThrow(ConfigException);
    try {
      load(short)();
    } catch (e) {
      const text = (e as ConfigException).problems.join('\n');
      expect(text).toMatch(
        /apps\.x\.webhooks\.0\.secretFile: .*short must hold 16–4096 bytes \(has 11\)/,
      );
      expect(text).not.toContain('tiny-secret');
    }
    expect(() => load(join(dir, 'missing'))()).toThrow(/ENOENT/);
  });
});
