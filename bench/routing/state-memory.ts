/**
 * Heap held by the decide stage's state per user with two devices (tokens, presence, badges),
 * measured for N users and extrapolated linearly to 1,000,000 (the maps hold one entry per user,
 * nothing shared grows with N). Values go through JSON like the consumer's (parse of the record
 * bytes, then the topic's schema), so the objects have the shape they have in production.
 *
 *   node --expose-gc --import tsx bench/routing/state-memory.ts [users=100000]
 */
import { TOPICS } from '@app/contracts';
import { DecideState } from '@apps/routing/decide/decide.state';
import { userSnapshots } from './bench.fixtures';

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

type Part = 'tokens' | 'presence' | 'badges';

/** Heap growth of a DecideState holding `parts` of `users` users. */
function measure(users: number, parts: Part[]): { bytes: number; ms: number } {
  const state = new DecideState();
  const before = heap();
  const started = performance.now();
  // As the consumer does: bytes → JSON.parse → the topic's schema.
  const roundTrip = <T>(topic: { schema: { parse: (v: unknown) => T } }, v: unknown): T =>
    topic.schema.parse(JSON.parse(JSON.stringify(v)));
  for (let i = 0; i < users; i++) {
    const userId = `user${i}`;
    const key = `bench:${userId}`;
    const s = userSnapshots('bench', userId);
    if (parts.includes('tokens')) {
      state.applyTokens(key, roundTrip(TOPICS.tokenUserDevices, s.tokens));
    }
    if (parts.includes('presence')) {
      state.applyPresence(key, roundTrip(TOPICS.presenceUserState, s.presence));
    }
    if (parts.includes('badges')) {
      state.applyBadgeRecord(key, roundTrip(TOPICS.routingBadgeState, s.badges));
    }
  }
  const ms = performance.now() - started;
  const bytes = heap() - before;
  if (state.tokens.size + state.presence.size + state.badges.size === 0) throw new Error('empty');
  return { bytes, ms };
}

function main(): void {
  if (!gc) throw new Error('run with node --expose-gc --import tsx');
  const users = Number(process.argv[2] ?? 100_000);
  const all = measure(users, ['tokens', 'presence', 'badges']);
  const perUser = all.bytes / users;
  const share = Object.fromEntries(
    (['tokens', 'presence', 'badges'] as const).map((p) => [
      p,
      Math.round(measure(users, [p]).bytes / users),
    ]),
  );
  console.log(
    JSON.stringify({
      users,
      devicesPerUser: 2,
      bytesPerUser: Math.round(perUser),
      bytesPerUserByPart: share,
      extrapolatedGiBPerMillionUsers: Number(((perUser * 1e6) / 2 ** 30).toFixed(2)),
      loadSeconds: Number((all.ms / 1000).toFixed(1)),
    }),
  );
}

main();
