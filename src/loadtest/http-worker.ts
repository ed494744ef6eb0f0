// One HTTP load worker: `connections` raw TCP connections (no node:http, which would cost more
// than the tracker), requests written by hand, responses parsed by hand (status line,
// Content-Length, Connection) and their bencoded bodies checked. With keep-alive a connection
// carries up to `pipeline` requests at a time (1 = no pipelining); without, every request opens
// its own connection and sends "Connection: close".
//
// Peers are distinct endpoints: the tracker keys an HTTP peer by the connection's source address
// and the announced port, so each connection is bound to one source address (127.0.0.1,
// 127.0.0.2, ...) and announces only peers that live there.

import net from "node:net";
import { workerData } from "node:worker_threads";
import { Event } from "../protocol/udp/constants.ts";
import { scanTrackerBody, TrackerBody } from "./bencode-scan.ts";
import type { WorkerConfig } from "./shared.ts";
import { Reporter } from "./worker-report.ts";
import {
  fillSeeder,
  type PeerAnnounce,
  PORTS_PER_ADDRESS,
  peerAddressIndex,
  peerPort,
  sourceAddress,
  workerPeers,
} from "./workload.ts";

const cfg = workerData as WorkerConfig;
const family = cfg.family;
const PEER_LEN = family === 6 ? 18 : 6;
const RECONNECT_DELAY_MS = 100;
/** A fill gives up on a peer after this many failed attempts. */
const FILL_ATTEMPTS = 5;

const KIND_ANNOUNCE = 1;
const KIND_SCRAPE = 2;

/** A source address and the peers of this worker that live there. */
interface Source {
  address: string;
  bytes: Uint8Array;
  from: number;
  to: number;
  /** Fill: next peer to announce, and peers to announce again (a connection failed under them). */
  next: number;
  retry: number[];
}

const { popularity, peers } = workerPeers(cfg);
const sources: Source[] = [];
{
  const first = peerAddressIndex(family, cfg.peerStart);
  const last = peerAddressIndex(family, Math.max(cfg.peerStart, cfg.peerEnd - 1));
  for (let a = first; a <= last; a++) {
    const address = sourceAddress(family, a);
    const from = family === 6 ? cfg.peerStart : Math.max(cfg.peerStart, a * PORTS_PER_ADDRESS);
    const to = family === 6 ? cfg.peerEnd : Math.min(cfg.peerEnd, (a + 1) * PORTS_PER_ADDRESS);
    sources.push({ address, bytes: addressBytes(address), from, to, next: from, retry: [] });
  }
}

const hostHeader = family === 6 ? `[${cfg.host}]:${cfg.port}` : `${cfg.host}:${cfg.port}`;
const HEX = Array.from({ length: 256 }, (_, i) => `%${i.toString(16).toUpperCase().padStart(2, "0")}`);
// Info hashes as workload.ts writes them: "ZL", fourteen zero bytes, the torrent index.
const HASH_PREFIX = `%5A%4C${"%00".repeat(14)}`;
function hashParam(t: number): string {
  return HASH_PREFIX + HEX[(t >>> 24) & 255] + HEX[(t >>> 16) & 255] + HEX[(t >>> 8) & 255] + HEX[t & 255];
}
function peerIdParam(g: number): string {
  return `-SL0001-${String(g).padStart(12, "0")}`;
}
const EVENT_PARAM = ["", "&event=completed", "&event=started", "&event=stopped"];
const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");

const body = new TrackerBody();
const decided: PeerAnnounce = { torrent: 0, event: 0, left: 0 };
let stopping = false;
let accepted = 0;
let fillDone = false;

class Conn {
  readonly index: number;
  source: number;
  socket: net.Socket | null = null;
  connected = false;
  /** The server said "Connection: close": what was sent after that answer will not be answered. */
  closing = false;
  failed = false;
  /** Answers received on the current connection. */
  served = 0;
  // Requests in flight, oldest first (a ring of `pipeline` entries).
  readonly kind: Int8Array;
  readonly sent: Float64Array;
  readonly peer: Int32Array;
  readonly event: Int8Array;
  head = 0;
  count = 0;
  buf: Buffer | null = null;
  reconnectTimer: NodeJS.Timeout | null = null;

  constructor(index: number, source: number) {
    this.index = index;
    this.source = source;
    const n = cfg.pipeline;
    this.kind = new Int8Array(n);
    this.sent = new Float64Array(n);
    this.peer = new Int32Array(n);
    this.event = new Int8Array(n);
  }
}

const conns: Conn[] = [];

const report = new Reporter(checkTimeouts, () => {
  stopping = true;
  for (const c of conns) {
    if (c.reconnectTimer !== null) clearTimeout(c.reconnectTimer);
    c.socket?.destroy();
  }
});
const counts = () => report.counts;

function open(c: Conn): void {
  if (stopping) return;
  // Without keep-alive the request is decided first: its clock includes the connection set-up.
  if (!cfg.keepAlive && c.count === 0 && !take(c)) return;
  c.connected = false;
  c.closing = false;
  c.failed = false;
  c.served = 0;
  c.buf = null;
  const socket = net.connect({
    host: cfg.host,
    port: cfg.port,
    localAddress: sources[c.source].address,
    noDelay: true,
  });
  c.socket = socket;
  socket.on("connect", () => {
    c.connected = true;
    if (cfg.keepAlive) pump(c);
    else write(c, c.head);
  });
  socket.on("data", (chunk: Buffer) => onData(c, socket, chunk));
  socket.on("error", () => {
    c.failed = true;
  });
  socket.on("close", () => onClose(c, socket));
}

/** Keep-alive: sends requests until the pipeline is full or there is no work. */
function pump(c: Conn): void {
  if (stopping || !cfg.keepAlive) return;
  if (c.socket === null) {
    if (hasWork(c)) open(c);
    return;
  }
  if (!c.connected || c.closing) return;
  const socket = c.socket;
  if (cfg.pipeline > 1) socket.cork();
  while (c.count < cfg.pipeline && take(c)) write(c, (c.head + c.count - 1) % cfg.pipeline);
  if (cfg.pipeline > 1) socket.uncork();
  if (cfg.fill && c.count === 0) {
    // This address is done: move to another that still has peers, on a new connection.
    const s = sources[c.source];
    if (s.next >= s.to && s.retry.length === 0 && moveToWork(c)) {
      c.closing = true;
      socket.destroy();
    }
  }
}

function hasWork(c: Conn): boolean {
  if (!cfg.fill) return true;
  const s = sources[c.source];
  return s.next < s.to || s.retry.length > 0 || moveToWork(c);
}

/** Fill: when this connection's address has no peers left, moves it to one that has. */
function moveToWork(c: Conn): boolean {
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i];
    if (s.next < s.to || s.retry.length > 0) {
      c.source = i;
      return true;
    }
  }
  return false;
}

/** Queues the next request of this connection (not yet written); false when there is none. */
function take(c: Conn): boolean {
  const slot = (c.head + c.count) % cfg.pipeline;
  if (cfg.fill) {
    const s = sources[c.source];
    let g: number;
    if (s.retry.length > 0) g = s.retry.pop()!;
    else if (s.next < s.to) g = s.next++;
    else {
      checkFillDone();
      return false;
    }
    c.kind[slot] = KIND_ANNOUNCE;
    c.peer[slot] = g;
    c.event[slot] = Event.Started;
  } else if (Math.random() < cfg.scrapeRatio) {
    c.kind[slot] = KIND_SCRAPE;
    c.peer[slot] = -1;
  } else {
    const s = sources[c.source];
    const g = peers.pickIdle(s.from, s.to);
    if (g < 0) {
      c.kind[slot] = KIND_SCRAPE;
      c.peer[slot] = -1;
    } else {
      c.kind[slot] = KIND_ANNOUNCE;
      c.peer[slot] = g;
    }
  }
  c.sent[slot] = performance.now();
  c.count++;
  return true;
}

function write(c: Conn, slot: number): void {
  const close = cfg.keepAlive ? "" : "Connection: close\r\n";
  let text: string;
  if (c.kind[slot] === KIND_SCRAPE) {
    text = "GET /scrape?";
    for (let i = 0; i < cfg.scrapeHashes; i++) {
      text += `${i === 0 ? "" : "&"}info_hash=${hashParam(popularity.pick())}`;
    }
  } else {
    const g = c.peer[slot];
    let torrent: number;
    let left: number;
    if (cfg.fill) {
      torrent = g % cfg.torrents;
      left = fillSeeder(g, cfg.seederRatio) ? 0 : 1_000_000;
    } else {
      peers.next(g, decided);
      torrent = decided.torrent;
      left = decided.left;
      c.event[slot] = decided.event;
    }
    text =
      `GET /announce?info_hash=${hashParam(torrent)}&peer_id=${peerIdParam(g)}&port=${peerPort(g)}` +
      `&uploaded=0&downloaded=${left === 0 ? 1_000_000 : 0}&left=${left}${EVENT_PARAM[c.event[slot]]}` +
      `&compact=1&numwant=${cfg.numWant}&key=${g.toString(16)}`;
  }
  text += ` HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: shoal-load-test\r\n${close}\r\n`;
  c.socket!.write(text, "latin1");
  counts().sent++;
}

function onData(c: Conn, socket: net.Socket, chunk: Buffer): void {
  if (c.socket !== socket) return;
  let buf = c.buf === null ? chunk : Buffer.concat([c.buf, chunk]);
  let pos = 0;
  while (pos < buf.length) {
    const used = parseResponse(c, buf, pos);
    if (used === 0) break; // incomplete
    if (used < 0) {
      // The stream cannot be trusted any more.
      counts().invalid++;
      c.buf = null;
      socket.destroy();
      return;
    }
    pos += used;
  }
  if (pos < buf.length) {
    buf = buf.subarray(pos);
    if (buf.length > 1 << 20) {
      counts().invalid++;
      socket.destroy();
      return;
    }
    c.buf = buf;
  } else c.buf = null;
  if (c.count < cfg.pipeline) pump(c);
}

/** Parses one response at `pos`: bytes used, 0 when incomplete, -1 when malformed. */
function parseResponse(c: Conn, buf: Buffer, pos: number): number {
  const headEnd = buf.indexOf(CRLFCRLF, pos);
  if (headEnd < 0) return buf.length - pos > 16_384 ? -1 : 0;
  if (c.count === 0) return -1; // an answer nobody asked for
  const head = buf.toString("latin1", pos, headEnd).toLowerCase();
  if (!head.startsWith("http/1.1 ") && !head.startsWith("http/1.0 ")) return -1;
  const status = Number(head.slice(9, 12));
  const cl = head.indexOf("\r\ncontent-length:");
  if (cl < 0) return -1;
  const length = Number.parseInt(head.slice(cl + 17, head.indexOf("\r\n", cl + 2) >>> 0), 10);
  if (!(length >= 0)) return -1;
  const start = headEnd + 4;
  if (buf.length < start + length) return 0;
  // HTTP/1.0 closes unless it says keep-alive (opentracker answers 1.0 and closes).
  const close = head.startsWith("http/1.0 ")
    ? !/\r\nconnection: *keep-alive/.test(head)
    : /\r\nconnection: *close/.test(head);

  const slot = c.head;
  const kind = c.kind[slot];
  const g = c.peer[slot];
  c.served++;
  report.latencyMs(performance.now() - c.sent[slot]);
  c.head = (c.head + 1) % cfg.pipeline;
  c.count--;
  const k = counts();
  let ok = false;
  if (status !== 200) {
    k.errors++;
  } else if (!scanTrackerBody(buf, start, start + length, body)) {
    k.invalid++;
  } else if (body.failure) {
    k.errors++;
  } else if (kind === KIND_SCRAPE) {
    if (body.files >= 1 && body.files <= cfg.scrapeHashes) k.scrapes++;
    else k.invalid++;
  } else {
    const problem = announceProblem(c, g, buf);
    if (problem !== ANSWER_MALFORMED) k.announces++;
    if (problem === ANSWER_WRONG) k.flawed++;
    else if (problem === ANSWER_MALFORMED) k.invalid++;
    // A well-formed answer means the tracker took the peer, even if its contents are wrong.
    ok = problem !== ANSWER_MALFORMED;
  }
  if (g >= 0) {
    if (cfg.fill) {
      if (ok) {
        accepted++;
        k.filled++;
      } else retryFill(c.source, g);
    } else peers.release(g);
  }
  if (close) c.closing = true;
  return start + length - pos;
}

const ANSWER_OK = 0;
/** No interval, or no compact peers of our family: a fill tries that peer again. */
const ANSWER_MALFORMED = 1;
/** Too many peers, or the peer itself among them. */
const ANSWER_WRONG = 2;

/** An interval, compact peers of our family, no more than asked for, never the peer itself. */
function announceProblem(c: Conn, g: number, buf: Buffer): number {
  if (body.interval <= 0) return ANSWER_MALFORMED;
  const start = family === 6 ? body.peers6Start : body.peersStart;
  const length = family === 6 ? body.peers6Length : body.peersLength;
  if (length < 0) {
    // An IPv6 answer with no IPv6 peers may leave out peers6 and send an empty peers.
    return family === 6 && body.peersLength === 0 ? ANSWER_OK : ANSWER_MALFORMED;
  }
  if (length % PEER_LEN !== 0) return ANSWER_MALFORMED;
  if (length / PEER_LEN > cfg.numWant) return ANSWER_WRONG;
  return containsEndpoint(buf, start, length, sources[c.source].bytes, peerPort(g))
    ? ANSWER_WRONG
    : ANSWER_OK;
}

function containsEndpoint(
  buf: Buffer,
  start: number,
  length: number,
  addr: Uint8Array,
  port: number,
): boolean {
  const alen = addr.length;
  for (let off = start; off < start + length; off += PEER_LEN) {
    if (buf[off + alen] !== port >>> 8 || buf[off + alen + 1] !== (port & 255)) continue;
    let same = true;
    for (let i = 0; i < alen; i++) {
      if (buf[off + i] !== addr[i]) {
        same = false;
        break;
      }
    }
    if (same) return true;
  }
  return false;
}

/** Fill: failed attempts of peers that failed at least once. */
const attempts = new Map<number, number>();

/** Fill: announces peer `g` again later, unless it has failed too often. */
function retryFill(source: number, g: number): void {
  const n = (attempts.get(g) ?? 0) + 1;
  if (n >= FILL_ATTEMPTS) {
    attempts.delete(g);
    return;
  }
  attempts.set(g, n);
  sources[source].retry.push(g);
}

function onClose(c: Conn, socket: net.Socket): void {
  if (c.socket !== socket) return;
  const wasConnected = c.connected;
  c.socket = null;
  c.connected = false;
  c.buf = null;
  if (stopping) return;
  // Requests still waiting: after a "Connection: close" answer (or a timeout, already counted)
  // they were never going to be answered, so they are simply sent again. Otherwise the
  // connection failed under them, or failed to open at all.
  const lost = c.count;
  // A server that closes a reused connection without saying so (no keep-alive, as opentracker)
  // loses what was sent after its last answer: like browsers, send it again on a new one.
  if (!c.closing && c.served > 0 && !c.failed) c.closing = true;
  const expected = c.closing;
  let errors = 0;
  if (!c.closing) {
    errors = lost;
    if (errors === 0 && (c.failed || !wasConnected)) errors = 1;
  }
  counts().errors += errors;
  for (let i = 0; i < lost; i++) {
    const slot = (c.head + i) % cfg.pipeline;
    const g = c.peer[slot];
    if (g < 0) continue;
    if (!cfg.fill) peers.release(g);
    else if (expected) sources[c.source].retry.push(g);
    else retryFill(c.source, g);
  }
  c.head = 0;
  c.count = 0;
  c.closing = false;
  if (errors === 0) reconnect(c);
  else {
    // Do not hammer a tracker that refuses connections.
    c.reconnectTimer = setTimeout(() => {
      c.reconnectTimer = null;
      reconnect(c);
    }, RECONNECT_DELAY_MS);
  }
}

function reconnect(c: Conn): void {
  if (stopping) return;
  if (cfg.fill && !hasWork(c)) {
    checkFillDone();
    return;
  }
  // More source addresses than connections: each new connection takes the next one, so that
  // every peer gets its turn.
  if (!cfg.fill && sources.length > conns.length) c.source = (c.source + conns.length) % sources.length;
  open(c);
}

function checkTimeouts(): void {
  if (stopping) return;
  const now = performance.now();
  for (const c of conns) {
    if (c.count > 0 && now - c.sent[c.head] > cfg.timeoutMs && c.socket !== null) {
      counts().timeouts += c.count;
      // Not an error on top of the timeout: onClose sees `closing`.
      c.closing = true;
      c.socket.destroy();
    }
  }
  if (cfg.fill) checkFillDone();
}

function checkFillDone(): void {
  if (fillDone) return;
  for (const s of sources) if (s.next < s.to || s.retry.length > 0) return;
  for (const c of conns) if (c.count > 0) return;
  fillDone = true;
  report.filled(accepted);
}

function addressBytes(address: string): Uint8Array {
  if (family === 4) return Uint8Array.from(address.split(".").map(Number));
  const out = new Uint8Array(16);
  out[15] = 1;
  return out;
}

for (let i = 0; i < cfg.connections; i++) {
  const c = new Conn(i, i % sources.length);
  conns.push(c);
  open(c);
}
