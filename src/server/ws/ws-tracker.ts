// The WebTorrent tracker: WebSocket connections upgraded from the HTTP server, announces that
// put the connection in a signalling swarm, and WebRTC offers and answers relayed between
// connections, with the limits that keep one client from costing the others.

import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import type { Clock } from "../../core/clock.ts";
import { type SignalPeer, SignalSwarms } from "../../core/signal-swarms.ts";
import type { Tracker } from "../../core/tracker.ts";
import {
  announceReply,
  answerMessage,
  failureReply,
  offerMessage,
  parseWsMessage,
  type ScrapeFile,
  scrapeReply,
  type WsAnnounce,
  WsEvent,
} from "../../protocol/ws/messages.ts";
import { Sampler } from "../../stats/histogram.ts";
import { WsStats } from "../../stats/ws-counters.ts";

export interface WsTrackerOptions {
  announceInterval: number;
  maxMessageSize: number;
  maxOffersPerAnnounce: number;
  offerTtl: number;
  maxSwarmsPerSocket: number;
  maxSocketsPerIp: number;
  idleTimeout: number;
  pingInterval: number;
  maxBufferedBytes: number;
  maxBadMessages: number;
  maxScrapeHashes: number;
}

/** An offer shoal relayed to a connection, which that connection may answer once. */
interface PendingOffer {
  from: WsConnection;
  fromPeerId: string;
  toPeerId: string;
  infoHash: string;
  expires: number;
}

/** Offers awaiting an answer, per connection, at most (oldest forgotten first). */
const MAX_PENDING_OFFERS = 1000;

class WsConnection {
  readonly ws: WebSocket;
  readonly family: 4 | 6;
  readonly ipKey: string;
  /**
   * (info hash, peer id) pairs this connection announced, as the 40-character concatenation.
   * One socket may carry several peers: bittorrent-tracker clients in one page share a socket.
   */
  readonly joined = new Set<string>();
  /** Peer ids per info hash among `joined`: the torrents this socket is in. */
  readonly torrents = new Map<string, number>();
  readonly pending = new Map<string, PendingOffer>();
  lastMessage: number;
  alive = true;
  bad = 0;
  closed = false;

  constructor(ws: WebSocket, family: 4 | 6, ipKey: string, now: number) {
    this.ws = ws;
    this.family = family;
    this.ipKey = ipKey;
    this.lastMessage = now;
  }
}

export class WsTracker {
  readonly stats = new WsStats();
  readonly swarms = new SignalSwarms<WsConnection>();
  private readonly tracker: Tracker;
  private readonly clock: Clock;
  private readonly o: WsTrackerOptions;
  private readonly server: WebSocketServer;
  private readonly connections = new Set<WsConnection>();
  private readonly perIp = new Map<string, number>();
  private readonly picked: SignalPeer<WsConnection>[] = [];
  private lastPing: number;
  private readonly sampler = new Sampler();

  constructor(tracker: Tracker, clock: Clock, options: WsTrackerOptions) {
    this.tracker = tracker;
    this.clock = clock;
    this.o = options;
    this.lastPing = clock.now;
    this.server = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: options.maxMessageSize,
      clientTracking: false,
    });
  }

  /** Takes over an upgraded HTTP connection. `ip` is the client's address as text. */
  upgrade(
    socket: Socket,
    url: string,
    headers: Record<string, string>,
    rest: Buffer,
    family: 4 | 6,
    ip: string,
  ): void {
    const open = this.perIp.get(ip) ?? 0;
    if (open >= this.o.maxSocketsPerIp) {
      this.stats.connectionsRefused++;
      socket.end("HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const req = { method: "GET", url, headers, socket } as unknown as IncomingMessage;
    this.server.handleUpgrade(req, socket, rest, (ws) => this.accept(ws, family, ip));
  }

  private accept(ws: WebSocket, family: 4 | 6, ip: string): void {
    const conn = new WsConnection(ws, family, ip, this.clock.now);
    this.connections.add(conn);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    this.stats.family(family).connections++;
    this.stats.open++;
    ws.on("message", (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on("pong", () => {
      conn.alive = true;
    });
    ws.on("error", () => {}); // protocol errors (oversized frames and the like) close the socket
    ws.on("close", () => this.onClose(conn));
  }

  private onMessage(conn: WsConnection, data: RawData, isBinary: boolean): void {
    if (conn.closed) return;
    conn.lastMessage = this.clock.now;
    const counters = this.stats.family(conn.family);
    if (isBinary) {
      this.reject(conn, "messages must be JSON text", null, null);
      return;
    }
    const m = parseWsMessage(data.toString(), this.o.maxOffersPerAnnounce);
    if (m.action === "error") {
      this.reject(conn, m.reason, m.requestAction, m.infoHash);
      return;
    }
    const sample = this.sampler.next();
    const started = sample ? performance.now() : 0;
    if (m.action === "scrape") {
      counters.scrapes++;
      this.scrape(conn, m.infoHashes);
      if (sample) this.stats.scrapeDurations.observe((performance.now() - started) / 1000);
      return;
    }
    if (m.answer !== null) this.relayAnswer(conn, m);
    // An answer-only message carries no announce of its own.
    if (m.answer !== null && m.left === null && m.offers.length === 0 && m.event === WsEvent.None) return;
    counters.announces++;
    this.announce(conn, m);
    if (sample) this.stats.announceDurations.observe((performance.now() - started) / 1000);
  }

  private scrape(conn: WsConnection, infoHashes: string[]): void {
    if (infoHashes.length === 0) {
      this.reject(conn, "a scrape must name at least one info_hash", "scrape", null);
      return;
    }
    if (infoHashes.length > this.o.maxScrapeHashes) {
      this.reject(conn, `too many info hashes (at most ${this.o.maxScrapeHashes})`, "scrape", null);
      return;
    }
    const files: ScrapeFile[] = [];
    for (const h of infoHashes) {
      const swarm = this.tracker.allows(h) ? this.swarms.get(h) : undefined;
      files.push({
        infoHash: h,
        complete: swarm?.seeders ?? 0,
        downloaded: swarm?.downloaded ?? 0,
        incomplete: swarm?.leechers ?? 0,
      });
    }
    this.send(conn, scrapeReply(files));
  }

  private announce(conn: WsConnection, m: WsAnnounce): void {
    const { infoHash, peerId } = m;
    if (!this.tracker.allows(infoHash)) {
      this.stats.family(conn.family).refused++;
      this.reject(conn, "info hash not allowed", "announce", infoHash);
      return;
    }
    const key = infoHash + peerId;
    const joined = conn.joined.has(key);
    if (m.event === WsEvent.Stopped) {
      if (joined) this.leave(conn, infoHash, peerId);
      const swarm = this.swarms.get(infoHash);
      this.send(
        conn,
        announceReply(infoHash, this.o.announceInterval, swarm?.seeders ?? 0, swarm?.leechers ?? 0, null),
      );
      return;
    }
    if (!conn.torrents.has(infoHash) && conn.torrents.size >= this.o.maxSwarmsPerSocket) {
      this.reject(
        conn,
        `too many torrents on one connection (at most ${this.o.maxSwarmsPerSocket})`,
        "announce",
        infoHash,
      );
      return;
    }
    const self = this.swarms.join(infoHash, peerId, conn, m.left === 0, m.event === WsEvent.Completed);
    if (self === null) {
      this.reject(conn, "peer_id is in use by another connection in this swarm", "announce", infoHash);
      return;
    }
    if (!joined) {
      conn.joined.add(key);
      conn.torrents.set(infoHash, (conn.torrents.get(infoHash) ?? 0) + 1);
    }
    const swarm = this.swarms.get(infoHash)!;
    const warning =
      m.offersDropped > 0
        ? `only the first ${this.o.maxOffersPerAnnounce} offers of an announce are relayed`
        : null;
    if (m.offersDropped > 0) this.stats.offersDropped += m.offersDropped;
    this.send(conn, announceReply(infoHash, this.o.announceInterval, swarm.seeders, swarm.leechers, warning));

    const wanted = m.numWant < 0 ? m.offers.length : Math.min(m.numWant, m.offers.length);
    if (wanted === 0) return;
    const picked = this.picked;
    const n = this.swarms.pick(swarm, self, wanted, picked);
    const expires = this.clock.now + this.o.offerTtl;
    for (let i = 0; i < n; i++) {
      const to = picked[i];
      const target = to.handle;
      const offer = m.offers[i];
      if (target.pending.size >= MAX_PENDING_OFFERS)
        target.pending.delete(target.pending.keys().next().value!);
      target.pending.set(offer.offerId, {
        from: conn,
        fromPeerId: peerId,
        toPeerId: to.peerId,
        infoHash,
        expires,
      });
      this.stats.family(conn.family).offersRelayed++;
      this.send(target, offerMessage(infoHash, peerId, offer.offer, offer.offerId));
    }
    picked.length = 0;
  }

  /**
   * Relays an answer only to the connection whose offer it answers: shoal must have sent that
   * offer to this connection, within its lifetime, from that peer, in that swarm, and the
   * offerer must still be there. Anything else is dropped and counted.
   */
  private relayAnswer(conn: WsConnection, m: WsAnnounce): void {
    const counters = this.stats.family(conn.family);
    const offerId = m.offerId!;
    const p = conn.pending.get(offerId);
    if (
      p === undefined ||
      p.expires < this.clock.now ||
      p.infoHash !== m.infoHash ||
      p.fromPeerId !== m.toPeerId ||
      p.toPeerId !== m.peerId ||
      !conn.joined.has(m.infoHash + m.peerId) ||
      p.from.closed ||
      !p.from.joined.has(m.infoHash + p.fromPeerId)
    ) {
      counters.answersDropped++;
      return;
    }
    conn.pending.delete(offerId);
    counters.answersRelayed++;
    this.send(p.from, answerMessage(m.infoHash, m.peerId, m.answer!, offerId));
  }

  private leave(conn: WsConnection, infoHash: string, peerId: string): void {
    this.swarms.leave(infoHash, peerId, conn);
    if (!conn.joined.delete(infoHash + peerId)) return;
    const n = (conn.torrents.get(infoHash) ?? 1) - 1;
    if (n === 0) conn.torrents.delete(infoHash);
    else conn.torrents.set(infoHash, n);
  }

  private send(conn: WsConnection, text: string): void {
    if (conn.closed) return;
    if (conn.ws.bufferedAmount > this.o.maxBufferedBytes) {
      // A reader this slow would make us hold its messages without bound.
      this.stats.closedSlow++;
      this.drop(conn);
      return;
    }
    conn.ws.send(text);
  }

  private reject(
    conn: WsConnection,
    reason: string,
    action: "announce" | "scrape" | null,
    infoHash: string | null,
  ): void {
    this.stats.family(conn.family).errors++;
    this.send(conn, failureReply(reason, action, infoHash));
    if (++conn.bad >= this.o.maxBadMessages) {
      this.stats.closedMisbehaving++;
      conn.closed = true;
      conn.ws.close(1008, "too many bad messages");
    }
  }

  private drop(conn: WsConnection): void {
    conn.closed = true;
    conn.ws.terminate();
  }

  private onClose(conn: WsConnection): void {
    if (!this.connections.delete(conn)) return;
    conn.closed = true;
    for (const key of conn.joined) this.swarms.leave(key.slice(0, 20), key.slice(20), conn);
    conn.joined.clear();
    conn.torrents.clear();
    conn.pending.clear();
    const n = (this.perIp.get(conn.ipKey) ?? 1) - 1;
    if (n === 0) this.perIp.delete(conn.ipKey);
    else this.perIp.set(conn.ipKey, n);
    this.stats.open--;
  }

  /** Idle sockets, dead sockets and expired offers; from the owner's 1 s timer. */
  maintain(): void {
    const now = this.clock.now;
    const ping = now - this.lastPing >= this.o.pingInterval;
    if (ping) this.lastPing = now;
    for (const c of this.connections) {
      if (c.closed) continue;
      if (now - c.lastMessage >= this.o.idleTimeout) {
        this.stats.closedIdle++;
        c.closed = true;
        c.ws.close(1000, "idle");
        continue;
      }
      if (ping) {
        if (!c.alive) {
          this.stats.closedDead++;
          this.drop(c);
          continue;
        }
        c.alive = false;
        c.ws.ping();
      }
      for (const [id, p] of c.pending) {
        if (p.expires >= now) break; // insertion order is expiry order
        c.pending.delete(id);
      }
    }
  }

  close(): void {
    for (const c of this.connections) {
      c.closed = true;
      c.ws.close(1001, "shutting down");
    }
    this.server.close();
  }
}
