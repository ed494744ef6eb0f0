// A scrape without info_hash answers every torrent. Built per request it would let anyone make
// the tracker walk its whole store at will, so it is rebuilt on a timer and served as is.

import type { Tracker } from "../../core/tracker.ts";
import { writeScrapeBody } from "../../protocol/http/response.ts";

/** Bytes one torrent takes in a scrape body, with room to spare for large counts. */
const ENTRY_BYTES = 128;

export class FullScrape {
  private readonly tracker: Tracker;
  private readonly interval: number;
  private builtAt = Number.NEGATIVE_INFINITY;
  private building = false;
  /** The cached bencoded body, or null before the first build. */
  body: Buffer | null = null;

  constructor(tracker: Tracker, interval: number) {
    this.tracker = tracker;
    this.interval = interval;
  }

  maintain(now: number): void {
    if (this.building || now - this.builtAt < this.interval) return;
    this.builtAt = now;
    this.building = true;
    const hashes: string[] = [];
    const figures: number[] = [];
    const done = () => {
      const body = Buffer.allocUnsafe(64 + hashes.length * ENTRY_BYTES);
      const end = writeScrapeBody(body, 0, hashes, hashes.length, Float64Array.from(figures));
      this.body = Buffer.from(body.subarray(0, end));
      this.building = false;
    };
    const allow = this.tracker.accessList;
    const r = this.tracker.store.forEachTorrent((hash, seeders, downloaded, leechers) => {
      if (!allow.allows(hash)) return;
      hashes.push(hash);
      figures.push(seeders, downloaded, leechers);
    });
    if (r === undefined) done();
    else
      r.then(done, () => {
        this.building = false;
      });
  }
}
