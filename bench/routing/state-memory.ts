/**
 * Heap held by the decide stage's state per user with two devices (tokens, presence, badges),
 * measured for N users and extrapolated linearly to 1,000,000 (one entry per user, nothing shared
 * grows with N). Measured in the same invocation for both representations: `parsed`, the
 * zod-parsed objects in three Maps as before issue 17 (parsed-state.ts), and `compact`, the
 * DecideState (one compact record per user, docs/routing.md "Memory"). Values go through JSON
 * like the consumer's (parse of the record bytes, then the topic's schema), so the objects have
 * the shape they have in production. Also: the bytes one remembered push (two devices) adds.
 *
 *   node --expose-gc --import tsx bench/routing/state-memory.ts [users=100000]
 */
import { TOPICS, type BadgeState } from '@app/contracts';
import { DecideState } from '@apps/routing/decide/decide.state';
import { userSnapshots } from './bench.fixtures';
import { ParsedState } from './parsed-state';

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

type Part = 'tokens' | 'presence' | 'badges';
type State = DecideState | ParsedState;
const REPRESENTATIONS = { parsed: () => new ParsedState(), compact: () => new DecideState() };
type Representation = keyof typeof REPRESENTATIONS;

/** Remembered pushes per user in the push-memory measurement (ROUTING_PUSH_MEMORY's default). */
const PUSHES = 16;

/** A user's push memory: PUSHES c2c messages, both devices counted. */
function pushesOf(badges: BadgeState, seed: number): BadgeState['pushes'] {
  const ids = Object.keys(badges.devices);
  return Array.from({ length: PUSHES }, (_, i) => ({
    d: Buffer.from(`m-${seed}-${i}`).toString('base64url').padEnd(16, 'A').slice(0, 16),
    t: 1_764_000_000 + i,
    c: `c2c:peer${(seed + i) % 1000}`,
    v: Object.fromEntries(ids.map((id) => [id, 1])),
  }));
}

/** Heap growth of a state holding `parts` of `users` users. */
function measure(
  make: () => State,
  users: number,
  parts: Part[],
  pushes = false,
): { bytes: number; ms: number } {
  const state = make();
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
      state.applyTokens(key, roundTrip(TOPICS.tokenUserDevices, s.tokens), i % 12);
    }
    if (parts.includes('presence')) {
      state.applyPresence(key, roundTrip(TOPICS.presenceUserState, s.presence));
    }
    if (parts.includes('badges')) {
      const badges = pushes ? { ...s.badges, pushes: pushesOf(s.badges, i) } : s.badges;
      state.applyBadgeRecord(key, roundTrip(TOPICS.routingBadgeState, badges));
    }
  }
  const ms = performance.now() - started;
  const bytes = heap() - before;
  if (state.tokens.size + state.presence.size + state.badges.size === 0) throw new Error('empty');
  return { bytes, ms };
}

function measureAll(r: Representation, users: number) {
  const make = REPRESENTATIONS[r];
  const all = measure(make, users, ['tokens', 'presence', 'badges']);
  const byPart = Object.fromEntries(
    (['tokens', 'presence', 'badges'] as const).map((p) => [
      p,
      Math.round(measure(make, users, [p]).bytes / users),
    ]),
  );
  // Push memory: fewer users (the parsed form of 16 pushes is large); per remembered push.
  const pushUsers = Math.max(1000, Math.round(users / 10));
  const withPushes = measure(make, pushUsers, ['badges'], true).bytes;
  const without = measure(make, pushUsers, ['badges']).bytes;
  return {
    bytesPerUser: Math.round(all.bytes / users),
    bytesPerUserByPart: byPart,
    bytesPerRememberedPush: Math.round((withPushes - without) / pushUsers / PUSHES),
    extrapolatedGiBPerMillionUsers: Number(((all.bytes / users) * (1e6 / 2 ** 30)).toFixed(2)),
    loadSeconds: Number((all.ms / 1000).toFixed(1)),
  };
}

function main(): void {
  if (!gc) throw new Error('run with node --expose-gc --import tsx');
  const users = Number(process.argv[2] ?? 100_000);
  const parsed = measureAll('parsed', users);
  const compact = measureAll('compact', users);
  console.log(
    JSON.stringify({
      users,
      devicesPerUser: 2,
      parsed,
      compact,
      ratio: Number((parsed.bytesPerUser / compact.bytesPerUser).toFixed(2)),
      pushRatio: Number(
        (parsed.bytesPerRememberedPush / compact.bytesPerRememberedPush).toFixed(2),
      ),
    }),
  );
}

main();
