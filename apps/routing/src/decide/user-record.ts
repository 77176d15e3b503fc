import { Assembler, varintAt, varintEnd } from './compact.codec';

/** The parts of a user's record, in their order in it. */
export const Part = { Tokens: 0, Presence: 1, Badges: 2 } as const;
export type Part = (typeof Part)[keyof typeof Part];
const PARTS = 3;

/**
 * One user's decide state as one one-byte string (no object, one string header):
 *
 *   varint partition+1 (0: none) | varint length of each part (0: absent) | the parts' bytes
 *
 * Each part is a compact.codec record (its own back-references: a part is replaced alone).
 */
interface Layout {
  /** The partition the tokens were read from (-1: none). */
  partition: number;
  /** Where each part starts and ends (equal: absent). */
  starts: number[];
  ends: number[];
}

function layoutOf(record: string): Layout {
  const partition = varintAt(record, 0) - 1;
  const lengths: number[] = [];
  for (let i = 0; i < PARTS; i++) lengths.push(varintAt(record, varintEnd));
  let at = varintEnd;
  const starts: number[] = [];
  const ends: number[] = [];
  for (const length of lengths) {
    starts.push(at);
    ends.push((at += length));
  }
  return { partition, starts, ends };
}

/** The partition of the record's tokens (-1: none). */
export const partitionOf = (record: string): number => varintAt(record, 0) - 1;

/** Where the part starts, or -1 when the user has none (without building the layout). */
export function partStart(record: string | undefined, part: Part): number {
  if (record === undefined) return -1;
  varintAt(record, 0);
  let at = 0;
  let length = 0;
  for (let i = 0; i < PARTS; i++) {
    const n = varintAt(record, varintEnd);
    if (i < part) at += n;
    else if (i === part) length = n;
  }
  return length === 0 ? -1 : varintEnd + at;
}

const assembler = new Assembler();

/**
 * The record with `part` replaced by `bytes` (undefined: removed) and, when given, the
 * partition; undefined when no part is left.
 */
export function withPart(
  record: string | undefined,
  part: Part,
  bytes: Uint8Array | undefined,
  partition?: number,
): string | undefined {
  const l = record === undefined ? undefined : layoutOf(record);
  const length = (i: number) =>
    i === part ? (bytes?.length ?? 0) : l ? l.ends[i] - l.starts[i] : 0;
  let parts = 0;
  for (let i = 0; i < PARTS; i++) if (length(i) > 0) parts++;
  if (parts === 0) return undefined;
  const a = assembler.reset().varint((partition ?? l?.partition ?? -1) + 1);
  for (let i = 0; i < PARTS; i++) a.varint(length(i));
  for (let i = 0; i < PARTS; i++) {
    if (i === part) {
      if (bytes) a.bytes(bytes);
    } else if (l && record !== undefined) a.slice(record, l.starts[i], l.ends[i]);
  }
  return a.done();
}
