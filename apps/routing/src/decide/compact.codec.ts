/**
 * A compact, exact encoding of JSON-like values (plus `undefined` and `Map`) into one-byte
 * strings, for the decide stage's per-user state (docs/routing.md, "Memory"). A one-byte string
 * costs its length plus a 16-byte header on the heap, where the parsed objects cost a hidden
 * class, a pointer per field and a string object per string.
 *
 * What makes it small, without losing anything (decode gives back exactly what was encoded,
 * property order, `null` and `undefined` included):
 *  - property names, enum values and other known words are one byte (DICTIONARY);
 *  - a string repeated in the same record (the snapshot times, device ids named by the tokens,
 *    the presence and the badges) is a back-reference, the record's app and user id (its key)
 *    too;
 *  - topics, locales, sounds and time zones are interned (a bounded table shared by all users);
 *  - ISO times as `Date#toISOString` writes them are 6 bytes of milliseconds;
 *  - lowercase hex (APNs tokens) is 4 bits a character, base64url (FCM tokens, ids) 6 bits,
 *    in segments split at ':'; any other string is kept as it is (one or two bytes a character);
 *  - integers are varints.
 */

const Tag = {
  Null: 0,
  Undefined: 1,
  False: 2,
  True: 3,
  Uint: 4,
  NegInt: 5,
  Double: 6,
  Array: 7,
  Object: 8,
  Map: 9,
  Latin1: 10,
  Utf16: 11,
  Hex: 12,
  B64: 13,
  Colon: 14,
  Date: 15,
  Ref: 16,
  Intern: 17,
} as const;

/** Bytes from here up are dictionary words. */
const DICT_BASE = 0x40;

/** Known words: the contracts' property names and enum values (at most 192). */
const DICTIONARY = [
  // token.user-devices.v1
  'appId',
  'userId',
  'version',
  'updatedAt',
  'devices',
  'settings',
  'tags',
  'attributes',
  'deviceId',
  'platform',
  'provider',
  'token',
  'topic',
  'environment',
  'pushType',
  'locale',
  'pushEnabled',
  'hidePreview',
  'snoozeUntil',
  'dnd',
  'sounds',
  'conversations',
  'privacy',
  'startSecondOfDay',
  'durationSeconds',
  'timeZone',
  'c2c',
  'group',
  'ios',
  'android',
  'web',
  'desktop',
  'apns',
  'fcm',
  'sandbox',
  'production',
  'alert',
  'background',
  'voip',
  'liveactivity',
  'receive',
  'receive_not_notify',
  'receive_except_at',
  'full',
  'id_only',
  // presence.user-state.v1
  'status',
  'since',
  'lastSeenAt',
  'unreadCount',
  'app',
  'offlineReason',
  'online',
  'push_online',
  'offline',
  'foreground',
  'logged_out',
  'not_seen',
  // routing's badges and push memory
  'count',
  'at',
  'd',
  't',
  'c',
  'v',
  'k',
  'o',
  's',
  'r',
  // common values
  'en',
  'default',
  'UTC',
] as const;

const DICT_INDEX = new Map<string, number>(DICTIONARY.map((w, i) => [w, i]));

/** Values under these property names are interned (few distinct values across all users). */
const INTERNED_KEYS = new Set(['topic', 'locale', 'timeZone', 'c2c', 'group']);
/** The intern table is bounded: past this many strings, new ones are stored inline. */
export const MAX_INTERNED = 4096;
const interned: string[] = [];
const internIndex = new Map<string, number>();

/** Strings this long or longer are remembered for back-references within a record. */
const MIN_REF_LENGTH = 4;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\dZ$/;
const DATE_LIMIT = 2 ** 48;
const HEX = /^(?:[0-9a-f][0-9a-f])+$/;
const B64 = /^[A-Za-z0-9_-]+$/;
const B64_COLON = /^[A-Za-z0-9_:-]+$/;
const B64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64_CHARS.charCodeAt(i)] = i;

class Writer {
  bytes = new Uint8Array(1024);
  pos = 0;
  /** Strings written so far in this record, by index (back-references). */
  readonly refs = new Map<string, number>();
  reset(seeds: readonly string[]): void {
    this.pos = 0;
    this.refs.clear();
    for (const s of seeds) this.remember(s);
  }

  remember(s: string): void {
    if (s.length >= MIN_REF_LENGTH && !this.refs.has(s)) this.refs.set(s, this.refs.size);
  }

  room(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + n));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }

  byte(b: number): void {
    this.room(1);
    this.bytes[this.pos++] = b;
  }

  varint(n: number): void {
    this.room(8);
    while (n >= 0x80) {
      this.bytes[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.bytes[this.pos++] = n;
  }

  double(n: number): void {
    this.room(8);
    f64[0] = n;
    this.bytes.set(f64Bytes, this.pos);
    this.pos += 8;
  }

  /** The record as a one-byte string. */
  done(): string {
    return Buffer.from(this.bytes.buffer, 0, this.pos).toString('latin1');
  }
}

/** Scratch for doubles (one thread: never used by two records at once). */
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

class Reader {
  pos = 0;
  readonly refs: string[] = [];

  constructor(
    readonly s: string,
    seeds: readonly string[],
  ) {
    for (const seed of seeds) {
      if (!this.refs.includes(seed)) this.remember(seed);
    }
  }

  /**
   * Mirrors Writer.remember: a string the writer already held was written as a reference, so a
   * string read in full is new to the table.
   */
  remember(s: string): void {
    if (s.length >= MIN_REF_LENGTH) this.refs.push(s);
  }

  byte(): number {
    return this.s.charCodeAt(this.pos++);
  }

  varint(): number {
    const n = varintAt(this.s, this.pos);
    this.pos = varintEnd;
    return n;
  }

  double(): number {
    for (let i = 0; i < 8; i++) f64Bytes[i] = this.s.charCodeAt(this.pos++);
    return f64[0];
  }
}

/** Where the last varint read by `varintAt` ended. */
export let varintEnd = 0;

/** The varint at `start` of `s` (where it ends: `varintEnd`). */
export function varintAt(s: string, start: number): number {
  let n = 0;
  let scale = 1;
  let pos = start;
  for (;;) {
    const b = s.charCodeAt(pos++);
    n += (b & 0x7f) * scale;
    if (b < 0x80) {
      varintEnd = pos;
      return n;
    }
    scale *= 0x80;
  }
}

const writer = new Writer();

/** The app and user ids of a state key (`appId:userId`): the record's first back-references. */
export const keySeeds = (key: string): string[] => {
  const i = key.indexOf(':');
  return i < 0 ? [key] : [key.slice(0, i), key.slice(i + 1)];
};

/**
 * `value` encoded after a varint `header` (readable alone with `headerAt`). The bytes are a view
 * of a shared buffer, valid until the next call.
 */
export function encodeBytes(header: number, value: unknown, seeds: readonly string[]): Uint8Array {
  writer.reset(seeds);
  writer.varint(header);
  writeValue(writer, value, undefined);
  return writer.bytes.subarray(0, writer.pos);
}

/** The header and the value encoded by `encodeBytes`, read from `s` at `start`. */
export function decodeAt<T>(s: string, start: number, seeds: readonly string[]): [number, T] {
  const r = new Reader(s, seeds);
  r.pos = start;
  const header = r.varint();
  return [header, readValue(r) as T];
}

/** The header encoded by `encodeBytes`, read from `s` at `start` (the value is not decoded). */
export function headerAt(s: string, start: number): number {
  return varintAt(s, start);
}

/** Varints and byte runs assembled into a one-byte string. */
export class Assembler {
  private readonly w = new Writer();

  reset(): this {
    this.w.reset([]);
    return this;
  }

  varint(n: number): this {
    this.w.varint(n);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.w.room(b.length);
    this.w.bytes.set(b, this.w.pos);
    this.w.pos += b.length;
    return this;
  }

  /** Characters `start`–`end` of a one-byte string, as bytes. */
  slice(s: string, start: number, end: number): this {
    this.w.room(end - start);
    for (let i = start; i < end; i++) this.w.bytes[this.w.pos++] = s.charCodeAt(i);
    return this;
  }

  done(): string {
    return this.w.done();
  }
}

function writeValue(w: Writer, v: unknown, key: string | undefined): void {
  switch (typeof v) {
    case 'string':
      return writeString(w, v, key !== undefined && INTERNED_KEYS.has(key));
    case 'number':
      return writeNumber(w, v);
    case 'boolean':
      return w.byte(v ? Tag.True : Tag.False);
    case 'undefined':
      return w.byte(Tag.Undefined);
    case 'object':
      if (v === null) return w.byte(Tag.Null);
      if (Array.isArray(v)) {
        w.byte(Tag.Array);
        w.varint(v.length);
        for (const item of v) writeValue(w, item, undefined);
        return;
      }
      if (v instanceof Map) {
        w.byte(Tag.Map);
        w.varint(v.size);
        for (const [k, item] of v as Map<string, unknown>) {
          writeString(w, k, false);
          writeValue(w, item, undefined);
        }
        return;
      }
      return writeObject(w, v as Record<string, unknown>);
    default:
      throw new Error(`cannot encode a ${typeof v}`);
  }
}

function writeObject(w: Writer, o: Record<string, unknown>): void {
  if (Object.getPrototypeOf(o) !== Object.prototype && Object.getPrototypeOf(o) !== null) {
    throw new Error('only plain objects are encoded');
  }
  const keys = Object.keys(o);
  w.byte(Tag.Object);
  w.varint(keys.length);
  for (const k of keys) {
    writeString(w, k, false);
    writeValue(w, o[k], k);
  }
}

function writeNumber(w: Writer, n: number): void {
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) {
    w.byte(n >= 0 ? Tag.Uint : Tag.NegInt);
    w.varint(Math.abs(n));
    return;
  }
  w.byte(Tag.Double);
  w.double(n);
}

function writeString(w: Writer, s: string, intern: boolean): void {
  const word = DICT_INDEX.get(s);
  if (word !== undefined) return w.byte(DICT_BASE + word);
  const ref = w.refs.get(s);
  if (ref !== undefined) {
    w.byte(Tag.Ref);
    return w.varint(ref);
  }
  if (intern) {
    const at = internAt(s);
    if (at !== undefined) {
      w.byte(Tag.Intern);
      return w.varint(at);
    }
  }
  writeNewString(w, s);
  w.remember(s);
}

function internAt(s: string): number | undefined {
  let at = internIndex.get(s);
  if (at === undefined && interned.length < MAX_INTERNED) {
    at = interned.length;
    interned.push(s);
    internIndex.set(s, at);
  }
  return at;
}

/** The last time string checked, and its milliseconds (-1: not one written as a Date). */
let lastIso = '';
let lastIsoMs = -1;

function isoMs(s: string): number {
  if (s !== lastIso) {
    const ms = ISO_MS.test(s) ? Date.parse(s) : -1;
    lastIso = s;
    lastIsoMs = ms >= 0 && ms < DATE_LIMIT && new Date(ms).toISOString() === s ? ms : -1;
  }
  return lastIsoMs;
}

function writeNewString(w: Writer, s: string): void {
  if (s.length === 24) {
    const ms = isoMs(s);
    if (ms >= 0) {
      w.byte(Tag.Date);
      for (let i = 5; i >= 0; i--) w.byte(Math.floor(ms / 256 ** i) % 256);
      return;
    }
  }
  if (s.length > 1 && s.includes(':') && B64_COLON.test(s)) {
    const parts = s.split(':');
    w.byte(Tag.Colon);
    w.varint(parts.length);
    for (const p of parts) writeString(w, p, false);
    return;
  }
  if (HEX.test(s)) return writeHex(w, s);
  if (s.length >= 4 && B64.test(s)) return writeB64(w, s);
  writePlain(w, s);
}

function writeHex(w: Writer, s: string): void {
  w.byte(Tag.Hex);
  w.varint(s.length / 2);
  for (let i = 0; i < s.length; i += 2) {
    w.byte((hexValue(s.charCodeAt(i)) << 4) | hexValue(s.charCodeAt(i + 1)));
  }
}

const hexValue = (c: number): number => (c <= 0x39 ? c - 0x30 : c - 0x57);

function writeB64(w: Writer, s: string): void {
  w.byte(Tag.B64);
  w.varint(s.length);
  let bits = 0;
  let acc = 0;
  for (let i = 0; i < s.length; i++) {
    acc = (acc << 6) | B64_VALUE[s.charCodeAt(i)];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      w.byte((acc >> bits) & 0xff);
      acc &= (1 << bits) - 1;
    }
  }
  if (bits > 0) w.byte((acc << (8 - bits)) & 0xff);
}

function writePlain(w: Writer, s: string): void {
  let oneByte = true;
  for (let i = 0; i < s.length && oneByte; i++) oneByte = s.charCodeAt(i) < 0x100;
  w.byte(oneByte ? Tag.Latin1 : Tag.Utf16);
  w.varint(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (oneByte) w.byte(c);
    else {
      w.byte(c >> 8);
      w.byte(c & 0xff);
    }
  }
}

function readValue(r: Reader): unknown {
  const tag = r.byte();
  switch (tag) {
    case Tag.Null:
      return null;
    case Tag.Undefined:
      return undefined;
    case Tag.False:
      return false;
    case Tag.True:
      return true;
    case Tag.Uint:
      return r.varint();
    case Tag.NegInt:
      return -r.varint();
    case Tag.Double:
      return r.double();
    case Tag.Array: {
      const n = r.varint();
      const a = new Array<unknown>(n);
      for (let i = 0; i < n; i++) a[i] = readValue(r);
      return a;
    }
    case Tag.Object: {
      const n = r.varint();
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = readString(r, r.byte());
        o[k] = readValue(r);
      }
      return o;
    }
    case Tag.Map: {
      const n = r.varint();
      const m = new Map<string, unknown>();
      for (let i = 0; i < n; i++) {
        const k = readString(r, r.byte());
        m.set(k, readValue(r));
      }
      return m;
    }
    default:
      return readString(r, tag);
  }
}

function readString(r: Reader, tag: number): string {
  if (tag >= DICT_BASE) return DICTIONARY[tag - DICT_BASE];
  if (tag === Tag.Ref) return r.refs[r.varint()];
  if (tag === Tag.Intern) return interned[r.varint()];
  const s = readNewString(r, tag);
  r.remember(s);
  return s;
}

let lastDecodedMs = -1;
let lastDecodedIso = '';

function readNewString(r: Reader, tag: number): string {
  switch (tag) {
    case Tag.Date: {
      let ms = 0;
      for (let i = 0; i < 6; i++) ms = ms * 256 + r.byte();
      if (ms === lastDecodedMs) return lastDecodedIso;
      lastDecodedMs = ms;
      return (lastDecodedIso = new Date(ms).toISOString());
    }
    case Tag.Colon: {
      const n = r.varint();
      const parts = new Array<string>(n);
      for (let i = 0; i < n; i++) parts[i] = readString(r, r.byte());
      return parts.join(':');
    }
    case Tag.Hex: {
      const n = r.varint();
      return scratchOf(r, n).hexSlice(0, n);
    }
    case Tag.B64:
      return readB64(r);
    case Tag.Latin1: {
      const n = r.varint();
      r.pos += n;
      return r.s.slice(r.pos - n, r.pos);
    }
    case Tag.Utf16: {
      const n = r.varint();
      const codes = new Array<number>(n);
      for (let i = 0; i < n; i++) codes[i] = (r.byte() << 8) | r.byte();
      return String.fromCharCode(...codes);
    }
    default:
      throw new Error(`corrupt compact record: tag ${tag} at ${r.pos - 1}`);
  }
}

/** `n` bytes of the record, copied into a scratch Buffer (for Node's native string slicing). */
function scratchOf(r: Reader, n: number): NativeSlices {
  if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, 2 * scratch.length));
  for (let i = 0; i < n; i++) scratch[i] = r.s.charCodeAt(r.pos++);
  return scratch as unknown as NativeSlices;
}
let scratch = Buffer.allocUnsafe(1024);
/** Buffer's (undocumented, long-standing) slice methods: one native call, a flat string. */
interface NativeSlices {
  hexSlice(start: number, end: number): string;
  base64urlSlice(start: number, end: number): string;
}

/**
 * The packing is base64url's (6 bits a character, most significant first, zero bits after the
 * last), so Node's base64url writes it back; it writes 2 or 3 characters for the last 1 or 2
 * bytes where the string had fewer: the first `n` are the string.
 */
function readB64(r: Reader): string {
  const n = r.varint();
  const bytes = Math.ceil((n * 6) / 8);
  const s = scratchOf(r, bytes).base64urlSlice(0, bytes);
  return s.length === n ? s : s.slice(0, n);
}
