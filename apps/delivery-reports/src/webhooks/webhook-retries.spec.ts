import { Logger } from '@nestjs/common';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsRegistry } from '@app/config';
import { TOPICS, type DeadLetter, type WebhookDelivery } from '@app/contracts';
import { RetryPolicy } from '@app/dispatch';
import type { ConsumedRecord } from '@app/kafka';
import type { DeliveryJob } from './webhook-batcher';
import type { WebhookDeliverer } from './webhook-deliverer';
import { RecentIds } from './webhook-deliverer';
import { REPLAY_HEADER, WebhookRetries } from './webhook-retries';
import { urlHashOf, WebhookTargets } from './webhook-targets';

const dir = mkdtempSync(join(tmpdir(), 'retries-'));
writeFileSync(join(dir, 's'), 'a-secret-of-sixteen-bytes-or-more');
const apps = new AppsRegistry({
  apps: [
    {
      id: 'a',
      apiKeys: [],
      policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
      webhooks: [
        {
          url: 'https://a.example/h',
          secretFile: join(dir, 's'),
          events: ['sent'],
          batchMax: 10,
          timeoutMs: 1000,
        },
      ],
    },
  ],
});
const targets = new WebhookTargets(apps, { maxInFlight: 1, retryPolicy: new RetryPolicy() });
const NOW = Date.parse('2026-03-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

let offset = 0;
const rec = (
  over: Partial<WebhookDelivery> = {},
  headers: Record<string, string> = {},
): ConsumedRecord<WebhookDelivery> & { value: WebhookDelivery } => ({
  topic: TOPICS.webhookRetry.name,
  partition: 2,
  offset: String(offset++),
  key: null,
  headers,
  timestamp: String(NOW - 1000),
  context: {} as ConsumedRecord<WebhookDelivery>['context'],
  value: {
    deliveryId: `00000000-0000-0000-0000-${String(offset).padStart(12, '0')}`,
    appId: 'a',
    group: 'g',
    webhook: { index: 0, urlHash: urlHashOf('https://a.example/h') },
    outcomes: [
      {
        jobId: `j${offset}`,
        messageId: 'm',
        appId: 'a',
        userId: 'u',
        deviceId: 'd',
        provider: 'fcm',
        status: 'delivered',
        code: null,
        reason: null,
        attempts: 1,
        latencyMs: 1,
        at: iso(NOW),
      },
    ],
    queuedAt: iso(NOW - 10_000),
    attempts: 2,
    notBefore: iso(NOW - 1),
    lastError: 'HTTP 500',
    ...over,
  },
});

describe('WebhookRetries', () => {
  let sent: DeliveryJob[];
  let lateAcks: RecentIds;
  const retries = () => {
    sent = [];
    lateAcks = new RecentIds(10);
    const deliverer = {
      lateAcks,
      deliver: async (jobs: DeliveryJob[]) => {
        sent.push(...jobs);
        return [];
      },
    } as unknown as WebhookDeliverer;
    return new WebhookRetries(
      targets,
      deliverer,
      { maxAgeMs: 60_000, group: 'g', apps },
      () => NOW,
    );
  };
  const letterOf = (r: { value: unknown }) => r.value as DeadLetter;

  beforeAll(() => Logger.overrideLogger(false));

  it('sends what is due and parks the partition at the first delivery that is not', async () => {
    const r = retries();
    const batch = [rec(), rec(), rec({ notBefore: iso(NOW + 5000) }), rec()];
    const result = await r.handle(batch, 2);
    expect(sent.map((j) => j.delivery.deliveryId)).toEqual(
      batch.slice(0, 2).map((b) => b.value.deliveryId),
    );
    expect(result.deferFrom).toEqual({ offset: batch[2].offset, until: NOW + 5000 });
    expect(r.backlog()).toEqual([{ app: 'a', deliveries: 2, oldestSeconds: 10 }]);
    await r.handle([rec()], 2);
    expect(r.backlog()).toEqual([]);
  });

  it("skips another deployment's deliveries without waiting for them", async () => {
    const r = retries();
    const batch = [rec({ group: 'other', notBefore: iso(NOW + 60_000) }), rec()];
    const result = await r.handle(batch, 2);
    expect(result.deferFrom).toBeUndefined();
    expect(result.records).toEqual([]);
    expect(sent.map((j) => j.delivery.deliveryId)).toEqual([batch[1].value.deliveryId]);
  });

  it('dead-letters a delivery past its max age or whose webhook is gone, drops one acknowledged late', async () => {
    const r = retries();
    const old = rec({ queuedAt: iso(NOW - 60_000) });
    const gone = rec({ webhook: { index: 0, urlHash: urlHashOf('https://gone.example') } });
    const acked = rec();
    lateAcks.add(acked.value.deliveryId);
    const result = await r.handle([old, gone, acked], 2);
    expect(sent).toEqual([]);
    const letters = result.records!.map(letterOf);
    expect(letters.map((l) => [l.source.offset, l.error.code])).toEqual([
      [old.offset, 'WEBHOOK_MAX_AGE'],
      [gone.offset, 'WEBHOOK_NOT_CONFIGURED'],
    ]);
    expect(letters[0].error.message).toBe(
      'not acknowledged within WEBHOOK_MAX_AGE_SECONDS=60 (2 attempts; last: HTTP 500)',
    );
    expect(JSON.parse(letters[0].value!)).toEqual(old.value);
  });

  it('starts the age of a delivery replayed from a dead letter again', async () => {
    const r = retries();
    const replayed = rec({ queuedAt: iso(NOW - 3_600_000) }, { [REPLAY_HEADER]: '3:17' });
    const result = await r.handle([replayed], 2);
    expect(result.records).toEqual([]);
    expect(sent[0].delivery.queuedAt).toBe(iso(NOW - 1000));
  });
});
