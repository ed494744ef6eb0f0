// End to end through real browsers: shoal runs as its own process (HTTP on an ephemeral loopback
// port, WebSocket upgrades on it, no UDP, no API); a loopback HTTP server serves a page that loads
// WebTorrent's browser bundle from the local npm package; two headless Chromium instances, each
// with its own fresh profile, open it. Page A fetches a random 1 MiB payload from the test server
// and seeds it with shoal as its only tracker; page B gets the magnet link (through Node) and
// downloads it. The only way for B to find A is shoal relaying B's WebRTC offer to A and A's
// answer back (no DHT, no LSD, no PEX, no web seed, no STUN); the bytes then flow over a WebRTC
// data channel between the two browsers, and Node compares what B got with what it served.
//
// Requirements: Debian's `chromium` package (/usr/bin/chromium; SHOAL_CHROMIUM overrides the
// path) and the `playwright-core` devDependency, which drives it; no browser is downloaded. The
// test fails, rather than skips, when Chromium is missing.
//
// WebRTC over loopback in headless Chromium (verified on Chromium 156, Debian 12):
// - By default Chromium hides host ICE candidates behind random mDNS names (`<uuid>.local`),
//   which nothing resolves here, so the two pages could never connect. A page that has been
//   granted camera/microphone access gets its real addresses instead (that is Chromium's rule:
//   media permission lifts the mDNS obfuscation and the default-route-only restriction), so the
//   contexts are launched with `permissions: ["camera", "microphone"]`. No device is opened.
// - `--allow-loopback-in-peer-connection` adds 127.0.0.1 and ::1 host candidates. Without it a
//   machine whose only interface is `lo` (a CI container without network) gathers no candidate
//   at all; with it and the permission, candidates are 127.0.0.1/::1 (plus any other local
//   address of the machine, which is still delivered through the loopback device).
// - `--disable-features=WebRtcHideLocalIpsWithMdns` also shows host addresses, but only the
//   default-route interface (no loopback candidate on an lo-only machine, even with
//   --allow-loopback-in-peer-connection and
//   --force-webrtc-ip-handling-policy=default_public_and_private_interfaces), and Chromium keeps
//   only the last --disable-features switch, so it would silently replace the list Playwright
//   passes. It is not used.
// - `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`: no host name resolves, so nothing
//   the browser might try on its own can leave the machine; every URL here is an IP literal.
// - `--no-sandbox` because CI runs as root; `--disable-gpu`, `--disable-quic` and the usual
//   quiet-start flags (no first-run, background networking, component updates or sync).

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type LogLine, makeTmpdir, REPO_ROOT, startShoal, toToml } from "../helpers/shoal-process.ts";

const CHROMIUM = process.env.SHOAL_CHROMIUM ?? "/usr/bin/chromium";
const PAYLOAD_BYTES = 1024 * 1024;
const TRANSFER_TIMEOUT_MS = 90_000;
const LAUNCH_TIMEOUT_MS = 30_000;
const PAGE_READY_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 10_000;

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--allow-loopback-in-peer-connection",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

const PAGE_DIR = join(import.meta.dirname, "browser");
const WEBTORRENT_BUNDLE = join(REPO_ROOT, "node_modules/webtorrent/dist/webtorrent.min.js");

/** What the page script (browser/webtorrent-page.js) puts on globalThis. */
interface PageApi {
  shoalE2E: {
    seed(wsUrl: string): Promise<SeedResult>;
    download(magnetURI: string, wsUrl: string): Promise<DownloadResult>;
    status(): PageStatus;
  };
}
interface SeedResult {
  infoHash: string;
  magnetURI: string;
  announce: string[];
}
interface DownloadResult {
  announce: string[];
  length: number;
  base64: string;
  status: PageStatus;
}
interface PageStatus {
  events: string[];
  torrent: null | {
    infoHash: string;
    progress: number;
    downloaded: number;
    uploaded: number;
    numPeers: number;
    wires: { type: string; local: string | null; remote: string | null }[];
  };
}

/** Cleanups run last-registered first, each one whatever the others did. */
class Cleanups {
  private readonly stack: { what: string; fn: () => Promise<unknown> | unknown }[] = [];
  add(what: string, fn: () => Promise<unknown> | unknown): void {
    this.stack.push({ what, fn });
  }
  async run(): Promise<void> {
    const failures: string[] = [];
    while (this.stack.length > 0) {
      const { what, fn } = this.stack.pop()!;
      try {
        await deadline(Promise.resolve().then(fn), CLOSE_TIMEOUT_MS, `cleanup: ${what}`);
      } catch (err) {
        failures.push(`${what}: ${(err as Error).message}`);
      }
    }
    if (failures.length > 0) throw new Error(`cleanup failed: ${failures.join("; ")}`);
  }
}

/** Settles like `work`, or rejects after `ms` with `what` and whatever `explain` adds. */
async function deadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  explain?: () => Promise<string>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const more = explain === undefined ? Promise.resolve("") : explain().catch((e) => String(e));
      void more.then((text) => reject(new Error(`${what}: not done within ${ms} ms${text}`)));
    }, ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The loopback server for the page, its script, WebTorrent's bundle and the payload. */
async function servePage(payload: Buffer, cleanups: Cleanups) {
  const files: Record<string, { type: string; body: Buffer }> = {
    "/": { type: "text/html; charset=utf-8", body: readFileSync(join(PAGE_DIR, "webtorrent-page.html")) },
    "/webtorrent-page.js": {
      type: "text/javascript; charset=utf-8",
      body: readFileSync(join(PAGE_DIR, "webtorrent-page.js")),
    },
    "/webtorrent.min.js": { type: "text/javascript; charset=utf-8", body: readFileSync(WEBTORRENT_BUNDLE) },
    "/payload.bin": { type: "application/octet-stream", body: payload },
  };
  const served: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    served.push(path);
    const file = req.method === "GET" ? files[path] : undefined;
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  cleanups.add("page server", async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, served };
}

/** One Chromium with its own fresh profile, on the page, the page script loaded. */
async function openPage(name: string, origin: string, profileRoot: string, cleanups: Cleanups) {
  const profile = join(profileRoot, `chromium-${name}`);
  mkdirSync(profile);
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      permissions: ["camera", "microphone"], // see the header: real host candidates, no mDNS
      timeout: LAUNCH_TIMEOUT_MS,
    });
  } catch (err) {
    throw new Error(`could not launch ${CHROMIUM} for page ${name}: ${(err as Error).message}`);
  }
  cleanups.add(`Chromium ${name}`, () => context.close());
  const log: string[] = [];
  const page: Page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => log.push(`page error: ${e.message}`));
  page.on("crash", () => log.push("page crashed"));
  // The tracker conversation as the browser saw it (offers and answers cut short: SDP is long).
  page.on("websocket", (ws) => {
    const frame = (dir: string) => (f: { payload: string | Buffer }) => {
      const text = typeof f.payload === "string" ? f.payload : `<${f.payload.length} binary bytes>`;
      log.push(`ws ${dir} ${text.replace(/"sdp":"[^"]*"/g, '"sdp":"…"')}`);
    };
    log.push(`ws open ${ws.url()}`);
    ws.on("framesent", frame("sent"));
    ws.on("framereceived", frame("received"));
    ws.on("socketerror", (e) => log.push(`ws error ${e}`));
    ws.on("close", () => log.push("ws closed"));
  });
  page.setDefaultTimeout(PAGE_READY_TIMEOUT_MS);
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (globalThis as unknown as Partial<PageApi>).shoalE2E !== undefined);
  page.setDefaultTimeout(0); // the transfer is bounded by deadline() instead
  return { name, page, log };
}

type OpenedPage = Awaited<ReturnType<typeof openPage>>;

async function describePages(pages: OpenedPage[], shoalLogs: LogLine[]): Promise<string> {
  let out = "";
  for (const p of pages) {
    const status = await deadline(
      p.page.evaluate(() => (globalThis as unknown as PageApi).shoalE2E.status()),
      5_000,
      `status of page ${p.name}`,
    ).catch((e: Error) => e.message);
    out += `\n--- page ${p.name} ---\n${JSON.stringify(status, null, 2)}\n${p.log.join("\n")}`;
  }
  const tail = shoalLogs.slice(-40).map((l) => JSON.stringify(l));
  return `${out}\n--- shoal log (last ${tail.length} lines) ---\n${tail.join("\n")}`;
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

test(
  "two headless Chromium pages transfer 1 MiB through ws:// (WebTorrent, WebRTC data channel, shoal as the only tracker)",
  { timeout: 150_000 },
  async (t: TestContext) => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium not found at ${CHROMIUM}: this test drives Debian's chromium package ` +
        "(apt-get install chromium), or the browser named by SHOAL_CHROMIUM",
    );
    assert.ok(existsSync(WEBTORRENT_BUNDLE), `${WEBTORRENT_BUNDLE} is missing: run npm ci`);

    const cleanups = new Cleanups();
    t.after(() => cleanups.run());

    const dir = makeTmpdir();
    // Registered first, so removed last: after the browsers (their profiles live here) and shoal.
    cleanups.add("temporary directory", () => rmSync(dir, { recursive: true, force: true }));

    const shoal = await startShoal({
      tmpdir: dir,
      config: toToml({
        udp: { enabled: false },
        http: { addresses: ["127.0.0.1:0"] },
        api: { enabled: false },
        store: { snapshot_path: join(dir, "state.bin") },
        log: { level: "info" },
      }),
    });
    cleanups.add("shoal", () => shoal.cleanup());
    const listening = shoal.logs.find((l) => l.msg === "listening")!;
    const http = listening.http as string[] | undefined;
    assert.ok(http !== undefined && http.length === 1, `listening line: ${JSON.stringify(listening)}`);
    const wsUrl = `ws://${http[0]}`;
    t.diagnostic(`shoal ws tracker: ${wsUrl}`);

    const payload = randomBytes(PAYLOAD_BYTES);
    const { origin, served } = await servePage(payload, cleanups);

    const pages: OpenedPage[] = [];
    const explain = () => describePages(pages, shoal.logs);
    const started = performance.now();

    const transfer = async () => {
      pages.push(await openPage("A", origin, dir, cleanups));
      pages.push(await openPage("B", origin, dir, cleanups));
      const [a, b] = pages;

      const seeded = await a.page.evaluate(
        (url) => (globalThis as unknown as PageApi).shoalE2E.seed(url),
        wsUrl,
      );
      t.diagnostic(`A seeds ${seeded.infoHash}: ${seeded.magnetURI}`);
      assert.deepEqual(seeded.announce, [wsUrl], "the seeder announces to shoal and nowhere else");
      const trackersInMagnet = new URL(seeded.magnetURI).searchParams.getAll("tr");
      assert.deepEqual(trackersInMagnet, [wsUrl], "the magnet link names shoal only");

      return b.page.evaluate(
        ([magnet, url]) => (globalThis as unknown as PageApi).shoalE2E.download(magnet, url),
        [seeded.magnetURI, wsUrl] as const,
      );
    };

    let got: DownloadResult;
    try {
      got = await deadline(
        shoal.whileRunning(transfer()),
        TRANSFER_TIMEOUT_MS,
        "the browser transfer",
        explain,
      );
    } catch (err) {
      // A page that threw, a browser that would not start: say what each side had seen.
      const e = err as Error;
      if (!/not done within/.test(e.message)) e.message += await explain().catch((x) => `\n${x}`);
      throw e;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);

    assert.deepEqual(got.announce, [wsUrl], "the leecher announces to shoal and nowhere else");
    const received = Buffer.from(got.base64, "base64");
    assert.equal(received.length, PAYLOAD_BYTES);
    assert.equal(sha256(received), sha256(payload), "B's bytes are the payload A seeded");
    assert.ok(received.equals(payload));

    // The bytes came from A over WebRTC, not from the page server: it served the payload once.
    assert.deepEqual(
      served.filter((p) => p === "/payload.bin"),
      ["/payload.bin"],
    );
    const torrent = got.status.torrent!;
    assert.ok(torrent.downloaded >= PAYLOAD_BYTES, `B downloaded ${torrent.downloaded} bytes from peers`);
    const webrtc = torrent.wires.filter((w) => w.type === "webrtc");
    assert.ok(webrtc.length >= 1, `B got the bytes over WebRTC: ${JSON.stringify(torrent.wires)}`);
    t.diagnostic(
      `1 MiB sha256 ${sha256(payload)} in ${seconds} s (browsers included); ` +
        `ICE pairs ${webrtc.map((p) => `${p.local} -> ${p.remote}`).join(", ")}`,
    );

    // shoal went through it without an error and stops cleanly.
    const errors = shoal.logs.filter((l) => (l.level ?? 0) >= 50);
    assert.deepEqual(errors, [], "shoal logged no error");
    assert.equal(await shoal.stop(), 0, "shoal exits 0 on SIGTERM");
  },
);
