// A small promise-based BEP 15 client over node:dgram, for integration tests against a running
// shoal. Answers are matched to requests by transaction id (bytes 12..16 of every request, bytes
// 4..8 of every answer), so several requests can be in flight on one socket.

import { randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { isIPv4, isIPv6 } from "node:net";
import {
  type AnnounceResponse,
  parseAnnounceResponse,
  parseConnectResponse,
  parseErrorResponse,
  parseScrapeResponse,
  responseAction,
  type ScrapeEntry,
  writeAnnounceRequest,
  writeConnectRequest,
  writeScrapeRequest,
} from "../../src/protocol/udp/client.ts";
import { Action, Event } from "../../src/protocol/udp/constants.ts";

export { Event };

export interface Endpoint {
  host: string;
  port: number;
}

/** Something that runs cleanup at the end of a test or suite (node:test's TestContext has it). */
export interface AfterHook {
  after(fn: () => unknown): void;
}

/** Time to wait for an answer that must come; loopback answers in well under a second. */
export const ANSWER_TIMEOUT_MS = 10_000;
/** Time to listen for an answer that must not come (bans, dropped packets). */
export const SILENCE_MS = 1_500;

/** The tracker answered with an error (action 3) where another answer was expected. */
export class TrackerErrorAnswer extends Error {
  readonly transactionId: number;
  constructor(message: string, transactionId: number) {
    super(message);
    this.name = "TrackerErrorAnswer";
    this.transactionId = transactionId;
  }
}

/** No answer came in time. */
export class NoAnswerError extends Error {
  override readonly name = "NoAnswerError";
}

export interface AnnounceOptions {
  /** 20 bytes. */
  infoHash: Uint8Array;
  /** Announced port; defaults to this client's own local port. */
  port?: number;
  /** 20 bytes; defaults to this client's peer id. */
  peerId?: Uint8Array;
  /** Bytes left; 0 makes a seeder. Defaults to 1000 (a leecher). */
  left?: number;
  downloaded?: number;
  uploaded?: number;
  /** Event value; defaults to Event.None. */
  event?: number;
  /** IPv4 as a uint32; 0 (the default) means "use the source address". */
  ip?: number;
  key?: number;
  /** Signed; defaults to -1 (the tracker's default). */
  numWant?: number;
  /** Overrides the connection id from `connect()`. */
  connId?: ConnectionId;
}

export interface ConnectionId {
  hi: number;
  lo: number;
}

export function randomHash(): Uint8Array {
  return new Uint8Array(randomBytes(20));
}

export function hashHex(hash: Uint8Array): string {
  return Buffer.from(hash).toString("hex");
}

/** The loopback address of a family. */
export function loopback(family: 4 | 6): string {
  return family === 6 ? "::1" : "127.0.0.1";
}

/** An IP address (v4 dotted quad, or v6 text with optional "::") as 4 or 16 bytes. */
export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map((p) => Number.parseInt(p, 10)));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  let text = ip;
  const out = Buffer.alloc(16);
  // A trailing dotted IPv4 part (::ffff:1.2.3.4) becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const b = ipBytes(dotted[1]);
    text = `${text.slice(0, dotted.index)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  headGroups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), 2 * i);
  });
  tailGroups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), 16 - 2 * (tailGroups.length - i));
  });
  return out;
}

/** The compact form of a peer: address bytes then the port, big-endian (BEP 15, BEP 7). */
export function compactPeer(ip: string, port: number): Buffer {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port, 0);
  return Buffer.concat([ipBytes(ip), p]);
}

/**
 * The peers section of a raw announce answer, cut into compact peers of `family`'s size, as
 * sorted hex strings. Throws when the section is not a whole number of peers.
 */
export function compactPeersOf(answer: Uint8Array, family: 4 | 6): string[] {
  const size = family === 6 ? 18 : 6;
  const rest = answer.length - 20;
  if (rest < 0 || rest % size !== 0) {
    throw new Error(`announce answer of ${answer.length} bytes is not 20 + n * ${size}`);
  }
  const out: string[] = [];
  for (let o = 20; o < answer.length; o += size)
    out.push(Buffer.from(answer.subarray(o, o + size)).toString("hex"));
  return out.sort();
}

/** Expected compact peers (ip, port) as sorted hex strings, to compare with `compactPeersOf`. */
export function compactPeersHex(peers: readonly Endpoint[]): string[] {
  return peers.map((p) => compactPeer(p.host, p.port).toString("hex")).sort();
}

interface Pending {
  resolve(answer: Buffer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

let nextTid = randomBytes(4).readUInt32BE(0);

/** A fresh transaction id, unique within this test process. */
export function newTransactionId(): number {
  nextTid = (nextTid + 1) >>> 0;
  return nextTid;
}

export class UdpTrackerClient {
  readonly server: Endpoint;
  readonly family: 4 | 6;
  /** Where this client's socket is bound: the source address the tracker sees. */
  readonly local: Endpoint;
  readonly peerId: Uint8Array = new Uint8Array(randomBytes(20));
  /** Set by `connect()`. */
  connectionId: ConnectionId | null = null;
  /** Every datagram received, matched or not, in arrival order. */
  readonly received: Buffer[] = [];
  private readonly socket: dgram.Socket;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(server: Endpoint, family: 4 | 6, socket: dgram.Socket) {
    this.server = server;
    this.family = family;
    this.socket = socket;
    const a = socket.address();
    this.local = { host: a.address, port: a.port };
    socket.on("message", (msg) => this.onMessage(msg));
  }

  /**
   * Opens a client socket for `server`, bound to `bind` (default: the loopback address of the
   * server's family) on a free port. With `owner`, the socket is closed when it finishes.
   */
  static async open(server: Endpoint, options: { bind?: string; owner?: AfterHook } = {}) {
    const family: 4 | 6 = server.host.includes(":") ? 6 : 4;
    const socket = dgram.createSocket({ type: family === 6 ? "udp6" : "udp4" });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: options.bind ?? loopback(family), port: 0 }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    const client = new UdpTrackerClient(server, family, socket);
    // A late ICMP "port unreachable" after the server stopped must not crash the test process.
    socket.on("error", () => {});
    options.owner?.after(() => client.close());
    return client;
  }

  private onMessage(msg: Buffer): void {
    this.received.push(msg);
    if (msg.length < 8) return;
    const tid = msg.readUInt32BE(4);
    const p = this.pending.get(tid);
    if (p === undefined) return;
    this.pending.delete(tid);
    clearTimeout(p.timer);
    p.resolve(msg);
  }

  /** Sends a datagram and expects nothing in particular. */
  send(buf: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(buf, this.server.port, this.server.host, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Sends `buf` (at least 16 bytes: every request carries its transaction id at 12..16) and
   * resolves with the answer bearing that transaction id; rejects after `timeoutMs`.
   */
  async request(buf: Uint8Array, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Buffer> {
    if (buf.length < 16) throw new Error(`a request of ${buf.length} bytes carries no transaction id`);
    const tid = Buffer.from(buf.buffer, buf.byteOffset, buf.length).readUInt32BE(12);
    if (this.pending.has(tid)) throw new Error(`transaction id ${tid} is already in flight`);
    const answer = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(tid);
        reject(
          new NoAnswerError(
            `no answer from ${this.server.host}:${this.server.port} to a ${buf.length}-byte request ` +
              `(transaction id ${tid}) within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(tid, { resolve, reject, timer });
    });
    try {
      await this.send(buf);
    } catch (err) {
      const p = this.pending.get(tid);
      if (p !== undefined) {
        clearTimeout(p.timer);
        this.pending.delete(tid);
      }
      throw err;
    }
    return answer;
  }

  /**
   * Sends `buf` and resolves with its answer, or null when none comes within `ms` milliseconds:
   * for packets that may be answered with an error or dropped. A packet of 16 bytes or more is
   * matched by its transaction id (bytes 12..16); for a shorter one, the first datagram to arrive
   * counts.
   */
  async requestOrSilence(buf: Uint8Array, ms = SILENCE_MS): Promise<Buffer | null> {
    if (buf.length >= 16) {
      try {
        return await this.request(buf, ms);
      } catch (err) {
        if (err instanceof NoAnswerError) return null;
        throw err;
      }
    }
    return this.anythingWithin(ms, () => this.send(buf));
  }

  /** Runs `action`, then resolves with the first datagram to arrive within `ms`, or null. */
  private async anythingWithin(ms: number, action: () => Promise<void>): Promise<Buffer | null> {
    const before = this.received.length;
    await action();
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && this.received.length === before) {
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.received.length > before ? this.received[before] : null;
  }

  /** Sends `buf` and rejects if anything at all arrives on this socket within `ms`. */
  async expectNoAnswer(buf: Uint8Array, ms = SILENCE_MS): Promise<void> {
    const answer = await this.anythingWithin(ms, () => this.send(buf));
    if (answer !== null) {
      throw new Error(
        `expected no answer, got ${answer.length} bytes (action ${responseAction(answer)}): ${answer.toString("hex")}`,
      );
    }
  }

  connectRequest(tid = newTransactionId()): Buffer {
    const buf = Buffer.alloc(16);
    writeConnectRequest(buf, 0, tid);
    return buf;
  }

  /** Connects and keeps the connection id for later announces and scrapes. */
  async connect(): Promise<ConnectionId> {
    const tid = newTransactionId();
    const answer = await this.request(this.connectRequest(tid));
    throwIfError(answer);
    const r = parseConnectResponse(answer);
    if (r === null) throw new Error(`not a connect answer: ${answer.toString("hex")}`);
    if (r.transactionId !== tid)
      throw new Error(`connect answer for transaction ${r.transactionId}, sent ${tid}`);
    this.connectionId = { hi: r.connIdHi, lo: r.connIdLo };
    return this.connectionId;
  }

  private async id(override: ConnectionId | undefined): Promise<ConnectionId> {
    if (override !== undefined) return override;
    return this.connectionId ?? (await this.connect());
  }

  /** A 98-byte announce request (connecting first when there is no connection id yet). */
  async announceRequest(o: AnnounceOptions, tid = newTransactionId()): Promise<Buffer> {
    const id = await this.id(o.connId);
    const buf = Buffer.alloc(98);
    writeAnnounceRequest(buf, 0, {
      connIdHi: id.hi,
      connIdLo: id.lo,
      tid,
      infoHash: o.infoHash,
      peerId: o.peerId ?? this.peerId,
      downloaded: o.downloaded ?? 0,
      left: o.left ?? 1000,
      uploaded: o.uploaded ?? 0,
      event: o.event ?? Event.None,
      ip: o.ip ?? 0,
      key: o.key ?? 0,
      numWant: o.numWant ?? -1,
      port: o.port ?? this.local.port,
    });
    return buf;
  }

  /** The raw answer to an announce, whatever its action. */
  async announceRaw(o: AnnounceOptions): Promise<Buffer> {
    return this.request(await this.announceRequest(o));
  }

  /** Announces; rejects with TrackerErrorAnswer when the tracker answers with an error. */
  async announce(o: AnnounceOptions): Promise<AnnounceResponse & { raw: Buffer }> {
    const answer = await this.announceRaw(o);
    throwIfError(answer);
    const r = parseAnnounceResponse(answer, this.family);
    if (r === null) throw new Error(`not an IPv${this.family} announce answer: ${answer.toString("hex")}`);
    return { ...r, raw: answer };
  }

  /** Announces and returns the error message; rejects when the answer is not an error. */
  async announceError(o: AnnounceOptions): Promise<string> {
    return errorMessageOf(await this.announceRaw(o));
  }

  async scrapeRequest(
    hashes: Uint8Array[],
    connId?: ConnectionId,
    tid = newTransactionId(),
  ): Promise<Buffer> {
    const id = await this.id(connId);
    const buf = Buffer.alloc(16 + 20 * hashes.length);
    writeScrapeRequest(buf, 0, id.hi, id.lo, tid, hashes);
    return buf;
  }

  /** Scrapes; rejects with TrackerErrorAnswer when the tracker answers with an error. */
  async scrape(hashes: Uint8Array[], connId?: ConnectionId): Promise<ScrapeEntry[]> {
    const answer = await this.request(await this.scrapeRequest(hashes, connId));
    throwIfError(answer);
    const r = parseScrapeResponse(answer);
    if (r === null) throw new Error(`not a scrape answer: ${answer.toString("hex")}`);
    return r.entries;
  }

  /** Scrapes one info hash. */
  async scrapeOne(hash: Uint8Array): Promise<ScrapeEntry> {
    const [entry] = await this.scrape([hash]);
    return entry;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error("client closed"));
    }
    this.pending.clear();
    this.socket.close();
  }
}

function throwIfError(answer: Buffer): void {
  if (responseAction(answer) !== Action.Error) return;
  const e = parseErrorResponse(answer);
  if (e !== null) throw new TrackerErrorAnswer(e.message, e.transactionId);
}

/** The message of an error answer; throws when `answer` is not one. */
export function errorMessageOf(answer: Uint8Array): string {
  const e = parseErrorResponse(answer);
  if (e === null) {
    throw new Error(
      `expected an error answer (action 3), got action ${responseAction(answer)}: ${Buffer.from(answer).toString("hex")}`,
    );
  }
  return e.message;
}

/** Opens several clients for `server` at once, all closed when `owner` finishes. */
export async function openClients(
  owner: AfterHook,
  server: Endpoint,
  count: number,
  bind?: string,
): Promise<UdpTrackerClient[]> {
  const clients: UdpTrackerClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await UdpTrackerClient.open(server, { bind, owner }));
  return clients;
}
