// The default swarm store: everything in this process, answered synchronously.

import {
  AnnounceEvent,
  type AnnounceRequest,
  type AnnounceResult,
  PEER_ID_LEN,
  SCRAPE_DOWNLOADED,
  SCRAPE_LEECHERS,
  SCRAPE_SEEDERS,
  SCRAPE_STRIDE,
} from "./announce.ts";
import type { Clock } from "./clock.ts";
import { PeerList } from "./peer-list.ts";
import { coprimeStride } from "./random-walk.ts";
import type { StoreTotals, SwarmStore } from "./swarm-store.ts";

export class Swarm {
  v4: PeerList | null = null;
  v6: PeerList | null = null;
  downloaded = 0;

  get seeders(): number {
    return (this.v4 === null ? 0 : this.v4.seeders) + (this.v6 === null ? 0 : this.v6.seeders);
  }

  get leechers(): number {
    return (this.v4 === null ? 0 : this.v4.leechers) + (this.v6 === null ? 0 : this.v6.leechers);
  }
}

export interface MemoryStoreOptions {
  /** Seconds without an announce before a peer is dropped. */
  peerTimeout: number;
}

export class MemoryStore implements SwarmStore {
  readonly synchronous = true;
  readonly swarms = new Map<string, Swarm>();
  private readonly clock: Clock;
  private readonly peerTimeout: number;
  private seeders = 0;
  private leechers = 0;
  private completed = 0;
  // Expiry resumes where the previous call stopped, so each call is bounded.
  private sweepIterator: Iterator<[string, Swarm]> | null = null;
  private sweepKey = "";
  private sweepSwarm: Swarm | null = null;
  private sweepFamily: 4 | 6 = 4;
  private sweepSlot = -1;

  constructor(clock: Clock, options: MemoryStoreOptions) {
    this.clock = clock;
    this.peerTimeout = options.peerTimeout;
  }

  announce(req: AnnounceRequest, res: AnnounceResult): void {
    const now = this.clock.now;
    let swarm = this.swarms.get(req.infoHash);
    const stopped = req.event === AnnounceEvent.Stopped;
    if (swarm === undefined) {
      if (stopped) {
        res.seeders = 0;
        res.leechers = 0;
        res.downloaded = 0;
        res.peerCount = 0;
        return;
      }
      swarm = new Swarm();
      this.swarms.set(req.infoHash, swarm);
    }
    const v6 = req.family === 6;
    let list = v6 ? swarm.v6 : swarm.v4;
    let slot = list === null ? -1 : list.find(req.endpoint);

    if (stopped) {
      if (slot >= 0) {
        this.removePeer(list!, slot);
        if (list!.count === 0) this.dropList(req.infoHash, swarm, v6);
      }
      res.peerCount = 0;
    } else {
      if (list === null) {
        list = new PeerList(v6 ? 18 : 6);
        if (v6) swarm.v6 = list;
        else swarm.v4 = list;
      }
      let wasSeeder = false;
      if (slot < 0) {
        slot = list.add(req.endpoint, req.peerId, req.seeder, req.group, now);
        if (req.seeder) this.seeders++;
        else this.leechers++;
      } else {
        wasSeeder = slot < list.seeders;
        slot = list.update(slot, req.peerId, req.seeder, req.group, now);
        if (wasSeeder !== req.seeder) {
          const d = req.seeder ? 1 : -1;
          this.seeders += d;
          this.leechers -= d;
        }
      }
      // A download counts once per peer: "completed" from one that was already a seeder is a repeat.
      if (req.event === AnnounceEvent.Completed && !wasSeeder) {
        swarm.downloaded++;
        this.completed++;
      }
      selectPeers(list, slot, req.seeder, req.numWant, res);
    }
    res.seeders = swarm.seeders;
    res.leechers = swarm.leechers;
    res.downloaded = swarm.downloaded;
  }

  scrape(infoHashes: readonly string[], count: number, out: Float64Array): void {
    for (let i = 0, o = 0; i < count; i++, o += SCRAPE_STRIDE) {
      const swarm = this.swarms.get(infoHashes[i]);
      out[o + SCRAPE_SEEDERS] = swarm === undefined ? 0 : swarm.seeders;
      out[o + SCRAPE_DOWNLOADED] = swarm === undefined ? 0 : swarm.downloaded;
      out[o + SCRAPE_LEECHERS] = swarm === undefined ? 0 : swarm.leechers;
    }
  }

  totals(): StoreTotals {
    return {
      torrents: this.swarms.size,
      seeders: this.seeders,
      leechers: this.leechers,
      completed: this.completed,
    };
  }

  expire(budget: number): void {
    const deadline = this.clock.now - this.peerTimeout;
    let work = 0;
    while (work < budget) {
      if (this.sweepSwarm === null) {
        if (this.sweepIterator === null) this.sweepIterator = this.swarms.entries();
        const next = this.sweepIterator.next();
        if (next.done) {
          // One full pass done; the next call starts a new one.
          this.sweepIterator = null;
          return;
        }
        this.sweepKey = next.value[0];
        this.sweepSwarm = next.value[1];
        this.sweepFamily = 4;
        this.sweepSlot = -1;
        work++;
      }
      const swarm = this.sweepSwarm;
      const v6 = this.sweepFamily === 6;
      const list = v6 ? swarm.v6 : swarm.v4;
      if (list !== null) {
        // Downward, so that a removal only ever moves an already examined record into the hole.
        let s = this.sweepSlot < 0 || this.sweepSlot >= list.count ? list.count - 1 : this.sweepSlot;
        for (; s >= 0 && work < budget; s--, work++) {
          if (list.lastSeen(s) < deadline) this.removePeer(list, s);
        }
        if (s >= 0) {
          this.sweepSlot = s;
          return;
        }
        if (list.count === 0) this.dropList(this.sweepKey, swarm, v6);
      }
      this.sweepSlot = -1;
      if (v6) this.sweepSwarm = null;
      else this.sweepFamily = 6;
    }
  }

  forEachTorrent(
    fn: (infoHash: string, seeders: number, downloaded: number, leechers: number) => void,
  ): void {
    for (const [hash, swarm] of this.swarms) fn(hash, swarm.seeders, swarm.downloaded, swarm.leechers);
  }

  *downloadCounts(): Iterable<[string, number]> {
    for (const [hash, swarm] of this.swarms) if (swarm.downloaded > 0) yield [hash, swarm.downloaded];
  }

  restoreDownloads(infoHash: string, downloaded: number): void {
    // A swarm with neither peers nor downloads would never be dropped.
    if (!(downloaded > 0)) return;
    let swarm = this.swarms.get(infoHash);
    if (swarm === undefined) {
      swarm = new Swarm();
      this.swarms.set(infoHash, swarm);
    }
    swarm.downloaded += downloaded;
    this.completed += downloaded;
  }

  private removePeer(list: PeerList, slot: number): void {
    if (slot < list.seeders) this.seeders--;
    else this.leechers--;
    list.remove(slot);
  }

  /** Frees an empty list; a swarm with no peers left is kept only for its download count. */
  private dropList(key: string, swarm: Swarm, v6: boolean): void {
    if (v6) swarm.v6 = null;
    else swarm.v4 = null;
    if (swarm.v4 !== null || swarm.v6 !== null || swarm.downloaded > 0) return;
    // The sweep may hold a swarm that was already replaced under the same key.
    if (this.swarms.get(key) === swarm) this.swarms.delete(key);
  }
}

/**
 * Writes up to `numWant` peers of `list` into `res`, never `self`. A seeder gets leechers only,
 * unless there are none. The pick walks the candidate range from a random start with a random
 * stride coprime to its length: every peer equally likely, distinct picks, O(numWant).
 */
export function selectPeers(
  list: PeerList,
  self: number,
  seeder: boolean,
  numWant: number,
  res: AnnounceResult,
): void {
  let from = 0;
  const to = list.count;
  if (seeder && list.leechers > 0) from = list.seeders;
  const n = to - from;
  const selfInRange = self >= from && self < to;
  const available = selfInRange ? n - 1 : n;
  const take = numWant < available ? numWant : available;
  const ep = list.endpointLength;
  const out = res.out;
  let at = res.outOffset;
  const ids = res.wantPeerIds ? res.peerIds : null;
  let written = 0;
  if (take > 0) {
    let pos = 0;
    let stride = 1;
    if (take < available) {
      pos = Math.floor(Math.random() * n);
      stride = coprimeStride(n);
    }
    while (written < take) {
      const slot = from + pos;
      if (slot !== self) {
        list.copyEndpoint(slot, out, at);
        if (ids !== null) list.copyPeerId(slot, ids, written * PEER_ID_LEN);
        at += ep;
        written++;
      }
      pos += stride;
      if (pos >= n) pos -= n;
    }
  }
  res.peerCount = written;
}
