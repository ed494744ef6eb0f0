// One WebTorrent load worker: `sockets` WebSocket connections, each a browser-like client with
// its own peer id taking part in a few torrents at a time. A socket keeps one announce (with
// offers carrying fake SDP) or scrape in flight, answers every offer the tracker relays to it,
// and checks what comes back: announce replies, scrape replies, relayed offers and relayed
// answers to its own offers (offer ids it issued).

import { workerData } from "node:worker_threads";
import WebSocket from "ws";
import { Event } from "../protocol/udp/constants.ts";
import type { WorkerConfig } from "./shared.ts";
import { Reporter } from "./worker-report.ts";
import { Popularity, sourceAddress } from "./workload.ts";

const cfg = workerData as WorkerConfig;
const RECONNECT_DELAY_MS = 100;
const NONE = 0;
const ANNOUNCE = 1;
const SCRAPE = 2;

// Made-up session descriptions of a realistic size; the tracker relays them without reading.
const FAKE_SDP = (type: string) =>
  [
    "v=0",
    `o=- 46117314004300${type === "offer" ? "51" : "52"}336 2 IN IP4 127.0.0.1`,
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0",
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 0.0.0.0",
    "a=ice-ufrag:sHoL",
    "a=ice-pwd:shoalloadtestnotarealpassword00",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 5A:4C:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD",
    `a=setup:${type === "offer" ? "actpass" : "active"}`,
    "a=mid:0",
    "a=sctp-port:5000",
    "a=max-message-size:262144",
    "",
  ].join("\r\n");
const OFFER_JSON = JSON.stringify({ type: "offer", sdp: FAKE_SDP("offer") });
const ANSWER_JSON = JSON.stringify({ type: "answer", sdp: FAKE_SDP("answer") });
const EVENT_JSON = ["", ',"event":"completed"', ',"event":"started"', ',"event":"stopped"'];

/** Torrent `t`'s info hash as a binary string (the bytes the UDP and HTTP generators use). */
function hashString(t: number): string {
  return String.fromCharCode(
    0x5a,
    0x4c,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    (t >>> 24) & 255,
    (t >>> 16) & 255,
    (t >>> 8) & 255,
    t & 255,
  );
}

function isBinary20(v: unknown): v is string {
  if (typeof v !== "string" || v.length !== 20) return false;
  for (let i = 0; i < 20; i++) if (v.charCodeAt(i) > 0xff) return false;
  return true;
}

class Sock {
  readonly global: number;
  readonly peerId: string;
  readonly peerIdJson: string;
  /** Offer ids are this prefix (8 characters) and a base-36 sequence number (12). */
  readonly offerPrefix: string;
  offerSeq = 0;
  ws: WebSocket | null = null;
  open = false;
  readonly torrent: Int32Array;
  readonly hash: string[];
  readonly seeder: Uint8Array;
  pending = NONE;
  pendingHash = "";
  pendingSlot = -1;
  pendingEvent = 0;
  pendingSent = 0;
  timer: NodeJS.Timeout | null = null;

  constructor(global: number) {
    this.global = global;
    this.peerId = `-SLW001-${String(global).padStart(12, "0")}`;
    this.peerIdJson = JSON.stringify(this.peerId);
    this.offerPrefix = global.toString(36).padStart(8, "0");
    this.torrent = new Int32Array(cfg.torrentsPerSocket).fill(-1);
    this.hash = new Array<string>(cfg.torrentsPerSocket).fill("");
    this.seeder = new Uint8Array(cfg.torrentsPerSocket);
  }

  /** The slot holding this info hash, or -1. */
  slotOf(infoHash: string): number {
    for (let i = 0; i < this.hash.length; i++)
      if (this.torrent[i] >= 0 && this.hash[i] === infoHash) return i;
    return -1;
  }
}

const popularity = new Popularity(cfg.torrents, cfg.popularity);
const socks: Sock[] = [];
let stopping = false;

const report = new Reporter(checkTimeouts, () => {
  stopping = true;
  for (const s of socks) {
    if (s.timer !== null) clearTimeout(s.timer);
    s.ws?.terminate();
  }
});
const counts = () => report.counts;

const hostPart = cfg.family === 6 ? `[${cfg.host}]:${cfg.port}` : `${cfg.host}:${cfg.port}`;

function connect(s: Sock): void {
  if (stopping) return;
  s.torrent.fill(-1);
  s.pending = NONE;
  const options: WebSocket.ClientOptions = { perMessageDeflate: false, maxPayload: 1 << 20 };
  // Spread sockets over 127.0.0.x so that no address holds more than sockets_per_address.
  if (cfg.family === 4) options.localAddress = sourceAddress(4, Math.floor(s.global / cfg.socketsPerAddress));
  const ws = new WebSocket(`ws://${hostPart}/`, options);
  s.ws = ws;
  ws.on("open", () => {
    s.open = true;
    next(s);
  });
  ws.on("message", (data, isBinary) => onMessage(s, data, isBinary));
  ws.on("error", () => {});
  ws.on("close", () => {
    if (s.ws !== ws) return;
    s.open = false;
    s.ws = null;
    if (stopping) return;
    counts().errors++; // the tracker closed it, or it never opened
    if (s.pending !== NONE) s.pending = NONE;
    s.timer = setTimeout(() => {
      s.timer = null;
      connect(s);
    }, RECONNECT_DELAY_MS);
  });
}

/** Sends this socket's next request: a scrape, or an announce by one of its torrent slots. */
function next(s: Sock): void {
  if (stopping || !s.open || s.ws === null) return;
  const now = performance.now();
  if (Math.random() < cfg.scrapeRatio) {
    let text = '{"action":"scrape","info_hash":[';
    for (let i = 0; i < cfg.scrapeHashes; i++) {
      text += `${i === 0 ? "" : ","}${JSON.stringify(hashString(popularity.pick()))}`;
    }
    s.pending = SCRAPE;
    s.pendingSent = now;
    send(s, `${text}]}`);
    return;
  }
  let slot = Math.floor(Math.random() * cfg.torrentsPerSocket);
  let event: number = Event.None;
  if (s.torrent[slot] < 0) {
    // Start on a torrent this socket is not already in.
    let t = popularity.pick();
    for (let tries = 0; tries < 8 && s.slotOf(hashString(t)) >= 0; tries++) t = popularity.pick();
    for (let tries = 0; tries < 8 && s.slotOf(hashString(t)) >= 0; tries++) {
      t = Math.floor(Math.random() * cfg.torrents);
    }
    if (s.slotOf(hashString(t)) < 0) {
      s.torrent[slot] = t;
      s.hash[slot] = hashString(t);
      s.seeder[slot] = Math.random() < cfg.seederRatio ? 1 : 0;
      event = Event.Started;
    } else {
      // Hardly any torrents and this socket is in all of them: re-announce one.
      slot = s.torrent.findIndex((x) => x >= 0);
    }
  }
  if (event !== Event.Started) {
    const r = Math.random();
    if (r < cfg.stopRatio) event = Event.Stopped;
    else if (s.seeder[slot] === 0 && r < cfg.stopRatio + cfg.completeRatio) {
      event = Event.Completed;
      s.seeder[slot] = 1;
    }
  }
  const left = s.seeder[slot] === 1 ? 0 : 1_000_000;
  const infoHash = s.hash[slot];
  const offers = event === Event.Stopped ? 0 : cfg.offers;
  let text =
    `{"action":"announce","info_hash":${JSON.stringify(infoHash)},"peer_id":${s.peerIdJson}` +
    `,"numwant":${offers},"uploaded":0,"downloaded":${left === 0 ? 1_000_000 : 0},"left":${left}` +
    EVENT_JSON[event];
  if (offers > 0) {
    text += ',"offers":[';
    for (let i = 0; i < offers; i++) {
      const id = s.offerPrefix + (s.offerSeq++).toString(36).padStart(12, "0");
      text += `${i === 0 ? "" : ","}{"offer":${OFFER_JSON},"offer_id":"${id}"}`;
    }
    text += "]";
  }
  s.pending = ANNOUNCE;
  s.pendingHash = infoHash;
  s.pendingSlot = slot;
  s.pendingEvent = event;
  s.pendingSent = now;
  if (event === Event.Stopped) s.torrent[slot] = -1;
  send(s, `${text}}`);
}

function send(s: Sock, text: string): void {
  s.ws!.send(text);
  counts().sent++;
}

function onMessage(s: Sock, data: WebSocket.RawData, isBinary: boolean): void {
  const c = counts();
  let m: Record<string, unknown>;
  try {
    if (isBinary) throw new Error("binary");
    const v: unknown = JSON.parse(data.toString());
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    m = v as Record<string, unknown>;
  } catch {
    c.invalid++;
    return;
  }
  if (m["failure reason"] !== undefined) {
    c.errors++;
    if (s.pending !== NONE && (m.info_hash === undefined || m.info_hash === s.pendingHash)) done(s);
    return;
  }
  if (m.offer !== undefined) {
    onOffer(s, m);
    return;
  }
  if (m.answer !== undefined) {
    onAnswer(s, m);
    return;
  }
  if (m.action === "announce") {
    if (
      s.pending === ANNOUNCE &&
      m.info_hash === s.pendingHash &&
      typeof m.interval === "number" &&
      m.interval > 0 &&
      typeof m.complete === "number" &&
      typeof m.incomplete === "number" &&
      (s.pendingEvent === Event.Stopped || m.complete + m.incomplete >= 1)
    ) {
      c.announces++;
    } else c.invalid++;
    if (s.pending === ANNOUNCE) done(s);
    return;
  }
  if (m.action === "scrape") {
    const files = m.files;
    const n = typeof files === "object" && files !== null ? Object.keys(files).length : -1;
    if (s.pending === SCRAPE && n >= 1 && n <= cfg.scrapeHashes) c.scrapes++;
    else c.invalid++;
    if (s.pending === SCRAPE) done(s);
    return;
  }
  c.invalid++;
}

/** The request in flight got its reply: time it and send the next. */
function done(s: Sock): void {
  report.latencyMs(performance.now() - s.pendingSent);
  s.pending = NONE;
  next(s);
}

/** An offer relayed from another peer: check it and answer it (if still in that torrent). */
function onOffer(s: Sock, m: Record<string, unknown>): void {
  const c = counts();
  const offer = m.offer as Record<string, unknown> | null;
  if (
    typeof offer !== "object" ||
    offer === null ||
    offer.type !== "offer" ||
    typeof offer.sdp !== "string" ||
    !isBinary20(m.offer_id) ||
    !isBinary20(m.peer_id) ||
    !isBinary20(m.info_hash) ||
    m.peer_id === s.peerId
  ) {
    c.invalid++;
    return;
  }
  c.offers++;
  // An offer for a torrent this socket just stopped may cross the stop; it is not answered.
  if (s.slotOf(m.info_hash) < 0 || s.ws === null || !s.open) return;
  send(
    s,
    `{"action":"announce","info_hash":${JSON.stringify(m.info_hash)},"peer_id":${s.peerIdJson}` +
      `,"to_peer_id":${JSON.stringify(m.peer_id)},"offer_id":${JSON.stringify(m.offer_id)},"answer":${ANSWER_JSON}}`,
  );
}

/** An answer to one of this socket's offers, relayed back. */
function onAnswer(s: Sock, m: Record<string, unknown>): void {
  const c = counts();
  const answer = m.answer as Record<string, unknown> | null;
  const id = m.offer_id;
  if (
    typeof answer !== "object" ||
    answer === null ||
    answer.type !== "answer" ||
    typeof answer.sdp !== "string" ||
    !isBinary20(m.peer_id) ||
    !isBinary20(m.info_hash) ||
    typeof id !== "string" ||
    id.length !== 20 ||
    !id.startsWith(s.offerPrefix) ||
    Number.parseInt(id.slice(8), 36) >= s.offerSeq
  ) {
    c.invalid++;
    return;
  }
  c.answers++;
}

function checkTimeouts(): void {
  if (stopping) return;
  const now = performance.now();
  for (const s of socks) {
    if (s.pending !== NONE && now - s.pendingSent > cfg.timeoutMs) {
      counts().timeouts++;
      s.pending = NONE;
      next(s);
    }
  }
}

for (let i = 0; i < cfg.sockets; i++) {
  const s = new Sock(cfg.workerIndex * cfg.sockets + i);
  socks.push(s);
  connect(s);
}
