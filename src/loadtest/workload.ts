// The simulated swarms every generator shares: which torrent a request is about (heavy-tailed
// popularity), which peer sends it and with what event (peers start, re-announce, complete and
// stop), where each peer is (a source address and an announced port, so that peers are distinct
// endpoints to the tracker), and a latency histogram.

import { Event } from "../protocol/udp/constants.ts";
import type { WorkerConfig } from "./shared.ts";

/** Announced ports 1024..65535: each source address holds this many distinct peers. */
export const FIRST_PORT = 1024;
export const PORTS_PER_ADDRESS = 65536 - FIRST_PORT;

/**
 * The source address with index `i` (0 = 127.0.0.1, 1 = 127.0.0.2, ...); IPv6 has only ::1.
 * Linux routes all of 127.0.0.0/8 to the loopback interface, so these bind without set-up.
 */
export function sourceAddress(family: 4 | 6, i: number): string {
  if (family === 6) return "::1";
  const n = i + 1;
  return `127.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The address index of peer `g` (IPv6 peers all share ::1 and differ by port, wrapping). */
export function peerAddressIndex(family: 4 | 6, g: number): number {
  return family === 6 ? 0 : Math.floor(g / PORTS_PER_ADDRESS);
}

export function peerPort(g: number): number {
  return FIRST_PORT + (g % PORTS_PER_ADDRESS);
}

/** This worker's share of the peers: [start, end). */
export function peerRange(peers: number, workers: number, index: number): { start: number; end: number } {
  return {
    start: Math.floor((peers * index) / workers),
    end: Math.floor((peers * (index + 1)) / workers),
  };
}

/** Writes the 20-byte info hash of torrent `t`. Every generator uses the same hashes. */
export function writeInfoHash(out: Uint8Array, at: number, t: number): void {
  out.fill(0, at, at + 20);
  out[at] = 0x5a;
  out[at + 1] = 0x4c; // "ZL": easy to spot in a capture
  out[at + 16] = t >>> 24;
  out[at + 17] = t >>> 16;
  out[at + 18] = t >>> 8;
  out[at + 19] = t;
}

/** Writes the 20-byte peer id of peer `g`: "-SL0001-" and twelve decimal digits. */
export function writePeerId(out: Uint8Array, at: number, g: number): void {
  out[at] = 0x2d;
  out[at + 1] = 0x53;
  out[at + 2] = 0x4c;
  out[at + 3] = 0x30;
  out[at + 4] = 0x30;
  out[at + 5] = 0x30;
  out[at + 6] = 0x31;
  out[at + 7] = 0x2d;
  let v = g;
  for (let i = 19; i >= 8; i--) {
    out[at + i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
}

/**
 * Torrent popularity as a bounded Zipf law: torrent of rank r (0-based) is picked in proportion
 * to (r + 1)^-s, sampled by inverting the continuous distribution (a bounded Pareto), so one
 * draw costs a Math.pow and no table. s = 0 is uniform; s = 1 is the classic Zipf.
 */
export class Popularity {
  private readonly n: number;
  private readonly s: number;
  private readonly a: number;
  private readonly span: number;
  constructor(torrents: number, exponent: number) {
    this.n = torrents;
    this.s = exponent;
    this.a = 1 - exponent;
    // Continuous density x^-s on [1, n + 1).
    this.span = Math.abs(this.a) < 1e-9 ? Math.log(torrents + 1) : (torrents + 1) ** this.a - 1;
  }

  pick(u = Math.random()): number {
    let x: number;
    if (this.s === 0) return Math.floor(u * this.n);
    if (Math.abs(this.a) < 1e-9) x = Math.exp(u * this.span);
    else x = (1 + u * this.span) ** (1 / this.a);
    const r = Math.floor(x) - 1;
    return r < 0 ? 0 : r >= this.n ? this.n - 1 : r;
  }
}

const INACTIVE = 0;
const LEECHER = 1;
const SEEDER = 2;
const BUSY = 4;

/** What one announce of a peer says. */
export interface PeerAnnounce {
  torrent: number;
  event: number;
  /** Bytes left: 0 for a seeder. */
  left: number;
}

/** Fill mode's seeders: a fixed share of peer indexes, spread evenly. */
export function fillSeeder(g: number, seederRatio: number): boolean {
  return (Math.imul(g, 0x9e3779b1) >>> 0) / 0x1_0000_0000 < seederRatio;
}

/**
 * The peers one worker owns and their life: an inactive peer starts (on a torrent picked by
 * popularity, as a seeder or a leecher), a running one re-announces, a leecher completes and
 * becomes a seeder, a running peer stops and becomes inactive. In steady state the share of
 * "started" announces equals that of "stopped" ones (about stop_ratio).
 */
export class Peers {
  readonly start: number;
  readonly count: number;
  private readonly state: Uint8Array;
  private readonly torrent: Int32Array;
  private readonly popularity: Popularity;
  private readonly seederRatio: number;
  private readonly stopRatio: number;
  private readonly completeRatio: number;

  constructor(
    start: number,
    end: number,
    popularity: Popularity,
    seederRatio: number,
    stopRatio: number,
    completeRatio: number,
  ) {
    this.start = start;
    this.count = end - start;
    this.state = new Uint8Array(this.count);
    this.torrent = new Int32Array(this.count);
    this.popularity = popularity;
    this.seederRatio = seederRatio;
    this.stopRatio = stopRatio;
    this.completeRatio = completeRatio;
  }

  /**
   * A peer (global index) not already waiting for an answer, between `from` and `to` (global,
   * within this worker's range), marked busy; -1 when none was found in a few tries.
   */
  pickIdle(from = this.start, to = this.start + this.count): number {
    const n = to - from;
    let i = from - this.start + Math.floor(Math.random() * n);
    for (let tries = 0; tries < 16; tries++) {
      if ((this.state[i] & BUSY) === 0) {
        this.state[i] |= BUSY;
        return this.start + i;
      }
      i++;
      if (i >= to - this.start) i = from - this.start;
    }
    return -1;
  }

  release(g: number): void {
    this.state[g - this.start] &= ~BUSY;
  }

  /** Decides peer `g`'s next announce and moves it to the state that announce puts it in. */
  next(g: number, out: PeerAnnounce): void {
    const i = g - this.start;
    const s = this.state[i] & 3;
    const busy = this.state[i] & BUSY;
    const r = Math.random();
    if (s === INACTIVE) {
      const t = this.popularity.pick();
      this.torrent[i] = t;
      const seeder = Math.random() < this.seederRatio;
      this.state[i] = (seeder ? SEEDER : LEECHER) | busy;
      out.torrent = t;
      out.event = Event.Started;
      out.left = seeder ? 0 : 1_000_000;
      return;
    }
    out.torrent = this.torrent[i];
    out.left = s === SEEDER ? 0 : 1_000_000;
    if (r < this.stopRatio) {
      this.state[i] = INACTIVE | busy;
      out.event = Event.Stopped;
    } else if (s === LEECHER && r < this.stopRatio + this.completeRatio) {
      this.state[i] = SEEDER | busy;
      out.event = Event.Completed;
      out.left = 0;
    } else {
      out.event = Event.None;
    }
  }
}

/**
 * Latencies in microseconds, log-linear buckets (32 per power of two, about 3% wide): cheap to
 * record on the hot path and to merge across workers.
 */
export const HISTOGRAM_BUCKETS = 64 + 26 * 32;

export function histogramIndex(us: number): number {
  const v = us < 0 ? 0 : us >= 0x7fffffff ? 0x7fffffff : Math.floor(us);
  if (v < 64) return v;
  const exp = 31 - Math.clz32(v); // >= 6
  const idx = 64 + (exp - 6) * 32 + ((v >>> (exp - 5)) & 31);
  return idx < HISTOGRAM_BUCKETS ? idx : HISTOGRAM_BUCKETS - 1;
}

/** The middle of bucket `idx`, in microseconds. */
export function histogramValue(idx: number): number {
  if (idx < 64) return idx;
  const exp = Math.floor((idx - 64) / 32) + 6;
  const sub = (idx - 64) % 32;
  const low = (32 + sub) * 2 ** (exp - 5);
  return low + 2 ** (exp - 6);
}

/** The p-quantile (0..1) of a histogram, in milliseconds; 0 when empty. */
export function histogramQuantile(h: ArrayLike<number>, p: number): number {
  let total = 0;
  for (let i = 0; i < h.length; i++) total += h[i];
  if (total === 0) return 0;
  const rank = Math.min(total, Math.max(1, Math.ceil(total * p)));
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i];
    if (seen >= rank) return histogramValue(i) / 1000;
  }
  return histogramValue(h.length - 1) / 1000;
}

/** Highest recorded value in milliseconds (a bucket's middle); 0 when empty. */
export function histogramMax(h: ArrayLike<number>): number {
  for (let i = h.length - 1; i >= 0; i--) if (h[i] > 0) return histogramValue(i) / 1000;
  return 0;
}

/** A worker's torrent popularity and its own peers, as its configuration describes them. */
export function workerPeers(cfg: WorkerConfig): { popularity: Popularity; peers: Peers } {
  const popularity = new Popularity(cfg.torrents, cfg.popularity);
  const peers = new Peers(
    cfg.peerStart,
    cfg.peerEnd,
    popularity,
    cfg.seederRatio,
    cfg.stopRatio,
    cfg.completeRatio,
  );
  return { popularity, peers };
}
