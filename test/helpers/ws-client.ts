// WebTorrent tracker clients for the WebSocket integration tests, on the `ws` package: a client
// that keeps every message it receives in a queue and lets a test wait (bounded) for the one it
// expects, proves that some message did NOT come with a round-trip barrier instead of a sleep,
// and records how the socket ended; plus a running shoal with its HTTP/WebSocket addresses and
// builders for the JSON messages of the protocol.

import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { type HttpEndpoint, type HttpShoal, startHttpShoal } from "./http-process.ts";
import type { ConfigSections, StartOptions } from "./shoal-process.ts";
import type { AfterHook } from "./udp-client.ts";

/** Time to wait for something that must come; loopback answers in well under a second. */
export const ANSWER_TIMEOUT_MS = 10_000;

/** A received message: the parsed JSON object (or `{ raw }` for text that is not JSON). */
export type WsMessage = Record<string, unknown>;

/** A 20-character binary string (one character per byte) of `bytes`. */
export function binary(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("latin1");
}

/** 20 random bytes as a binary string: an info hash, peer id or offer id. */
export function randomId(): string {
  return binary(randomBytes(20));
}

/** Hex of a binary string, for messages and for comparing with bittorrent-tracker's hex ids. */
export function hexOf(s: string): string {
  return Buffer.from(s, "latin1").toString("hex");
}

export interface Offer {
  offer: { type: "offer"; sdp: string };
  offer_id: string;
}

/** `n` offers with distinct random offer ids; the SDP names the offer (and is `pad` longer). */
export function makeOffers(n: number, pad = 0): Offer[] {
  const out: Offer[] = [];
  for (let i = 0; i < n; i++) {
    const offerId = randomId();
    out.push({
      offer: { type: "offer", sdp: `v=0\r\ns=offer-${hexOf(offerId)}\r\n${"a".repeat(pad)}` },
      offer_id: offerId,
    });
  }
  return out;
}

export interface AnnounceFields {
  infoHash: string;
  peerId: string;
  offers?: Offer[];
  numwant?: number;
  /** Default 1000 (a leecher); 0 makes a seeder; null leaves the field out. */
  left?: number | null;
  event?: string;
}

/** An announce message as WebTorrent sends it. */
export function announceMessage(a: AnnounceFields): WsMessage {
  const m: WsMessage = {
    action: "announce",
    info_hash: a.infoHash,
    peer_id: a.peerId,
    uploaded: 0,
    downloaded: 0,
  };
  if (a.left !== null) m.left = a.left ?? 1000;
  if (a.numwant !== undefined) m.numwant = a.numwant;
  if (a.event !== undefined) m.event = a.event;
  if (a.offers !== undefined) m.offers = a.offers;
  return m;
}

/** An answer message as WebTorrent sends it after it got `offerId` from `toPeerId`. */
export function answerMessage(
  infoHash: string,
  peerId: string,
  toPeerId: string,
  offerId: string,
  sdp = `v=0\r\ns=answer-${hexOf(offerId)}\r\n`,
): WsMessage {
  return {
    action: "announce",
    info_hash: infoHash,
    peer_id: peerId,
    to_peer_id: toPeerId,
    answer: { type: "answer", sdp },
    offer_id: offerId,
  };
}

export interface Closed {
  code: number;
  reason: string;
}

export interface OpenOptions {
  /** Closed (terminated) when this test or suite finishes. */
  owner?: AfterHook;
  /** false: never answer the tracker's pings. */
  autoPong?: boolean;
}

/** The HTTP status of a refused upgrade. */
export class UpgradeRefused extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`the upgrade was refused with HTTP ${status}`);
    this.status = status;
  }
}

export class WsClient {
  readonly ws: WebSocket;
  readonly url: string;
  /** Received and not yet taken, in arrival order. */
  readonly received: WsMessage[] = [];
  /** Every message ever received, in arrival order. */
  readonly history: WsMessage[] = [];
  /** Resolves when the socket has closed, with the close code (1006: no close frame). */
  readonly closed: Promise<Closed>;
  private closedWith: Closed | null = null;
  private readonly listeners = new Set<() => void>();

  private constructor(ws: WebSocket, url: string) {
    this.ws = ws;
    this.url = url;
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? Buffer.from(data as Buffer).toString("hex") : data.toString();
      let m: WsMessage;
      try {
        const v: unknown = JSON.parse(text);
        m = typeof v === "object" && v !== null && !Array.isArray(v) ? (v as WsMessage) : { raw: text };
      } catch {
        m = { raw: text };
      }
      this.received.push(m);
      this.history.push(m);
      this.notify();
    });
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.closedWith = { code, reason: reason.toString() };
        resolve(this.closedWith);
        this.notify();
      });
    });
    ws.on("error", () => {}); // the close that follows says what happened
  }

  /** Connects; rejects with UpgradeRefused when the tracker answers the upgrade with a status. */
  static open(url: string, options: OpenOptions = {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { autoPong: options.autoPong ?? true, perMessageDeflate: false });
      const client = new WsClient(ws, url);
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`no WebSocket connection to ${url} within ${ANSWER_TIMEOUT_MS} ms`));
      }, ANSWER_TIMEOUT_MS);
      ws.once("unexpected-response", (_req, res) => {
        clearTimeout(timer);
        res.resume();
        ws.terminate();
        reject(new UpgradeRefused(res.statusCode ?? 0));
      });
      ws.once("open", () => {
        clearTimeout(timer);
        options.owner?.after(() => client.terminate());
        resolve(client);
      });
      ws.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get isClosed(): boolean {
    return this.closedWith !== null;
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  sendBinary(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  /**
   * Takes the first received message that satisfies `predicate`, waiting for it if need be;
   * rejects after `timeoutMs`, or at once when the socket closes first.
   */
  next(predicate: (m: WsMessage) => boolean = () => true, timeoutMs = ANSWER_TIMEOUT_MS): Promise<WsMessage> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        const i = this.received.findIndex(predicate);
        if (i >= 0) {
          finish();
          resolve(this.received.splice(i, 1)[0]);
        } else if (this.closedWith !== null) {
          finish();
          reject(
            new Error(
              `the socket closed (${this.closedWith.code} ${this.closedWith.reason}) before the awaited message; ` +
                `received: ${show(this.received)}`,
            ),
          );
        }
      };
      const finish = () => {
        this.listeners.delete(check);
        clearTimeout(timer);
      };
      timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `the awaited message did not come within ${timeoutMs} ms; received: ${show(this.received)}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Sends `message` and takes the reply to it: the next announce reply or failure for `infoHash`. */
  async request(message: WsMessage): Promise<WsMessage> {
    this.send(message);
    const infoHash = message.info_hash;
    return this.next(
      (m) =>
        (m["failure reason"] !== undefined && (m.info_hash === undefined || m.info_hash === infoHash)) ||
        (m.action === "announce" && m.info_hash === infoHash && m.interval !== undefined),
    );
  }

  /** Announces and returns the reply; throws with the failure reason if it is one. */
  async announce(a: AnnounceFields): Promise<WsMessage> {
    const r = await this.request(announceMessage(a));
    if (r["failure reason"] !== undefined) throw new Error(`announce failed: ${String(r["failure reason"])}`);
    return r;
  }

  /** Sends `message` and takes the next failure reply. */
  async failure(message: unknown): Promise<WsMessage> {
    if (typeof message === "string") this.sendText(message);
    else this.send(message);
    return this.next((m) => m["failure reason"] !== undefined);
  }

  /** Scrapes and returns the `files` object of the reply. */
  async scrape(
    infoHash: string | string[],
  ): Promise<Record<string, { complete: number; downloaded: number; incomplete: number }>> {
    this.send({ action: "scrape", info_hash: infoHash });
    const first = Array.isArray(infoHash) ? infoHash[0] : infoHash;
    const r = await this.next(
      (m) =>
        (m.action === "scrape" && typeof m.files === "object" && m.files !== null && first in m.files) ||
        m["failure reason"] !== undefined,
    );
    if (r["failure reason"] !== undefined) throw new Error(`scrape failed: ${String(r["failure reason"])}`);
    return r.files as Record<string, { complete: number; downloaded: number; incomplete: number }>;
  }

  /**
   * A round trip through the tracker: when it returns, everything the tracker did on behalf of
   * this socket's earlier messages is done, and everything it sent this socket earlier is in
   * `received`. Used to show that a message did not come, without sleeping.
   */
  async sync(): Promise<void> {
    await this.scrape(randomId());
  }

  /** Offers (`offer` present) and answers (`answer` present) received and not taken. */
  relayed(): WsMessage[] {
    return this.received.filter((m) => m.offer !== undefined || m.answer !== undefined);
  }

  close(code?: number): void {
    this.ws.close(code);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

function show(messages: readonly WsMessage[]): string {
  const text = JSON.stringify(messages.map((m) => (m.offer || m.answer ? { ...m, sdp: "…" } : m)));
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

/** Resolves with how the socket closed; rejects if it is still open after `timeoutMs`. */
export function closedWithin(client: WsClient, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Closed> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the socket to ${client.url} was still open after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([client.closed, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Polls `probe` until it returns true, at most `timeoutMs`; for state the tracker changes on a
 * close it learns of asynchronously. `what` names the awaited state in the error.
 */
export async function eventually(
  probe: () => Promise<boolean>,
  what: string,
  timeoutMs = ANSWER_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not so within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A running shoal with the WebSocket tracker on its HTTP addresses. */
export interface WsShoal extends HttpShoal {
  /** `ws://host:port<path>` of the HTTP address of `family`; `path` default "/announce". */
  url(family: 4 | 6, path?: string): string;
}

export function wsUrl(e: HttpEndpoint, path = "/announce"): string {
  return `ws://${e.family === 6 ? `[${e.host}]` : e.host}:${e.port}${path}`;
}

/**
 * Starts shoal with HTTP (and so the WebSocket tracker) on 127.0.0.1:0 and [::1]:0, UDP and the
 * API off; `ws` sets keys of the [ws] section, `sections` any other.
 */
export async function startWsShoal(
  ws: Record<string, number | boolean> = {},
  options: StartOptions & { sections?: ConfigSections | ((dir: string) => ConfigSections) } = {},
): Promise<WsShoal> {
  const { sections, ...rest } = options;
  const t = await startHttpShoal({
    ...rest,
    sections: (dir) => {
      const s = typeof sections === "function" ? sections(dir) : (sections ?? {});
      return { ...s, ws: { ...s.ws, ...ws } };
    },
  });
  return Object.assign(t, {
    url(family: 4 | 6, path = "/announce") {
      return wsUrl(t.endpoint(family), path);
    },
  });
}
