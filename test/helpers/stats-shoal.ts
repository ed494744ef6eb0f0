// Helpers for the statistics tests: a running shoal with UDP, HTTP, WebSocket and the API on
// loopback, requests to its API, a raw HTTP/1.1 tracker client that controls exactly how many
// connections and requests it makes, and a small WebSocket client that queues what it receives.

import http from "node:http";
import net from "node:net";
import WebSocket from "ws";
import {
  type ConfigSections,
  type LogLine,
  type ShoalProcess,
  type StartOptions,
  shoalConfig,
  startShoal,
} from "./shoal-process.ts";
import type { Endpoint } from "./udp-client.ts";

/** Time to wait for something that must come; loopback answers in well under a second. */
export const WAIT_MS = 10_000;

export interface FamilyEndpoint extends Endpoint {
  family: 4 | 6;
}

export interface StatsShoal {
  readonly shoal: ShoalProcess;
  readonly udp4: Endpoint;
  readonly udp6: Endpoint;
  readonly http4: FamilyEndpoint;
  readonly http6: FamilyEndpoint;
  /** Every address of the "listening" line, as printed. */
  readonly listening: { udp: string[]; http: string[]; api: string };
  readonly api: Endpoint;
}

/**
 * TOML with every part on: UDP and HTTP (with WebSocket upgrades) on ephemeral ports of both
 * loopbacks, the API on 127.0.0.1:0, no snapshot. `overrides` adds or replaces keys.
 */
export function statsConfig(dir: string, overrides: ConfigSections = {}): string {
  const base: ConfigSections = {
    udp: { enabled: true, addresses: ["127.0.0.1:0", "[::1]:0"] },
    http: { enabled: true, addresses: ["127.0.0.1:0", "[::1]:0"] },
    ws: { enabled: true },
    api: { enabled: true, address: "127.0.0.1:0" },
    store: { snapshot_path: "" },
  };
  for (const [name, keys] of Object.entries(overrides)) base[name] = { ...base[name], ...keys };
  return shoalConfig(dir, base);
}

export function parseEndpoint(text: string): FamilyEndpoint {
  const v6 = /^\[(.*)\]:(\d+)$/.exec(text);
  if (v6 !== null) return { host: v6[1], port: Number(v6[2]), family: 6 };
  const v4 = /^([^:]*):(\d+)$/.exec(text);
  if (v4 === null) throw new Error(`cannot read the address "${text}"`);
  return { host: v4[1], port: Number(v4[2]), family: 4 };
}

export async function startStatsShoal(
  options: StartOptions & { sections?: ConfigSections } = {},
): Promise<StatsShoal> {
  const { sections, ...rest } = options;
  const shoal = await startShoal({ ...rest, config: rest.config ?? ((dir) => statsConfig(dir, sections)) });
  const line = shoal.logs.find((l: LogLine) => l.msg === "listening");
  const udp = line?.udp;
  const httpList = line?.http;
  const api = line?.api;
  if (!Array.isArray(udp) || !Array.isArray(httpList) || typeof api !== "string") {
    await shoal.cleanup();
    throw new Error(`the listening line lacks udp, http or api: ${JSON.stringify(line)}`);
  }
  const https = (httpList as string[]).map(parseEndpoint);
  const pick = (family: 4 | 6) => {
    const e = https.find((h) => h.family === family);
    if (e === undefined) throw new Error(`no IPv${family} HTTP address in ${JSON.stringify(httpList)}`);
    return e;
  };
  return {
    shoal,
    udp4: shoal.udp4,
    udp6: shoal.udp6,
    http4: pick(4),
    http6: pick(6),
    listening: { udp: udp as string[], http: httpList as string[], api },
    api: parseEndpoint(api),
  };
}

export function hostOf(e: Endpoint): string {
  return e.host.includes(":") ? `[${e.host}]` : e.host;
}

export interface ApiResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request to the API server on a fresh connection. */
export function apiRequest(
  api: Endpoint,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: api.host,
        port: api.port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: false,
        timeout: WAIT_MS,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from the API to ${path} within ${WAIT_MS} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** GET `path` and parse the JSON body; throws unless the status is 200. */
export async function apiJson<T = unknown>(api: Endpoint, path: string, token?: string): Promise<T> {
  const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  const r = await apiRequest(api, path, { headers });
  if (r.status !== 200) throw new Error(`GET ${path}: status ${r.status}: ${r.text}`);
  return JSON.parse(r.text) as T;
}

/** Polls `read` until `done` holds for its value; throws with the last value after `ms`. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  ms = WAIT_MS,
  every = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await read();
      lastError = undefined;
      if (done(last)) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError !== undefined ? String(lastError) : JSON.stringify(last);
      throw new Error(`${what}: not reached within ${ms} ms; last: ${detail}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

// --- HTTP tracker, raw ---

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Opens ONE TCP connection to `e`, sends the GET requests for `paths` one after another (each
 * after the previous answer; the last with "Connection: close", the others keep-alive), and
 * resolves with the answers once the tracker has closed the connection.
 */
export function httpExchange(e: Endpoint, paths: readonly string[]): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: e.host, port: e.port });
    const answers: RawResponse[] = [];
    let buf = Buffer.alloc(0);
    let sent = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`HTTP exchange with ${hostOf(e)}:${e.port} (${paths.join(" ")}) took over ${WAIT_MS} ms`),
      );
    }, WAIT_MS);
    const sendNext = () => {
      const last = sent === paths.length - 1;
      socket.write(
        `GET ${paths[sent]} HTTP/1.1\r\nHost: ${hostOf(e)}:${e.port}\r\n` +
          `Connection: ${last ? "close" : "keep-alive"}\r\n\r\n`,
      );
      sent++;
    };
    const parse = () => {
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const lines = buf.toString("latin1", 0, end).split("\r\n");
        const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0])?.[1] ?? Number.NaN);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const colon = l.indexOf(":");
          headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
        }
        const length = Number(headers["content-length"] ?? "0");
        if (buf.length < end + 4 + length) return;
        answers.push({ status, headers, body: Buffer.from(buf.subarray(end + 4, end + 4 + length)) });
        buf = buf.subarray(end + 4 + length);
        if (sent < paths.length) sendNext();
      }
    };
    socket.on("connect", sendNext);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      parse();
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      if (answers.length !== paths.length) {
        reject(new Error(`the connection closed after ${answers.length} of ${paths.length} answers`));
      } else resolve(answers);
    });
  });
}

/** One GET on its own connection. */
export async function httpGet(e: Endpoint, path: string): Promise<RawResponse> {
  const [r] = await httpExchange(e, [path]);
  return r;
}

// --- WebSocket ---

export type WsMessage = Record<string, unknown>;

/** A WebSocket client that keeps every text message it receives, parsed as JSON. */
export class QueueWs {
  readonly ws: WebSocket;
  readonly received: WsMessage[] = [];
  private taken = 0;
  private waiters = new Set<() => void>();
  private closedFlag = false;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data: WebSocket.RawData) => {
      const text = data.toString();
      let m: WsMessage;
      try {
        m = JSON.parse(text) as WsMessage;
      } catch {
        m = { raw: text };
      }
      this.received.push(m);
      for (const w of this.waiters) w();
    });
    ws.on("close", () => {
      this.closedFlag = true;
      for (const w of this.waiters) w();
    });
  }

  static open(url: string): Promise<QueueWs> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: WAIT_MS });
      const client = new QueueWs(ws);
      ws.once("open", () => {
        ws.off("error", reject);
        ws.on("error", () => {});
        resolve(client);
      });
      ws.once("error", reject);
    });
  }

  send(message: WsMessage | string): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The next message not yet taken, waiting (bounded) for it. */
  next(what = "a message"): Promise<WsMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.taken < this.received.length) {
          finish();
          resolve(this.received[this.taken++]);
        } else if (this.closedFlag) {
          finish();
          reject(new Error(`the socket closed while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${WAIT_MS} ms`));
      }, WAIT_MS);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** How many messages arrived that were not taken with next(). */
  get untaken(): number {
    return this.received.length - this.taken;
  }

  close(): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close();
      setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, WAIT_MS).unref();
    });
  }
}
