// One UDP load worker: `inflight` request slots kept busy against the target, each answer
// checked (transaction id, action, length, contents) and timed. Peers are distinct endpoints:
// the worker binds one socket per source address its peers live on (127.0.0.1, 127.0.0.2, ...)
// and each peer announces its own port; every socket has its own connection id.

import dgram from "node:dgram";
import { workerData } from "node:worker_threads";
import {
  type AnnounceRequestFields,
  writeAnnounceRequest,
  writeConnectRequest,
  writeScrapeRequest,
} from "../protocol/udp/client.ts";
import { Action, Event } from "../protocol/udp/constants.ts";
import type { WorkerConfig } from "./shared.ts";
import { Reporter } from "./worker-report.ts";
import {
  fillSeeder,
  type PeerAnnounce,
  peerAddressIndex,
  peerPort,
  sourceAddress,
  workerPeers,
  writeInfoHash,
  writePeerId,
} from "./workload.ts";

const cfg = workerData as WorkerConfig;
const family = cfg.family;
const PEER_LEN = family === 6 ? 18 : 6;
/** Clients reuse a connection id for a minute (BEP 15); the tracker accepts it for two. */
const CONNECTION_ID_MS = 60_000;
/** A fill gives up on a peer after this many error answers or bad answers in a row. */
const FILL_ATTEMPTS = 5;

const IDLE = -1;
/** Waiting for its source's connect answer before it sends. */
const WAITING = -2;
const WORK_NONE = 0;
const WORK_ANNOUNCE = 1;
const WORK_SCRAPE = 2;

interface Source {
  socket: dgram.Socket;
  /** Source address as bytes (4 or 16), to spot our own endpoint in a peer list. */
  addr: Uint8Array;
  connHi: number;
  connLo: number;
  connected: boolean;
  connectedAt: number;
  /** The slot whose connect is in flight for this source, or -1. */
  connecting: number;
  /** Slots waiting for that connect. */
  waiting: number[];
}

const { popularity, peers } = workerPeers(cfg);
const firstAddress = peerAddressIndex(family, cfg.peerStart);
const lastAddress = peerAddressIndex(family, Math.max(cfg.peerStart, cfg.peerEnd - 1));
const sources: Source[] = [];

const SLOTS = cfg.inflight;
const SLOT_BITS = Math.max(1, Math.ceil(Math.log2(SLOTS)));
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const SEQ_MASK = 2 ** (32 - SLOT_BITS) - 1;
const slotTid = new Uint32Array(SLOTS);
const slotSent = new Float64Array(SLOTS);
/** Action of the packet in flight, or IDLE. */
const slotKind = new Int8Array(SLOTS).fill(IDLE);
/** What the slot is doing (an announce may wait for a connect first). */
const slotWork = new Int8Array(SLOTS);
const slotSource = new Int32Array(SLOTS);
const slotPeer = new Int32Array(SLOTS).fill(-1);
const slotTorrent = new Int32Array(SLOTS);
const slotEvent = new Int8Array(SLOTS);
const slotSeeder = new Uint8Array(SLOTS);
const slotAttempts = new Uint8Array(SLOTS);
// Each slot writes into its own buffer: dgram may still read it after send() returns.
const slotBuf = Array.from({ length: SLOTS }, () => Buffer.alloc(16 + 20 * 74));
let seq = 1;
let stopping = false;

// Fill: the next peer to announce, and peers accepted so far.
let fillNext = cfg.peerStart;
let accepted = 0;
let fillDone = false;

const decided: PeerAnnounce = { torrent: 0, event: 0, left: 0 };
const infoHash = new Uint8Array(20);
const peerId = new Uint8Array(20);
const scrapeHashes = Array.from({ length: cfg.scrapeHashes }, () => new Uint8Array(20));
const fields: AnnounceRequestFields = {
  connIdHi: 0,
  connIdLo: 0,
  tid: 0,
  infoHash,
  peerId,
  downloaded: 0,
  left: 0,
  uploaded: 0,
  event: 0,
  ip: 0,
  key: 0,
  numWant: cfg.numWant,
  port: 0,
};

const report = new Reporter(checkTimeouts, () => {
  stopping = true;
  for (const s of sources) s.socket.close();
});
const counts = () => report.counts;

/** Gives an idle slot its next piece of work; false when there is none (fill finished). */
function assign(slot: number): boolean {
  slotAttempts[slot] = 0;
  if (cfg.fill) {
    if (fillNext >= cfg.peerEnd) return false;
    const g = fillNext++;
    slotWork[slot] = WORK_ANNOUNCE;
    slotPeer[slot] = g;
    slotTorrent[slot] = g % cfg.torrents;
    slotEvent[slot] = Event.Started;
    slotSeeder[slot] = fillSeeder(g, cfg.seederRatio) ? 1 : 0;
    slotSource[slot] = peerAddressIndex(family, g) - firstAddress;
    return true;
  }
  if (Math.random() < cfg.scrapeRatio) {
    slotWork[slot] = WORK_SCRAPE;
    slotPeer[slot] = -1;
    slotSource[slot] = Math.floor(Math.random() * sources.length);
    return true;
  }
  const g = peers.pickIdle();
  if (g < 0) {
    // Every peer tried is waiting for an answer (more slots than peers): scrape instead.
    slotWork[slot] = WORK_SCRAPE;
    slotPeer[slot] = -1;
    slotSource[slot] = Math.floor(Math.random() * sources.length);
    return true;
  }
  peers.next(g, decided);
  slotWork[slot] = WORK_ANNOUNCE;
  slotPeer[slot] = g;
  slotTorrent[slot] = decided.torrent;
  slotEvent[slot] = decided.event;
  slotSeeder[slot] = decided.left === 0 ? 1 : 0;
  slotSource[slot] = peerAddressIndex(family, g) - firstAddress;
  return true;
}

/** Ends the slot's work; in load mode the peer may be picked again. */
function finish(slot: number): void {
  const g = slotPeer[slot];
  if (g >= 0 && !cfg.fill) peers.release(g);
  slotPeer[slot] = -1;
  slotWork[slot] = WORK_NONE;
}

/** Sends the slot's next packet: its work, or the connect that work needs first. */
function send(slot: number): void {
  if (stopping) return;
  if (slotWork[slot] === WORK_NONE && !assign(slot)) {
    slotKind[slot] = IDLE;
    if (cfg.fill) checkFillDone();
    return;
  }
  const src = sources[slotSource[slot]];
  const now = performance.now();
  // One connect per source at a time. Without a connection id, slots wait for it; an id that is
  // due for renewal is still used while the new one comes (the tracker accepts it longer).
  const renew = src.connected && now - src.connectedAt > CONNECTION_ID_MS && src.connecting < 0;
  if (!src.connected && src.connecting >= 0 && src.connecting !== slot) {
    slotKind[slot] = WAITING;
    src.waiting.push(slot);
    return;
  }
  const tid = (((seq++ & SEQ_MASK) << SLOT_BITS) | slot) >>> 0;
  slotTid[slot] = tid;
  slotSent[slot] = now;
  const out = slotBuf[slot];
  let n: number;
  if (!src.connected || renew) {
    src.connecting = slot;
    slotKind[slot] = Action.Connect;
    n = writeConnectRequest(out, 0, tid | 0);
  } else {
    // A renewal that timed out: the old id still works, and a later send renews.
    if (src.connecting === slot) src.connecting = -1;
    n = slotWork[slot] === WORK_SCRAPE ? writeScrape(slot, src, tid) : writeAnnounce(slot, src, tid);
  }
  src.socket.send(out, 0, n);
  counts().sent++;
}

function writeScrape(slot: number, src: Source, tid: number): number {
  slotKind[slot] = Action.Scrape;
  for (const h of scrapeHashes) writeInfoHash(h, 0, popularity.pick());
  return writeScrapeRequest(slotBuf[slot], 0, src.connHi, src.connLo, tid | 0, scrapeHashes);
}

function writeAnnounce(slot: number, src: Source, tid: number): number {
  slotKind[slot] = Action.Announce;
  const g = slotPeer[slot];
  writeInfoHash(infoHash, 0, slotTorrent[slot]);
  writePeerId(peerId, 0, g);
  fields.connIdHi = src.connHi;
  fields.connIdLo = src.connLo;
  fields.tid = tid | 0;
  fields.left = slotSeeder[slot] === 1 ? 0 : 1_000_000;
  fields.downloaded = slotSeeder[slot] === 1 ? 1_000_000 : 0;
  fields.event = slotEvent[slot];
  fields.key = g;
  fields.port = peerPort(g);
  return writeAnnounceRequest(slotBuf[slot], 0, fields);
}

function onMessage(source: number, msg: Buffer): void {
  const c = counts();
  if (msg.length < 8) {
    c.invalid++;
    return;
  }
  const action = msg.readUInt32BE(0);
  const tid = msg.readUInt32BE(4);
  const slot = tid & SLOT_MASK;
  if (slot >= SLOTS || slotTid[slot] !== tid || slotKind[slot] < 0 || slotSource[slot] !== source) {
    c.invalid++; // a late answer to a timed-out request, or garbage
    return;
  }
  report.latencyMs(performance.now() - slotSent[slot]);
  const kind = slotKind[slot];
  slotKind[slot] = IDLE;
  const src = sources[source];
  if (action === Action.Error) {
    c.errors++;
    src.connected = false; // a stale connection id is the likely cause
    if (kind === Action.Connect) {
      // keep the work: reconnect
    } else if (!cfg.fill || ++slotAttempts[slot] >= FILL_ATTEMPTS) finish(slot);
  } else if (action !== kind) {
    c.invalid++;
    if (kind !== Action.Connect) finish(slot);
  } else if (kind === Action.Connect) {
    if (msg.length === 16) {
      src.connHi = msg.readUInt32BE(8);
      src.connLo = msg.readUInt32BE(12);
      src.connected = true;
      src.connectedAt = performance.now();
      c.connects++;
    } else c.invalid++;
  } else if (kind === Action.Announce) {
    const problem = announceProblem(msg, src, slot);
    if (problem !== ANSWER_MALFORMED) c.announces++;
    if (problem === ANSWER_WRONG) c.flawed++;
    else if (problem === ANSWER_MALFORMED) c.invalid++;
    if (problem !== ANSWER_MALFORMED) {
      // A well-formed answer means the tracker took the peer, even if what it sent back is
      // wrong (counted as invalid above).
      if (cfg.fill) {
        accepted++;
        c.filled++;
      }
      finish(slot);
    } else if (!cfg.fill || ++slotAttempts[slot] >= FILL_ATTEMPTS) finish(slot);
  } else {
    if (msg.length === 8 + 12 * cfg.scrapeHashes && validScrape(msg)) c.scrapes++;
    else c.invalid++;
    finish(slot);
  }
  if (kind === Action.Connect && src.connecting === slot) {
    // This slot keeps its work, so it sends the next connect itself if this one failed.
    src.connecting = -1;
    if (src.connected) {
      const waiting = src.waiting;
      src.waiting = [];
      for (const w of waiting) send(w);
    }
  }
  send(slot);
}

const ANSWER_OK = 0;
/** Not an announce answer: a fill tries that peer again. */
const ANSWER_MALFORMED = 1;
/** An announce answer with wrong contents: too many peers, no peers counted, ourselves listed. */
const ANSWER_WRONG = 2;

/** Header, whole peer entries, no more than asked for, and never the announcing peer itself. */
function announceProblem(msg: Buffer, src: Source, slot: number): number {
  const body = msg.length - 20;
  if (body < 0 || body % PEER_LEN !== 0) return ANSWER_MALFORMED;
  const interval = msg.readUInt32BE(8);
  if (interval === 0) return ANSWER_MALFORMED;
  if (body / PEER_LEN > cfg.numWant) return ANSWER_WRONG;
  const leechers = msg.readUInt32BE(12);
  const seeders = msg.readUInt32BE(16);
  // The announcing peer itself is in the swarm unless it just stopped.
  if (slotEvent[slot] !== Event.Stopped && leechers + seeders === 0) return ANSWER_WRONG;
  const port = peerPort(slotPeer[slot]);
  const a = src.addr;
  const alen = a.length;
  for (let off = 20; off < msg.length; off += PEER_LEN) {
    if (msg[off + alen] !== port >>> 8 || msg[off + alen + 1] !== (port & 255)) continue;
    let same = true;
    for (let i = 0; i < alen; i++) {
      if (msg[off + i] !== a[i]) {
        same = false;
        break;
      }
    }
    if (same) return ANSWER_WRONG;
  }
  return ANSWER_OK;
}

/** Figures must be plausible: completed and counts are non-negative 32-bit values by shape. */
function validScrape(msg: Buffer): boolean {
  for (let off = 8; off < msg.length; off += 12) {
    // seeders, completed, leechers: a torrent nobody announced reads 0 0 0; anything else is fine,
    // but a count at or above 2^31 is a sign of a sign error somewhere.
    if (msg[off] >= 0x80 || msg[off + 4] >= 0x80 || msg[off + 8] >= 0x80) return false;
  }
  return true;
}

function checkTimeouts(): void {
  if (stopping) return;
  const now = performance.now();
  const c = counts();
  for (let i = 0; i < SLOTS; i++) {
    if (slotKind[i] < 0 || now - slotSent[i] <= cfg.timeoutMs) continue;
    c.timeouts++;
    const kind = slotKind[i];
    slotKind[i] = IDLE;
    // A connect is sent again by the same slot (still its source's `connecting`); a fill
    // retries the same peer; the load moves on.
    if (kind !== Action.Connect && !cfg.fill) finish(i);
    send(i);
  }
  if (cfg.fill) checkFillDone();
}

function checkFillDone(): void {
  if (fillDone || fillNext < cfg.peerEnd) return;
  for (let i = 0; i < SLOTS; i++) if (slotWork[i] !== WORK_NONE) return;
  fillDone = true;
  report.filled(accepted);
}

async function open(): Promise<void> {
  for (let a = firstAddress; a <= lastAddress; a++) {
    const socket = dgram.createSocket({ type: family === 6 ? "udp6" : "udp4" });
    const address = sourceAddress(family, a);
    const index = sources.length;
    const src: Source = {
      socket,
      addr: addressBytes(address),
      connHi: 0,
      connLo: 0,
      connected: false,
      connectedAt: 0,
      connecting: -1,
      waiting: [],
    };
    sources.push(src);
    socket.on("message", (msg) => onMessage(index, msg));
    socket.on("error", () => {
      counts().errors++;
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, address, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    // Large buffers keep a burst of answers from being dropped before we read them.
    try {
      socket.setRecvBufferSize(4 << 20);
      socket.setSendBufferSize(4 << 20);
    } catch {}
    // A connected socket skips dgram's per-send address lookup and only hears from the target.
    await new Promise<void>((resolve) => socket.connect(cfg.port, cfg.host, () => resolve()));
  }
}

function addressBytes(address: string): Uint8Array {
  if (family === 4) return Uint8Array.from(address.split(".").map(Number));
  const out = new Uint8Array(16);
  out[15] = 1; // ::1
  return out;
}

await open();
for (let i = 0; i < SLOTS; i++) send(i);
