// Shapes shared by the load tester's main thread and its workers (one worker script per
// protocol: udp-worker.ts, http-worker.ts, ws-worker.ts).

export type LoadProtocol = "udp" | "http" | "ws";

/** What every worker gets; each protocol uses the parts that apply to it. */
export interface WorkerConfig {
  workerIndex: number;
  host: string;
  port: number;
  family: 4 | 6;
  /** Local address to send from (IPv4 runs may spread over 127.0.0.x). */
  bindAddress: string;
  /** UDP: requests in flight per worker. HTTP and WebSocket: connections per worker. */
  inflight: number;
  torrents: number;
  popularityExponent: number;
  peersPerWorker: number;
  seederRatio: number;
  scrapeRatio: number;
  numWant: number;
  /** HTTP: reuse connections (keep-alive) or open one per request. */
  keepAlive: boolean;
  /** WebSocket: offers per announce. */
  offers: number;
  /** Fill mode: announce each of `peersPerWorker` peers once (started) and stop. */
  fill: boolean;
}

/** Answers counted by kind. `invalid` are answers that failed the checks (shape, ids). */
export interface LoadCounts {
  sent: number;
  connects: number;
  announces: number;
  scrapes: number;
  /** WebSocket: offers relayed to our sockets, and answers relayed back. */
  offers: number;
  answers: number;
  errors: number;
  timeouts: number;
  invalid: number;
}

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
  };
}

export function addCounts(into: LoadCounts, from: LoadCounts): void {
  into.sent += from.sent;
  into.connects += from.connects;
  into.announces += from.announces;
  into.scrapes += from.scrapes;
  into.offers += from.offers;
  into.answers += from.answers;
  into.errors += from.errors;
  into.timeouts += from.timeouts;
  into.invalid += from.invalid;
}

/** Messages from a worker to the main thread. */
export type WorkerMessage =
  | { type: "counts"; counts: LoadCounts; latencies: number[] }
  | { type: "filled" }
  | { type: "stopped" };
