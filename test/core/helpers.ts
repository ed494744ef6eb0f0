// Shared builders for the core tests: endpoints, peer ids, info hashes, requests, and readers
// for the peers a store wrote into an AnnounceResult or holds in its lists.

import { AnnounceEvent, AnnounceRequest, AnnounceResult, PEER_ID_LEN } from "../../src/core/announce.ts";
import type { MemoryStore } from "../../src/core/memory-store.ts";
import type { PeerList } from "../../src/core/peer-list.ts";

export type Family = 4 | 6;

export function endpointLength(family: Family): 6 | 18 {
  return family === 4 ? 6 : 18;
}

/** A compact IPv4 endpoint: 4 address bytes then the big-endian port. */
export function v4(a: number, b: number, c: number, d: number, port: number): Uint8Array {
  return Uint8Array.of(a, b, c, d, port >>> 8, port & 0xff);
}

/** A compact IPv6 endpoint: 16 address bytes then the big-endian port. */
export function v6(addr: readonly number[], port: number): Uint8Array {
  const ep = new Uint8Array(18);
  ep.set(addr.slice(0, 16));
  ep[16] = port >>> 8;
  ep[17] = port & 0xff;
  return ep;
}

/**
 * Endpoint number `n` of a family. Neighbours share an address and differ by port, others
 * differ by address only, so both halves of the endpoint take part in identity.
 */
export function endpointOf(family: Family, n: number): Uint8Array {
  const host = n >> 1;
  const port = 6881 + (n & 1);
  if (family === 4) return v4(10, (host >> 16) & 0xff, (host >> 8) & 0xff, host & 0xff, port);
  return v6(
    [
      0x20,
      0x01,
      0x0d,
      0xb8,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      (host >> 24) & 0xff,
      (host >> 16) & 0xff,
      (host >> 8) & 0xff,
      host & 0xff,
    ],
    port,
  );
}

export function peerIdOf(n: number): Uint8Array {
  const id = new Uint8Array(PEER_ID_LEN);
  id.set(Buffer.from("-SH0001-", "latin1"));
  id[16] = (n >>> 24) & 0xff;
  id[17] = (n >>> 16) & 0xff;
  id[18] = (n >>> 8) & 0xff;
  id[19] = n & 0xff;
  return id;
}

/** Info hash number `n` as the 20-character latin1 swarm key. */
export function infoHashOf(n: number): string {
  const b = Buffer.alloc(20, 0xab);
  b.writeUInt32BE(n >>> 0, 16);
  return b.toString("latin1");
}

export function hex(bytes: Uint8Array, from = 0, to = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString("hex");
}

export interface RequestFields {
  infoHash?: string;
  family?: Family;
  endpoint?: Uint8Array;
  peerId?: Uint8Array;
  seeder?: boolean;
  event?: number;
  numWant?: number;
  group?: number;
}

/** Fills `req` (fresh one by default) the way a server does before calling the core. */
export function request(fields: RequestFields = {}, req = new AnnounceRequest()): AnnounceRequest {
  req.infoHash = fields.infoHash ?? infoHashOf(0);
  req.family = fields.family ?? 4;
  req.endpoint.fill(0);
  req.endpoint.set(fields.endpoint ?? endpointOf(req.family, 0));
  req.peerId.set(fields.peerId ?? peerIdOf(0));
  req.seeder = fields.seeder ?? false;
  req.event = fields.event ?? AnnounceEvent.None;
  req.numWant = fields.numWant ?? 50;
  req.group = fields.group ?? 0;
  return req;
}

/** The endpoints written into `res`, as hex strings, in order. */
export function returnedEndpoints(res: AnnounceResult, family: Family): string[] {
  const n = endpointLength(family);
  const out: string[] = [];
  for (let i = 0; i < res.peerCount; i++) {
    const at = res.outOffset + i * n;
    out.push(hex(res.out, at, at + n));
  }
  return out;
}

/** The peer ids written into `res` (when `wantPeerIds`), as hex strings, in order. */
export function returnedPeerIds(res: AnnounceResult): string[] {
  const out: string[] = [];
  for (let i = 0; i < res.peerCount; i++) out.push(hex(res.peerIds, i * PEER_ID_LEN, (i + 1) * PEER_ID_LEN));
  return out;
}

export interface StoredPeer {
  endpoint: string;
  peerId: string;
  seeder: boolean;
  lastSeen: number;
  group: number;
}

/** Everything a PeerList holds, slot by slot. */
export function listPeers(list: PeerList): StoredPeer[] {
  const ep = new Uint8Array(list.endpointLength);
  const id = new Uint8Array(PEER_ID_LEN);
  const out: StoredPeer[] = [];
  for (let s = 0; s < list.count; s++) {
    list.copyEndpoint(s, ep, 0);
    list.copyPeerId(s, id, 0);
    out.push({
      endpoint: hex(ep),
      peerId: hex(id),
      seeder: s < list.seeders,
      lastSeen: list.lastSeen(s),
      group: list.group(s),
    });
  }
  return out;
}

/** The peers of one swarm and family in a MemoryStore, keyed by endpoint hex. */
export function storedPeers(store: MemoryStore, infoHash: string, family: Family): Map<string, StoredPeer> {
  const swarm = store.swarms.get(infoHash);
  const list = swarm === undefined ? null : family === 4 ? swarm.v4 : swarm.v6;
  const out = new Map<string, StoredPeer>();
  if (list === null) return out;
  for (const p of listPeers(list)) out.set(p.endpoint, p);
  return out;
}

export function newResult(maxPeers = 200): AnnounceResult {
  return new AnnounceResult(maxPeers);
}
