/**
 * What tags and attributes (issue 16) add per user: bytes of the `token.user-devices.v1` record
 * (the registry's snapshot) and heap in routing's decide state, which holds every user of its
 * partitions as the parsed snapshot (`DecideState.tokens`). The user is the routing bench's
 * (bench/routing/bench.fixtures.ts: an iPhone and an Android phone); the variants add 5 or 50
 * tags or 20 attributes (values unique per user: V8 shares short strings of JSON, so repeated
 * short values would look cheaper than they are). Values go bytes → JSON.parse → the topic's schema, as in the consumer.
 *
 *   node --expose-gc --import tsx bench/token-registry/tags-memory.ts [users=20000]
 *
 * Tags come in two kinds: "shared" (each user draws from 500 tags of ~12 characters, such as
 * `city:berlin`: segments many users share), "max" (64 characters, unique per user: the worst
 * case). "interned" is "shared" with each tag string replaced by one canonical copy after parsing
 * (what a consumer that interns tags would hold): the arrays remain, the strings are shared.
 */
import { TOPICS, type TokenUserDevices } from '@app/contracts';
import { DecideState } from '@apps/routing/decide/decide.state';
import { userSnapshots } from '../routing/bench.fixtures';

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

type Variant = {
  name: string;
  tags: number;
  kind: 'shared' | 'max';
  attributes: number;
  /** Length of each attribute value (unique per user). */
  valueLength?: number;
};

const SHARED = Array.from(
  { length: 500 },
  (_, i) => `seg:${['city', 'plan', 'cohort'][i % 3]}-${i}`,
);

function audienceOf(i: number, v: Variant): Pick<TokenUserDevices, 'tags' | 'attributes'> {
  const out: Pick<TokenUserDevices, 'tags' | 'attributes'> = {};
  if (v.tags) {
    const tags =
      v.kind === 'shared'
        ? Array.from({ length: v.tags }, (_, k) => SHARED[(i * 7 + k * 13) % SHARED.length])
        : Array.from({ length: v.tags }, (_, k) =>
            `${k.toString().padStart(2, '0')}:${i}`.padEnd(64, 'x'),
          );
    out.tags = [...new Set(tags)].sort();
  }
  if (v.attributes) {
    out.attributes = Object.fromEntries(
      Array.from({ length: v.attributes }, (_, k) => [
        `attribute-${k}`,
        `${k}:${i}:`.padEnd(v.valueLength ?? 16, 'v'),
      ]),
    );
  }
  return out;
}

function record(i: number, v: Variant): Buffer {
  const { tokens } = userSnapshots('bench', `user${i}`, new Date('2026-11-29T00:00:00.000Z'));
  return Buffer.from(JSON.stringify({ ...tokens, ...audienceOf(i, v) }));
}

/** Heap per user of a DecideState holding `users` snapshots of the variant. */
function heapPerUser(users: number, v: Variant, intern: boolean): number {
  const pool = new Map<string, string>();
  const state = new DecideState();
  const before = heap();
  for (let i = 0; i < users; i++) {
    const value = TOPICS.tokenUserDevices.schema.parse(JSON.parse(record(i, v).toString('utf8')));
    if (intern && value.tags) {
      value.tags = value.tags.map((t) => {
        const known = pool.get(t);
        if (known !== undefined) return known;
        pool.set(t, t);
        return t;
      });
    }
    state.applyTokens(`bench:user${i}`, value);
  }
  const bytes = heap() - before;
  if (state.tokens.size !== users) throw new Error('lost users');
  return bytes / users;
}

function main(): void {
  if (!gc) throw new Error('run with node --expose-gc --import tsx');
  const users = Number(process.argv[2] ?? 20_000);
  const variants: Variant[] = [
    { name: 'none', tags: 0, kind: 'shared', attributes: 0 },
    { name: '5 shared tags', tags: 5, kind: 'shared', attributes: 0 },
    { name: '50 shared tags', tags: 50, kind: 'shared', attributes: 0 },
    { name: '5 max tags', tags: 5, kind: 'max', attributes: 0 },
    { name: '50 max tags', tags: 50, kind: 'max', attributes: 0 },
    { name: '20 attributes of 16 characters', tags: 0, kind: 'shared', attributes: 20 },
    { name: '20 attributes of 128', tags: 0, kind: 'shared', attributes: 20, valueLength: 128 },
  ];
  const base = {
    bytes: record(1, variants[0]).length,
    heap: heapPerUser(users, variants[0], false),
  };
  const rows = variants.slice(1).map((v) => {
    const row: Record<string, string | number> = {
      variant: v.name,
      recordBytesAdded: record(1, v).length - base.bytes,
      heapBytesAdded: Math.round(heapPerUser(users, v, false) - base.heap),
    };
    if (v.kind === 'shared' && v.tags) {
      row.heapBytesAddedInterned = Math.round(heapPerUser(users, v, true) - base.heap);
    }
    return row;
  });
  console.log(
    JSON.stringify(
      {
        users,
        baseline: { recordBytes: base.bytes, heapBytesPerUser: Math.round(base.heap) },
        rows,
      },
      null,
      1,
    ),
  );
}

main();
