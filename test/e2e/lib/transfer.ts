// One real file transfer through a real shoal: a random payload, a private .torrent made by
// mktorrent whose only tracker is shoal (udp:// or http://, IPv4 or IPv6 loopback), one client
// seeding it and another downloading it, and the downloaded file compared with the original by
// SHA-256. Everything is bounded in time and everything started is stopped, and the temporary
// directory removed, whatever happens. A failure says what was awaited and shows the end of
// every client's output, the tracker's counts for the torrent and shoal's own output.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bdecode, bencode } from "../../../src/protocol/bencode.ts";
import { httpAddressesOf } from "../../helpers/http-process.ts";
import { type ShoalProcess, shoalConfig, startShoal } from "../../helpers/shoal-process.ts";
import { UdpTrackerClient } from "../../helpers/udp-client.ts";
import type { ClientProcess } from "./client-process.ts";
import { CLIENTS, type ClientName, type Family, type Peer, type Protocol, type Role } from "./clients.ts";
import { requireTool, TOOLS } from "./tools.ts";

export interface TransferCase {
  seeder: ClientName;
  downloader: ClientName;
  protocol: Protocol;
  family: Family;
}

/** The whole transfer, from the tracker's start to the hash check, must fit in this. */
export const TRANSFER_TIMEOUT_MS = 120_000;
/** A node:test timeout for one transfer test: the transfer's own bound plus time to clean up. */
export const TEST_TIMEOUT_MS = TRANSFER_TIMEOUT_MS + 30_000;
/** Time for a started client to check its data and show up in the tracker's counts. */
const REGISTER_TIMEOUT_MS = 30_000;
/** Time for the tracker to count a download whose client sends "completed". */
const COMPLETED_TIMEOUT_MS = 15_000;
/** Time for the tracker to drop peers that have sent "stopped". */
const STOPPED_TIMEOUT_MS = 10_000;
const SCRAPE_POLL_MS = 200;

/** A few MiB, not a whole number of pieces: the last piece is a short one. */
const PAYLOAD_BYTES = 4 * 1024 * 1024 + 54_321;
const PAYLOAD_NAME = "payload.bin";
/** mktorrent -l: 2^17 = 128 KiB pieces, 33 of them. */
const PIECE_LENGTH_LOG2 = 17;

function loopbackHost(family: Family): string {
  return family === 6 ? "[::1]" : "127.0.0.1";
}

/** The test name: which client seeds, which downloads, over which announce URL. */
export function transferTitle(c: TransferCase): string {
  return `${c.seeder} seeds, ${c.downloader} downloads, announce ${c.protocol}://${loopbackHost(c.family)}`;
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The info hash of a .torrent file: SHA-1 of its bencoded info dictionary, as written. */
function infoHashOf(torrentPath: string): Buffer {
  const meta = bdecode(readFileSync(torrentPath));
  if (!(meta instanceof Map) || !(meta.get("info") instanceof Map)) {
    throw new Error(`${torrentPath} has no info dictionary`);
  }
  // bdecode is strict (canonical input only) and keeps the key order: re-encoding gives the
  // original bytes back.
  return createHash("sha1")
    .update(bencode(meta.get("info") as Map<string, never>))
    .digest();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Running {
  role: Role;
  name: ClientName;
  peer: Peer;
}

/** Rejects as soon as one of `processes` exits (for waits that need them alive). */
function anyExit(processes: readonly ClientProcess[]): { promise: Promise<never>; cancel: () => void } {
  let cancelled = false;
  const promise = new Promise<never>((_, reject) => {
    for (const p of processes) {
      void p.exited.then((s) => {
        if (!cancelled) reject(new Error(`${p.label} ${p.describeExit(s)} during the transfer`));
      });
    }
  });
  // Never an unhandled rejection when nobody races it any more.
  promise.catch(() => {});
  return {
    promise,
    cancel: () => {
      cancelled = true;
    },
  };
}

/**
 * Runs the transfer; resolves with how long each step took (for the test's diagnostics), rejects
 * with a report of what went wrong.
 */
export async function runTransfer(c: TransferCase): Promise<string> {
  const seedDriver = CLIENTS[c.seeder];
  const downloadDriver = CLIENTS[c.downloader];
  for (const d of [seedDriver, downloadDriver]) {
    const why = d.unsupported(c.protocol, c.family);
    if (why !== null) throw new Error(`this pair cannot run: ${why}`);
  }
  if (!seedDriver.dialsLoopbackPeers && !downloadDriver.dialsLoopbackPeers) {
    throw new Error(`this pair cannot run: neither ${c.seeder} nor ${c.downloader} dials loopback peers`);
  }
  // Missing programs fail here, before anything is started, naming the Debian package.
  const mktorrent = requireTool(TOOLS.mktorrent);
  requireTool(TOOLS[c.seeder]);
  requireTool(TOOLS[c.downloader]);

  const deadline = Date.now() + TRANSFER_TIMEOUT_MS;
  const left = () => deadline - Date.now();
  const dir = mkdtempSync(join(tmpdir(), "shoal-e2e-"));
  const running: Running[] = [];
  let shoal: ShoalProcess | undefined;
  let scraper: UdpTrackerClient | undefined;
  let infoHash: Buffer | undefined;
  let step = "starting shoal";
  let stepStart = Date.now();
  const timings: string[] = [];
  const setStep = (next: string) => {
    const now = Date.now();
    timings.push(`${step}: ${((now - stepStart) / 1000).toFixed(1)} s`);
    step = next;
    stepStart = now;
  };

  const scrape = () => scraper!.scrapeOne(infoHash!);
  /** Polls the tracker's counts for the torrent until `ok` holds, failing fast if a client dies. */
  const waitForCounts = async (
    ok: (e: { seeders: number; leechers: number; completed: number }) => boolean,
    what: string,
    timeoutMs: number,
  ) => {
    const until = Date.now() + Math.min(timeoutMs, left());
    // The clients running now must keep running while we wait (a download that has finished
    // and exited is not watched).
    const watch = anyExit(running.map((r) => r.peer.process).filter((p) => p.running));
    try {
      for (;;) {
        const entry = await Promise.race([shoal!.whileRunning(scrape()), watch.promise]);
        if (ok(entry)) return;
        if (Date.now() >= until) {
          throw new Error(
            `${what} did not happen within ${Math.round(timeoutMs / 1000)} s (tracker counts: ${JSON.stringify(entry)})`,
          );
        }
        await Promise.race([sleep(SCRAPE_POLL_MS), watch.promise]);
      }
    } finally {
      watch.cancel();
    }
  };

  try {
    const seedData = join(dir, "seed-data");
    const downloadData = join(dir, "download-data");
    for (const d of [
      seedData,
      downloadData,
      join(dir, "seed-client"),
      join(dir, "download-client"),
      join(dir, "shoal"),
    ]) {
      mkdirSync(d);
    }
    const payload = randomBytes(PAYLOAD_BYTES);
    const payloadPath = join(seedData, PAYLOAD_NAME);
    writeFileSync(payloadPath, payload);
    const expected = sha256(payload);

    shoal = await startShoal({
      tmpdir: join(dir, "shoal"),
      config: (d) =>
        shoalConfig(d, {
          udp: { enabled: true, addresses: ["127.0.0.1:0", "[::1]:0"] },
          http: { enabled: true, addresses: ["127.0.0.1:0", "[::1]:0"] },
          api: { enabled: false },
          // Short, so that clients that wait for the next announce do not wait long.
          tracker: { announce_interval: 10, min_announce_interval: 5 },
        }),
    });
    const endpoints =
      c.protocol === "udp"
        ? shoal.udp.map((e) => ({ ...e, v6: e.host.includes(":") }))
        : httpAddressesOf(shoal).http.map((e) => ({ ...e, v6: e.family === 6 }));
    const tracker = endpoints.find((e) => e.v6 === (c.family === 6));
    if (tracker === undefined) throw new Error(`shoal listens on no IPv${c.family} ${c.protocol} address`);
    const announce = `${c.protocol}://${c.family === 6 ? `[${tracker.host}]` : tracker.host}:${tracker.port}/announce`;

    setStep("making the torrent");
    const torrentPath = join(dir, "payload.torrent");
    // -p: private. Every client then keeps DHT, PEX and LPD away from this torrent even where
    // its own switches for them do not reach (aria2's UDP tracker needs its DHT code running).
    const made = spawnSync(
      mktorrent,
      ["-p", "-l", String(PIECE_LENGTH_LOG2), "-a", announce, "-o", torrentPath, payloadPath],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (made.status !== 0) {
      throw new Error(
        `mktorrent failed (status ${made.status}, ${made.error?.message ?? ""}):\n${made.stdout}\n${made.stderr}`,
      );
    }
    infoHash = infoHashOf(torrentPath);
    scraper = await UdpTrackerClient.open(shoal.udp4);

    const start = async (role: Role) => {
      const name = role === "seed" ? c.seeder : c.downloader;
      const peer = await CLIENTS[name].start({
        role,
        torrentPath,
        dataDir: role === "seed" ? seedData : downloadData,
        workDir: join(dir, role === "seed" ? "seed-client" : "download-client"),
        family: c.family,
        protocol: c.protocol,
      });
      running.push({ role, name, peer });
      return peer;
    };

    // Whoever cannot dial loopback peers announces first; the other one's first announce then
    // brings it that peer, and it connects.
    let downloader: Peer;
    if (downloadDriver.dialsLoopbackPeers) {
      setStep(`starting the ${c.seeder} seed`);
      await start("seed");
      await waitForCounts((e) => e.seeders >= 1, `the ${c.seeder} seed's announce`, REGISTER_TIMEOUT_MS);
      setStep(`starting the ${c.downloader} download (the seed announced first)`);
      downloader = await start("download");
    } else {
      setStep(`starting the ${c.downloader} download`);
      downloader = await start("download");
      await waitForCounts(
        (e) => e.leechers >= 1,
        `the ${c.downloader} downloader's announce`,
        REGISTER_TIMEOUT_MS,
      );
      setStep(`starting the ${c.seeder} seed (the downloader announced first)`);
      await start("seed");
    }

    setStep("the transfer");
    const seed = running.find((r) => r.role === "seed")!.peer;
    const seedWatch = anyExit([seed.process]);
    try {
      await Promise.race([shoal.whileRunning(downloader.complete(left())), seedWatch.promise]);
      if (downloadDriver.announcesCompleted) {
        setStep("the tracker's download count");
        await waitForCounts(
          (e) => e.completed >= 1,
          `the tracker counting the download (the ${c.downloader} downloader's "completed" announce)`,
          COMPLETED_TIMEOUT_MS,
        );
      }
    } finally {
      seedWatch.cancel();
    }

    // The files are complete on disk once the downloader has exited (aria2 exits by itself).
    setStep(`stopping the ${c.downloader} downloader`);
    const stopped = await downloader.process.stop();
    if (stopped.forced)
      throw new Error(`the ${c.downloader} downloader did not exit within 10 s of being told to stop`);

    setStep("checking the downloaded file");
    const downloadedPath = join(downloadData, PAYLOAD_NAME);
    if (!existsSync(downloadedPath)) {
      throw new Error(
        `${downloadedPath} does not exist; the download directory holds: ${readdirSync(downloadData).join(", ")}`,
      );
    }
    const got = readFileSync(downloadedPath);
    const actual = sha256(got);
    assert.equal(
      actual,
      expected,
      `the downloaded file differs from the original: ${got.length} bytes, SHA-256 ${actual}; expected ${PAYLOAD_BYTES} bytes, SHA-256 ${expected}`,
    );

    setStep(`stopping the ${c.seeder} seed`);
    const seedStopped = await seed.process.stop();
    if (seedStopped.forced)
      throw new Error(`the ${c.seeder} seed did not exit within 10 s of being told to stop`);
    // Both clients have left with a "stopped" announce, which the tracker must honour at once.
    // Transmission's "stopped" may or may not go out before it exits (see clients.ts): with it
    // in the pair there is nothing certain to check.
    if (seedDriver.announcesStopped && downloadDriver.announcesStopped) {
      setStep("the swarm after both clients stopped");
      await waitForCounts(
        (e) => e.seeders === 0 && e.leechers === 0,
        'the tracker dropping both peers after their "stopped" announces',
        STOPPED_TIMEOUT_MS,
      );
    }

    setStep("stopping shoal");
    const code = await shoal.stop();
    assert.equal(code, 0, "shoal's exit code after SIGTERM");
    setStep("done");
    const summary = timings.join("; ");
    // SHOAL_E2E_VERBOSE=1: the clients' output of a passing transfer too.
    return process.env.SHOAL_E2E_VERBOSE ? `${summary}\n${clientOutputs(running)}` : summary;
  } catch (err) {
    setStep(step);
    throw await withReport(err as Error, step, timings, running, shoal, infoHash ? scrape : null);
  } finally {
    await Promise.all(running.map((r) => r.peer.process.kill()));
    scraper?.close();
    await shoal?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

function clientOutputs(running: readonly Running[]): string {
  return running
    .map((r) => {
      const p = r.peer.process;
      return `--- ${p.label} (${p.running ? "running" : "exited"}): ${p.commandLine}\n${p.tail()}`;
    })
    .join("\n");
}

/** The error, with what was going on and everyone's output, as one message. */
async function withReport(
  err: Error,
  step: string,
  timings: readonly string[],
  running: readonly Running[],
  shoal: ShoalProcess | undefined,
  scrape: (() => Promise<unknown>) | null,
): Promise<Error> {
  const parts = [`${err.message}`, `(during: ${step}; steps so far: ${timings.join("; ")})`];
  if (scrape !== null && shoal !== undefined && shoal.proc.exitCode === null) {
    const counts = await Promise.race([
      scrape().catch((e: Error) => `scrape failed: ${e.message}`),
      sleep(3_000),
    ]);
    parts.push(
      `--- the tracker's counts for the torrent: ${JSON.stringify(counts ?? "no answer within 3 s")}`,
    );
  }
  parts.push(clientOutputs(running));
  if (shoal !== undefined) {
    parts.push(
      `--- shoal stdout\n${shoal.stdout().slice(-8_000)}\n--- shoal stderr\n${shoal.stderr().slice(-8_000)}`,
    );
  }
  const report = new Error(parts.join("\n"));
  report.stack = `${report.message}\n${err.stack ?? ""}`;
  return report;
}
