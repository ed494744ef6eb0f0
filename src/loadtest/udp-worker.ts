// One UDP load worker: a socket that keeps `inflight` requests outstanding against the target,
// checks every answer and reports counts to the parent once a second.

import dgram from "node:dgram";
import { parentPort, workerData } from "node:worker_threads";
import { writeAnnounceRequest, writeConnectRequest, writeScrapeRequest } from "../protocol/udp/client.ts";
import { Action, Event } from "../protocol/udp/constants.ts";
import { type LoadCounts, newCounts, type WorkerConfig } from "./shared.ts";

const cfg = workerData as WorkerConfig;
const socket = dgram.createSocket(cfg.family === 6 ? "udp6" : "udp4");

const SLOTS = cfg.inflight;
// Per slot: the transaction id in flight, when it was sent (ms), and what kind it was.
const slotTid = new Int32Array(SLOTS);
const slotSent = new Float64Array(SLOTS);
const slotKind = new Int8Array(SLOTS);
// Each slot writes into its own buffer: a send may still read it after send() returns.
const slotBuf = Array.from({ length: SLOTS }, () => Buffer.alloc(1600));
const TIMEOUT_MS = 2000;
let nextTid = cfg.workerIndex << 24;
let connHi = 0;
let connLo = 0;
let connected = false;
let connectedAt = 0;
let stopping = false;

let counts: LoadCounts = newCounts();
const latencies: number[] = [];

// Info hashes and peer ids are derived from indexes, so workers share torrents but not peers.
const hash = new Uint8Array(20);
const peerId = new Uint8Array(20);
const scrapeHashes = [new Uint8Array(20)];

/** Heavy-tailed torrent popularity: a few torrents get most announces. */
function pickTorrent(): number {
  const u = Math.random();
  return Math.floor(cfg.torrents * u ** cfg.popularityExponent);
}

function fillHash(target: Uint8Array, index: number): void {
  target.fill(0);
  target[0] = 0x5a;
  target[16] = index >>> 24;
  target[17] = index >>> 16;
  target[18] = index >>> 8;
  target[19] = index;
}

function send(slot: number): void {
  if (stopping) return;
  const tid = nextTid++ & 0x7fffffff;
  slotTid[slot] = tid;
  slotSent[slot] = performance.now();
  const out = slotBuf[slot];
  let n: number;
  if (!connected || slotSent[slot] - connectedAt > 60_000) {
    if (connected) connected = false;
    slotKind[slot] = Action.Connect;
    n = writeConnectRequest(out, 0, tid);
  } else if (Math.random() < cfg.scrapeRatio) {
    slotKind[slot] = Action.Scrape;
    fillHash(scrapeHashes[0], pickTorrent());
    n = writeScrapeRequest(out, 0, connHi, connLo, tid, scrapeHashes);
  } else {
    slotKind[slot] = Action.Announce;
    const torrent = pickTorrent();
    fillHash(hash, torrent);
    const peer = Math.floor(Math.random() * cfg.peersPerWorker);
    peerId.fill(0);
    peerId[0] = 0x2d;
    peerId[14] = cfg.workerIndex;
    peerId[15] = peer >>> 16;
    peerId[16] = peer >>> 8;
    peerId[17] = peer;
    const r = Math.random();
    const seeder = r < cfg.seederRatio;
    const event =
      r > 0.98 ? Event.Stopped : r > 0.96 ? Event.Completed : r > 0.9 ? Event.Started : Event.None;
    n = writeAnnounceRequest(out, 0, {
      connIdHi: connHi,
      connIdLo: connLo,
      tid,
      infoHash: hash,
      peerId,
      downloaded: 0,
      left: seeder ? 0 : 1000,
      uploaded: 0,
      event,
      ip: 0,
      key: peer,
      numWant: cfg.numWant,
      port: 1024 + ((cfg.workerIndex * cfg.peersPerWorker + peer) % 64000),
    });
  }
  socket.send(out, 0, n);
  counts.sent++;
}

socket.on("message", (msg) => {
  if (msg.length < 8) {
    counts.invalid++;
    return;
  }
  const action = msg.readUInt32BE(0);
  const tid = msg.readInt32BE(4);
  const slot = findSlot(tid);
  if (slot < 0) {
    counts.invalid++; // late answer to a timed-out request, or garbage
    return;
  }
  if (latencies.length < 100_000) latencies.push(performance.now() - slotSent[slot]);
  const kind = slotKind[slot];
  if (action === Action.Error) {
    counts.errors++;
    connected = false; // a stale id is the likely cause: reconnect
  } else if (action !== kind) {
    counts.invalid++;
  } else if (kind === Action.Connect && msg.length >= 16) {
    connHi = msg.readUInt32BE(8);
    connLo = msg.readUInt32BE(12);
    connected = true;
    connectedAt = performance.now();
    counts.connects++;
  } else if (
    kind === Action.Announce &&
    msg.length >= 20 &&
    (msg.length - 20) % (cfg.family === 6 ? 18 : 6) === 0
  ) {
    counts.announces++;
  } else if (kind === Action.Scrape && msg.length === 20) {
    counts.scrapes++;
  } else {
    counts.invalid++;
  }
  send(slot);
});

function findSlot(tid: number): number {
  for (let i = 0; i < SLOTS; i++) if (slotTid[i] === tid) return i;
  return -1;
}

function checkTimeouts(): void {
  const now = performance.now();
  for (let i = 0; i < SLOTS; i++) {
    if (now - slotSent[i] > TIMEOUT_MS) {
      counts.timeouts++;
      if (slotKind[i] === Action.Connect) connected = false;
      send(i);
    }
  }
}

const report = setInterval(() => {
  checkTimeouts();
  const lat = latencies.splice(0);
  parentPort!.postMessage({ type: "counts", counts, latencies: lat });
  counts = newCounts();
}, 1000);

parentPort!.on("message", (m: { type: string }) => {
  if (m.type !== "stop") return;
  stopping = true;
  clearInterval(report);
  parentPort!.postMessage({ type: "counts", counts, latencies: latencies.splice(0) });
  socket.close();
  parentPort!.postMessage({ type: "stopped" });
});

// A connected socket skips dgram's per-send address lookup and only hears from the target.
socket.bind(0, cfg.family === 6 ? "::1" : cfg.bindAddress, () => {
  socket.connect(cfg.port, cfg.host, () => {
    for (let i = 0; i < SLOTS; i++) send(i);
  });
});
