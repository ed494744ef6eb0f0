// One running tracker: the core, its store and the servers of every enabled protocol, with the
// timers that keep them (clock, expiry, snapshots, bans). The CLI owns signals and exit codes.

import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { Config } from "../config/schema.ts";
import { parseAddress } from "../config/schema.ts";
import { AccessList, type AccessMode, readAccessList } from "../core/access-list.ts";
import { parseCidr } from "../core/cidr.ts";
import { Clock } from "../core/clock.ts";
import { MemoryStore } from "../core/memory-store.ts";
import { loadSnapshot, writeSnapshot } from "../core/snapshot.ts";
import type { SwarmStore } from "../core/swarm-store.ts";
import { Tracker } from "../core/tracker.ts";
import { createRegistry } from "../stats/prometheus.ts";
import type { StatsSources, TorrentFigures } from "../stats/sources.ts";
import { ApiServer } from "./api/api-server.ts";
import type { Listener } from "./api/health.ts";
import { HttpServer } from "./http/http-server.ts";
import type { Logger } from "./log.ts";
import { UdpServer } from "./udp/udp-server.ts";
import { WsTracker } from "./ws/ws-tracker.ts";

const BAN_PRUNE_EVERY = 10; // seconds

export interface Shoal {
  readonly tracker: Tracker;
  readonly store: SwarmStore;
  readonly udp: UdpServer | null;
  readonly http: HttpServer | null;
  readonly ws: WsTracker | null;
  readonly api: ApiServer | null;
  /** Bound addresses, as "ip:port" or "[ip]:port", per protocol. */
  readonly addresses: { udp: string[]; http: string[]; api: string | null };
  reloadAccessList(): Promise<void>;
  /** Re-reads the TLS certificate and key (SIGHUP); a failure keeps the old ones. */
  reloadTls(): void;
  saveSnapshot(): Promise<void>;
  /** Stops receiving, writes the snapshot and releases everything. */
  close(): Promise<void>;
}

/** Throws AccessListError when the configured list cannot be read; the caller exits with 2. */
export async function startShoal(config: Config, log: Logger): Promise<Shoal> {
  const clock = new Clock();
  const accessMode = config.access_list.mode as AccessMode;
  const accessList = new AccessList(
    accessMode,
    accessMode === "off" ? new Set() : await readAccessList(config.access_list.path),
  );
  if (accessMode !== "off") {
    log.info(
      { mode: accessMode, path: config.access_list.path, hashes: accessList.size },
      "access list loaded",
    );
  }

  const store = new MemoryStore(clock, { peerTimeout: config.tracker.peer_timeout });
  const tracker = new Tracker(store, accessList, {
    announceInterval: config.tracker.announce_interval,
    minAnnounceInterval: config.tracker.min_announce_interval,
    defaultNumwant: config.tracker.default_numwant,
    maxNumwant: config.tracker.max_numwant,
  });

  const snapshotPath = config.store.snapshot_path;
  if (snapshotPath !== "") {
    const loaded = await loadSnapshot(snapshotPath, store);
    if (loaded.status === "loaded")
      log.info({ path: snapshotPath, torrents: loaded.torrents }, "snapshot loaded");
    else if (loaded.status === "missing") log.info({ path: snapshotPath }, "no snapshot yet; starting empty");
    else log.error({ path: snapshotPath, problem: loaded.problem }, "snapshot unreadable; starting empty");
  }

  const addresses = { udp: [] as string[], http: [] as string[], api: null as string | null };
  let udp: UdpServer | null = null;
  let http: HttpServer | null = null;
  let ws: WsTracker | null = null;
  let api: ApiServer | null = null;
  const timers: NodeJS.Timeout[] = [];
  const closeAll = async () => {
    for (const t of timers) clearInterval(t);
    ws?.close();
    await Promise.all([udp?.close(), http?.close(), api?.close()]);
  };
  const show = (address: string, port: number, family: 4 | 6) =>
    family === 6 ? `[${address}]:${port}` : `${address}:${port}`;

  try {
    if (config.udp.enabled) {
      const u = new UdpServer(
        tracker,
        clock,
        {
          connectionIdSecret: config.udp.connection_id_secret,
          banThreshold: config.udp.ban_threshold,
          banWindow: config.udp.ban_window,
          banDuration: config.udp.ban_duration,
          banTableSize: config.udp.ban_table_size,
          receiveBufferSize: config.udp.receive_buffer_size,
          sendBufferSize: config.udp.send_buffer_size,
        },
        (err, where) => log.error({ err, address: where }, "udp socket error"),
      );
      udp = u;
      for (const text of config.udp.addresses) {
        const b = await u.listen(parseAddress(text));
        addresses.udp.push(show(b.address, b.port, b.family));
      }
    }
    if (config.http.enabled) {
      const h = config.http;
      const tlsFiles = h.tls_cert_path === "" ? null : readTlsFiles(h.tls_cert_path, h.tls_key_path);
      const s = new HttpServer(tracker, clock, {
        maxUrlLength: h.max_url_length,
        maxHeaderSize: h.max_header_size,
        maxHeaders: h.max_headers,
        headerTimeout: h.header_timeout,
        idleTimeout: h.idle_timeout,
        maxRequestsPerConnection: h.max_requests_per_connection,
        maxConnections: h.max_connections,
        maxScrapeHashes: h.max_scrape_hashes,
        fullScrape: h.full_scrape,
        fullScrapeInterval: h.full_scrape_interval,
        trustedProxies: h.trusted_proxies.map(parseCidr),
        proxyHeader: h.proxy_header,
        allowIpParam: h.allow_ip_param,
        tls: tlsFiles,
      });
      http = s;
      if (config.ws.enabled) {
        const w = config.ws;
        const t = new WsTracker(tracker, clock, {
          announceInterval: w.announce_interval,
          maxMessageSize: w.max_message_size,
          maxOffersPerAnnounce: w.max_offers_per_announce,
          offerTtl: w.offer_ttl,
          maxSwarmsPerSocket: w.max_swarms_per_socket,
          maxSocketsPerIp: w.max_sockets_per_ip,
          idleTimeout: w.idle_timeout,
          pingInterval: w.ping_interval,
          maxBufferedBytes: w.max_buffered_bytes,
          maxBadMessages: w.max_bad_messages,
          maxScrapeHashes: h.max_scrape_hashes,
        });
        ws = t;
        s.upgrade = (socket, url, headers, rest, family, ip) =>
          t.upgrade(socket, url, headers, rest, family, ip);
      }
      for (const text of h.addresses) {
        const a = parseAddress(text);
        const b = await s.listen(a.host, a.port, a.family);
        addresses.http.push(show(b.address, b.port, b.family));
      }
    }
    if (config.api.enabled) {
      // Torrent figures of an asynchronous store are refreshed by the 1 s timer below.
      let torrentFigures: TorrentFigures = { torrents: 0, seeders: 0, leechers: 0, completed: 0 };
      const sources: StatsSources = {
        torrents: () => {
          const t = store.totals();
          if (!(t instanceof Promise)) torrentFigures = t;
          return torrentFigures;
        },
        webTorrents: ws === null ? null : () => (ws as WsTracker).swarms.totals(),
        udp: udp?.stats ?? null,
        udpBannedIps: () => udp?.bans.bannedCount ?? 0,
        http: http?.stats ?? null,
        ws: ws?.stats ?? null,
        apiUnauthorized: () => api?.unauthorized ?? 0,
      };
      const listeners = (): Listener[] => [
        ...(udp?.bound ?? []).map((b) => ({
          protocol: "udp" as const,
          address: show(b.address, b.port, b.family),
          up: b.up,
        })),
        ...(http?.addresses ?? []).map((b) => ({
          protocol: http?.secure ? ("https" as const) : ("http" as const),
          address: show(b.address, b.port, b.family),
          up: b.up,
        })),
      ];
      api = new ApiServer({
        accessTokens: config.api.access_tokens,
        sources,
        registry: createRegistry(sources),
        listeners,
      });
      const a = parseAddress(config.api.address, 7070);
      const b = await api.listen(a.host, a.port);
      addresses.api = show(b.address, b.port, a.family);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }

  let seconds = 0;
  timers.push(
    setInterval(() => {
      clock.tick();
      store.expire(config.store.expiry_batch);
      http?.maintain();
      ws?.maintain();
      if (++seconds % BAN_PRUNE_EVERY === 0) udp?.maintain();
    }, 1000).unref(),
  );

  let snapshotRunning: Promise<void> | null = null;
  const saveSnapshot = async () => {
    if (snapshotPath === "") return;
    if (snapshotRunning !== null) return snapshotRunning;
    snapshotRunning = writeSnapshot(snapshotPath, store)
      .then((torrents) => log.debug({ path: snapshotPath, torrents }, "snapshot written"))
      .catch((err) => log.error({ err, path: snapshotPath }, "snapshot not written"))
      .finally(() => {
        snapshotRunning = null;
      });
    return snapshotRunning;
  };
  if (snapshotPath !== "") {
    timers.push(setInterval(() => void saveSnapshot(), config.store.snapshot_interval * 1000).unref());
  }

  return {
    tracker,
    store,
    udp,
    http,
    ws,
    api,
    addresses,
    reloadTls() {
      const h = config.http;
      if (http === null || !http.secure) {
        log.info("TLS reload asked, but HTTPS is not configured");
        return;
      }
      try {
        const files = readTlsFiles(h.tls_cert_path, h.tls_key_path);
        http.reloadTls(files.cert, files.key);
        log.info({ cert: h.tls_cert_path }, "TLS certificate reloaded");
      } catch (err) {
        log.error(
          { cert: h.tls_cert_path, problem: (err as Error).message },
          "TLS reload failed; keeping the previous certificate",
        );
      }
    },
    async reloadAccessList() {
      if (accessMode === "off") {
        log.info("access list reload asked, but access_list.mode is off");
        return;
      }
      try {
        const hashes = await readAccessList(config.access_list.path);
        accessList.replace(hashes);
        log.info({ path: config.access_list.path, hashes: hashes.size }, "access list reloaded");
      } catch (err) {
        log.error(
          { path: config.access_list.path, problem: (err as Error).message, kept: accessList.size },
          "access list reload failed; keeping the previous list",
        );
      }
    },
    saveSnapshot,
    async close() {
      await closeAll();
      if (snapshotRunning !== null) await snapshotRunning;
      await saveSnapshot();
    },
  };
}

/** A start-up failure caused by what the configuration points at: the CLI exits with 2. */
export class StartupConfigError extends Error {
  readonly key: string;
  constructor(key: string, problem: string) {
    super(`${key}: ${problem}`);
    this.name = "StartupConfigError";
    this.key = key;
  }
}

/** Reads the PEM files and checks that they make a usable pair; errors name the key. */
function readTlsFiles(certPath: string, keyPath: string): { cert: Buffer; key: Buffer } {
  const read = (path: string, key: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new StartupConfigError(key, `cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const files = { cert: read(certPath, "http.tls_cert_path"), key: read(keyPath, "http.tls_key_path") };
  try {
    createSecureContext(files);
  } catch (err) {
    throw new StartupConfigError(
      "http.tls_cert_path",
      `${certPath} with ${keyPath}: ${(err as Error).message}`,
    );
  }
  return files;
}
