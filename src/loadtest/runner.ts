// The load tester's main thread: starts the workers of one protocol, sums their counts each
// second and makes a summary with latency percentiles.

import { Worker } from "node:worker_threads";
import { processCpuSeconds } from "./process-cpu.ts";
import {
  addCounts,
  type LoadCounts,
  type LoadProtocol,
  newCounts,
  type WorkerConfig,
  type WorkerMessage,
} from "./shared.ts";

export interface LoadOptions {
  protocol: LoadProtocol;
  host: string;
  port: number;
  family: 4 | 6;
  workers: number;
  inflight: number;
  seconds: number;
  torrents: number;
  popularityExponent: number;
  peersPerWorker: number;
  seederRatio: number;
  scrapeRatio: number;
  numWant: number;
  keepAlive: boolean;
  offers: number;
  /** Seconds at the start not counted in the summary (connection set-up, JIT warm-up). */
  warmup: number;
  /** When set, the target's CPU time over the measured seconds is reported too. */
  targetPid?: number;
  onSecond?: (second: number, counts: LoadCounts) => void;
}

export interface LoadSummary {
  seconds: number;
  totals: LoadCounts;
  announcesPerSecond: number;
  answersPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU seconds the target used while measured, and answers per CPU-second (NaN without a pid). */
  targetCpuSeconds: number;
  answersPerCpuSecond: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

export async function runLoad(o: LoadOptions): Promise<LoadSummary> {
  const workers: Worker[] = [];
  const second = newCounts();
  const totals = newCounts();
  const latencies: number[] = [];
  let reportsThisSecond = 0;
  let elapsed = 0;
  let finished = false;
  let failure: Error | null = null; // the workers' last partial second is not counted
  const pid = o.targetPid;
  let cpuAtStart = pid === undefined ? Number.NaN : processCpuSeconds(pid);
  let cpuAtEnd = Number.NaN;
  for (let i = 0; i < o.workers; i++) {
    const cfg: WorkerConfig = {
      workerIndex: i,
      host: o.host,
      port: o.port,
      family: o.family,
      bindAddress: "127.0.0.1",
      inflight: o.inflight,
      torrents: o.torrents,
      popularityExponent: o.popularityExponent,
      peersPerWorker: o.peersPerWorker,
      seederRatio: o.seederRatio,
      scrapeRatio: o.scrapeRatio,
      numWant: o.numWant,
      keepAlive: o.keepAlive,
      offers: o.offers,
      fill: false,
    };
    const w = new Worker(new URL(`./${o.protocol}-worker.ts`, import.meta.url), { workerData: cfg });
    w.on("error", (err) => {
      failure ??= err;
    });
    w.on("message", (m: WorkerMessage) => {
      if (m.type !== "counts" || finished) return;
      addCounts(second, m.counts);
      if (elapsed >= o.warmup) {
        addCounts(totals, m.counts);
        if (latencies.length < 1_000_000) for (const l of m.latencies) latencies.push(l);
      }
      if (++reportsThisSecond === o.workers) {
        reportsThisSecond = 0;
        elapsed++;
        if (pid !== undefined) {
          if (elapsed === o.warmup) cpuAtStart = processCpuSeconds(pid);
          if (elapsed === o.warmup + o.seconds) cpuAtEnd = processCpuSeconds(pid);
        }
        o.onSecond?.(elapsed, { ...second });
        Object.assign(second, newCounts());
      }
    });
    workers.push(w);
  }
  await new Promise((resolve) => setTimeout(resolve, (o.seconds + o.warmup) * 1000 + 200));
  finished = true;
  if (pid !== undefined && Number.isNaN(cpuAtEnd)) cpuAtEnd = processCpuSeconds(pid);
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.on("message", (m: { type: string }) => {
            if (m.type === "stopped") resolve();
          });
          w.postMessage({ type: "stop" });
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
  if (failure !== null) throw failure;
  latencies.sort((a, b) => a - b);
  const measured = Math.max(1, elapsed - o.warmup);
  const answers = totals.announces + totals.scrapes + totals.connects + totals.errors;
  const cpu = cpuAtEnd - cpuAtStart;
  return {
    seconds: measured,
    totals,
    announcesPerSecond: totals.announces / measured,
    answersPerSecond: answers / measured,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    targetCpuSeconds: cpu,
    answersPerCpuSecond: answers / cpu,
  };
}
