// Shapes shared by the UDP load tester's main thread and its workers.

export interface UdpWorkerConfig {
  workerIndex: number;
  host: string;
  port: number;
  family: 4 | 6;
  bindAddress: string;
  inflight: number;
  torrents: number;
  popularityExponent: number;
  peersPerWorker: number;
  seederRatio: number;
  scrapeRatio: number;
  numWant: number;
}

export interface LoadCounts {
  sent: number;
  connects: number;
  announces: number;
  scrapes: number;
  errors: number;
  timeouts: number;
  invalid: number;
}

export function newCounts(): LoadCounts {
  return { sent: 0, connects: 0, announces: 0, scrapes: 0, errors: 0, timeouts: 0, invalid: 0 };
}

export function addCounts(into: LoadCounts, from: LoadCounts): void {
  into.sent += from.sent;
  into.connects += from.connects;
  into.announces += from.announces;
  into.scrapes += from.scrapes;
  into.errors += from.errors;
  into.timeouts += from.timeouts;
  into.invalid += from.invalid;
}
