// The HTTP tracker (BEP 3, 7, 23, 48) on raw TCP or TLS sockets: a hand-written request-head
// parser and reused response buffers instead of node:http, because the announce is the whole
// workload and node:http's per-request objects would cost more than the tracker itself.

import net from "node:net";
import tls from "node:tls";
import { formatIp, parseIp } from "../../core/address.ts";
import { AnnounceRequest, AnnounceResult, SCRAPE_STRIDE, setEndpoint } from "../../core/announce.ts";
import { anyCidrContains, type Cidr } from "../../core/cidr.ts";
import type { Clock } from "../../core/clock.ts";
import { AnnounceStatus, type Tracker } from "../../core/tracker.ts";
import {
  AnnounceQuery,
  parseAnnounceQuery,
  parseScrapeQuery,
  queryErrorMessage,
} from "../../protocol/http/query.ts";
import {
  headErrorStatus,
  headersObject,
  Method,
  parseRequestHead,
  RequestHead,
} from "../../protocol/http/request-head.ts";
import {
  type HttpStatus,
  httpDate,
  writeAnnounceBody,
  writeFailureBody,
  writeResponseHead,
  writeScrapeBody,
} from "../../protocol/http/response.ts";
import { Sampler } from "../../stats/histogram.ts";
import { type HttpFamilyCounters, HttpStats } from "../../stats/http-counters.ts";
import { clientFromHeader, type ProxyHeader } from "./client-address.ts";
import { FullScrape } from "./full-scrape.ts";
import { type ConnectionHost, HttpConnection } from "./http-connection.ts";

export interface HttpServerOptions {
  maxUrlLength: number;
  maxHeaderSize: number;
  maxHeaders: number;
  headerTimeout: number;
  idleTimeout: number;
  maxRequestsPerConnection: number;
  maxConnections: number;
  maxScrapeHashes: number;
  fullScrape: boolean;
  fullScrapeInterval: number;
  trustedProxies: readonly Cidr[];
  proxyHeader: ProxyHeader;
  allowIpParam: boolean;
  /** PEM certificate chain and key: every listener serves HTTPS. */
  tls: { cert: Buffer; key: Buffer } | null;
}

/**
 * Takes over a connection that asked for a WebSocket (the WebSocket tracker). `ip` is the
 * client's address as text, after trusted-proxy resolution.
 */
export type UpgradeHandler = (
  socket: net.Socket,
  url: string,
  headers: Record<string, string>,
  rest: Buffer,
  family: 4 | 6,
  ip: string,
) => void;

export interface BoundHttp {
  address: string;
  port: number;
  family: 4 | 6;
  /** False once the listener has closed. */
  up: boolean;
}

const PATH_ANNOUNCE = Buffer.from("/announce", "latin1");
const PATH_SCRAPE = Buffer.from("/scrape", "latin1");
const PATH_ROOT = Buffer.from("/", "latin1");
/** Room for a response head (status line and four headers). */
const HEAD_MAX = 256;
/** How long a connection told to close may linger, reading and dropping, before it is cut. */
const LINGER_MS = 2000;
const TEXT_PLAIN = "text/plain";

const STATUS_TEXT: Record<number, string> = {
  400: "bad request",
  404: "not found",
  405: "method not allowed",
  408: "request timeout",
  413: "request bodies are not accepted",
  414: "request target too long",
  431: "request head too large",
  505: "HTTP version not supported",
};

export class HttpServer implements ConnectionHost {
  readonly stats = new HttpStats();
  /** Set by the WebSocket tracker; without one, upgrade requests get 400. */
  upgrade: UpgradeHandler | null = null;
  private readonly tracker: Tracker;
  private readonly clock: Clock;
  private readonly o: HttpServerOptions;
  private readonly servers: net.Server[] = [];
  private readonly bound: BoundHttp[] = [];
  private readonly connections = new Set<HttpConnection>();
  private readonly head = new RequestHead();
  private readonly query = new AnnounceQuery();
  private readonly announceReq = new AnnounceRequest();
  private readonly announceRes: AnnounceResult;
  private readonly clientAddr = new Uint8Array(16);
  private readonly scrapeHashes: string[];
  private readonly scrapeFigures: Float64Array;
  private readonly body: Buffer;
  private readonly fullScrape: FullScrape | null;
  private readonly sampler = new Sampler();
  private secureContext: tls.SecureContext | null = null;
  /** TCP connections open over every listener, TLS handshakes included. */
  private sockets = 0;
  /** The Date header's value, refreshed once a second rather than formatted per response. */
  private date = httpDate(Date.now());

  constructor(tracker: Tracker, clock: Clock, options: HttpServerOptions) {
    this.tracker = tracker;
    this.clock = clock;
    this.o = options;
    this.announceRes = new AnnounceResult(tracker.maxNumwant);
    this.query.acceptIpParam = options.allowIpParam;
    this.scrapeHashes = new Array<string>(options.maxScrapeHashes).fill("");
    this.scrapeFigures = new Float64Array(options.maxScrapeHashes * SCRAPE_STRIDE);
    // Room for the largest body: non-compact peers (about 90 bytes each) or a full scrape list.
    this.body = Buffer.allocUnsafe(
      Math.max(256 + tracker.maxNumwant * 128, 64 + options.maxScrapeHashes * 96),
    );
    this.fullScrape = options.fullScrape ? new FullScrape(tracker, options.fullScrapeInterval) : null;
    this.fullScrape?.maintain(clock.now);
    if (options.tls !== null) this.secureContext = tls.createSecureContext(options.tls);
  }

  get addresses(): readonly BoundHttp[] {
    return this.bound;
  }

  async listen(host: string, port: number, family: 4 | 6): Promise<BoundHttp> {
    const tlsServer =
      this.secureContext === null
        ? null
        : tls.createServer({
            SNICallback: (_name, cb) => cb(null, this.secureContext ?? undefined),
            // Certificates come through SNICallback so that a reload applies to new handshakes.
            ...this.o.tls,
            handshakeTimeout: this.o.headerTimeout * 1000,
          });
    const server: net.Server = tlsServer ?? net.createServer({ noDelay: true });
    // The connection limit covers every listener together, and TLS ones before the handshake.
    server.on("connection", (raw: net.Socket) => {
      if (this.sockets >= this.o.maxConnections) {
        this.stats.connectionsRefused++;
        raw.destroy();
        return;
      }
      this.sockets++;
      raw.once("close", () => this.sockets--);
      if (tlsServer === null) this.accept(raw);
    });
    if (tlsServer !== null) {
      tlsServer.on("secureConnection", (socket: tls.TLSSocket) => this.accept(socket));
      // A failed or timed-out handshake: nothing more will come of this connection.
      tlsServer.on("tlsClientError", (_err, socket) => socket.destroy());
    }
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port, ipv6Only: family === 6, exclusive: true }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const a = server.address() as net.AddressInfo;
    const b: BoundHttp = { address: a.address, port: a.port, family, up: true };
    server.on("close", () => {
      b.up = false;
    });
    this.servers.push(server);
    this.bound.push(b);
    return b;
  }

  /** Replaces the certificate for new connections (SIGHUP after a renewal). */
  reloadTls(cert: Buffer, key: Buffer): void {
    const context = tls.createSecureContext({ cert, key });
    this.secureContext = context;
    for (const s of this.servers) if (s instanceof tls.Server) s.setSecureContext({ cert, key });
  }

  get secure(): boolean {
    return this.secureContext !== null;
  }

  /**
   * Closes connections past their head or idle deadline, and those that were told to close
   * but linger; from the owner's 1 s timer, so a deadline is met within a second after it.
   */
  maintain(): void {
    const now = performance.now();
    const headMs = this.o.headerTimeout * 1000;
    const idleMs = this.o.idleTimeout * 1000;
    this.date = httpDate(Date.now());
    for (const c of this.connections) {
      if (!c.isOpen) {
        if (now - c.closingSince >= LINGER_MS) c.destroy();
      } else if (c.headStartedAt !== 0) {
        if (now - c.headStartedAt >= headMs) {
          this.stats.family(c.family).timeouts++;
          this.reject(c, 408);
        }
      } else if (now - c.lastActive >= idleMs) {
        this.stats.family(c.family).timeouts++;
        c.close();
      }
    }
    this.fullScrape?.maintain(this.clock.now);
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const c of this.connections) c.destroy();
  }

  private accept(socket: net.Socket): void {
    const addr = new Uint8Array(16);
    const family = parseIp(socket.remoteAddress ?? "", addr);
    if (family === 0) {
      socket.destroy();
      return;
    }
    this.stats.family(family).connections++;
    this.stats.open++;
    const conn = new HttpConnection(socket, family, addr, this, this.o.maxHeaderSize);
    this.connections.add(conn);
  }

  closed(conn: HttpConnection): void {
    if (this.connections.delete(conn)) this.stats.open--;
  }

  headTooLarge(conn: HttpConnection): void {
    this.reject(conn, 431);
  }

  handleRequest(conn: HttpConnection, buf: Buffer, start: number, end: number): boolean {
    const head = this.head;
    const counters = this.stats.family(conn.family);
    counters.requests++;
    const headError = parseRequestHead(buf, start, end, head, this.o.maxHeaders);
    if (headError !== 0) return this.reject(conn, headErrorStatus(headError));
    if (head.targetEnd - head.targetStart > this.o.maxUrlLength) return this.reject(conn, 414);
    if (head.contentLength > 0 || head.chunked) return this.reject(conn, 413);
    const keepAlive =
      head.keepAlive &&
      (this.o.maxRequestsPerConnection === 0 || conn.requests < this.o.maxRequestsPerConnection);
    const isHead = head.method === Method.Head;
    if (head.method !== Method.Get && !isHead) {
      counters.rejected++;
      return this.status(conn, 405, keepAlive, isHead);
    }
    const path = this.route(buf, head);
    if (path === null || (path === PATH_ROOT && !head.upgradeWebSocket)) {
      counters.rejected++;
      return this.status(conn, 404, keepAlive, isHead);
    }

    // The client: the socket's peer, or what a trusted proxy says.
    let family = conn.family;
    let addr = conn.peerAddress;
    if (this.o.trustedProxies.length > 0 && anyCidrContains(this.o.trustedProxies, addr)) {
      const value = this.proxyHeaderValue(head);
      if (value !== undefined) {
        const f = clientFromHeader(this.o.proxyHeader, value, this.o.trustedProxies, this.clientAddr);
        if (f !== 0) {
          family = f;
          addr = this.clientAddr;
        }
      }
    }
    if (head.upgradeWebSocket) {
      if (this.upgrade === null || path === PATH_SCRAPE) return this.reject(conn, 400);
      const headers = headersObject(buf, start, end);
      const url = buf.toString("latin1", head.targetStart, head.targetEnd);
      const ip = family === 4 ? formatIp(addr, 12, 4) : formatIp(addr, 0, 6);
      const rest = conn.detach(end);
      this.upgrade(conn.socket, url, headers, rest, family, ip);
      return false;
    }
    const qs = head.queryStart < 0 ? head.targetEnd : head.queryStart;
    const sample = this.sampler.next();
    const started = sample ? performance.now() : 0;
    let more: boolean;
    if (path === PATH_ANNOUNCE) {
      this.stats.family(family).announces++;
      more = this.announce(conn, buf, qs, head.targetEnd, family, addr, keepAlive, isHead);
      if (sample) this.stats.announceDurations.observe((performance.now() - started) / 1000);
    } else {
      this.stats.family(family).scrapes++;
      more = this.scrape(conn, buf, qs, head.targetEnd, family, keepAlive, isHead);
      if (sample) this.stats.scrapeDurations.observe((performance.now() - started) / 1000);
    }
    return more;
  }

  private route(buf: Buffer, head: RequestHead): Buffer | null {
    const s = head.pathStart;
    const len = head.pathEnd - s;
    if (len === PATH_ANNOUNCE.length && bytesEqual(buf, s, PATH_ANNOUNCE)) return PATH_ANNOUNCE;
    if (len === PATH_SCRAPE.length && bytesEqual(buf, s, PATH_SCRAPE)) return PATH_SCRAPE;
    if (len === 1 && buf[s] === 0x2f) return PATH_ROOT;
    return null;
  }

  private proxyHeaderValue(head: RequestHead): string | undefined {
    switch (this.o.proxyHeader) {
      case "x-forwarded-for":
        return head.xForwardedFor ?? undefined;
      case "forwarded":
        return head.forwarded ?? undefined;
      default:
        return head.xRealIp ?? undefined;
    }
  }

  private announce(
    conn: HttpConnection,
    buf: Buffer,
    qs: number,
    qe: number,
    family: 4 | 6,
    addr: Uint8Array,
    keepAlive: boolean,
    isHead: boolean,
  ): boolean {
    const q = this.query;
    const counters = this.stats.family(family);
    const err = parseAnnounceQuery(buf, qs, qe, q);
    if (err !== 0) return this.failure(conn, counters, queryErrorMessage(err, q), keepAlive, isHead);
    const tracker = this.tracker;
    // The memory store answers before we return, so one request object serves every announce.
    const sync = tracker.store.synchronous;
    const a = sync ? this.announceReq : new AnnounceRequest();
    a.infoHash = q.infoHash;
    if (this.o.allowIpParam && q.ipParam !== "") {
      const f = parseIp(q.ipParam, this.clientAddr);
      if (f !== 0) {
        family = f;
        addr = this.clientAddr;
      }
    }
    setEndpoint(a, addr, family, q.port);
    const id = a.peerId;
    for (let i = 0; i < 20; i++) id[i] = q.peerId[i];
    a.seeder = q.leftIsZero;
    a.event = q.event;
    a.numWant = tracker.numWant(q.numWant);
    a.group = 0;
    const res = sync ? this.announceRes : new AnnounceResult(tracker.maxNumwant);
    const compact = q.compact;
    const noPeerId = q.noPeerId;
    res.outOffset = 0;
    res.wantPeerIds = !compact && !noPeerId;
    const status = tracker.announce(a, res);
    if (typeof status !== "number") {
      // An asynchronous store answers later. (Pipelined answers could then overtake each
      // other; a shared store must queue per connection before it lands.)
      status.then(
        (s) => this.finishAnnounce(conn, s, family, compact, noPeerId, keepAlive, isHead, res),
        () => this.failure(conn, counters, "internal error", false, isHead),
      );
      return keepAlive;
    }
    return this.finishAnnounce(conn, status, family, compact, noPeerId, keepAlive, isHead, res);
  }

  private finishAnnounce(
    conn: HttpConnection,
    status: number,
    family: 4 | 6,
    compact: boolean,
    noPeerId: boolean,
    keepAlive: boolean,
    isHead: boolean,
    res: AnnounceResult,
  ): boolean {
    const counters = this.stats.family(family);
    if (status !== AnnounceStatus.Ok) {
      counters.refused++;
      return this.failure(conn, counters, "info hash not allowed", keepAlive, isHead);
    }
    const tracker = this.tracker;
    const body = this.body;
    const end = writeAnnounceBody(
      body,
      0,
      {
        complete: res.seeders,
        incomplete: res.leechers,
        downloaded: res.downloaded,
        interval: tracker.announceInterval,
        minInterval: tracker.minAnnounceInterval,
      },
      res,
      family,
      compact,
      noPeerId,
    );
    return this.reply(conn, 200, end, keepAlive, isHead);
  }

  private scrape(
    conn: HttpConnection,
    buf: Buffer,
    qs: number,
    qe: number,
    family: 4 | 6,
    keepAlive: boolean,
    isHead: boolean,
  ): boolean {
    const counters = this.stats.family(family);
    const hashes = this.scrapeHashes;
    const count = parseScrapeQuery(buf, qs, qe, hashes, this.o.maxScrapeHashes);
    if (count < 0) {
      return this.failure(
        conn,
        counters,
        queryErrorMessage(count, this.o.maxScrapeHashes),
        keepAlive,
        isHead,
      );
    }
    if (count === 0) {
      const cached = this.fullScrape?.body;
      if (cached === undefined || cached === null) {
        return this.failure(conn, counters, "a scrape must name at least one info_hash", keepAlive, isHead);
      }
      const n = writeResponseHead(this.headScratch, 0, 200, cached.length, keepAlive, TEXT_PLAIN, this.date);
      const socket = conn.socket;
      socket.cork();
      conn.send(Buffer.from(this.headScratch.subarray(0, n)), false);
      if (!isHead) conn.send(cached, !keepAlive);
      else if (!keepAlive) conn.send(Buffer.alloc(0), true);
      socket.uncork();
      return keepAlive;
    }
    const figures = this.scrapeFigures;
    const pending = this.tracker.scrape(hashes, count, figures);
    if (pending !== undefined) {
      const h = hashes.slice(0, count);
      const f = figures.slice(0, count * SCRAPE_STRIDE);
      pending.then(
        () => {
          this.reply(conn, 200, writeScrapeBody(this.body, 0, h, count, f), keepAlive, isHead);
        },
        () => this.failure(conn, counters, "internal error", false, isHead),
      );
      return keepAlive;
    }
    const end = writeScrapeBody(this.body, 0, hashes, count, figures);
    return this.reply(conn, 200, end, keepAlive, isHead);
  }

  private failure(
    conn: HttpConnection,
    counters: HttpFamilyCounters,
    reason: string,
    keepAlive: boolean,
    isHead: boolean,
  ): boolean {
    counters.failures++;
    const end = writeFailureBody(this.body, 0, reason);
    return this.reply(conn, 200, end, keepAlive, isHead);
  }

  /** Sends the body at body[0, length) behind its head, as one write. */
  private reply(
    conn: HttpConnection,
    status: HttpStatus,
    length: number,
    keepAlive: boolean,
    isHead: boolean,
  ): boolean {
    const head = writeResponseHead(this.headScratch, 0, status, length, keepAlive, TEXT_PLAIN, this.date);
    const out = Buffer.allocUnsafe(head + (isHead ? 0 : length));
    this.headScratch.copy(out, 0, 0, head);
    if (!isHead) this.body.copy(out, head, 0, length);
    conn.send(out, !keepAlive);
    return keepAlive;
  }

  private readonly headScratch = Buffer.allocUnsafe(HEAD_MAX);

  /** A plain-text status answer (404, 405) on a connection that may stay open. */
  private status(conn: HttpConnection, code: HttpStatus, keepAlive: boolean, isHead: boolean): boolean {
    const text = STATUS_TEXT[code] ?? "error";
    const n = this.body.write(`${text}\n`, 0, "latin1");
    return this.reply(conn, code, n, keepAlive, isHead);
  }

  /** An HTTP-level refusal: answer and close, since the rest of the stream cannot be trusted. */
  private reject(conn: HttpConnection, code: HttpStatus): false {
    this.stats.family(conn.family).rejected++;
    this.status(conn, code, false, false);
    return false;
  }
}

function bytesEqual(buf: Buffer, at: number, want: Buffer): boolean {
  for (let i = 0; i < want.length; i++) if (buf[at + i] !== want[i]) return false;
  return true;
}
