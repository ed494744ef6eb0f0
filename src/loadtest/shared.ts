// Shapes shared by the load tester's main thread and its workers (one worker script per
// protocol: udp-worker.ts, http-worker.ts, ws-worker.ts).

export type LoadProtocol = "udp" | "http" | "ws";

export const PROTOCOLS: readonly LoadProtocol[] = ["udp", "http", "ws"];

/** What every worker gets; each protocol uses the parts that apply to it. */
export interface WorkerConfig {
  workerIndex: number;
  workers: number;
  host: string;
  port: number;
  family: 4 | 6;
  timeoutMs: number;
  /** Fill mode: announce each peer of [peerStart, peerEnd) once (started), report, then idle. */
  fill: boolean;
  torrents: number;
  /** Zipf exponent of torrent popularity. */
  popularity: number;
  /** All peers over all workers; this worker owns [peerStart, peerEnd). */
  peers: number;
  peerStart: number;
  peerEnd: number;
  seederRatio: number;
  scrapeRatio: number;
  stopRatio: number;
  completeRatio: number;
  numWant: number;
  scrapeHashes: number;
  /** UDP: requests in flight per worker. */
  inflight: number;
  /** HTTP: connections per worker, keep-alive, requests in flight per connection. */
  connections: number;
  keepAlive: boolean;
  pipeline: number;
  /** WebSocket: sockets per worker, offers per announce, torrents per socket, sockets per address. */
  sockets: number;
  offers: number;
  torrentsPerSocket: number;
  socketsPerAddress: number;
}

/**
 * Answers counted by kind. `invalid` are answers that failed the checks (shape, transaction or
 * offer ids); `flawed` are well-formed announce answers that break a tracker rule (the
 * requester in its own peer list, more peers than asked for, counts of zero) — they count as
 * announces too, since the tracker did answer; `errors` are error answers (UDP error action,
 * `failure reason`) and failed connections.
 */
export interface LoadCounts {
  sent: number;
  connects: number;
  announces: number;
  scrapes: number;
  /** WebSocket: offers relayed to our sockets, and answers relayed back to them. */
  offers: number;
  answers: number;
  errors: number;
  timeouts: number;
  invalid: number;
  flawed: number;
  /** Fill mode: peers the tracker accepted (a valid answer to their "started" announce). */
  filled: number;
}

export const COUNT_KEYS: readonly (keyof LoadCounts)[] = [
  "sent",
  "connects",
  "announces",
  "scrapes",
  "offers",
  "answers",
  "errors",
  "timeouts",
  "invalid",
  "flawed",
  "filled",
];

export function newCounts(): LoadCounts {
  return {
    sent: 0,
    connects: 0,
    announces: 0,
    scrapes: 0,
    offers: 0,
    answers: 0,
    errors: 0,
    timeouts: 0,
    invalid: 0,
    flawed: 0,
    filled: 0,
  };
}

export function addCounts(into: LoadCounts, from: LoadCounts): void {
  for (const k of COUNT_KEYS) into[k] += from[k];
}

/** Messages from a worker to the main thread. */
export type WorkerMessage =
  /** Once a second: what happened since the last report; `latency` is a histogram (workload.ts). */
  | { type: "counts"; counts: LoadCounts; latency: Uint32Array }
  /** Fill mode: every peer of this worker has been answered (or given up on). */
  | { type: "filled"; accepted: number }
  | { type: "stopped" };

/** Messages from the main thread to a worker. */
export type MainMessage = { type: "stop" };
