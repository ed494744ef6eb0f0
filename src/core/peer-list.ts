// The peers of one swarm and one address family, packed into a single byte array.
//
// Record layout: [endpoint (6 or 18)][peer id (20)][group u16][last seen u32], so an IPv4 peer
// costs 32 bytes and an IPv6 peer 44, plus a hash index once the list is large. Seeders occupy
// slots [0, seeders), leechers [seeders, count): picking "leechers only" for a seeder is a range.
// The endpoint (address and announced port) is the identity of a peer: a packet from another
// address can never reach this entry, whatever peer id it sends.

import { PEER_ID_LEN } from "./announce.ts";

/** Lists up to this size are searched linearly; larger ones get an open-addressing index. */
const INDEX_THRESHOLD = 8;
const INITIAL_CAPACITY = 2;

// A per-process seed keeps endpoint hashes unpredictable to clients that pick their ports.
const HASH_SEED = (Math.random() * 0x100000000) >>> 0;

export class PeerList {
  readonly endpointLength: number;
  readonly recordLength: number;
  private readonly peerIdAt: number;
  private readonly groupAt: number;
  private readonly seenAt: number;
  buf: Uint8Array;
  capacity: number;
  count = 0;
  seeders = 0;
  /** slot + 1 per used bucket, 0 for empty; null while the list is small. */
  private index: Int32Array | null = null;
  private mask = 0;

  constructor(endpointLength: 6 | 18, capacity = INITIAL_CAPACITY) {
    this.endpointLength = endpointLength;
    this.peerIdAt = endpointLength;
    this.groupAt = endpointLength + PEER_ID_LEN;
    this.seenAt = this.groupAt + 2;
    this.recordLength = this.seenAt + 4;
    this.capacity = capacity;
    this.buf = new Uint8Array(capacity * this.recordLength);
  }

  get leechers(): number {
    return this.count - this.seeders;
  }

  /** The slot holding this endpoint, or -1. */
  find(ep: Uint8Array): number {
    const n = this.endpointLength;
    const index = this.index;
    if (index === null) {
      const b = this.buf;
      const r = this.recordLength;
      for (let s = 0, o = 0; s < this.count; s++, o += r) {
        let i = 0;
        while (i < n && b[o + i] === ep[i]) i++;
        if (i === n) return s;
      }
      return -1;
    }
    const mask = this.mask;
    for (let h = this.hash(ep, 0) & mask; ; h = (h + 1) & mask) {
      const v = index[h];
      if (v === 0) return -1;
      if (this.endpointEquals(v - 1, ep)) return v - 1;
    }
  }

  /** Appends a peer and returns its slot. */
  add(ep: Uint8Array, peerId: Uint8Array, seeder: boolean, group: number, now: number): number {
    if (this.count === this.capacity) this.resize(this.capacity * 2);
    let slot = this.count++;
    const o = slot * this.recordLength;
    const b = this.buf;
    for (let i = 0; i < this.endpointLength; i++) b[o + i] = ep[i];
    this.writeFields(slot, peerId, group, now);
    if (this.index !== null) this.indexInsert(slot);
    else if (this.count > INDEX_THRESHOLD) this.rebuildIndex();
    if (seeder) {
      // Move the new record to the end of the seeder range.
      if (slot !== this.seeders) this.swap(slot, this.seeders);
      slot = this.seeders++;
    }
    return slot;
  }

  /** Refreshes an existing peer, moving it between the seeder and leecher ranges as needed. */
  update(slot: number, peerId: Uint8Array, seeder: boolean, group: number, now: number): number {
    this.writeFields(slot, peerId, group, now);
    const wasSeeder = slot < this.seeders;
    if (seeder === wasSeeder) return slot;
    if (seeder) {
      const to = this.seeders++;
      if (slot !== to) this.swap(slot, to);
      return to;
    }
    const to = --this.seeders;
    if (slot !== to) this.swap(slot, to);
    return to;
  }

  remove(slot: number): void {
    if (this.index !== null) this.indexDelete(slot);
    if (slot < this.seeders) {
      // Fill the hole with the last seeder, then the last seeder's place with the last record.
      const lastSeeder = --this.seeders;
      if (slot !== lastSeeder) this.move(lastSeeder, slot);
      slot = lastSeeder;
    }
    const last = --this.count;
    if (slot !== last) this.move(last, slot);
    if (this.capacity > 4 * INITIAL_CAPACITY && this.count * 4 < this.capacity) {
      this.resize(this.capacity >> 1);
    }
  }

  lastSeen(slot: number): number {
    const o = slot * this.recordLength + this.seenAt;
    const b = this.buf;
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }

  group(slot: number): number {
    const o = slot * this.recordLength + this.groupAt;
    return this.buf[o] | (this.buf[o + 1] << 8);
  }

  /** Copies the endpoint of `slot` to `out` at `at`. */
  copyEndpoint(slot: number, out: Uint8Array, at: number): void {
    // Byte loops: a subarray() view per peer costs more than copying 6 or 18 bytes.
    const b = this.buf;
    const o = slot * this.recordLength;
    for (let i = 0; i < this.endpointLength; i++) out[at + i] = b[o + i];
  }

  copyPeerId(slot: number, out: Uint8Array, at: number): void {
    const b = this.buf;
    const o = slot * this.recordLength + this.peerIdAt;
    for (let i = 0; i < PEER_ID_LEN; i++) out[at + i] = b[o + i];
  }

  private writeFields(slot: number, peerId: Uint8Array, group: number, now: number): void {
    const b = this.buf;
    const o = slot * this.recordLength;
    const p = o + this.peerIdAt;
    for (let i = 0; i < PEER_ID_LEN; i++) b[p + i] = peerId[i];
    const g = o + this.groupAt;
    b[g] = group;
    b[g + 1] = group >>> 8;
    const t = o + this.seenAt;
    b[t] = now;
    b[t + 1] = now >>> 8;
    b[t + 2] = now >>> 16;
    b[t + 3] = now >>> 24;
  }

  private endpointEquals(slot: number, ep: Uint8Array): boolean {
    const b = this.buf;
    const o = slot * this.recordLength;
    for (let i = 0; i < this.endpointLength; i++) if (b[o + i] !== ep[i]) return false;
    return true;
  }

  /** Seeded multiplicative hash of an endpoint held in `src` at `at`. */
  private hash(src: Uint8Array, at: number): number {
    let h = HASH_SEED;
    const end = at + this.endpointLength;
    let i = at;
    for (; i + 4 <= end; i += 4) {
      const w = src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24);
      h = Math.imul(h ^ w, 0x9e3779b1);
      h ^= h >>> 15;
    }
    for (; i < end; i++) h = Math.imul(h ^ src[i], 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  private slotHash(slot: number): number {
    return this.hash(this.buf, slot * this.recordLength);
  }

  private indexInsert(slot: number): void {
    const index = this.index!;
    const mask = this.mask;
    let h = this.slotHash(slot) & mask;
    while (index[h] !== 0) h = (h + 1) & mask;
    index[h] = slot + 1;
  }

  /** Finds the bucket that points at `slot`. */
  private bucketOf(slot: number): number {
    const index = this.index!;
    const mask = this.mask;
    let h = this.slotHash(slot) & mask;
    while (index[h] !== slot + 1) h = (h + 1) & mask;
    return h;
  }

  /** Linear-probing deletion by backward shift: no tombstones, lookups stay short. */
  private indexDelete(slot: number): void {
    const index = this.index!;
    const mask = this.mask;
    let hole = this.bucketOf(slot);
    let h = (hole + 1) & mask;
    while (index[h] !== 0) {
      const home = this.slotHash(index[h] - 1) & mask;
      // Move the entry back if its home is not in the cyclic range (hole, h].
      if ((h > hole && (home <= hole || home > h)) || (h < hole && home <= hole && home > h)) {
        index[hole] = index[h];
        hole = h;
      }
      h = (h + 1) & mask;
    }
    index[hole] = 0;
  }

  /** Moves record `from` into slot `to` (whose old content is gone). */
  private move(from: number, to: number): void {
    if (this.index !== null) this.index[this.bucketOf(from)] = to + 1;
    const r = this.recordLength;
    const buf = this.buf;
    for (let i = 0, x = to * r, y = from * r; i < r; i++) buf[x + i] = buf[y + i];
  }

  private swap(a: number, b: number): void {
    const r = this.recordLength;
    const buf = this.buf;
    if (this.index !== null) {
      const ba = this.bucketOf(a);
      const bb = this.bucketOf(b);
      this.index[ba] = b + 1;
      this.index[bb] = a + 1;
    }
    for (let i = 0, x = a * r, y = b * r; i < r; i++, x++, y++) {
      const t = buf[x];
      buf[x] = buf[y];
      buf[y] = t;
    }
  }

  private resize(capacity: number): void {
    const next = new Uint8Array(capacity * this.recordLength);
    next.set(this.buf.subarray(0, this.count * this.recordLength));
    this.buf = next;
    this.capacity = capacity;
    if (this.index !== null || this.count > INDEX_THRESHOLD) this.rebuildIndex();
  }

  private rebuildIndex(): void {
    if (this.capacity <= INDEX_THRESHOLD) {
      this.index = null;
      return;
    }
    let size = 16;
    while (size < this.capacity * 2) size <<= 1;
    this.index = new Int32Array(size);
    this.mask = size - 1;
    for (let s = 0; s < this.count; s++) this.indexInsert(s);
  }
}
