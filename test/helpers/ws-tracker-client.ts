// The npm `bittorrent-tracker` client (what WebTorrent uses) for the interop tests, with the
// little of its API the tests need typed here (the package ships no types), and the WebRTC
// stand-in it needs in Node: test/support/webrtc-polyfill-stub makes SDP-shaped offers and
// answers without ever connecting, so only the signalling path runs.

import type { EventEmitter } from "node:events";

/** A simple-peer object the client emits on 'peer'. */
export interface TrackerPeer extends EventEmitter {
  /** The remote peer id, hex. */
  id?: string;
  destroy(): void;
}

export interface ScrapeData {
  announce: string;
  infoHash: string;
  complete: number;
  incomplete: number;
  downloaded: number;
}

export interface UpdateData {
  announce: string;
  infoHash: string;
  complete: number;
  incomplete: number;
}

export interface TrackerClient extends EventEmitter {
  start(opts?: { left?: number; numwant?: number }): void;
  stop(opts?: Record<string, unknown>): void;
  complete(opts?: Record<string, unknown>): void;
  update(opts?: Record<string, unknown>): void;
  scrape(opts?: { infoHash?: string | string[] }): void;
  destroy(cb?: (err?: Error | null) => void): void;
  on(event: "peer", listener: (peer: TrackerPeer) => void): this;
  on(event: "update", listener: (data: UpdateData) => void): this;
  on(event: "scrape", listener: (data: ScrapeData) => void): this;
  on(event: "warning" | "error", listener: (err: Error) => void): this;
}

export interface TrackerClientOptions {
  /** Hex. */
  infoHash: string;
  /** Hex. */
  peerId: string;
  announce: string[];
  port: number;
  wrtc: unknown;
  getAnnounceOpts?: () => Record<string, unknown>;
}

type ClientConstructor = new (opts: TrackerClientOptions) => TrackerClient;

// Specifiers in variables: the modules are plain JavaScript without declarations.
const CLIENT_MODULE = "bittorrent-tracker";
const STUB_MODULE = new URL("../support/webrtc-polyfill-stub/index.js", import.meta.url).href;

/** Loads the client class and the WebRTC stand-in module (`import * as wrtc`). */
export async function loadTrackerClient(): Promise<{ Client: ClientConstructor; wrtc: unknown }> {
  const mod = (await import(CLIENT_MODULE)) as { default: ClientConstructor };
  const wrtc: unknown = await import(STUB_MODULE);
  return { Client: mod.default, wrtc };
}
