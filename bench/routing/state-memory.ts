/**
 * Heap held by the decide stage's state per user with two devices (tokens, presence, badges),
 * measured for N users and extrapolated linearly to 1,000,000 (the maps hold one entry per user,
 * nothing shared grows with N). Values go through JSON like the consumer's (parse of the record
 * bytes, then the topic's schema), so the objects have the shape they have in production.
 *
 *   node --expose-gc --import tsx bench/routing/state-memory.ts [users=200000]
 */
import { TOPICS } from '@app/contracts';
import { DecideState } from '../../apps/routing/src/decide/decide.state';
import { userSnapshots } from './bench.fixtures';

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

function main(): void {
  if (!gc) throw new Error('run with node --expose-gc --import tsx');
  const users = Number(process.argv[2] ?? 200_000);
  const state = new DecideState();
  const before = heap();
  const started = performance.now();
  for (let i = 0; i < users; i++) {
    const userId = `user${i}`;
    const key = `bench:${userId}`;
    const s = userSnapshots('bench', userId);
    // As the consumer does: bytes → JSON.parse → schema.
    const roundTrip = <T>(topic: { schema: { parse: (v: unknown) => T } }, v: unknown): T =>
      topic.schema.parse(JSON.parse(JSON.stringify(v)));
    state.applyTokens(key, roundTrip(TOPICS.tokenUserDevices, s.tokens));
    state.applyPresence(key, roundTrip(TOPICS.presenceUserState, s.presence));
    state.applyBadgeRecord(key, roundTrip(TOPICS.routingBadgeState, s.badges));
  }
  const loadMs = performance.now() - started;
  const after = heap();
  const perUser = (after - before) / users;
  const result = {
    users,
    heapBytes: after - before,
    bytesPerUser: Math.round(perUser),
    extrapolatedGiBPerMillionUsers: Number(((perUser * 1e6) / 2 ** 30).toFixed(2)),
    loadSeconds: Number((loadMs / 1000).toFixed(1)),
    held: state.tokens.size + state.presence.size + state.badges.size,
  };
  console.log(JSON.stringify(result));
}

main();
