// The part every load worker shares: counts and a latency histogram, posted to the main thread
// once a second, and the stop message that ends the worker.

import { parentPort } from "node:worker_threads";
import { type LoadCounts, type MainMessage, newCounts, type WorkerMessage } from "./shared.ts";
import { HISTOGRAM_BUCKETS, histogramIndex } from "./workload.ts";

export class Reporter {
  counts: LoadCounts = newCounts();
  private latency = new Uint32Array(HISTOGRAM_BUCKETS);
  private readonly timer: NodeJS.Timeout;
  private readonly tick: NodeJS.Timeout;
  private fillReported = false;

  /**
   * `onTick` runs four times a second (timeouts); `onStop` must close every socket, then the
   * worker posts its last counts and "stopped".
   */
  constructor(onTick: () => void, onStop: () => void) {
    this.tick = setInterval(onTick, 250);
    this.timer = setInterval(() => this.post(), 1000);
    parentPort!.on("message", (m: MainMessage) => {
      if (m.type !== "stop") return;
      clearInterval(this.tick);
      clearInterval(this.timer);
      onStop();
      this.post();
      send({ type: "stopped" });
    });
  }

  /** Records one answer's latency in milliseconds. */
  latencyMs(ms: number): void {
    this.latency[histogramIndex(ms * 1000)]++;
  }

  /** Fill mode: this worker is done; `accepted` peers got a valid answer. Posted once. */
  filled(accepted: number): void {
    if (this.fillReported) return;
    this.fillReported = true;
    send({ type: "filled", accepted });
  }

  private post(): void {
    const latency = this.latency;
    this.latency = new Uint32Array(HISTOGRAM_BUCKETS);
    send({ type: "counts", counts: this.counts, latency });
    this.counts = newCounts();
  }
}

function send(m: WorkerMessage): void {
  parentPort!.postMessage(m);
}
