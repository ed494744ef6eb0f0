// The seam between the tracker rules and where swarms live. The memory store answers
// synchronously; a shared store (Redis) answers with promises. Callers test `synchronous` once
// per request and only the asynchronous path pays for a promise.

import type { AnnounceRequest, AnnounceResult } from "./announce.ts";

export interface StoreTotals {
  torrents: number;
  seeders: number;
  leechers: number;
  /** Downloads counted over the store's lifetime, including those restored from a snapshot. */
  completed: number;
}

export interface SwarmStore {
  readonly synchronous: boolean;
  /**
   * Applies the announce to its swarm and writes the answer into `res`: counts, and up to
   * `req.numWant` peers of the requester's family, never the requester.
   */
  announce(req: AnnounceRequest, res: AnnounceResult): void | Promise<void>;
  /**
   * For each of the first `count` hashes, writes seeders, downloaded, leechers to
   * `out[i * 3 ...]` (SCRAPE_STRIDE); zeros for unknown torrents.
   */
  scrape(infoHashes: readonly string[], count: number, out: Float64Array): void | Promise<void>;
  totals(): StoreTotals | Promise<StoreTotals>;
  /** Drops peers last seen before `now - peerTimeout`, examining at most `budget` peers. */
  expire(budget: number): void | Promise<void>;
  /** Calls `fn` for every torrent (full scrapes); not for the hot path. */
  forEachTorrent(
    fn: (infoHash: string, seeders: number, downloaded: number, leechers: number) => void,
  ): void | Promise<void>;
  /** Per-torrent download counts, for snapshots. */
  downloadCounts(): Iterable<[string, number]>;
  /** Restores a download count read from a snapshot (adds to what is there). */
  restoreDownloads(infoHash: string, downloaded: number): void;
}
