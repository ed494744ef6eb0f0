// What the UDP server counts. Plain numbers, incremented on the hot path and read by the
// statistics layer when it is asked; nothing here is called per request but `+= 1`.

export class UdpFamilyCounters {
  /** Datagrams received, whatever became of them. */
  requests = 0;
  connects = 0;
  announces = 0;
  scrapes = 0;
  /** Error answers sent (bad packet, bad connection id, refused info hash). */
  errors = 0;
  /** Answers of any kind sent. */
  responses = 0;
  /** Datagrams ignored because their source is banned. */
  banned = 0;
  /** Datagrams that could not be parsed (subset of errors when an answer was possible). */
  malformed = 0;
  /** Announces and scrapes whose connection id did not verify. */
  badConnectionIds = 0;
  /** Announces refused by the access list. */
  refused = 0;
}

import { DurationHistogram } from "./histogram.ts";

/** Kinds for which processing time is measured. */
export const TimedKind = { Connect: 0, Announce: 1, Scrape: 2 } as const;

export class UdpStats {
  readonly v4 = new UdpFamilyCounters();
  readonly v6 = new UdpFamilyCounters();
  /** Requests whose answer was never sent (a send failed, or the server stopped first). */
  aborted = 0;
  /** Sources put under a ban, over the server's lifetime. */
  bansIssued = 0;
  /** Sampled processing time per TimedKind. */
  readonly durations = [new DurationHistogram(), new DurationHistogram(), new DurationHistogram()];

  family(f: 4 | 6): UdpFamilyCounters {
    return f === 4 ? this.v4 : this.v6;
  }

  /** Mean processing time in nanoseconds for a TimedKind, 0 before the first sample. */
  averageNs(kind: number): number {
    return this.durations[kind].meanNs();
  }
}
