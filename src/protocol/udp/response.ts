/**
 * Server side writers of UDP tracker responses (BEP 15).
 *
 * Each writer stores big-endian fields into a caller-owned buffer at `off` and returns the offset
 * just past what it wrote. Nothing is allocated. The caller makes sure the buffer is large enough:
 * a typed array silently drops writes past its end.
 *
 * Response layouts (big-endian):
 *
 *   connect   0 action=0 | 4 transaction id | 8 connection id (8)                          = 16
 *   announce  0 action=1 | 4 transaction id | 8 interval | 12 leechers | 16 seeders          = 20
 *             then peers: IPv4 address (4) + port (2), or IPv6 address (16) + port (2)
 *   scrape    0 action=2 | 4 transaction id                                                  = 8
 *             then per info hash: seeders | completed | leechers                             = 12
 *   error     0 action=3 | 4 transaction id | message (ASCII, here at most 64 bytes)
 */

import {
  Action,
  ANNOUNCE_RESPONSE_HEADER_LEN,
  CONNECT_RESPONSE_LEN,
  ERROR_RESPONSE_HEADER_LEN,
  MAX_ERROR_MESSAGE_LEN,
  SCRAPE_ENTRY_LEN,
  SCRAPE_RESPONSE_HEADER_LEN,
} from "./constants.ts";

/** Longest error response `writeErrorResponse` produces. */
export const MAX_ERROR_RESPONSE_LEN = ERROR_RESPONSE_HEADER_LEN + MAX_ERROR_MESSAGE_LEN;

function put32(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 24;
  out[o + 1] = v >>> 16;
  out[o + 2] = v >>> 8;
  out[o + 3] = v;
}

/** Connect response (16 bytes). */
export function writeConnectResponse(
  out: Uint8Array,
  off: number,
  tid: number,
  connIdHi: number,
  connIdLo: number,
): number {
  put32(out, off, Action.Connect);
  put32(out, off + 4, tid);
  put32(out, off + 8, connIdHi);
  put32(out, off + 12, connIdLo);
  return off + CONNECT_RESPONSE_LEN;
}

/** Announce response header (20 bytes); the caller appends 6-byte IPv4 or 18-byte IPv6 peers. */
export function writeAnnounceResponseHeader(
  out: Uint8Array,
  off: number,
  tid: number,
  interval: number,
  leechers: number,
  seeders: number,
): number {
  put32(out, off, Action.Announce);
  put32(out, off + 4, tid);
  put32(out, off + 8, interval);
  put32(out, off + 12, leechers);
  put32(out, off + 16, seeders);
  return off + ANNOUNCE_RESPONSE_HEADER_LEN;
}

/** Scrape response header (8 bytes); one `writeScrapeEntry` per requested info hash follows. */
export function writeScrapeResponseHeader(out: Uint8Array, off: number, tid: number): number {
  put32(out, off, Action.Scrape);
  put32(out, off + 4, tid);
  return off + SCRAPE_RESPONSE_HEADER_LEN;
}

/** One scrape entry (12 bytes), in the order of the request's info hashes. */
export function writeScrapeEntry(
  out: Uint8Array,
  off: number,
  seeders: number,
  completed: number,
  leechers: number,
): number {
  put32(out, off, seeders);
  put32(out, off + 4, completed);
  put32(out, off + 8, leechers);
  return off + SCRAPE_ENTRY_LEN;
}

/**
 * Error response: 8-byte header, then `message` truncated to 64 characters. Characters outside
 * printable ASCII are written as "?".
 */
export function writeErrorResponse(out: Uint8Array, off: number, tid: number, message: string): number {
  put32(out, off, Action.Error);
  put32(out, off + 4, tid);
  let o = off + ERROR_RESPONSE_HEADER_LEN;
  const n = message.length < MAX_ERROR_MESSAGE_LEN ? message.length : MAX_ERROR_MESSAGE_LEN;
  for (let i = 0; i < n; i++) {
    const c = message.charCodeAt(i);
    out[o++] = c >= 0x20 && c < 0x7f ? c : 0x3f;
  }
  return o;
}
