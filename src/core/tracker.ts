// The tracker's rules in front of the store: the access list and the numwant policy. Servers
// parse, call here, and encode; nothing in here knows which protocol asked.

import type { AccessList } from "./access-list.ts";
import { type AnnounceRequest, type AnnounceResult, SCRAPE_STRIDE } from "./announce.ts";
import type { SwarmStore } from "./swarm-store.ts";

export const AnnounceStatus = { Ok: 0, Refused: 1 } as const;

export interface TrackerOptions {
  announceInterval: number;
  minAnnounceInterval: number;
  defaultNumwant: number;
  maxNumwant: number;
}

const ok = () => AnnounceStatus.Ok;

export class Tracker {
  readonly store: SwarmStore;
  readonly accessList: AccessList;
  readonly announceInterval: number;
  readonly minAnnounceInterval: number;
  readonly defaultNumwant: number;
  readonly maxNumwant: number;

  constructor(store: SwarmStore, accessList: AccessList, options: TrackerOptions) {
    this.store = store;
    this.accessList = accessList;
    this.announceInterval = options.announceInterval;
    this.minAnnounceInterval = options.minAnnounceInterval;
    this.defaultNumwant = options.defaultNumwant;
    this.maxNumwant = options.maxNumwant;
  }

  /** 0 or less means "the default"; anything above the cap is capped. */
  numWant(requested: number): number {
    if (!(requested > 0)) return this.defaultNumwant; // also NaN
    return requested > this.maxNumwant ? this.maxNumwant : requested;
  }

  allows(infoHash: string): boolean {
    return this.accessList.allows(infoHash);
  }

  /**
   * Returns an AnnounceStatus; with a synchronous store the answer is in `res` on return,
   * otherwise the returned promise settles once it is.
   */
  announce(req: AnnounceRequest, res: AnnounceResult): number | Promise<number> {
    if (!this.accessList.allows(req.infoHash)) return AnnounceStatus.Refused;
    const r = this.store.announce(req, res);
    if (r === undefined) return AnnounceStatus.Ok;
    return r.then(ok);
  }

  /** Like the store's scrape, with zeros for torrents the access list refuses. */
  scrape(infoHashes: readonly string[], count: number, out: Float64Array): void | Promise<void> {
    const r = this.store.scrape(infoHashes, count, out);
    if (this.accessList.mode === "off") return r;
    if (r === undefined) {
      this.maskRefused(infoHashes, count, out);
      return;
    }
    return r.then(() => this.maskRefused(infoHashes, count, out));
  }

  private maskRefused(infoHashes: readonly string[], count: number, out: Float64Array): void {
    for (let i = 0; i < count; i++) {
      if (!this.accessList.allows(infoHashes[i])) out.fill(0, i * SCRAPE_STRIDE, (i + 1) * SCRAPE_STRIDE);
    }
  }
}
