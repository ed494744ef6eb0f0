// What the HTTP server counts, per IP family of the client. Plain numbers incremented where
// things happen; the statistics layer reads them (torrust reports them as tcp4_* / tcp6_*).

import { DurationHistogram } from "./histogram.ts";

export class HttpFamilyCounters {
  /** Connections accepted. */
  connections = 0;
  /** Requests whose head was parsed, whatever their path. */
  requests = 0;
  announces = 0;
  scrapes = 0;
  /** Bencoded failures sent (bad parameters, refused info hash). */
  failures = 0;
  /** Announces refused by the access list (also counted in failures). */
  refused = 0;
  /** Requests refused at the HTTP level (400, 404, 405, 408, 413, 414, 431, 505). */
  rejected = 0;
  /** Connections closed for sending a head too slowly or idling too long. */
  timeouts = 0;
}

export class HttpStats {
  /** Sampled handling time of announces and scrapes. */
  readonly announceDurations = new DurationHistogram();
  readonly scrapeDurations = new DurationHistogram();
  readonly v4 = new HttpFamilyCounters();
  readonly v6 = new HttpFamilyCounters();
  /** Connections refused because max_connections were open. */
  connectionsRefused = 0;
  /** Connections open now. */
  open = 0;

  family(f: 4 | 6): HttpFamilyCounters {
    return f === 4 ? this.v4 : this.v6;
  }
}
