// What the WebSocket tracker counts, per IP family of the client; read by the statistics layer.

import { DurationHistogram } from "./histogram.ts";

export class WsFamilyCounters {
  connections = 0;
  announces = 0;
  scrapes = 0;
  offersRelayed = 0;
  answersRelayed = 0;
  /** Answers not relayed: unknown, expired or already answered offer, or the offerer gone. */
  answersDropped = 0;
  /** Failure replies sent (bad messages, refused info hashes, limits). */
  errors = 0;
  /** Announces refused by the access list. */
  refused = 0;
}

export class WsStats {
  /** Sampled handling time of announces and scrapes. */
  readonly announceDurations = new DurationHistogram();
  readonly scrapeDurations = new DurationHistogram();
  readonly v4 = new WsFamilyCounters();
  readonly v6 = new WsFamilyCounters();
  open = 0;
  /** Upgrades refused: too many sockets from one address. */
  connectionsRefused = 0;
  /** Offers beyond the per-announce limit. */
  offersDropped = 0;
  closedSlow = 0;
  closedIdle = 0;
  closedDead = 0;
  closedMisbehaving = 0;

  family(f: 4 | 6): WsFamilyCounters {
    return f === 4 ? this.v4 : this.v6;
  }
}
