/**
 * Server side parsing of UDP tracker requests (BEP 15).
 *
 * Hot path: `parseRequest` fills a caller-owned, reusable `UdpRequest` and allocates nothing but
 * the info-hash string of an announce. It never throws, whatever the bytes.
 *
 * Request layouts (big-endian):
 *
 *   connect   0 protocol id (8) | 8 action=0 (4) | 12 transaction id (4)                    = 16
 *   announce  0 connection id (8) | 8 action=1 | 12 transaction id | 16 info hash (20)
 *             | 36 peer id (20) | 56 downloaded (8) | 64 left (8) | 72 uploaded (8)
 *             | 80 event (4) | 84 ip (4) | 88 key (4) | 92 num want (4, signed) | 96 port (2) = 98
 *             then optional BEP 41 option bytes, ignored here
 *   scrape    0 connection id (8) | 8 action=2 | 12 transaction id | 16 info hash (20) * n
 */

import {
  Action,
  ANNOUNCE_REQUEST_LEN,
  CONNECT_REQUEST_LEN,
  HASH_LEN,
  MAX_SCRAPE_HASHES,
  ParseError,
  PROTOCOL_ID_HI,
  PROTOCOL_ID_LO,
  SCRAPE_REQUEST_HEADER_LEN,
} from "./constants.ts";

/**
 * One parsed request. A server keeps one instance and lets `parseRequest` overwrite it; only the
 * fields of the parsed action are meaningful, the others keep stale values.
 */
export class UdpRequest {
  /** `Action` value as sent (uint32), or -1 when the packet was too short to hold one. */
  action = 0;
  /** Transaction id as sent (uint32), or -1 when the packet was too short to hold one. */
  transactionId = 0;
  /** High uint32 half of the 64-bit connection id (announce, scrape). */
  connIdHi = 0;
  /** Low uint32 half of the 64-bit connection id (announce, scrape). */
  connIdLo = 0;
  /** Announce: the 20 info-hash bytes as a 20-character latin1 string. */
  infoHash = "";
  /** Announce: offset of the 20-byte peer id in the packet. */
  peerIdOffset = 0;
  /** Announce: `left` is zero, i.e. the peer is a seeder. */
  leftIsZero = false;
  /** Announce: `Event` value. */
  event = 0;
  /** Announce: signed int32 as sent; -1 (or any negative) means "tracker default". */
  numWant = 0;
  /** Announce: uint16, never 0 after a successful parse. */
  port = 0;
  /** Announce: uint32. */
  key = 0;
  /** Scrape: info hash `i` is at `buf[scrapeOffset + 20 * i]`. */
  scrapeOffset = SCRAPE_REQUEST_HEADER_LEN;
  /** Scrape: number of whole info hashes, capped at `MAX_SCRAPE_HASHES`. */
  scrapeCount = 0;
}

function u32(buf: Uint8Array, o: number): number {
  return ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
}

/**
 * Parses the first `len` bytes of `buf` into `req` and returns a `ParseError` code
 * (`ParseError.None` on success).
 *
 * Whenever the packet holds at least 16 bytes, `req.action` and `req.transactionId` are set even
 * if parsing fails, so that the server can send an error reply.
 */
export function parseRequest(buf: Buffer, len: number, req: UdpRequest): number {
  if (len > buf.length) len = buf.length;
  if (!(len >= CONNECT_REQUEST_LEN)) {
    req.action = -1;
    req.transactionId = -1;
    return ParseError.TooShort;
  }
  const action = u32(buf, 8);
  req.action = action;
  req.transactionId = u32(buf, 12);

  if (action === Action.Connect) {
    if (u32(buf, 0) !== PROTOCOL_ID_HI || u32(buf, 4) !== PROTOCOL_ID_LO) return ParseError.BadProtocolId;
    return ParseError.None;
  }

  if (action === Action.Announce) {
    if (len < ANNOUNCE_REQUEST_LEN) return ParseError.TooShort;
    req.connIdHi = u32(buf, 0);
    req.connIdLo = u32(buf, 4);
    req.peerIdOffset = 36;
    req.leftIsZero = (buf[64] | buf[65] | buf[66] | buf[67] | buf[68] | buf[69] | buf[70] | buf[71]) === 0;
    const event = u32(buf, 80);
    req.event = event;
    req.key = u32(buf, 88);
    req.numWant = (buf[92] << 24) | (buf[93] << 16) | (buf[94] << 8) | buf[95];
    const port = (buf[96] << 8) | buf[97];
    req.port = port;
    if (event > 3) return ParseError.BadEvent;
    if (port === 0) return ParseError.BadPort;
    req.infoHash = buf.toString("latin1", 16, 16 + HASH_LEN);
    return ParseError.None;
  }

  if (action === Action.Scrape) {
    req.connIdHi = u32(buf, 0);
    req.connIdLo = u32(buf, 4);
    req.scrapeOffset = SCRAPE_REQUEST_HEADER_LEN;
    let count = ((len - SCRAPE_REQUEST_HEADER_LEN) / HASH_LEN) | 0;
    if (count > MAX_SCRAPE_HASHES) count = MAX_SCRAPE_HASHES;
    req.scrapeCount = count;
    return count === 0 ? ParseError.NoInfoHash : ParseError.None;
  }

  return ParseError.UnknownAction;
}
