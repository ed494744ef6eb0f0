/**
 * Bencoding (BEP 3) for general use: tests, clients, the load tester, configuration of fixed
 * responses. Not for the hot path: the tracker's own responses are written byte by byte by
 * `http/response.ts`.
 *
 * Encoding (`bencode`) takes:
 *   - integers: `number`, which must be a safe integer (-0 is written as 0);
 *   - byte strings: `Uint8Array` / `Buffer` (raw bytes), a JS `string` (written as UTF-8), or a
 *     `BinaryString` (a latin1 "binary string", one byte per character, e.g. an info hash as the
 *     core keeps it; see `binary()`);
 *   - lists: arrays;
 *   - dictionaries: a `Map` or a plain object. Keys are written sorted as raw bytes (BEP 3).
 *     Plain-object keys are text and written as UTF-8. `Map` keys are either a `Uint8Array` or a
 *     latin1 binary string (each character one byte, as `bdecode` returns them), so that any
 *     decoded dictionary encodes back to the same bytes. Entries whose value is `undefined` are
 *     left out. Two keys with the same bytes are an error.
 * Anything else (booleans, null, floats, bigints, nesting deeper than 512) throws a `TypeError` or
 * `RangeError`.
 *
 * Decoding (`bdecode`) returns:
 *   - integers as `number` (outside the safe integer range is an error);
 *   - byte strings as `Buffer`, copied out of the input (they never alias it);
 *   - lists as arrays;
 *   - dictionaries as `Map<string, BencodeValue>` in input order, keyed by the key bytes as a latin1
 *     binary string (`Buffer.from(key, "latin1")` gives the bytes back). A Map, not an object: no
 *     prototype to pollute, binary keys such as info hashes work, and the input order is kept.
 * Validation is strict: no leading zeros in integers or lengths, no "-0", no empty integer, no
 * trailing bytes, dictionary keys must be byte strings in strictly ascending byte order (with
 * `strictKeyOrder: false` any order is accepted, but a repeated key is always an error), nesting
 * and sizes within `BdecodeLimits`. Every failure throws a `BencodeError` carrying the byte
 * position.
 */

/** A byte string given as a latin1 string: character code i is byte i (codes above 0xff are an error). */
export class BinaryString {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
}

/** Marks a latin1 binary string (for example a 20-character info hash) as raw bytes for `bencode`. */
export function binary(value: string): BinaryString {
  return new BinaryString(value);
}

/** What `bencode` accepts. */
export type BencodeInput =
  | number
  | string
  | BinaryString
  | Uint8Array
  | readonly BencodeInput[]
  | ReadonlyMap<string | Uint8Array, BencodeInput | undefined>
  | { readonly [key: string]: BencodeInput | undefined };

/** What `bdecode` returns. */
export type BencodeValue = number | Buffer | BencodeValue[] | Map<string, BencodeValue>;

export interface BdecodeLimits {
  /** Deepest nesting of lists and dictionaries (the top-level value is depth 1). Default 64. */
  maxDepth?: number;
  /** Longest input accepted, in bytes. Default: no limit beyond the input itself. */
  maxLength?: number;
  /** Longest single byte string, in bytes. Default: no limit beyond the input itself. */
  maxStringLength?: number;
  /** Require dictionary keys in strictly ascending byte order (BEP 3). Default true. */
  strictKeyOrder?: boolean;
}

/** A malformed or over-limit bencoded input. `position` is the offset of the offending byte. */
export class BencodeError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at byte ${position}`);
    this.name = "BencodeError";
    this.position = position;
  }
}

const MAX_ENCODE_DEPTH = 512;

// ---------------------------------------------------------------------------------------------
// Encoding

class Writer {
  buf = Buffer.allocUnsafe(256);
  len = 0;

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  ascii(s: string): void {
    this.reserve(s.length);
    this.len += this.buf.write(s, this.len, "latin1");
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
}

function latin1Bytes(s: string, what: string): Buffer {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      throw new TypeError(`${what} has a character above U+00FF at index ${i}; it is not a binary string`);
    }
  }
  return Buffer.from(s, "latin1");
}

function writeByteString(w: Writer, bytes: Uint8Array): void {
  w.ascii(`${bytes.length}:`);
  w.bytes(bytes);
}

function encodeValue(w: Writer, v: BencodeInput, depth: number): void {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new RangeError(`cannot bencode ${v}: not a safe integer`);
    w.ascii(`i${v === 0 ? 0 : v}e`);
    return;
  }
  if (typeof v === "string") {
    writeByteString(w, Buffer.from(v, "utf8"));
    return;
  }
  if (v instanceof Uint8Array) {
    writeByteString(w, v);
    return;
  }
  if (v instanceof BinaryString) {
    writeByteString(w, latin1Bytes(v.value, "BinaryString"));
    return;
  }
  if (typeof v !== "object" || v === null) {
    throw new TypeError(`cannot bencode a value of type ${v === null ? "null" : typeof v}`);
  }
  if (depth >= MAX_ENCODE_DEPTH)
    throw new RangeError(`cannot bencode: nesting deeper than ${MAX_ENCODE_DEPTH}`);
  if (Array.isArray(v)) {
    w.byte(0x6c); // l
    for (const item of v as readonly BencodeInput[]) encodeValue(w, item, depth + 1);
    w.byte(0x65); // e
    return;
  }
  const entries: [Buffer, BencodeInput][] = [];
  if (v instanceof Map) {
    for (const [k, item] of v as ReadonlyMap<unknown, BencodeInput | undefined>) {
      if (item === undefined) continue;
      let key: Buffer;
      if (typeof k === "string") key = latin1Bytes(k, "dictionary key");
      else if (k instanceof Uint8Array) key = Buffer.from(k.buffer, k.byteOffset, k.byteLength);
      else throw new TypeError("a bencode Map key must be a latin1 string or a Uint8Array");
      entries.push([key, item]);
    }
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`cannot bencode an object of class ${(v as object).constructor?.name ?? "?"}`);
    }
    for (const k of Object.keys(v)) {
      const item = (v as { readonly [key: string]: BencodeInput | undefined })[k];
      if (item === undefined) continue;
      entries.push([Buffer.from(k, "utf8"), item]);
    }
  }
  entries.sort((a, b) => Buffer.compare(a[0], b[0]));
  w.byte(0x64); // d
  for (let i = 0; i < entries.length; i++) {
    if (i > 0 && entries[i - 1][0].equals(entries[i][0])) {
      throw new TypeError(
        `cannot bencode: duplicate dictionary key ${JSON.stringify(entries[i][0].toString("latin1"))}`,
      );
    }
    writeByteString(w, entries[i][0]);
    encodeValue(w, entries[i][1], depth + 1);
  }
  w.byte(0x65); // e
}

/** Bencodes `value` into a new Buffer. Throws a TypeError or RangeError for what cannot be encoded. */
export function bencode(value: BencodeInput): Buffer {
  const w = new Writer();
  encodeValue(w, value, 0);
  return Buffer.from(w.buf.subarray(0, w.len));
}

// ---------------------------------------------------------------------------------------------
// Decoding

const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const E = 0x65;

class Decoder {
  readonly buf: Buffer;
  readonly end: number;
  readonly maxDepth: number;
  readonly maxStringLength: number;
  readonly strictKeyOrder: boolean;
  pos = 0;

  constructor(buf: Buffer, limits: BdecodeLimits) {
    this.buf = buf;
    this.end = buf.length;
    this.maxDepth = limits.maxDepth ?? 64;
    this.maxStringLength = limits.maxStringLength ?? Number.POSITIVE_INFINITY;
    this.strictKeyOrder = limits.strictKeyOrder ?? true;
  }

  fail(message: string, at: number = this.pos): never {
    throw new BencodeError(message, at);
  }

  value(depth: number): BencodeValue {
    if (this.pos >= this.end) this.fail("unexpected end of input");
    const c = this.buf[this.pos];
    if (c === 0x69) return this.integer(); // i
    if (c >= ZERO && c <= NINE) {
      const start = this.stringBody();
      return Buffer.from(this.buf.subarray(start, this.pos));
    }
    if (c === 0x6c || c === 0x64) {
      if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
      return c === 0x6c ? this.list(depth + 1) : this.dict(depth + 1);
    }
    return this.fail(`unexpected byte 0x${c.toString(16).padStart(2, "0")}`);
  }

  integer(): number {
    const start = this.pos;
    let p = this.pos + 1;
    const negative = p < this.end && this.buf[p] === MINUS;
    if (negative) p++;
    const digitsStart = p;
    let v = 0;
    while (p < this.end) {
      const c = this.buf[p];
      if (c < ZERO || c > NINE) break;
      if (p > digitsStart && this.buf[digitsStart] === ZERO)
        this.fail("integer with a leading zero", digitsStart);
      v = v * 10 + (c - ZERO);
      if (v > Number.MAX_SAFE_INTEGER) this.fail("integer outside the safe range", start);
      p++;
    }
    if (p >= this.end) this.fail("unterminated integer", p);
    if (this.buf[p] !== E) this.fail("invalid character in integer", p);
    if (p === digitsStart) this.fail("integer without digits", p);
    if (negative && v === 0) this.fail("negative zero", start);
    this.pos = p + 1;
    return negative ? -v : v;
  }

  /** Reads `<length>:` and skips the bytes; returns their start, leaves `pos` after them. */
  stringBody(): number {
    let p = this.pos;
    const first = p;
    let len = 0;
    while (p < this.end) {
      const c = this.buf[p];
      if (c < ZERO || c > NINE) break;
      if (p > first && this.buf[first] === ZERO) this.fail("string length with a leading zero", first);
      len = len * 10 + (c - ZERO);
      if (len > this.end) this.fail("string length exceeds the input", first);
      p++;
    }
    if (p >= this.end) this.fail("unexpected end of input in a string length", p);
    if (this.buf[p] !== COLON) this.fail("expected ':' after a string length", p);
    if (len > this.maxStringLength) this.fail(`string longer than ${this.maxStringLength} bytes`, first);
    p++;
    if (len > this.end - p) this.fail("string length exceeds the input", first);
    this.pos = p + len;
    return p;
  }

  list(depth: number): BencodeValue[] {
    this.pos++;
    const out: BencodeValue[] = [];
    for (;;) {
      if (this.pos >= this.end) this.fail("unterminated list");
      if (this.buf[this.pos] === E) {
        this.pos++;
        return out;
      }
      out.push(this.value(depth));
    }
  }

  dict(depth: number): Map<string, BencodeValue> {
    this.pos++;
    const out = new Map<string, BencodeValue>();
    let prevStart = -1;
    let prevEnd = -1;
    for (;;) {
      if (this.pos >= this.end) this.fail("unterminated dictionary");
      const c = this.buf[this.pos];
      if (c === E) {
        this.pos++;
        return out;
      }
      if (c < ZERO || c > NINE) this.fail("dictionary key is not a byte string");
      const keyAt = this.pos;
      const ks = this.stringBody();
      const ke = this.pos;
      if (prevStart >= 0) {
        const order = this.buf.compare(this.buf, prevStart, prevEnd, ks, ke); // sign of key - prev
        if (order === 0) this.fail("duplicate dictionary key", keyAt);
        if (order < 0 && this.strictKeyOrder) this.fail("dictionary keys not in sorted order", keyAt);
      }
      const key = this.buf.toString("latin1", ks, ke);
      if (!this.strictKeyOrder && out.has(key)) this.fail("duplicate dictionary key", keyAt);
      prevStart = ks;
      prevEnd = ke;
      out.set(key, this.value(depth));
    }
  }
}

/**
 * Decodes exactly one bencoded value filling all of `input`. Throws a `BencodeError` (with the
 * byte position) for malformed input, trailing bytes or a limit exceeded, and nothing else.
 */
export function bdecode(input: Uint8Array, limits: BdecodeLimits = {}): BencodeValue {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const maxLength = limits.maxLength ?? Number.POSITIVE_INFINITY;
  if (buf.length > maxLength) throw new BencodeError(`input longer than ${maxLength} bytes`, maxLength);
  const d = new Decoder(buf, limits);
  const value = d.value(0);
  if (d.pos !== buf.length) d.fail("trailing bytes after the value");
  return value;
}
