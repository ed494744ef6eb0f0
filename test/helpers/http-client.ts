// HTTP tracker clients for the integration tests: query builders (every byte percent-encoded as
// a client would, or not), requests through node:http / node:https, bencoded answers decoded
// with the project's strict bdecode, and a raw socket client (node:net / node:tls) that writes
// exactly the bytes it is given and reads responses one by one, for pipelining, trickled heads,
// oversized heads and watching when the tracker closes a connection.

import { randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { type BencodeValue, bdecode } from "../../src/protocol/bencode.ts";
import type { HttpEndpoint } from "./http-process.ts";
import type { AfterHook } from "./udp-client.ts";

/** Time to wait for an answer that must come; loopback answers in well under a second. */
export const ANSWER_TIMEOUT_MS = 10_000;

export function randomHash(): Buffer {
  return randomBytes(20);
}

/** A 20-byte peer id "-SH0001-" followed by 12 random bytes. */
export function randomPeerId(): Buffer {
  return Buffer.concat([Buffer.from("-SH0001-", "latin1"), randomBytes(12)]);
}

/** The loopback address of a family. */
export function loopback(family: 4 | 6): string {
  return family === 6 ? "::1" : "127.0.0.1";
}

/** Hosts in a URL: IPv6 in brackets. */
export function urlHost(e: HttpEndpoint): string {
  return e.family === 6 ? `[${e.host}]` : e.host;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** Percent-encodes bytes as BitTorrent clients do: unreserved characters as is, the rest %XX. */
export function pct(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    s += UNRESERVED.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return s;
}

/** Every byte as %XX, with lowercase hex digits when `lower`. */
export function pctAll(bytes: Uint8Array, lower = false): string {
  let s = "";
  for (const b of bytes) {
    const hex = b.toString(16).padStart(2, "0");
    s += `%${lower ? hex : hex.toUpperCase()}`;
  }
  return s;
}

export interface AnnounceParams {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  /** Bytes left; default 1000 (a leecher); 0 makes a seeder. */
  left?: number;
  event?: string;
  /** Sent as compact=<value> when given; the tracker's default is compact. */
  compact?: 0 | 1;
  noPeerId?: boolean;
  numwant?: number;
  /** Raw text appended to the query ("&key=value..."). */
  extra?: string;
}

/** `/announce?...` for `p`, the binary fields percent-encoded with `pct`. */
export function announcePath(p: AnnounceParams): string {
  let q =
    `/announce?info_hash=${pct(p.infoHash)}&peer_id=${pct(p.peerId)}&port=${p.port}` +
    `&uploaded=0&downloaded=0&left=${p.left ?? 1000}`;
  if (p.event !== undefined) q += `&event=${p.event}`;
  if (p.compact !== undefined) q += `&compact=${p.compact}`;
  if (p.noPeerId) q += "&no_peer_id=1";
  if (p.numwant !== undefined) q += `&numwant=${p.numwant}`;
  if (p.extra !== undefined) q += p.extra;
  return q;
}

/** `/scrape?info_hash=...&info_hash=...`. */
export function scrapePath(hashes: readonly Uint8Array[]): string {
  if (hashes.length === 0) return "/scrape";
  return `/scrape?${hashes.map((h) => `info_hash=${pct(h)}`).join("&")}`;
}

// ---------------------------------------------------------------------------------------------
// Requests through node:http / node:https

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The local and remote ends of the socket the answer came on. */
  socket: net.Socket;
}

export interface GetOptions {
  method?: string;
  /** An array value is sent as repeated header lines. */
  headers?: Record<string, string | string[]>;
  /** Source address of the connection (e.g. "127.0.0.2"). */
  localAddress?: string;
  /** An agent to reuse; default: a fresh connection per request (agent: false). */
  agent?: http.Agent;
  /** HTTPS (certificates are not verified: the tests make them). */
  tls?: boolean;
  timeoutMs?: number;
}

/** One request, the whole answer. Rejects on a socket error or after `timeoutMs`. */
export function httpGet(e: HttpEndpoint, path: string, o: GetOptions = {}): Promise<HttpAnswer> {
  const timeoutMs = o.timeoutMs ?? ANSWER_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      host: e.host,
      port: e.port,
      family: e.family,
      path,
      method: o.method ?? "GET",
      headers: o.headers,
      localAddress: o.localAddress,
      agent: o.agent ?? false,
      rejectUnauthorized: false,
    };
    const req = (o.tls ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          socket: res.socket,
        });
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer to ${o.method ?? "GET"} ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Bencoded answers

export type Dict = Map<string, BencodeValue>;

/** The body as a bencoded dictionary (strict: sorted keys, no trailing bytes). */
export function decodeDict(body: Uint8Array): Dict {
  const v = bdecode(body);
  if (!(v instanceof Map)) throw new Error(`expected a bencoded dictionary, got ${Buffer.from(body)}`);
  return v;
}

export function intOf(d: Dict, key: string): number {
  const v = d.get(key);
  if (typeof v !== "number") throw new Error(`"${key}" is not an integer in ${showValue(d)}`);
  return v;
}

export function bytesOf(d: Dict, key: string): Buffer {
  const v = d.get(key);
  if (!Buffer.isBuffer(v)) throw new Error(`"${key}" is not a byte string in ${showValue(d)}`);
  return v;
}

export function showValue(v: BencodeValue | undefined): string {
  if (v === undefined) return "undefined";
  if (typeof v === "number") return String(v);
  if (Buffer.isBuffer(v))
    return /^[\x20-\x7e]*$/.test(v.toString("latin1"))
      ? JSON.stringify(v.toString())
      : `<${v.toString("hex")}>`;
  if (Array.isArray(v)) return `[${v.map(showValue).join(", ")}]`;
  return `{${[...v].map(([k, x]) => `${JSON.stringify(k)}: ${showValue(x)}`).join(", ")}}`;
}

/** The `failure reason` of a body, or undefined when it has none. */
export function failureOf(body: Uint8Array): string | undefined {
  const d = decodeDict(body);
  const v = d.get("failure reason");
  if (v === undefined) return undefined;
  if (!Buffer.isBuffer(v)) throw new Error(`"failure reason" is not a byte string: ${showValue(d)}`);
  return v.toString("utf8");
}

/** A non-compact peer as the tracker lists it. */
export interface ListedPeer {
  ip: string;
  port: number;
  /** Hex; undefined when the dictionary has no "peer id". */
  peerId?: string;
  /** The dictionary's keys, in order. */
  keys: string[];
}

export interface AnnounceAnswer {
  dict: Dict;
  complete: number;
  incomplete: number;
  downloaded: number;
  interval: number;
  minInterval: number;
  /** Compact answers: the `peers` string, and `peers6` when present. */
  peers?: Buffer;
  peers6?: Buffer;
  /** Non-compact answers: the `peers` list. */
  peerList?: ListedPeer[];
}

/** Reads a successful announce answer; throws with the failure reason if it is one. */
export function readAnnounce(body: Uint8Array): AnnounceAnswer {
  const d = decodeDict(body);
  const failure = d.get("failure reason");
  if (failure !== undefined) throw new Error(`announce failed: ${showValue(failure)}`);
  const peers = d.get("peers");
  const peers6 = d.get("peers6");
  const a: AnnounceAnswer = {
    dict: d,
    complete: intOf(d, "complete"),
    incomplete: intOf(d, "incomplete"),
    downloaded: intOf(d, "downloaded"),
    interval: intOf(d, "interval"),
    minInterval: intOf(d, "min interval"),
  };
  if (Buffer.isBuffer(peers)) a.peers = peers;
  else if (Array.isArray(peers)) {
    a.peerList = peers.map((p) => {
      if (!(p instanceof Map)) throw new Error(`a peer is not a dictionary: ${showValue(peers)}`);
      const id = p.get("peer id");
      return {
        ip: bytesOf(p, "ip").toString("latin1"),
        port: intOf(p, "port"),
        peerId: Buffer.isBuffer(id) ? id.toString("hex") : undefined,
        keys: [...p.keys()],
      };
    });
  } else throw new Error(`no peers in ${showValue(d)}`);
  if (peers6 !== undefined) {
    if (!Buffer.isBuffer(peers6)) throw new Error(`peers6 is not a byte string: ${showValue(d)}`);
    a.peers6 = peers6;
  }
  return a;
}

/** Announces and returns the decoded answer; the answer must be a 200 without failure. */
export async function announce(
  e: HttpEndpoint,
  p: AnnounceParams,
  o: GetOptions = {},
): Promise<AnnounceAnswer> {
  const r = await httpGet(e, announcePath(p), o);
  if (r.status !== 200) throw new Error(`announce answered ${r.status}: ${r.body.toString("latin1")}`);
  return readAnnounce(r.body);
}

/** GETs `path` and returns the failure reason (throws if the answer is not a 200 failure). */
export async function failureFor(e: HttpEndpoint, path: string, o: GetOptions = {}): Promise<string> {
  const r = await httpGet(e, path, o);
  if (r.status !== 200) throw new Error(`${path} answered ${r.status}: ${r.body.toString("latin1")}`);
  const f = failureOf(r.body);
  if (f === undefined) throw new Error(`${path} did not fail: ${showValue(decodeDict(r.body))}`);
  return f;
}

export interface ScrapeFigures {
  complete: number;
  downloaded: number;
  incomplete: number;
}

/** The `files` dictionary of a scrape answer: hex info hash -> figures (and the raw keys). */
export function readScrape(body: Uint8Array): { files: Map<string, ScrapeFigures>; keys: string[] } {
  const d = decodeDict(body);
  const failure = d.get("failure reason");
  if (failure !== undefined) throw new Error(`scrape failed: ${showValue(failure)}`);
  const files = d.get("files");
  if (!(files instanceof Map)) throw new Error(`no files dictionary in ${showValue(d)}`);
  const out = new Map<string, ScrapeFigures>();
  for (const [key, v] of files) {
    if (!(v instanceof Map)) throw new Error(`scrape entry is not a dictionary: ${showValue(v)}`);
    out.set(Buffer.from(key, "latin1").toString("hex"), {
      complete: intOf(v, "complete"),
      downloaded: intOf(v, "downloaded"),
      incomplete: intOf(v, "incomplete"),
    });
  }
  return { files: out, keys: [...files.keys()] };
}

export async function scrape(
  e: HttpEndpoint,
  hashes: readonly Uint8Array[],
  o: GetOptions = {},
): Promise<Map<string, ScrapeFigures>> {
  const r = await httpGet(e, scrapePath(hashes), o);
  if (r.status !== 200) throw new Error(`scrape answered ${r.status}: ${r.body.toString("latin1")}`);
  return readScrape(r.body).files;
}

/** A compact peer string cut into peers of `size` bytes, as sorted hex strings. */
export function compactList(bytes: Uint8Array, size: 6 | 18): string[] {
  if (bytes.length % size !== 0)
    throw new Error(`${bytes.length} bytes are not a whole number of ${size}-byte peers`);
  const out: string[] = [];
  for (let o = 0; o < bytes.length; o += size)
    out.push(Buffer.from(bytes.subarray(o, o + size)).toString("hex"));
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// Raw socket client

export interface RawResponse {
  status: number;
  statusLine: string;
  /** Lowercase names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawConnectOptions {
  localAddress?: string;
  /** TLS with these options (rejectUnauthorized defaults to false). */
  tls?: tls.ConnectionOptions;
  /** Keep our side open when the tracker closes its side (a client that ignores the FIN). */
  allowHalfOpen?: boolean;
  owner?: AfterHook;
  timeoutMs?: number;
}

interface Waiter {
  head: boolean;
  resolve: (r: RawResponse) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One TCP (or TLS) connection that writes exactly the bytes given (strings as latin1) and parses
 * the responses in order. The tracker closing the connection is observable (`ended`: its FIN
 * arrived; `isClosed`: the socket is gone).
 */
export class RawHttpClient {
  readonly socket: net.Socket;
  /** Bytes received in all. */
  received = 0;
  /** The tracker's FIN arrived. */
  ended = false;
  isClosed = false;
  error: Error | undefined;
  readonly closed: Promise<void>;
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiters: Waiter[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((r) => socket.once("close", () => r()));
    socket.on("data", (chunk: Buffer) => {
      this.received += chunk.length;
      this.buf = Buffer.concat([this.buf, chunk]);
      this.pump();
    });
    socket.on("end", () => {
      this.ended = true;
    });
    socket.on("error", (err) => {
      this.error = err;
    });
    socket.on("close", () => {
      this.isClosed = true;
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(
          new Error(
            `the connection closed before a complete response (${this.buf.length} bytes pending: ${JSON.stringify(this.buf.toString("latin1").slice(0, 200))})`,
          ),
        );
      }
    });
  }

  static connect(e: HttpEndpoint, o: RawConnectOptions = {}): Promise<RawHttpClient> {
    const timeoutMs = o.timeoutMs ?? ANSWER_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let socket: net.Socket = net.connect({
        host: e.host,
        port: e.port,
        family: e.family,
        localAddress: o.localAddress,
        allowHalfOpen: o.allowHalfOpen,
      });
      const ready = () => {
        clearTimeout(timer);
        socket.off("error", failed);
        const c = new RawHttpClient(socket);
        o.owner?.after(() => c.destroy());
        resolve(c);
      };
      const failed = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once("error", failed);
      socket.once("connect", () => {
        if (o.tls === undefined) {
          ready();
          return;
        }
        socket.off("error", failed);
        socket = tls.connect({ socket, rejectUnauthorized: false, ...o.tls }, ready);
        socket.once("error", failed);
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`could not connect to ${e.host}:${e.port} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  /** Writes bytes (a string is taken as latin1); false once the socket cannot be written. */
  write(data: string | Uint8Array): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
    return true;
  }

  /** The next response; `head` when it answers a HEAD request (no body follows its head). */
  next(options: { head?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const timeoutMs = options.timeoutMs ?? ANSWER_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      if (this.isClosed && this.buf.length === 0) {
        reject(new Error("the connection is closed"));
        return;
      }
      const w: Waiter = {
        head: options.head ?? false,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(
            new Error(
              `no complete response within ${timeoutMs} ms (${this.buf.length} bytes pending: ${JSON.stringify(this.buf.toString("latin1").slice(0, 200))})`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.push(w);
      this.pump();
    });
  }

  /** Sends a request and reads its response. */
  async request(
    data: string | Uint8Array,
    options: { head?: boolean; timeoutMs?: number } = {},
  ): Promise<RawResponse> {
    const answer = this.next(options);
    this.write(data);
    return answer;
  }

  /** Resolves when the socket is closed; rejects after `timeoutMs`. */
  waitClosed(timeoutMs: number): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`the connection was still open after ${timeoutMs} ms (FIN received: ${this.ended})`),
          ),
        timeoutMs,
      );
      void this.closed.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private pump(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0];
      const r = this.parse(w.head);
      if (r === null) return;
      this.waiters.shift();
      clearTimeout(w.timer);
      w.resolve(r);
    }
  }

  private parse(head: boolean): RawResponse | null {
    const end = this.buf.indexOf("\r\n\r\n", 0, "latin1");
    if (end < 0) return null;
    const lines = this.buf.toString("latin1", 0, end).split("\r\n");
    const statusLine = lines[0];
    const m = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
    if (m === null) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const length = head ? 0 : Number(headers["content-length"] ?? "0");
    const total = end + 4 + length;
    if (this.buf.length < total) return null;
    const body = Buffer.from(this.buf.subarray(end + 4, total));
    this.buf = this.buf.subarray(total);
    return { status: Number(m[1]), statusLine, headers, body };
  }
}

/** A minimal GET request head for raw sockets. */
export function rawGet(path: string, extraHeaders = "", version = "1.1"): string {
  return `GET ${path} HTTP/${version}\r\nHost: tracker\r\n${extraHeaders}\r\n`;
}
