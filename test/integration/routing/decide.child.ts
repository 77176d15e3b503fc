/**
 * The decide stage as a process of its own, for the crash test:
 *   GROUP=<group> KILL_AT_COMMIT=<n> npx tsx test/integration/routing/decide.child.ts
 * With KILL_AT_COMMIT, the process SIGKILLs itself inside its n-th transaction that carries
 * requests: after the records were sent to the broker, before the commit (the window a crash must
 * not turn into a duplicate or a lost push). Prints one JSON line per event on stdout.
 */
import { AppsRegistry, loadAppsFile } from '@app/config';
import { EventProducer, runnerFor } from '@app/kafka';
import { testKafka } from '@app/testing';
import type { Producer, ProducerConfig, Transaction } from 'kafkajs';
import { DecideConsumer } from '@apps/routing/decide/decide.consumer';
import { decideGroupOptions } from '@apps/routing/routing.groups';

const say = (event: string, extra: object = {}) =>
  process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);

async function main(): Promise<void> {
  const group = process.env.GROUP!;
  const killAt = Number(process.env.KILL_AT_COMMIT ?? 0);
  const kafka = testKafka('decide-child');
  let commits = 0;
  // Instrument the real client: the n-th commit of a transaction with records never happens.
  const makeProducer = kafka.producer.bind(kafka);
  kafka.producer = (cfg?: ProducerConfig): Producer => {
    const p = makeProducer(cfg);
    if (!cfg?.transactionalId || !killAt) return p;
    const begin = p.transaction.bind(p);
    p.transaction = async (): Promise<Transaction> => {
      const tx = await begin();
      let sent = false;
      const sendBatch = tx.sendBatch.bind(tx);
      tx.sendBatch = async (batch) => {
        sent = true;
        return sendBatch(batch);
      };
      const commit = tx.commit.bind(tx);
      tx.commit = async () => {
        if (sent && ++commits === killAt) {
          say('killing', { commits });
          process.kill(process.pid, 'SIGKILL');
          await new Promise((r) => setTimeout(r, 10000));
        }
        return commit();
      };
      return tx;
    };
    return p;
  };
  const apps = new AppsRegistry(loadAppsFile(process.env.PUSH_APPS_FILE!));
  const runner = runnerFor(
    kafka,
    new EventProducer(kafka),
    decideGroupOptions(group, { sessionTimeout: 6000 }),
    [new DecideConsumer(apps, { dedupeWindow: 16 })],
  );
  await runner.start();
  say('started');
  const timer = setInterval(() => {
    if (runner.isRestored()) {
      say('restored');
      clearInterval(timer);
    }
  }, 100);
  process.once('SIGTERM', () => {
    void runner.stop().then(() => process.exit(0));
  });
}

main().catch((e: Error) => {
  say('failed', { error: e.message });
  process.exit(1);
});
