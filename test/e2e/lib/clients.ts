// How each real BitTorrent client is run as a seed or as a downloader for the end-to-end tests,
// with DHT, peer exchange, local peer discovery and port mapping off, so that the tracker is
// the only way two clients can meet. What each client can and cannot do on loopback is written
// next to its driver; the flags come from each client's manual (aria2c(1), transmission-cli
// --help with transmission-daemon --dump-settings for the settings file, libtorrent's
// settings_pack reference).

import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ClientProcess } from "./client-process.ts";
import { freePort } from "./ports.ts";
import { requireTool, TOOLS } from "./tools.ts";

export type ClientName = "libtorrent" | "transmission" | "aria2";
export type Protocol = "udp" | "http";
export type Family = 4 | 6;
export type Role = "seed" | "download";

export interface PeerOptions {
  role: Role;
  torrentPath: string;
  /** Seed: holds the payload. Download: empty; the payload lands here. */
  dataDir: string;
  /** The client's own directory: its settings, state and HOME. */
  workDir: string;
  family: Family;
  protocol: Protocol;
}

export interface Peer {
  readonly process: ClientProcess;
  /**
   * Download role: resolves once the client says the download is complete (it may go on
   * seeding until stopped; its files are complete on disk once it has exited); rejects when it
   * fails first or after `timeoutMs`.
   */
  complete(timeoutMs: number): Promise<void>;
}

export interface ClientDriver {
  readonly name: ClientName;
  /**
   * Whether the client connects to loopback peers that a tracker hands it. When it does not, the
   * other peer must come to it: in a test it announces first, and the seed's first announce
   * brings it the downloader.
   */
  readonly dialsLoopbackPeers: boolean;
  /** Whether a download sends the tracker a "completed" announce (the tracker then counts it). */
  readonly announcesCompleted: boolean;
  /** Whether the client, told to stop, surely sends the tracker a "stopped" announce before exiting. */
  readonly announcesStopped: boolean;
  /** Why the client cannot use this kind of announce URL, or null when it can. */
  unsupported(protocol: Protocol, family: Family): string | null;
  start(options: PeerOptions): Promise<Peer>;
}

const LIBTORRENT_SCRIPT = resolve(import.meta.dirname, "../lt_client.py");
/** Time for a client to check its data (a seed) and bind its sockets. */
const LISTEN_TIMEOUT_MS = 20_000;

/** The environment of a client: its HOME (and XDG dirs) in its work dir, so no user config is read. */
function clientEnv(workDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: workDir,
    XDG_CONFIG_HOME: join(workDir, ".config"),
    XDG_CACHE_HOME: join(workDir, ".cache"),
    XDG_DATA_HOME: join(workDir, ".local/share"),
    LANG: "C.UTF-8",
    TZ: "UTC",
  };
  return env;
}

/**
 * Waits until the client's output shows its sockets bound (`ok`) or failing to bind (`failed`).
 * On failure or timeout the client is killed and the error carries the end of its output.
 */
async function confirmListening(
  proc: ClientProcess,
  ok: (output: string) => boolean,
  failed: (output: string) => boolean,
  what: string,
): Promise<void> {
  try {
    await proc.waitForOutput((out) => ok(out) || failed(out), LISTEN_TIMEOUT_MS, what);
    if (failed(proc.output())) throw new Error(`${proc.label} could not bind ${what}`);
  } catch (err) {
    await proc.kill();
    throw new Error(`${(err as Error).message}:\n${proc.tail(30)}`);
  }
}

function loopback(family: Family): string {
  return family === 6 ? "::1" : "127.0.0.1";
}

// ---------------------------------------------------------------------------------------------
// libtorrent: test/e2e/lt_client.py on Debian's python3-libtorrent (libtorrent-rasterbar 2.0).
// Listens on the loopback address of the test's family, port 0 (the kernel picks); its tracker
// traffic and peer connections leave from that address.

const libtorrent: ClientDriver = {
  name: "libtorrent",
  dialsLoopbackPeers: true,
  announcesCompleted: true,
  announcesStopped: true,
  unsupported: () => null,
  async start(o) {
    const python = requireTool(TOOLS.libtorrent);
    const listen = o.family === 6 ? "[::1]:0" : "127.0.0.1:0";
    const proc = new ClientProcess(
      `libtorrent ${o.role}`,
      python,
      [
        LIBTORRENT_SCRIPT,
        "--mode",
        o.role,
        "--torrent",
        o.torrentPath,
        "--save-path",
        o.dataDir,
        "--listen",
        listen,
      ],
      {
        cwd: o.workDir,
        env: { ...clientEnv(o.workDir), PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
        stopSignal: "SIGTERM",
      },
    );
    return {
      process: proc,
      complete: (timeoutMs) =>
        proc.waitForOutput(
          (out) => out.includes('"event": "finished"'),
          timeoutMs,
          "the end of the download",
        ),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Transmission 3.00: transmission-cli, one torrent per process, settings from settings.json in
// its own config dir (-g). Known limits on loopback, both in libtransmission 3.00:
//  - peers that a tracker hands it on 127.0.0.0/8 or ::1 are dropped as "martian" (net.c,
//    isMartianAddr): it never dials them, but accepts their connections. As a downloader it
//    therefore announces first and the seed comes to it.
//  - its UDP tracker client has an IPv6 socket only when the host has a global IPv6 address, so
//    udp://[::1] trackers are unreachable for it.
//  - bind-address-ipv4 is also the source address of its HTTP tracker requests (curl's
//    CURLOPT_INTERFACE), so with an IPv6 tracker it must stay 0.0.0.0.
//  - transmission-cli handles SIGINT, not SIGTERM (which kills it on the spot). Even on SIGINT
//    its "stopped" announce is not certain to go out: it stops the torrent, which only queues
//    the event, and closes its session at once; seen here, over HTTP the event was lost every
//    time, over UDP it went out. Its peer may stay in the swarm until it times out.
//  - it takes its time: it unchokes and updates its interest in peers in periodic passes, so a
//    transfer with it takes 10 to 20 s where libtorrent and aria2 need well under one.
// The download is complete when it logs 'State changed from "Incomplete" to "Complete"'.

const transmission: ClientDriver = {
  name: "transmission",
  dialsLoopbackPeers: false,
  announcesCompleted: true,
  announcesStopped: false,
  unsupported: (protocol, family) =>
    protocol === "udp" && family === 6
      ? "Transmission 3.00 has no IPv6 UDP tracker socket without a global IPv6 address"
      : null,
  async start(o) {
    const program = requireTool(TOOLS.transmission);
    const bindV4 = o.family === 4 ? "127.0.0.1" : "0.0.0.0";
    const port = await freePort(loopback(o.family), o.family === 4 ? "::1" : "0.0.0.0");
    const configDir = join(o.workDir, "config");
    const settings = {
      "bind-address-ipv4": bindV4,
      "bind-address-ipv6": "::1",
      "peer-port": port,
      "peer-port-random-on-start": false,
      "dht-enabled": false,
      "lpd-enabled": false,
      "pex-enabled": false,
      "port-forwarding-enabled": false,
      "utp-enabled": false,
      "rpc-enabled": false,
      "blocklist-enabled": false,
      "download-dir": o.dataDir,
      "incomplete-dir-enabled": false,
      "download-queue-enabled": false,
      "seed-queue-enabled": false,
      "queue-stalled-enabled": false,
      "ratio-limit-enabled": false,
      "idle-seeding-limit-enabled": false,
      "speed-limit-down-enabled": false,
      "speed-limit-up-enabled": false,
      "start-added-torrents": true,
      // 3 = debug: announces ("Announcing to tracker", "Got N peers from tracker"), tracker
      // errors, verification and state changes (2 leaves out the announces).
      "message-level": 3,
    };
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, "settings.json"), `${JSON.stringify(settings, null, 2)}\n`);
    const proc = new ClientProcess(
      `transmission ${o.role}`,
      program,
      ["--config-dir", configDir, "--download-dir", o.dataDir, o.torrentPath],
      {
        cwd: o.workDir,
        env: clientEnv(o.workDir),
        stopSignal: "SIGINT",
        noise: /\[LAZY\] checking just-completed piece/,
      },
    );
    // The port was free a moment ago; make sure it still was when Transmission bound it (it
    // carries on without a listening socket otherwise).
    const bound = new RegExp(`Bound socket \\d+ to port ${port} on ${bindV4.replaceAll(".", "\\.")}`);
    await confirmListening(
      proc,
      (out) => bound.test(out),
      (out) => out.includes("Couldn't bind port"),
      `its peer socket on port ${port}`,
    );
    return {
      process: proc,
      complete: (timeoutMs) =>
        proc.waitForOutput(
          (out) => out.includes('State changed from "Incomplete" to "Complete"'),
          timeoutMs,
          "the end of the download",
        ),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// aria2 1.36: aria2c, bound to the loopback address of the test's family (--interface) for
// listening, peer connections and tracker requests. Its UDP tracker client lives in its IPv4
// DHT code: with --enable-dht=false a udp:// tracker fails with "udp is not supported yet", and
// it has no IPv6 UDP tracker at all. For udp:// the DHT subsystem is therefore switched on, with
// no entry point and an empty routing table of its own, and the torrent is private: aria2 then
// uses DHT for nothing, the tracker stays the only source of peers. A download runs with
// --seed-time=0: it exits 0 once the file is complete and written (and sends "stopped", not
// "completed": the tracker does not count it as a download). SIGTERM makes it shut down at once
// ("Emergency shutdown", no "stopped" announce); SIGINT shuts it down gracefully.

const aria2: ClientDriver = {
  name: "aria2",
  dialsLoopbackPeers: true,
  announcesCompleted: false,
  announcesStopped: true,
  unsupported: (protocol, family) =>
    protocol === "udp" && family === 6 ? "aria2 1.36 has no IPv6 UDP tracker client" : null,
  async start(o) {
    const program = requireTool(TOOLS.aria2);
    const address = loopback(o.family);
    const port = await freePort(address);
    const args = [
      "--no-conf",
      `--interface=${address}`,
      `--disable-ipv6=${o.family === 4}`,
      `--listen-port=${port}`,
      `--dir=${o.dataDir}`,
      "--enable-peer-exchange=false",
      "--bt-enable-lpd=false",
      "--enable-dht6=false",
      "--bt-tracker-connect-timeout=10",
      "--bt-tracker-timeout=10",
      "--file-allocation=none",
      "--auto-save-interval=0",
      `--stop-with-process=${process.pid}`,
      "--summary-interval=0",
      "--show-console-readout=false",
      "--enable-color=false",
      "--console-log-level=error",
      "--log=-",
      "--log-level=info",
    ];
    if (o.protocol === "udp") {
      const dhtPort = await freePort(address);
      args.push(
        "--enable-dht=true",
        `--dht-listen-port=${dhtPort}`,
        `--dht-file-path=${join(o.workDir, "dht.dat")}`,
      );
    } else {
      args.push("--enable-dht=false");
    }
    if (o.role === "seed") {
      args.push("--check-integrity=true", "--bt-hash-check-seed=true", "--seed-ratio=0.0");
    } else {
      args.push("--seed-time=0");
    }
    args.push(o.torrentPath);
    const proc = new ClientProcess(`aria2 ${o.role}`, program, args, {
      cwd: o.workDir,
      env: clientEnv(o.workDir),
      stopSignal: "SIGINT",
      noise: / - (To|From): \S+ (piece|request|have|cancel|allowed fast|reject) index=/,
    });
    // The ports were free a moment ago; make sure they still were when aria2 bound them (it
    // carries on without them otherwise). A seed binds its peer port after checking its data.
    const listening = [`IPv${o.family} BitTorrent: listening on TCP port ${port}`];
    if (o.protocol === "udp") listening.push("IPv4 DHT: listening on UDP port");
    const failed = [`IPv${o.family} BitTorrent: failed to bind`, "IPv4 DHT: failed to bind"];
    await confirmListening(
      proc,
      (out) => listening.every((l) => out.includes(l)),
      (out) => failed.some((f) => out.includes(f)),
      o.protocol === "udp" ? "its peer socket and its DHT (UDP tracker) socket" : "its peer socket",
    );
    return {
      process: proc,
      async complete(timeoutMs) {
        const status = await proc.waitForExit(timeoutMs, "the end of the download");
        if (status.code !== 0) throw new Error(`aria2 download ${proc.describeExit(status)}`);
      },
    };
  },
};

export const CLIENTS: Record<ClientName, ClientDriver> = { libtorrent, transmission, aria2 };
