// One running tracker: the core, its store and the servers of every enabled protocol, with the
// timers that keep them (clock, expiry, snapshots, bans). The CLI owns signals and exit codes.

import type { Config } from "../config/schema.ts";
import { parseAddress } from "../config/schema.ts";
import { AccessList, type AccessMode, readAccessList } from "../core/access-list.ts";
import { Clock } from "../core/clock.ts";
import { MemoryStore } from "../core/memory-store.ts";
import { loadSnapshot, writeSnapshot } from "../core/snapshot.ts";
import type { SwarmStore } from "../core/swarm-store.ts";
import { Tracker } from "../core/tracker.ts";
import type { Logger } from "./log.ts";
import { UdpServer } from "./udp/udp-server.ts";

const BAN_PRUNE_EVERY = 10; // seconds

export interface Shoal {
  readonly tracker: Tracker;
  readonly store: SwarmStore;
  readonly udp: UdpServer | null;
  /** Bound addresses, as "ip:port" or "[ip]:port", per protocol. */
  readonly addresses: { udp: string[] };
  reloadAccessList(): Promise<void>;
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

  const addresses = { udp: [] as string[] };
  let udp: UdpServer | null = null;
  const timers: NodeJS.Timeout[] = [];
  const closeAll = async () => {
    for (const t of timers) clearInterval(t);
    if (udp !== null) await udp.close();
  };

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
        addresses.udp.push(b.family === 6 ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`);
      }
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  if (config.http.enabled && config.http.addresses.length > 0) {
    log.warn("the HTTP tracker is not part of this build yet; [http] is ignored");
  }

  let seconds = 0;
  timers.push(
    setInterval(() => {
      clock.tick();
      store.expire(config.store.expiry_batch);
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
    addresses,
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
