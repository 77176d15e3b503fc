/**
 * CPU per intent of the decide stage's deciding alone (no Kafka; process CPU time): the same intents decided by
 * `decideIntents` against the state as it was before issue 17 (`parsed`, parsed-state.ts) and
 * the compact DecideState, in alternating rounds in one process; the median rate of each and the
 * ratio. The compact state decodes the user it reads, per intent, and encodes the badges it
 * commits, so this is where its CPU cost shows.
 *
 *   node --expose-gc --import tsx bench/routing/decide-cpu.ts [users=20000] [intents=20000] [rounds=3]
 *
 * (`only=compact` or `only=parsed` as a 4th argument runs one of them, e.g. under --cpu-prof.)
 */
import { TOPICS, type PushIntent } from '@app/contracts';
import { DecideState } from '@apps/routing/decide/decide.state';
import { decideIntents, type Caused } from '@apps/routing/decide/intent.decider';
import { benchApps, c2cIntent, userSnapshots } from './bench.fixtures';
import { asDecideState, ParsedState } from './parsed-state';

const APP = 'bench';
const apps = benchApps(APP);
const BATCH = 200;

function loaded(state: DecideState | ParsedState, users: number): DecideState {
  for (let i = 0; i < users; i++) {
    const s = userSnapshots(APP, `user${i}`);
    const key = `${APP}:user${i}`;
    state.applyTokens(key, TOPICS.tokenUserDevices.schema.parse(s.tokens), i % 12);
    state.applyPresence(key, TOPICS.presenceUserState.schema.parse(s.presence));
    state.applyBadgeRecord(key, TOPICS.routingBadgeState.schema.parse(s.badges));
  }
  return state instanceof ParsedState ? asDecideState(state) : state;
}

function intentsFor(users: number, n: number, round: number): Caused<PushIntent>[] {
  const sentAt = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => {
    const userId = `user${(i * 7919) % users}`;
    return { value: c2cIntent(APP, userId, `m${round}-${i}`, sentAt) };
  });
}

/**
 * Intents decided per CPU second (the process's, GC included: the machine is shared, wall time
 * is not), batches of BATCH committed as the consumer does.
 */
function run(state: DecideState, intents: Caused<PushIntent>[]): number {
  const opts = {
    now: new Date(),
    dedupeWindow: 16,
    app: (id: string) => apps.get(id),
    memory: { count: 16, seconds: 7 * 86400 },
  };
  let requests = 0;
  const t0 = process.cpuUsage();
  for (let i = 0; i < intents.length; i += BATCH) {
    const r = decideIntents(intents.slice(i, i + BATCH), state, opts);
    state.commitBadges(r.badges);
    requests += r.records.length;
  }
  const used = process.cpuUsage(t0);
  if (requests < intents.length) throw new Error('intents were not decided');
  return intents.length / ((used.user + used.system) / 1e6);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const users = Number(process.argv[2] ?? 20_000);
  const n = Number(process.argv[3] ?? 20_000);
  const rounds = Number(process.argv[4] ?? 3);
  const only = process.argv[5]?.replace('only=', '');
  const parsed = loaded(new ParsedState(), only === 'compact' ? 0 : users);
  const compact = loaded(new DecideState(), only === 'parsed' ? 0 : users);
  const rates = { parsed: [] as number[], compact: [] as number[] };
  for (let round = -1; round < rounds; round++) {
    const intents = intentsFor(users, round < 0 ? 2000 : n, round); // round -1: warm-up
    const p = only === 'compact' ? 1 : run(parsed, intents);
    const c = only === 'parsed' ? 1 : run(compact, intents);
    if (round >= 0) rates.parsed.push(p);
    if (round >= 0) rates.compact.push(c);
  }
  const p = median(rates.parsed);
  const c = median(rates.compact);
  console.log(
    JSON.stringify({
      users,
      intents: n,
      rounds,
      parsedIntentsPerCpuSecond: Math.round(p),
      compactIntentsPerCpuSecond: Math.round(c),
      ratio: Number((c / p).toFixed(2)),
      rates: { parsed: rates.parsed.map(Math.round), compact: rates.compact.map(Math.round) },
    }),
  );
}

main();
