// The load tester's main thread: starts the workers of one protocol, sums their counts and
// latency histograms each second, and makes a summary. In fill mode it waits until every worker
// has announced its peers.

import { Worker } from "node:worker_threads";
import { parseAddress } from "../config/address.ts";
import type { LoadConfig } from "./config.ts";
import { processCpuSeconds } from "./process-cpu.ts";
import {
  addCounts,
  type LoadCounts,
  type LoadProtocol,
  newCounts,
  type WorkerConfig,
  type WorkerMessage,
} from "./shared.ts";
import { HISTOGRAM_BUCKETS, histogramMax, histogramQuantile, peerRange } from "./workload.ts";

export interface RunOptions {
  protocol: LoadProtocol;
  config: LoadConfig;
  /** When set, the target's CPU time over the measured seconds is reported too. */
  targetPid?: number;
  onSecond?: (report: SecondReport) => void;
}

/** One second, summed over the workers. */
export interface SecondReport {
  second: number;
  /** A warm-up second: shown, not counted in the summary. */
  warmup: boolean;
  counts: LoadCounts;
  p50Ms: number;
  p99Ms: number;
}

/** Rates per measured second. */
export interface Rates {
  connects: number;
  announces: number;
  scrapes: number;
  offers: number;
  answers: number;
  errors: number;
  timeouts: number;
  invalid: number;
}

export interface FillSummary {
  peers: number;
  torrents: number;
  /** Peers whose "started" announce got a valid answer. */
  accepted: number;
  /** Every worker finished before load.fill_timeout. */
  complete: boolean;
  seconds: number;
  peersPerSecond: number;
}

export interface LoadSummary {
  protocol: LoadProtocol;
  mode: "load" | "fill";
  target: string;
  workers: number;
  /** Seconds measured (after the warm-up; a fill's whole duration, rounded up). */
  seconds: number;
  totals: LoadCounts;
  perSecond: Rates;
  announcesPerSecond: number;
  /**
   * Valid answers per second: connects, announces and scrapes, and for WebSocket the offers and
   * answers relayed to our sockets. Errors (error answers, failed connections) are apart.
   */
  answersPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** CPU seconds the target used while measured, and answers per CPU-second (NaN without a pid). */
  targetCpuSeconds: number;
  answersPerCpuSecond: number;
  fill?: FillSummary;
}

/** The configuration each worker gets. */
export function workerConfigs(c: LoadConfig): WorkerConfig[] {
  const t = parseAddress(c.load.target);
  const out: WorkerConfig[] = [];
  for (let i = 0; i < c.load.workers; i++) {
    const range = peerRange(c.workload.peers, c.load.workers, i);
    out.push({
      workerIndex: i,
      workers: c.load.workers,
      host: t.host,
      port: t.port,
      family: t.family,
      timeoutMs: c.load.timeout_ms,
      fill: c.load.fill,
      torrents: c.workload.torrents,
      popularity: c.workload.popularity,
      peers: c.workload.peers,
      // A worker needs at least one peer of its own outside a fill.
      peerStart: range.start,
      peerEnd: c.load.fill ? range.end : Math.max(range.end, range.start + 1),
      seederRatio: c.workload.seeder_ratio,
      scrapeRatio: c.workload.scrape_ratio,
      stopRatio: c.workload.stop_ratio,
      completeRatio: c.workload.complete_ratio,
      numWant: c.workload.numwant,
      scrapeHashes: c.workload.scrape_hashes,
      inflight: c.udp.inflight,
      connections: c.http.connections,
      keepAlive: c.http.keep_alive,
      pipeline: c.http.keep_alive ? c.http.pipeline : 1,
      sockets: c.ws.sockets,
      offers: c.ws.offers,
      torrentsPerSocket: c.ws.torrents_per_socket,
      socketsPerAddress: c.ws.sockets_per_address,
    });
  }
  return out;
}

const STOP_TIMEOUT_MS = 5000;

export async function runLoad(o: RunOptions): Promise<LoadSummary> {
  const c = o.config;
  const fill = c.load.fill;
  const warmup = fill ? 0 : c.load.warmup;
  const wanted = warmup + c.load.seconds;
  const workers: Worker[] = [];
  const second = newCounts();
  let secondLatency = new Uint32Array(HISTOGRAM_BUCKETS);
  const totals = newCounts();
  const latency = new Float64Array(HISTOGRAM_BUCKETS);
  const reports = new Map<number, number>(); // worker -> reports received
  let elapsed = 0;
  let finished = false;
  const pid = o.targetPid;
  let cpuAtStart = pid === undefined ? Number.NaN : processCpuSeconds(pid);
  let cpuAtEnd = Number.NaN;
  const started = performance.now();
  let fillEnded = 0;
  let filledWorkers = 0;
  let accepted = 0;

  let settle: (v: "done" | Error) => void = () => {};
  const done = new Promise<"done" | Error>((resolve) => {
    settle = resolve;
  });

  const configs = workerConfigs(c);
  for (const cfg of configs) {
    const w = new Worker(new URL(`./${o.protocol}-worker.ts`, import.meta.url), { workerData: cfg });
    reports.set(cfg.workerIndex, 0);
    w.on("error", (err) => settle(err));
    w.on("exit", (code) => {
      if (!finished) settle(new Error(`load worker ${cfg.workerIndex} exited (code ${code}) before the end`));
    });
    w.on("message", (m: WorkerMessage) => {
      // A fill counts everything up to the workers' last report; a load its whole seconds only.
      if (finished) {
        if (fill && m.type === "counts") {
          addCounts(totals, m.counts);
          for (let i = 0; i < HISTOGRAM_BUCKETS; i++) latency[i] += m.latency[i];
        }
        return;
      }
      if (m.type === "filled") {
        accepted += m.accepted;
        if (++filledWorkers === configs.length) {
          fillEnded = performance.now();
          settle("done");
        }
        return;
      }
      if (m.type !== "counts") return;
      const n = reports.get(cfg.workerIndex)! + 1;
      reports.set(cfg.workerIndex, n);
      // Counts belong to the second the worker says they do, whatever order workers report in.
      addCounts(second, m.counts);
      for (let i = 0; i < HISTOGRAM_BUCKETS; i++) secondLatency[i] += m.latency[i];
      if (n > warmup) {
        addCounts(totals, m.counts);
        for (let i = 0; i < HISTOGRAM_BUCKETS; i++) latency[i] += m.latency[i];
      }
      let complete = Infinity;
      for (const r of reports.values()) complete = Math.min(complete, r);
      if (complete > elapsed) {
        elapsed = complete;
        if (pid !== undefined) {
          if (elapsed === warmup && warmup > 0) cpuAtStart = processCpuSeconds(pid);
          if (elapsed === wanted && !fill) cpuAtEnd = processCpuSeconds(pid);
        }
        o.onSecond?.({
          second: elapsed,
          warmup: elapsed <= warmup,
          counts: { ...second },
          p50Ms: histogramQuantile(secondLatency, 0.5),
          p99Ms: histogramQuantile(secondLatency, 0.99),
        });
        Object.assign(second, newCounts());
        secondLatency = new Uint32Array(HISTOGRAM_BUCKETS);
        if (!fill && elapsed >= wanted) settle("done");
      }
    });
    workers.push(w);
  }

  // Bounds: a fill by load.fill_timeout, a load by its seconds (plus slack for slow starts).
  const limitMs = fill ? c.load.fill_timeout * 1000 : wanted * 1000 + 10_000;
  const limit = setTimeout(() => settle("done"), limitMs);
  const outcome = await done;
  clearTimeout(limit);
  finished = true;
  if (pid !== undefined && Number.isNaN(cpuAtEnd)) cpuAtEnd = processCpuSeconds(pid);
  await stopWorkers(workers);
  if (outcome instanceof Error) throw outcome;

  const fillSeconds = ((fillEnded || performance.now()) - started) / 1000;
  const measured = fill ? Math.max(fillSeconds, 0.001) : Math.max(1, Math.min(elapsed, wanted) - warmup);
  const answers = totals.connects + totals.announces + totals.scrapes + totals.offers + totals.answers;
  const cpu = cpuAtEnd - cpuAtStart;
  const rate = (n: number) => n / measured;
  return {
    protocol: o.protocol,
    mode: fill ? "fill" : "load",
    target: c.load.target,
    workers: c.load.workers,
    seconds: fill ? Math.round(fillSeconds * 1000) / 1000 : measured,
    totals,
    perSecond: {
      connects: rate(totals.connects),
      announces: rate(totals.announces),
      scrapes: rate(totals.scrapes),
      offers: rate(totals.offers),
      answers: rate(totals.answers),
      errors: rate(totals.errors),
      timeouts: rate(totals.timeouts),
      invalid: rate(totals.invalid),
    },
    announcesPerSecond: rate(totals.announces),
    answersPerSecond: rate(answers),
    p50Ms: histogramQuantile(latency, 0.5),
    p90Ms: histogramQuantile(latency, 0.9),
    p99Ms: histogramQuantile(latency, 0.99),
    p999Ms: histogramQuantile(latency, 0.999),
    maxMs: histogramMax(latency),
    targetCpuSeconds: cpu,
    answersPerCpuSecond: answers / cpu,
    fill: fill
      ? {
          peers: c.workload.peers,
          torrents: Math.min(c.workload.torrents, c.workload.peers),
          accepted,
          complete: filledWorkers === configs.length,
          seconds: Math.round(fillSeconds * 1000) / 1000,
          peersPerSecond: accepted / fillSeconds,
        }
      : undefined,
  };
}

/** Asks every worker to stop (close its sockets), then terminates whatever did not. */
async function stopWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
          w.on("message", (m: WorkerMessage) => {
            if (m.type === "stopped") {
              clearTimeout(timer);
              resolve();
            }
          });
          w.on("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          w.postMessage({ type: "stop" });
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
}
