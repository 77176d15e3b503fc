import { z } from 'zod';

/*
 * Opaque page cursors: the sort key of the last item of a page, tagged with the listing it
 * belongs to, as base64url JSON. Clients pass them back unchanged; the values are only ever bound
 * as SQL parameters, so a forged cursor can at most skip to another position of the same listing.
 */

export type CursorKind = 'message' | 'user';

/** A cursor is a few ids and a timestamp: far below this. */
export const MAX_CURSOR_LENGTH = 2048;

const PayloadSchema = z.object({
  v: z.literal(1),
  k: z.enum(['message', 'user']),
  p: z.array(z.string().max(600)).min(1).max(4),
});

export function encodeCursor(kind: CursorKind, position: string[]): string {
  return Buffer.from(JSON.stringify({ v: 1, k: kind, p: position }), 'utf8').toString('base64url');
}

/** The position a cursor of `kind` holds (with `arity` parts), or undefined for anything else. */
export function decodeCursor(
  kind: CursorKind,
  cursor: string,
  arity: number,
): string[] | undefined {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = PayloadSchema.safeParse(json);
  if (!parsed.success || parsed.data.k !== kind || parsed.data.p.length !== arity) return undefined;
  return parsed.data.p;
}
