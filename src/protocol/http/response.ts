/**
 * HTTP tracker responses (BEP 3, BEP 7, BEP 23, BEP 48): bencoded bodies and the response head,
 * written byte by byte.
 *
 * Hot path: each writer stores into a caller-owned buffer at `at` and returns the offset just past
 * what it wrote. Nothing is allocated (except for a failure reason that is not ASCII). The caller
 * makes sure the buffer is large enough with the `max...Length` functions: a typed array silently
 * drops writes past its end.
 *
 * Integers are written in decimal by hand. They are expected to be safe integers; anything else
 * is written truncated towards zero and clamped to the safe range (NaN as 0), never as "1e+21"
 * or "NaN".
 */

import { SCRAPE_DOWNLOADED, SCRAPE_LEECHERS, SCRAPE_SEEDERS, SCRAPE_STRIDE } from "../../core/announce.ts";

/** The swarm figures and intervals of an announce response. */
export interface AnnounceFields {
  /** Seeders. */
  complete: number;
  /** Leechers. */
  incomplete: number;
  /** Completed downloads. */
  downloaded: number;
  /** Seconds. */
  interval: number;
  /** Seconds. */
  minInterval: number;
}

/** The peers part of the core's `AnnounceResult`, which satisfies it. */
export interface AnnouncePeers {
  readonly peerCount: number;
  /** Compact endpoints, 6 (IPv4) or 18 (IPv6) bytes each, from `outOffset`. */
  readonly out: Uint8Array;
  readonly outOffset: number;
  /** Peer ids, 20 bytes each from 0; read only for a non-compact response without no_peer_id. */
  readonly peerIds: Uint8Array;
}

/** Status codes `writeResponseHead` knows. */
export type HttpStatus = 200 | 400 | 404 | 405 | 408 | 413 | 414 | 431 | 500 | 501 | 503 | 505;

function ascii(s: string): Buffer {
  return Buffer.from(s, "latin1");
}

const INT_MAX_LEN = 17; // "-9007199254740991"
const IPV4_TEXT_MAX = 15;
const IPV6_TEXT_MAX = 39;

const A_COMPLETE = ascii("d8:completei");
const A_DOWNLOADED = ascii("e10:downloadedi");
const A_INCOMPLETE = ascii("e10:incompletei");
const A_INTERVAL = ascii("e8:intervali");
const A_MIN_INTERVAL = ascii("e12:min intervali");
const A_PEERS = ascii("e5:peers");
const A_PEERS_EMPTY_PEERS6 = ascii("e5:peers0:6:peers6");
const A_PEERS_LIST = ascii("e5:peersl");
const A_PEER_IP = ascii("d2:ip");
const A_PEER_ID = ascii("7:peer id20:");
const A_PORT = ascii("4:porti");
const A_TRACKER_ID = ascii("10:tracker id");
const F_FAILURE = ascii("d14:failure reason");
const S_FILES = ascii("d5:filesd");
const S_COMPLETE = ascii("d8:completei");
const S_DOWNLOADED = ascii("e10:downloadedi");
const S_INCOMPLETE = ascii("e10:incompletei");

const E = 0x65;
const COLON = 0x3a;
const DOT = 0x2e;
const HEX_DIGITS = ascii("0123456789abcdef");

/**
 * A native copy of a range of one byte array into another, without the view `subarray` would
 * allocate. Node's `Buffer.prototype.copy` takes any Uint8Array as its source (it checks
 * `ArrayBufferIsView`), so the core's plain Uint8Arrays can be copied with it.
 */
const copyBytes = Buffer.prototype.copy as (
  this: Uint8Array,
  target: Uint8Array,
  targetStart: number,
  sourceStart: number,
  sourceEnd: number,
) => number;

function put(out: Uint8Array, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  for (let i = 0; i < n; i++) out[at + i] = bytes[i];
  return at + n;
}

/** Number of decimal digits of a non-negative integer up to 2^53. */
function digitCount(v: number): number {
  let n = 1;
  let t = 10;
  while (v >= t && n < 16) {
    n++;
    t *= 10;
  }
  return n;
}

/** Decimal digits of a non-negative safe integer. */
function putUint(out: Uint8Array, at: number, v: number): number {
  const n = digitCount(v);
  let o = at + n;
  while (v >= 10) {
    const q = v < 0x80000000 ? (v / 10) | 0 : Math.floor(v / 10);
    out[--o] = 0x30 + (v - q * 10);
    v = q;
  }
  out[--o] = 0x30 + v;
  return at + n;
}

/** Decimal text of any number, made a safe integer first. */
function putInt(out: Uint8Array, at: number, v: number): number {
  if (v >= 0 && v <= Number.MAX_SAFE_INTEGER && v === Math.floor(v)) return putUint(out, at, v);
  if (Number.isNaN(v)) return putUint(out, at, 0); // NaN
  v = Math.trunc(v);
  if (v > Number.MAX_SAFE_INTEGER) v = Number.MAX_SAFE_INTEGER;
  if (v >= 0) return putUint(out, at, v);
  if (v < -Number.MAX_SAFE_INTEGER) v = -Number.MAX_SAFE_INTEGER;
  if (v === 0) return putUint(out, at, 0); // -0.5 truncates to -0
  out[at] = 0x2d;
  return putUint(out, at + 1, -v);
}

function putLatin1(out: Uint8Array, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) out[at + i] = s.charCodeAt(i);
  return at + n;
}

function putHexWord(out: Uint8Array, at: number, w: number): number {
  if (w >= 0x1000) out[at++] = HEX_DIGITS[w >> 12];
  if (w >= 0x100) out[at++] = HEX_DIGITS[(w >> 8) & 15];
  if (w >= 0x10) out[at++] = HEX_DIGITS[(w >> 4) & 15];
  out[at++] = HEX_DIGITS[w & 15];
  return at;
}

function putIpv4Text(out: Uint8Array, at: number, a: Uint8Array, o: number): number {
  at = putUint(out, at, a[o]);
  out[at++] = DOT;
  at = putUint(out, at, a[o + 1]);
  out[at++] = DOT;
  at = putUint(out, at, a[o + 2]);
  out[at++] = DOT;
  return putUint(out, at, a[o + 3]);
}

/**
 * Writes the address at `a[o..]` (4 bytes for family 4, 16 for family 6) as text and returns the
 * new offset. IPv6 is written as Node's `net` prints it (RFC 5952 style): lowercase hex without
 * leading zeros, the longest run (the first of equal ones) of two or more zero groups as "::",
 * dotted IPv4 for IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses.
 * At most 15 (IPv4) or 39 (IPv6) bytes.
 */
export function writeIpText(out: Uint8Array, at: number, a: Uint8Array, o: number, family: 4 | 6): number {
  if (family === 4) return putIpv4Text(out, at, a, o);
  let bestStart = -1;
  let bestLen = 0;
  for (let g = 0; g < 8; ) {
    if ((a[o + 2 * g] | a[o + 2 * g + 1]) !== 0) {
      g++;
      continue;
    }
    let e = g + 1;
    while (e < 8 && (a[o + 2 * e] | a[o + 2 * e + 1]) === 0) e++;
    if (e - g > bestLen) {
      bestStart = g;
      bestLen = e - g;
    }
    g = e;
  }
  if (bestLen < 2) bestStart = -1;
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && a[o + 10] === 0xff && a[o + 11] === 0xff))) {
    out[at++] = COLON;
    out[at++] = COLON;
    if (bestLen === 5) {
      for (let i = 0; i < 4; i++) out[at++] = 0x66; // ffff
      out[at++] = COLON;
    }
    return putIpv4Text(out, at, a, o + 12);
  }
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      out[at++] = COLON;
      out[at++] = COLON;
      g += bestLen - 1;
      continue;
    }
    if (g > 0 && g !== bestStart + bestLen) out[at++] = COLON;
    at = putHexWord(out, at, (a[o + 2 * g] << 8) | a[o + 2 * g + 1]);
  }
  return at;
}

const ipText = new Uint8Array(IPV6_TEXT_MAX);

/** Most bytes `writeAnnounceBody` writes for these arguments. */
export function maxAnnounceBodyLength(
  peerCount: number,
  family: 4 | 6,
  compact: boolean,
  noPeerId: boolean,
  trackerIdLength = 0,
): number {
  let n =
    A_COMPLETE.length +
    A_DOWNLOADED.length +
    A_INCOMPLETE.length +
    A_INTERVAL.length +
    A_MIN_INTERVAL.length +
    5 * INT_MAX_LEN +
    1; // the final "e"
  const endpointLen = family === 4 ? 6 : 18;
  if (compact) {
    const bytes = peerCount * endpointLen;
    n += (family === 4 ? A_PEERS.length : A_PEERS_EMPTY_PEERS6.length) + digitCount(bytes) + 1 + bytes;
  } else {
    const perPeer =
      A_PEER_IP.length +
      3 +
      (family === 4 ? IPV4_TEXT_MAX : IPV6_TEXT_MAX) +
      (noPeerId ? 0 : A_PEER_ID.length + 20) +
      A_PORT.length +
      5 +
      2;
    n += A_PEERS_LIST.length + peerCount * perPeer + 1;
  }
  if (trackerIdLength > 0) n += A_TRACKER_ID.length + digitCount(trackerIdLength) + 1 + trackerIdLength;
  return n;
}

/**
 * Writes an announce response body, a dictionary with its keys in byte order:
 *
 *   complete, downloaded, incomplete, interval, min interval, then
 *   - compact, IPv4 requester: peers (6 bytes per peer: address, port);
 *   - compact, IPv6 requester: peers as an empty string, peers6 (BEP 7, 18 bytes per peer);
 *   - not compact: peers as a list of dictionaries {ip: text, peer id: 20 bytes, port}, without
 *     the peer id when `noPeerId` (the result must then have been filled with `wantPeerIds`);
 *   then tracker id when `trackerId` is given and not empty.
 *
 * `family` is that of the peers in `res` (the requester's: the core keeps the families apart).
 */
export function writeAnnounceBody(
  out: Uint8Array,
  at: number,
  fields: AnnounceFields,
  res: AnnouncePeers,
  family: 4 | 6,
  compact: boolean,
  noPeerId: boolean,
  trackerId?: Uint8Array,
): number {
  let o = put(out, at, A_COMPLETE);
  o = putInt(out, o, fields.complete);
  o = put(out, o, A_DOWNLOADED);
  o = putInt(out, o, fields.downloaded);
  o = put(out, o, A_INCOMPLETE);
  o = putInt(out, o, fields.incomplete);
  o = put(out, o, A_INTERVAL);
  o = putInt(out, o, fields.interval);
  o = put(out, o, A_MIN_INTERVAL);
  o = putInt(out, o, fields.minInterval);
  const count = res.peerCount;
  const src = res.out;
  const base = res.outOffset;
  const len = family === 4 ? 6 : 18;
  if (compact) {
    o = put(out, o, family === 4 ? A_PEERS : A_PEERS_EMPTY_PEERS6);
    const bytes = count * len;
    o = putUint(out, o, bytes);
    out[o++] = COLON;
    copyBytes.call(src, out, o, base, base + bytes);
    o += bytes;
  } else {
    o = put(out, o, A_PEERS_LIST);
    const ids = res.peerIds;
    for (let i = 0; i < count; i++) {
      const e = base + i * len;
      o = put(out, o, A_PEER_IP);
      const textLen = writeIpText(ipText, 0, src, e, family);
      o = putUint(out, o, textLen);
      out[o++] = COLON;
      for (let k = 0; k < textLen; k++) out[o + k] = ipText[k];
      o += textLen;
      if (!noPeerId) {
        o = put(out, o, A_PEER_ID);
        const id = i * 20;
        for (let k = 0; k < 20; k++) out[o + k] = ids[id + k];
        o += 20;
      }
      o = put(out, o, A_PORT);
      o = putUint(out, o, (src[e + len - 2] << 8) | src[e + len - 1]);
      out[o++] = E;
      out[o++] = E;
    }
    out[o++] = E;
  }
  if (trackerId !== undefined && trackerId.length > 0) {
    o = put(out, o, A_TRACKER_ID);
    o = putUint(out, o, trackerId.length);
    out[o++] = COLON;
    o = put(out, o, trackerId);
  }
  out[o++] = E;
  return o;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Exact number of bytes `writeFailureBody` writes for `reason`. */
export function failureBodyLength(reason: string): number {
  const n = isAscii(reason) ? reason.length : Buffer.byteLength(reason, "utf8");
  return F_FAILURE.length + digitCount(n) + 1 + n + 1;
}

/** `d14:failure reason<len>:<reason>e`, the reason in UTF-8. */
export function writeFailureBody(out: Uint8Array, at: number, reason: string): number {
  let o = put(out, at, F_FAILURE);
  if (isAscii(reason)) {
    o = putUint(out, o, reason.length);
    out[o++] = COLON;
    o = putLatin1(out, o, reason);
  } else {
    const bytes = Buffer.from(reason, "utf8");
    o = putUint(out, o, bytes.length);
    out[o++] = COLON;
    o = put(out, o, bytes);
  }
  out[o++] = E;
  return o;
}

const SCRAPE_ENTRY_MAX =
  3 + 20 + S_COMPLETE.length + S_DOWNLOADED.length + S_INCOMPLETE.length + 3 * INT_MAX_LEN + 2;

/** Most bytes `writeScrapeBody` writes for `count` 20-byte info hashes. */
export function maxScrapeBodyLength(count: number): number {
  return S_FILES.length + count * SCRAPE_ENTRY_MAX + 2;
}

/** Scratch for sorting scrape hashes by index; grows on demand, never shrinks. */
let order = new Int32Array(128);

/**
 * Writes a scrape response body (BEP 48):
 *
 *   d5:filesd <hash> d8:completei<seeders>e10:downloadedi<downloaded>e10:incompletei<leechers>ee ... ee
 *
 * for `hashes[0..count)` (20-character latin1 strings), whose figures are at
 * `figures[i * SCRAPE_STRIDE + SCRAPE_SEEDERS | SCRAPE_DOWNLOADED | SCRAPE_LEECHERS]`. The keys
 * come out in byte order, as bencoded dictionaries require; a repeated hash is written once (with
 * the figures of its first occurrence). `count` 0 writes `d5:filesdee`.
 */
export function writeScrapeBody(
  out: Uint8Array,
  at: number,
  hashes: readonly string[],
  count: number,
  figures: Float64Array,
): number {
  if (order.length < count) order = new Int32Array(Math.max(count, order.length * 2));
  const ord = order;
  // Binary insertion sort of indices. For latin1 strings, JavaScript's string order (UTF-16 code
  // units) is byte order.
  let n = 0;
  for (let i = 0; i < count; i++) {
    const h = hashes[i];
    let lo = 0;
    let hi = n;
    let dup = false;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = hashes[ord[mid]];
      if (m < h) lo = mid + 1;
      else if (m > h) hi = mid;
      else {
        dup = true;
        break;
      }
    }
    if (dup) continue;
    if (lo < n) ord.copyWithin(lo + 1, lo, n);
    ord[lo] = i;
    n++;
  }
  let o = put(out, at, S_FILES);
  for (let k = 0; k < n; k++) {
    const i = ord[k];
    const h = hashes[i];
    o = putUint(out, o, h.length);
    out[o++] = COLON;
    o = putLatin1(out, o, h);
    const f = i * SCRAPE_STRIDE;
    o = put(out, o, S_COMPLETE);
    o = putInt(out, o, figures[f + SCRAPE_SEEDERS]);
    o = put(out, o, S_DOWNLOADED);
    o = putInt(out, o, figures[f + SCRAPE_DOWNLOADED]);
    o = put(out, o, S_INCOMPLETE);
    o = putInt(out, o, figures[f + SCRAPE_LEECHERS]);
    out[o++] = E;
    out[o++] = E;
  }
  out[o++] = E;
  out[o++] = E;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Response head

const STATUS_LINES = new Map<number, Buffer>(
  (
    [
      [200, "OK"],
      [400, "Bad Request"],
      [404, "Not Found"],
      [405, "Method Not Allowed"],
      [408, "Request Timeout"],
      [413, "Content Too Large"],
      [414, "URI Too Long"],
      [431, "Request Header Fields Too Large"],
      [500, "Internal Server Error"],
      [501, "Not Implemented"],
      [503, "Service Unavailable"],
      [505, "HTTP Version Not Supported"],
    ] as const
  ).map(([code, text]) => [code, ascii(`HTTP/1.1 ${code} ${text}\r\n`)]),
);
/** Indexed by status code: the status lines above, for a lookup without hashing. */
const STATUS_BY_CODE: (Buffer | undefined)[] = [];
for (const [code, line] of STATUS_LINES) STATUS_BY_CODE[code] = line;
let LONGEST_STATUS_LINE = 0;
for (const line of STATUS_LINES.values()) LONGEST_STATUS_LINE = Math.max(LONGEST_STATUS_LINE, line.length);

const H_DATE = ascii("Date: ");
const H_ALLOW = ascii("Allow: GET, HEAD\r\n");
const H_CONTENT_TYPE = ascii("Content-Type: ");
const H_CONTENT_LENGTH = ascii("\r\nContent-Length: ");
const H_KEEP_ALIVE = ascii("\r\nConnection: keep-alive\r\n\r\n");
const H_CLOSE = ascii("\r\nConnection: close\r\n\r\n");

/** Most bytes `writeResponseHead` writes with this content type and a date of `dateLength` bytes (0: none). */
export function maxResponseHeadLength(contentType = "text/plain", dateLength = 29): number {
  return (
    LONGEST_STATUS_LINE +
    (dateLength > 0 ? H_DATE.length + dateLength + 2 : 0) +
    H_ALLOW.length +
    H_CONTENT_TYPE.length +
    contentType.length +
    H_CONTENT_LENGTH.length +
    16 +
    H_KEEP_ALIVE.length
  );
}

/**
 * The bytes of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for a `Date` header. A server
 * makes one per second and passes it to `writeResponseHead`.
 */
export function httpDate(ms: number): Buffer {
  return ascii(new Date(ms).toUTCString());
}

/**
 * Writes a response head:
 *
 *   HTTP/1.1 <status> <reason>\r\n
 *   Date: <date>\r\n                      (when `date` is given)
 *   Allow: GET, HEAD\r\n                  (405 only, RFC 9110 §15.5.6)
 *   Content-Type: <contentType>\r\n
 *   Content-Length: <contentLength>\r\n
 *   Connection: keep-alive | close\r\n
 *   \r\n
 *
 * `contentType` is written as latin1 (keep it ASCII). An unknown status is written as 500.
 */
export function writeResponseHead(
  out: Uint8Array,
  at: number,
  status: HttpStatus,
  contentLength: number,
  keepAlive: boolean,
  contentType = "text/plain",
  date?: Uint8Array,
): number {
  let o = put(out, at, STATUS_BY_CODE[status] ?? STATUS_BY_CODE[500]!);
  if (date !== undefined) {
    o = put(out, o, H_DATE);
    o = put(out, o, date);
    out[o++] = 0x0d;
    out[o++] = 0x0a;
  }
  if (status === 405) o = put(out, o, H_ALLOW);
  o = put(out, o, H_CONTENT_TYPE);
  o = putLatin1(out, o, contentType);
  o = put(out, o, H_CONTENT_LENGTH);
  o = putInt(out, o, contentLength);
  return put(out, o, keepAlive ? H_KEEP_ALIVE : H_CLOSE);
}
