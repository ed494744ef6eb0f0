/**
 * Client side of the UDP tracker protocol (BEP 15): request writers and response parsers, for
 * tests, the probe and the load tester. Writers store into a caller-owned buffer and return the
 * offset just past what they wrote; parsers return plain objects, or null when the packet is
 * malformed or of another action.
 */

import { formatIp } from "../../core/address.ts";
import {
  Action,
  ANNOUNCE_REQUEST_LEN,
  ANNOUNCE_RESPONSE_HEADER_LEN,
  CONNECT_REQUEST_LEN,
  CONNECT_RESPONSE_LEN,
  ERROR_RESPONSE_HEADER_LEN,
  HASH_LEN,
  PEER_V4_LEN,
  PEER_V6_LEN,
  PROTOCOL_ID_HI,
  PROTOCOL_ID_LO,
  SCRAPE_ENTRY_LEN,
  SCRAPE_REQUEST_HEADER_LEN,
  SCRAPE_RESPONSE_HEADER_LEN,
} from "./constants.ts";

export interface AnnounceRequestFields {
  connIdHi: number;
  connIdLo: number;
  tid: number;
  /** 20 bytes. */
  infoHash: Uint8Array;
  /** 20 bytes. */
  peerId: Uint8Array;
  /** Integers, written as 64-bit two's complement (exact up to 2^53). */
  downloaded: number;
  left: number;
  uploaded: number;
  /** `Event` value. */
  event: number;
  /** IPv4 address as a uint32, 0 for "the source address". */
  ip: number;
  key: number;
  /** -1 for the tracker's default. */
  numWant: number;
  port: number;
}

export interface ConnectResponse {
  transactionId: number;
  connIdHi: number;
  connIdLo: number;
}

export interface Peer {
  ip: string;
  port: number;
}

export interface AnnounceResponse {
  action: number;
  transactionId: number;
  interval: number;
  leechers: number;
  seeders: number;
  peers: Peer[];
}

export interface ScrapeEntry {
  seeders: number;
  completed: number;
  leechers: number;
}

export interface ScrapeResponse {
  transactionId: number;
  entries: ScrapeEntry[];
}

export interface ErrorResponse {
  transactionId: number;
  message: string;
}

function put32(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 24;
  out[o + 1] = v >>> 16;
  out[o + 2] = v >>> 8;
  out[o + 3] = v;
}

function put64(out: Uint8Array, o: number, v: number): void {
  put32(out, o, Math.floor(v / 0x1_0000_0000));
  put32(out, o + 4, v >>> 0);
}

function get32(buf: Uint8Array, o: number): number {
  return ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
}

function copy20(out: Uint8Array, o: number, src: Uint8Array, what: string): void {
  if (src.length !== HASH_LEN) throw new RangeError(`${what} must be ${HASH_LEN} bytes, got ${src.length}`);
  out.set(src, o);
}

/** Connect request (16 bytes). */
export function writeConnectRequest(out: Uint8Array, off: number, tid: number): number {
  put32(out, off, PROTOCOL_ID_HI);
  put32(out, off + 4, PROTOCOL_ID_LO);
  put32(out, off + 8, Action.Connect);
  put32(out, off + 12, tid);
  return off + CONNECT_REQUEST_LEN;
}

/** Announce request (98 bytes, no BEP 41 options). Throws if a hash or peer id is not 20 bytes. */
export function writeAnnounceRequest(out: Uint8Array, off: number, a: AnnounceRequestFields): number {
  put32(out, off, a.connIdHi);
  put32(out, off + 4, a.connIdLo);
  put32(out, off + 8, Action.Announce);
  put32(out, off + 12, a.tid);
  copy20(out, off + 16, a.infoHash, "infoHash");
  copy20(out, off + 36, a.peerId, "peerId");
  put64(out, off + 56, a.downloaded);
  put64(out, off + 64, a.left);
  put64(out, off + 72, a.uploaded);
  put32(out, off + 80, a.event);
  put32(out, off + 84, a.ip);
  put32(out, off + 88, a.key);
  put32(out, off + 92, a.numWant);
  out[off + 96] = a.port >>> 8;
  out[off + 97] = a.port;
  return off + ANNOUNCE_REQUEST_LEN;
}

/** Scrape request (16 + 20 * hashes.length bytes). Throws if a hash is not 20 bytes. */
export function writeScrapeRequest(
  out: Uint8Array,
  off: number,
  connIdHi: number,
  connIdLo: number,
  tid: number,
  hashes: Uint8Array[],
): number {
  put32(out, off, connIdHi);
  put32(out, off + 4, connIdLo);
  put32(out, off + 8, Action.Scrape);
  put32(out, off + 12, tid);
  let o = off + SCRAPE_REQUEST_HEADER_LEN;
  for (const h of hashes) {
    copy20(out, o, h, "info hash");
    o += HASH_LEN;
  }
  return o;
}

/** The action of a response, or -1 if it is shorter than the 8-byte common header. */
export function responseAction(buf: Uint8Array): number {
  return buf.length < 8 ? -1 : get32(buf, 0);
}

export function parseConnectResponse(buf: Uint8Array): ConnectResponse | null {
  if (buf.length < CONNECT_RESPONSE_LEN || get32(buf, 0) !== Action.Connect) return null;
  return { transactionId: get32(buf, 4), connIdHi: get32(buf, 8), connIdLo: get32(buf, 12) };
}

/**
 * Announce response with peers of one address family: 6-byte IPv4 peers for `4`, 18-byte IPv6
 * peers for `6` (BEP 15: the family of the socket the request went over). A trailing partial peer
 * makes the packet malformed.
 */
export function parseAnnounceResponse(buf: Uint8Array, family: 4 | 6): AnnounceResponse | null {
  if (buf.length < ANNOUNCE_RESPONSE_HEADER_LEN || get32(buf, 0) !== Action.Announce) return null;
  const peerLen = family === 6 ? PEER_V6_LEN : PEER_V4_LEN;
  const rest = buf.length - ANNOUNCE_RESPONSE_HEADER_LEN;
  if (rest % peerLen !== 0) return null;
  const peers: Peer[] = [];
  for (let o = ANNOUNCE_RESPONSE_HEADER_LEN; o < buf.length; o += peerLen) {
    const ip = family === 6 ? formatIPv6(buf, o) : formatIPv4(buf, o);
    peers.push({ ip, port: (buf[o + peerLen - 2] << 8) | buf[o + peerLen - 1] });
  }
  return {
    action: Action.Announce,
    transactionId: get32(buf, 4),
    interval: get32(buf, 8),
    leechers: get32(buf, 12),
    seeders: get32(buf, 16),
    peers,
  };
}

export function parseScrapeResponse(buf: Uint8Array): ScrapeResponse | null {
  if (buf.length < SCRAPE_RESPONSE_HEADER_LEN || get32(buf, 0) !== Action.Scrape) return null;
  if ((buf.length - SCRAPE_RESPONSE_HEADER_LEN) % SCRAPE_ENTRY_LEN !== 0) return null;
  const entries: ScrapeEntry[] = [];
  for (let o = SCRAPE_RESPONSE_HEADER_LEN; o < buf.length; o += SCRAPE_ENTRY_LEN) {
    entries.push({ seeders: get32(buf, o), completed: get32(buf, o + 4), leechers: get32(buf, o + 8) });
  }
  return { transactionId: get32(buf, 4), entries };
}

const utf8 = new TextDecoder("utf-8");

/** Error response; the message is decoded as UTF-8 (BEP 15 leaves the encoding open). */
export function parseErrorResponse(buf: Uint8Array): ErrorResponse | null {
  if (buf.length < ERROR_RESPONSE_HEADER_LEN || get32(buf, 0) !== Action.Error) return null;
  return { transactionId: get32(buf, 4), message: utf8.decode(buf.subarray(ERROR_RESPONSE_HEADER_LEN)) };
}

/** Dotted quad of the 4 bytes at `o`. */
export function formatIPv4(buf: Uint8Array, o: number): string {
  return formatIp(buf, o, 4);
}

/** The 16 bytes at `o` as text, the way Node's `net` prints addresses. */
export function formatIPv6(buf: Uint8Array, o: number): string {
  return formatIp(buf, o, 6);
}
