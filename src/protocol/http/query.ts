/**
 * Query strings of HTTP tracker requests (BEP 3, BEP 23, BEP 48), parsed from the bytes of the
 * request target.
 *
 * Hot path: `parseAnnounceQuery` fills a caller-owned, reusable `AnnounceQuery` and allocates
 * nothing but the info-hash string (and the `ip` parameter's text, for operators who enable it);
 * `parseScrapeQuery` allocates one string per info hash. Neither throws, whatever the bytes.
 *
 * Rules:
 *   - Parameters are separated by '&'; a parameter without '=' has an empty value. Names are
 *     compared as raw bytes, case-sensitively ("info_hash", not "INFO_HASH" or "info%5Fhash").
 *     Unknown parameters are ignored without being decoded.
 *   - Values are percent-decoded as bytes: "%XX" with upper- or lowercase hex is the byte XX
 *     (00..ff), '+' is the byte 0x20 (form encoding), any other byte stands for itself (some
 *     clients send raw info-hash bytes). A '%' not followed by two hex digits is an error in the
 *     parameters this module reads. Nothing is ever decoded as UTF-8.
 *   - Announce: when a parameter appears more than once, the first occurrence counts and the
 *     others are ignored without being checked (this includes info_hash: an announce is about one
 *     torrent).
 *   - Numbers (port, uploaded, downloaded, left, numwant) are decimal digits, percent-encoded
 *     digits included, read into a double; a sign, a '+', an empty value or more than 2^64 is
 *     invalid. numwant alone may be negative, which means "tracker default" (-1).
 */

import { AnnounceEvent } from "../../core/announce.ts";

/** Result codes; `parseScrapeQuery` returns them negated. */
export const QueryError = {
  None: 0,
  MissingInfoHash: 1,
  /** Not 20 bytes once decoded; `AnnounceQuery.detail` holds the decoded length. */
  BadInfoHash: 2,
  MissingPeerId: 3,
  BadPeerId: 4,
  MissingPort: 5,
  /** 0, above 65535, or not a number. */
  BadPort: 6,
  BadUploaded: 7,
  BadDownloaded: 8,
  BadLeft: 9,
  BadEvent: 10,
  BadNumWant: 11,
  BadPercentEncoding: 12,
  /** Scrape: more info hashes than allowed. */
  TooManyInfoHashes: 13,
} as const;
export type QueryError = (typeof QueryError)[keyof typeof QueryError];

/**
 * The `failure reason` text for a `QueryError` code (a negative scrape result is accepted as
 * is). `detail` is the `AnnounceQuery` that failed, or its `detail` number: the decoded length
 * for `BadInfoHash`; for `TooManyInfoHashes` pass the limit. Leave it out (or pass null or -1)
 * when unknown.
 */
export function queryErrorMessage(
  code: number,
  detail: number | { readonly detail: number } | null = -1,
): string {
  if (detail === null) detail = -1;
  else if (typeof detail === "object") detail = detail.detail;
  switch (code < 0 ? -code : code) {
    case QueryError.None:
      return "ok";
    case QueryError.MissingInfoHash:
      return "missing info_hash";
    case QueryError.BadInfoHash:
      return detail >= 0 ? `info_hash must be 20 bytes, got ${detail}` : "info_hash must be 20 bytes";
    case QueryError.MissingPeerId:
      return "missing peer_id";
    case QueryError.BadPeerId:
      return "peer_id must be 20 bytes";
    case QueryError.MissingPort:
      return "missing port";
    case QueryError.BadPort:
      return "invalid port";
    case QueryError.BadUploaded:
      return "invalid uploaded";
    case QueryError.BadDownloaded:
      return "invalid downloaded";
    case QueryError.BadLeft:
      return "invalid left";
    case QueryError.BadEvent:
      return "invalid event";
    case QueryError.BadNumWant:
      return "invalid numwant";
    case QueryError.BadPercentEncoding:
      return "malformed percent-encoding";
    case QueryError.TooManyInfoHashes:
      return detail >= 0 ? `too many info_hash values, at most ${detail}` : "too many info_hash values";
    default:
      return "malformed request";
  }
}

/**
 * One parsed announce query. A server keeps one and lets `parseAnnounceQuery` overwrite it; after
 * an error only `detail` and the fields parsed before the error are meaningful.
 */
export class AnnounceQuery {
  /**
   * Set once by the server when the operator honours the `ip` parameter; only then is `ipParam`
   * decoded. (`ipStart`/`ipEnd` are always recorded.)
   */
  acceptIpParam = false;

  /** The 20 decoded bytes as a 20-character latin1 string (the core's swarm key). */
  infoHash = "";
  peerId = new Uint8Array(20);
  /** 1..65535. */
  port = 0;
  /** 0 when absent. */
  uploaded = 0;
  /** 0 when absent. */
  downloaded = 0;
  /** -1 when absent (and then `leftIsZero` is false: the peer counts as a leecher). */
  left = -1;
  leftIsZero = false;
  /** An `AnnounceEvent` value: 0 none (also "", "empty", "paused"), 1 completed, 2 started, 3 stopped. */
  event: number = AnnounceEvent.None;
  /** Compact peer list wanted: true unless `compact=0`. */
  compact = true;
  /** `no_peer_id` present with any value but "0". */
  noPeerId = false;
  /** -1 when absent or negative, otherwise capped at 2^31 - 1. */
  numWant = -1;
  /** The raw (still percent-encoded) `key` value is `buf[keyStart..keyEnd)`; -1 when absent. */
  keyStart = -1;
  keyEnd = -1;
  /** The raw `trackerid` value, -1 when absent. */
  trackerIdStart = -1;
  trackerIdEnd = -1;
  /** The raw `ip` value, -1 when absent. */
  ipStart = -1;
  ipEnd = -1;
  /** The decoded `ip` value (latin1), only with `acceptIpParam`; "" otherwise, or when longer than 64 bytes. */
  ipParam = "";

  hasInfoHash = false;
  hasPeerId = false;
  hasPort = false;
  hasUploaded = false;
  hasDownloaded = false;
  hasLeft = false;
  hasEvent = false;
  hasCompact = false;
  hasNoPeerId = false;
  hasNumWant = false;

  /** With `QueryError.BadInfoHash`: the decoded length of the info_hash value. */
  detail = 0;
}

const PCT = 0x25;
const PLUS = 0x2b;
const AMP = 0x26;
const EQ = 0x3d;
const MINUS = 0x2d;
const MAX_COUNT = 2 ** 64; // uint64 range; a double cannot tell 2^64 - 1 from 2^64
const MAX_IP_PARAM = 64;

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}

/** Decoding room for info hashes, short values and the ip parameter. */
const scratch = Buffer.alloc(MAX_IP_PARAM);

/** The 20 bytes at the start of `scratch` as a latin1 string (faster than `toString("latin1")`). */
function hashString(): string {
  const s = scratch;
  return String.fromCharCode(
    s[0],
    s[1],
    s[2],
    s[3],
    s[4],
    s[5],
    s[6],
    s[7],
    s[8],
    s[9],
    s[10],
    s[11],
    s[12],
    s[13],
    s[14],
    s[15],
    s[16],
    s[17],
    s[18],
    s[19],
  );
}

function lit(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

const P_INFO_HASH = lit("info_hash");
const P_TRACKERID = lit("trackerid");
const P_PEER_ID = lit("peer_id");
const P_COMPACT = lit("compact");
const P_NUMWANT = lit("numwant");
const P_PORT = lit("port");
const P_LEFT = lit("left");
const P_EVENT = lit("event");
const P_UPLOADED = lit("uploaded");
const P_DOWNLOADED = lit("downloaded");
const P_NO_PEER_ID = lit("no_peer_id");
const P_KEY = lit("key");
const P_IP = lit("ip");
const V_STARTED = lit("started");
const V_STOPPED = lit("stopped");
const V_COMPLETED = lit("completed");
const V_EMPTY = lit("empty");
const V_PAUSED = lit("paused");

function nameIs(buf: Uint8Array, s: number, name: Uint8Array): boolean {
  // the caller has checked the length
  for (let i = 0; i < name.length; i++) if (buf[s + i] !== name[i]) return false;
  return true;
}

function scratchIs(n: number, value: Uint8Array): boolean {
  if (n !== value.length) return false;
  for (let i = 0; i < n; i++) if (scratch[i] !== value[i]) return false;
  return true;
}

/**
 * Percent-decodes `buf[start..end)` into `out` from `at`, writing at most `max` bytes but counting
 * them all. Returns the decoded length, or -1 when a '%' is not followed by two hex digits.
 */
export function percentDecode(
  buf: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
  max: number,
): number {
  let n = 0;
  for (let i = start; i < end; ) {
    let c = buf[i];
    if (c === PCT) {
      if (i + 2 >= end) return -1;
      const hi = HEX[buf[i + 1]];
      const lo = HEX[buf[i + 2]];
      if ((hi | lo) < 0) return -1;
      c = (hi << 4) | lo;
      i += 3;
    } else {
      if (c === PLUS) c = 0x20;
      i++;
    }
    if (n < max) out[at + n] = c;
    n++;
  }
  return n;
}

/**
 * Where the last `decodeValue`, `countValue` or `skipValue` stopped: the '&' ending the value, or
 * the query's end. (A module variable, so that the scanners return two results without
 * allocating.)
 */
let valueEnd = 0;

/**
 * Like `percentDecode`, but the value runs from `start` to the next '&' (or `end`), found while
 * decoding, and left in `valueEnd`.
 */
function decodeValue(buf: Uint8Array, start: number, end: number, out: Uint8Array, max: number): number {
  let n = 0;
  let i = start;
  while (i < end) {
    let c = buf[i];
    if (c === AMP) break;
    if (c === PCT) {
      if (i + 2 >= end) return -1;
      const hi = HEX[buf[i + 1]];
      const lo = HEX[buf[i + 2]];
      if ((hi | lo) < 0) return -1;
      c = (hi << 4) | lo;
      i += 3;
    } else {
      if (c === PLUS) c = 0x20;
      i++;
    }
    if (n < max) out[n] = c;
    n++;
  }
  valueEnd = i;
  return n;
}

/**
 * The value from `start` to the next '&' (or `end`; left in `valueEnd`) as decimal digits,
 * percent-encoded ones included, read into a double: >= 0, -1 if invalid, -2 for a bad '%'.
 */
function countValue(buf: Uint8Array, start: number, end: number): number {
  let v = 0;
  let i = start;
  while (i < end) {
    let c = buf[i];
    if (c === AMP) break;
    if (c === PCT) {
      if (i + 2 >= end) return -2;
      const hi = HEX[buf[i + 1]];
      const lo = HEX[buf[i + 2]];
      if ((hi | lo) < 0) return -2;
      c = (hi << 4) | lo;
      i += 3;
    } else {
      i++;
    }
    const d = c - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  valueEnd = i;
  if (i === start) return -1;
  return v > MAX_COUNT ? -1 : v;
}

/** Index of the '=' or '&' ending a parameter name, or `end`. */
function nameEnd(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const c = buf[i];
    if (c === EQ || c === AMP) break;
    i++;
  }
  return i;
}

/** Index of the next '&' from `start`, or `end`; also left in `valueEnd`. */
function skipValue(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && buf[i] !== AMP) i++;
  valueEnd = i;
  return i;
}

/**
 * Parses the announce query `buf[start..end)` (the bytes after '?') into `q`. Returns
 * `QueryError.None` (0) or the first error: errors in query order, then a missing info_hash,
 * peer_id or port, in that order.
 */
export function parseAnnounceQuery(buf: Uint8Array, start: number, end: number, q: AnnounceQuery): number {
  if (end > buf.length) end = buf.length;
  q.uploaded = 0;
  q.downloaded = 0;
  q.left = -1;
  q.leftIsZero = false;
  q.event = AnnounceEvent.None;
  q.compact = true;
  q.noPeerId = false;
  q.numWant = -1;
  q.keyStart = -1;
  q.keyEnd = -1;
  q.trackerIdStart = -1;
  q.trackerIdEnd = -1;
  q.ipStart = -1;
  q.ipEnd = -1;
  q.ipParam = "";
  q.hasInfoHash = false;
  q.hasPeerId = false;
  q.hasPort = false;
  q.hasUploaded = false;
  q.hasDownloaded = false;
  q.hasLeft = false;
  q.hasEvent = false;
  q.hasCompact = false;
  q.hasNoPeerId = false;
  q.hasNumWant = false;
  q.detail = 0;

  let p = start;
  while (p < end) {
    // the name runs to '=' or '&'; a parameter without '=' has an empty value
    const ns = p;
    const ne = nameEnd(buf, p, end);
    const vs = ne < end && buf[ne] === EQ ? ne + 1 : ne;
    valueEnd = -1; // set by the value scanners below; -1 means "not scanned yet"

    switch (ne - ns) {
      case 9:
        if (nameIs(buf, ns, P_INFO_HASH)) {
          if (q.hasInfoHash) break;
          q.hasInfoHash = true;
          const n = decodeValue(buf, vs, end, scratch, 20);
          if (n < 0) return QueryError.BadPercentEncoding;
          if (n !== 20) {
            q.detail = n;
            return QueryError.BadInfoHash;
          }
          q.infoHash = hashString();
        } else if (nameIs(buf, ns, P_TRACKERID)) {
          if (q.trackerIdStart >= 0) break;
          q.trackerIdStart = vs;
          q.trackerIdEnd = skipValue(buf, vs, end);
        }
        break;
      case 7:
        if (nameIs(buf, ns, P_PEER_ID)) {
          if (q.hasPeerId) break;
          q.hasPeerId = true;
          const n = decodeValue(buf, vs, end, q.peerId, 20);
          if (n < 0) return QueryError.BadPercentEncoding;
          if (n !== 20) return QueryError.BadPeerId;
        } else if (nameIs(buf, ns, P_COMPACT)) {
          if (q.hasCompact) break;
          q.hasCompact = true;
          const n = decodeValue(buf, vs, end, scratch, 2);
          if (n < 0) return QueryError.BadPercentEncoding;
          q.compact = !(n === 1 && scratch[0] === 0x30);
        } else if (nameIs(buf, ns, P_NUMWANT)) {
          if (q.hasNumWant) break;
          q.hasNumWant = true;
          const negative = vs < end && buf[vs] === MINUS;
          const v = countValue(buf, negative ? vs + 1 : vs, end);
          if (v === -2) return QueryError.BadPercentEncoding;
          if (v < 0) return QueryError.BadNumWant;
          q.numWant = negative ? -1 : v > 0x7fffffff ? 0x7fffffff : v;
        }
        break;
      case 4:
        if (nameIs(buf, ns, P_PORT)) {
          if (q.hasPort) break;
          q.hasPort = true;
          const v = countValue(buf, vs, end);
          if (v === -2) return QueryError.BadPercentEncoding;
          if (v < 1 || v > 65535) return QueryError.BadPort;
          q.port = v;
        } else if (nameIs(buf, ns, P_LEFT)) {
          if (q.hasLeft) break;
          q.hasLeft = true;
          const v = countValue(buf, vs, end);
          if (v === -2) return QueryError.BadPercentEncoding;
          if (v < 0) return QueryError.BadLeft;
          q.left = v;
          q.leftIsZero = v === 0;
        }
        break;
      case 5:
        if (nameIs(buf, ns, P_EVENT)) {
          if (q.hasEvent) break;
          q.hasEvent = true;
          const n = decodeValue(buf, vs, end, scratch, 10);
          if (n < 0) return QueryError.BadPercentEncoding;
          if (scratchIs(n, V_STARTED)) q.event = AnnounceEvent.Started;
          else if (scratchIs(n, V_COMPLETED)) q.event = AnnounceEvent.Completed;
          else if (scratchIs(n, V_STOPPED)) q.event = AnnounceEvent.Stopped;
          else if (n === 0 || scratchIs(n, V_EMPTY) || scratchIs(n, V_PAUSED)) q.event = AnnounceEvent.None;
          else return QueryError.BadEvent;
        }
        break;
      case 8:
        if (nameIs(buf, ns, P_UPLOADED)) {
          if (q.hasUploaded) break;
          q.hasUploaded = true;
          const v = countValue(buf, vs, end);
          if (v === -2) return QueryError.BadPercentEncoding;
          if (v < 0) return QueryError.BadUploaded;
          q.uploaded = v;
        }
        break;
      case 10:
        if (nameIs(buf, ns, P_DOWNLOADED)) {
          if (q.hasDownloaded) break;
          q.hasDownloaded = true;
          const v = countValue(buf, vs, end);
          if (v === -2) return QueryError.BadPercentEncoding;
          if (v < 0) return QueryError.BadDownloaded;
          q.downloaded = v;
        } else if (nameIs(buf, ns, P_NO_PEER_ID)) {
          if (q.hasNoPeerId) break;
          q.hasNoPeerId = true;
          const n = decodeValue(buf, vs, end, scratch, 2);
          if (n < 0) return QueryError.BadPercentEncoding;
          q.noPeerId = !(n === 1 && scratch[0] === 0x30);
        }
        break;
      case 3:
        if (nameIs(buf, ns, P_KEY) && q.keyStart < 0) {
          q.keyStart = vs;
          q.keyEnd = skipValue(buf, vs, end);
        }
        break;
      case 2:
        if (nameIs(buf, ns, P_IP) && q.ipStart < 0) {
          q.ipStart = vs;
          q.ipEnd = skipValue(buf, vs, end);
          if (q.acceptIpParam) {
            const n = percentDecode(buf, vs, q.ipEnd, scratch, 0, MAX_IP_PARAM);
            if (n < 0) return QueryError.BadPercentEncoding;
            if (n <= MAX_IP_PARAM) q.ipParam = scratch.toString("latin1", 0, n);
          }
        }
        break;
    }
    p = (valueEnd < 0 ? skipValue(buf, vs, end) : valueEnd) + 1;
  }
  if (!q.hasInfoHash) return QueryError.MissingInfoHash;
  if (!q.hasPeerId) return QueryError.MissingPeerId;
  if (!q.hasPort) return QueryError.MissingPort;
  return QueryError.None;
}

/**
 * Parses a scrape query `buf[start..end)`: every `info_hash` value goes, decoded, into
 * `hashes[0..n)` as a 20-character latin1 string, in query order and with repeats kept (the
 * response writer drops them). Returns n (0: no info_hash at all, i.e. a full scrape), or a
 * negated `QueryError`: `-TooManyInfoHashes` past `max` values, `-BadInfoHash` for a value that
 * is not 20 bytes, `-BadPercentEncoding`. Other parameters are ignored.
 */
export function parseScrapeQuery(
  buf: Uint8Array,
  start: number,
  end: number,
  hashes: string[],
  max: number,
): number {
  if (end > buf.length) end = buf.length;
  let count = 0;
  let p = start;
  while (p < end) {
    const ns = p;
    const ne = nameEnd(buf, p, end);
    const vs = ne < end && buf[ne] === EQ ? ne + 1 : ne;
    if (ne - ns !== 9 || !nameIs(buf, ns, P_INFO_HASH)) {
      p = skipValue(buf, vs, end) + 1;
      continue;
    }
    const n = decodeValue(buf, vs, end, scratch, 20);
    if (n < 0) return -QueryError.BadPercentEncoding;
    if (n !== 20) return -QueryError.BadInfoHash;
    if (count >= max) return -QueryError.TooManyInfoHashes;
    hashes[count++] = hashString();
    p = valueEnd + 1;
  }
  return count;
}
