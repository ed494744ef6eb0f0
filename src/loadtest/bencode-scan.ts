// A bencode checker for tracker answers that allocates nothing: it walks the whole value (so a
// body that does not bdecode is caught) and notes where the keys a load test looks at are.

const I = 0x69; // i
const L = 0x6c; // l
const D = 0x64; // d
const E = 0x65; // e
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const MAX_DEPTH = 64;

/** What a tracker answer's top-level dictionary holds. -1: the key is absent. */
export class TrackerBody {
  /** `interval` (an integer), or -1. */
  interval = -1;
  /** `failure reason` present. */
  failure = false;
  /** `files` dictionary: its number of entries, or -1. */
  files = -1;
  /** `peers` as a compact string: [start, start + length) in the buffer; length -1 otherwise. */
  peersStart = 0;
  peersLength = -1;
  /** `peers` as a list of dictionaries: its length, or -1. */
  peersList = -1;
  peers6Start = 0;
  peers6Length = -1;

  reset(): void {
    this.interval = -1;
    this.failure = false;
    this.files = -1;
    this.peersStart = 0;
    this.peersLength = -1;
    this.peersList = -1;
    this.peers6Start = 0;
    this.peers6Length = -1;
  }
}

function keyIs(buf: Uint8Array, at: number, len: number, key: Uint8Array): boolean {
  if (len !== key.length) return false;
  for (let i = 0; i < len; i++) if (buf[at + i] !== key[i]) return false;
  return true;
}

const K_INTERVAL = new TextEncoder().encode("interval");
const K_FAILURE = new TextEncoder().encode("failure reason");
const K_FILES = new TextEncoder().encode("files");
const K_PEERS = new TextEncoder().encode("peers");
const K_PEERS6 = new TextEncoder().encode("peers6");

// Results of the last readInt / readLength, to avoid returning pairs.
let intValue = 0;
let strStart = 0;

/** An integer `i...e` at `p`: the position after it, or -1. Sets intValue. */
function readInt(buf: Uint8Array, p: number, end: number): number {
  p++; // 'i'
  let neg = false;
  if (p < end && buf[p] === MINUS) {
    neg = true;
    p++;
  }
  const first = p;
  let v = 0;
  while (p < end && buf[p] >= ZERO && buf[p] <= NINE) {
    v = v * 10 + (buf[p] - ZERO);
    p++;
  }
  const digits = p - first;
  if (digits === 0 || p >= end || buf[p] !== E) return -1;
  if (digits > 1 && buf[first] === ZERO) return -1; // leading zero
  if (neg && v === 0) return -1; // -0
  if (digits > 16) return -1;
  intValue = neg ? -v : v;
  return p + 1;
}

/** A string `len:bytes` at `p`: the position after it, or -1. Sets strStart and intValue (length). */
function readString(buf: Uint8Array, p: number, end: number): number {
  const first = p;
  let len = 0;
  while (p < end && buf[p] >= ZERO && buf[p] <= NINE) {
    len = len * 10 + (buf[p] - ZERO);
    p++;
  }
  const digits = p - first;
  if (digits === 0 || digits > 9 || p >= end || buf[p] !== COLON) return -1;
  if (digits > 1 && buf[first] === ZERO) return -1;
  p++;
  if (p + len > end) return -1;
  strStart = p;
  intValue = len;
  return p + len;
}

/** Skips one value at `p`: the position after it, or -1 when it is not valid bencode. */
function skip(buf: Uint8Array, p: number, end: number, depth: number): number {
  if (p >= end || depth > MAX_DEPTH) return -1;
  const c = buf[p];
  if (c === I) return readInt(buf, p, end);
  if (c >= ZERO && c <= NINE) return readString(buf, p, end);
  if (c === L) {
    p++;
    while (p < end && buf[p] !== E) {
      p = skip(buf, p, end, depth + 1);
      if (p < 0) return -1;
    }
    return p < end ? p + 1 : -1;
  }
  if (c === D) {
    p++;
    while (p < end && buf[p] !== E) {
      p = readString(buf, p, end); // keys are strings
      if (p < 0) return -1;
      p = skip(buf, p, end, depth + 1);
      if (p < 0) return -1;
    }
    return p < end ? p + 1 : -1;
  }
  return -1;
}

/** Entries of the dictionary at `p` (which must be one), or -1. */
function countEntries(buf: Uint8Array, p: number, end: number): number {
  if (buf[p] !== D) return -1;
  let n = 0;
  p++;
  while (p < end && buf[p] !== E) {
    p = readString(buf, p, end);
    if (p < 0) return -1;
    p = skip(buf, p, end, 1);
    if (p < 0) return -1;
    n++;
  }
  return n;
}

/**
 * Checks that buf[start, end) is exactly one bencoded dictionary and fills `out` with what it
 * says. Returns false when the body is not valid bencode or not a dictionary.
 */
export function scanTrackerBody(buf: Uint8Array, start: number, end: number, out: TrackerBody): boolean {
  out.reset();
  if (start >= end || buf[start] !== D) return false;
  let p = start + 1;
  while (p < end && buf[p] !== E) {
    p = readString(buf, p, end);
    if (p < 0) return false;
    const keyAt = strStart;
    const keyLen = intValue;
    const valueAt = p;
    p = skip(buf, p, end, 1);
    if (p < 0) return false;
    const v = buf[valueAt];
    if (keyIs(buf, keyAt, keyLen, K_INTERVAL)) {
      if (v !== I) return false;
      readInt(buf, valueAt, end);
      out.interval = intValue;
    } else if (keyIs(buf, keyAt, keyLen, K_FAILURE)) {
      out.failure = true;
    } else if (keyIs(buf, keyAt, keyLen, K_FILES)) {
      out.files = countEntries(buf, valueAt, end);
      if (out.files < 0) return false;
    } else if (keyIs(buf, keyAt, keyLen, K_PEERS)) {
      if (v >= ZERO && v <= NINE) {
        readString(buf, valueAt, end);
        out.peersStart = strStart;
        out.peersLength = intValue;
      } else if (v === L) {
        let n = 0;
        let q = valueAt + 1;
        while (q >= 0 && q < end && buf[q] !== E) {
          q = skip(buf, q, end, 2);
          n++;
        }
        out.peersList = n;
      } else return false;
    } else if (keyIs(buf, keyAt, keyLen, K_PEERS6)) {
      if (!(v >= ZERO && v <= NINE)) return false;
      readString(buf, valueAt, end);
      out.peers6Start = strStart;
      out.peers6Length = intValue;
    }
  }
  return p === end - 1;
}
