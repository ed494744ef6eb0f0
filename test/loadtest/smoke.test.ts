// The load generators against a real shoal: each one runs for about a second and must get
// answers without errors or invalid answers; fills must place exactly the peers they were asked
// to (checked through shoal's statistics API); and --print-config must read back through
// --config. The load tester runs as the real CLI (`shoal load-test ... --json`).

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { LoadSummary } from "../../src/loadtest/runner.ts";
import {
  type LogLine,
  makeTmpdir,
  runShoalExpectingExit,
  type ShoalProcess,
  shoalConfig,
  startShoal,
} from "../helpers/shoal-process.ts";

const TEST_TIMEOUT = 120_000;

/** A tracker with UDP, HTTP (and WebSocket) on IPv4 loopback and the API, all on free ports. */
async function startTracker(): Promise<{ shoal: ShoalProcess; udp: string; http: string; api: string }> {
  const shoal = await startShoal({
    config: (dir) =>
      shoalConfig(dir, {
        udp: { addresses: ["127.0.0.1:0", "[::1]:0"], ban_threshold: 0 },
        http: { enabled: true, addresses: ["127.0.0.1:0", "[::1]:0"] },
        api: { enabled: true, address: "127.0.0.1:0" },
        store: { snapshot_path: "" },
      }),
  });
  const line = shoal.logs.find((l: LogLine) => l.msg === "listening")!;
  const udp = (line.udp as string[]).find((a) => a.startsWith("127."))!;
  const http = (line.http as string[]).find((a) => a.startsWith("127."))!;
  const api = line.api as string;
  assert.ok(udp && http && api, `addresses in ${JSON.stringify(line)}`);
  return { shoal, udp, http, api };
}

/** Runs `shoal load-test <args> --json` and returns its summary. */
async function loadTest(args: string[]): Promise<LoadSummary> {
  const r = await runShoalExpectingExit(["load-test", ...args, "--json"], { timeoutMs: 90_000 });
  assert.equal(r.code, 0, `load-test ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as LoadSummary;
}

async function stats(api: string): Promise<Record<string, number>> {
  const res = await fetch(`http://${api}/api/v1/stats`);
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, number>;
}

// Short runs: no warm-up, a long timeout so that a loaded test machine does not turn a slow
// answer into a timeout (and its late arrival into an "invalid" answer).
const SHORT = ["--seconds", "1", "--warmup", "0", "--timeout-ms", "20000"];

function assertClean(s: LoadSummary, what: string): void {
  const t = s.totals;
  assert.equal(t.invalid, 0, `${what}: invalid answers ${JSON.stringify(s)}`);
  assert.equal(t.errors, 0, `${what}: errors ${JSON.stringify(s)}`);
  assert.equal(t.timeouts, 0, `${what}: timeouts ${JSON.stringify(s)}`);
  assert.ok(t.announces > 0, `${what}: no announce answered ${JSON.stringify(s)}`);
}

describe("load generators against a running shoal", { timeout: TEST_TIMEOUT }, () => {
  let tracker: Awaited<ReturnType<typeof startTracker>>;
  before(async () => {
    tracker = await startTracker();
  });
  after(async () => {
    await tracker?.shoal.cleanup();
  });

  test("udp: announces and scrapes answered, none invalid", async () => {
    const s = await tracker.shoal.whileRunning(
      loadTest([
        "udp",
        "--target",
        tracker.udp,
        ...SHORT,
        "--torrents",
        "100",
        "--peers",
        "5000",
        "--scrape-ratio",
        "0.2",
      ]),
    );
    assertClean(s, "udp");
    assert.ok(s.totals.scrapes > 0, JSON.stringify(s));
    assert.ok(s.totals.connects > 0, JSON.stringify(s));
    assert.equal(s.protocol, "udp");
    assert.equal(s.mode, "load");
    assert.ok(s.p50Ms > 0 && s.p99Ms >= s.p50Ms, JSON.stringify(s));
  });

  test("udp with two workers over IPv6", async () => {
    const line = tracker.shoal.logs.find((l) => l.msg === "listening")!;
    const udp6 = (line.udp as string[]).find((a) => a.startsWith("["))!;
    const s = await tracker.shoal.whileRunning(
      loadTest(["udp", "--target", udp6, ...SHORT, "--workers", "2", "--torrents", "50", "--peers", "3000"]),
    );
    assertClean(s, "udp6");
    assert.equal(s.workers, 2);
  });

  for (const keepAlive of [true, false]) {
    test(`http with keep-alive ${keepAlive ? "on" : "off"}: announces and scrapes answered`, async () => {
      const s = await tracker.shoal.whileRunning(
        loadTest([
          "http",
          "--target",
          tracker.http,
          ...SHORT,
          keepAlive ? "--keep-alive" : "--no-keep-alive",
          "--inflight",
          "16",
          "--torrents",
          "100",
          "--peers",
          "5000",
          "--scrape-ratio",
          "0.2",
        ]),
      );
      assertClean(s, `http keep-alive ${keepAlive}`);
      assert.ok(s.totals.scrapes > 0, JSON.stringify(s));
    });
  }

  test("http with pipelining", async () => {
    const s = await tracker.shoal.whileRunning(
      loadTest(["http", "--target", tracker.http, ...SHORT, "--pipeline", "8", "--inflight", "4"]),
    );
    assertClean(s, "http pipelined");
  });

  test("ws: announces answered, offers relayed and answered", async () => {
    const s = await tracker.shoal.whileRunning(
      loadTest([
        "ws",
        "--target",
        tracker.http,
        ...SHORT,
        "--inflight",
        "40",
        "--torrents",
        "5",
        "--offers",
        "3",
      ]),
    );
    assertClean(s, "ws");
    assert.ok(s.totals.offers > 0, `no offer relayed: ${JSON.stringify(s)}`);
    assert.ok(s.totals.answers > 0, `no answer relayed: ${JSON.stringify(s)}`);
  });
});

describe("fill mode", { timeout: TEST_TIMEOUT }, () => {
  for (const protocol of ["udp", "http"] as const) {
    test(`${protocol} fill places 5000 peers over 100 torrents`, async () => {
      const tracker = await startTracker();
      try {
        const target = protocol === "udp" ? tracker.udp : tracker.http;
        const s = await tracker.shoal.whileRunning(
          loadTest([
            protocol,
            "--fill",
            "--target",
            target,
            "--peers",
            "5000",
            "--torrents",
            "100",
            "--workers",
            "2",
          ]),
        );
        assert.equal(s.mode, "fill");
        assert.equal(s.fill?.accepted, 5000, JSON.stringify(s));
        assert.equal(s.fill?.complete, true);
        assert.equal(s.totals.invalid, 0);
        assert.equal(s.totals.errors, 0);
        const st = await stats(tracker.api);
        assert.equal(st.seeders + st.leechers, 5000, JSON.stringify(st));
        assert.equal(st.torrents, 100, JSON.stringify(st));
      } finally {
        await tracker.shoal.cleanup();
      }
    });
  }

  test("udp fill beyond one address's ports spreads peers over 127.0.0.1 and 127.0.0.2", async () => {
    const tracker = await startTracker();
    try {
      const s = await tracker.shoal.whileRunning(
        loadTest([
          "udp",
          "--fill",
          "--target",
          tracker.udp,
          "--peers",
          "70000",
          "--torrents",
          "7",
          "--inflight",
          "128",
        ]),
      );
      assert.equal(s.fill?.accepted, 70_000, JSON.stringify(s));
      const st = await stats(tracker.api);
      assert.equal(st.seeders + st.leechers, 70_000, JSON.stringify(st));
      assert.equal(st.torrents, 7);
    } finally {
      await tracker.shoal.cleanup();
    }
  });
});

describe("--print-config", () => {
  for (const protocol of ["udp", "http", "ws"]) {
    test(`${protocol}: the printed configuration reads back through --config`, async (t) => {
      const printed = await runShoalExpectingExit(["load-test", protocol, "--print-config"]);
      assert.equal(printed.code, 0, printed.stderr);
      assert.match(printed.stdout, /^\[load\]$/m);
      assert.match(printed.stdout, new RegExp(`^\\[${protocol}\\]$`, "m"));
      // Every key line has its comment right above it.
      const lines = printed.stdout.split("\n");
      for (let i = 0; i < lines.length; i++) {
        if (/^[a-z_]+ = /.test(lines[i])) assert.match(lines[i - 1], /^# /, `no comment above ${lines[i]}`);
      }
      const dir = makeTmpdir(t);
      const file = join(dir, "load.toml");
      writeFileSync(file, printed.stdout);
      const again = await runShoalExpectingExit(["load-test", protocol, "--config", file, "--print-config"]);
      assert.equal(again.code, 0, again.stderr);
      const body = (s: string) => s.split("\n").filter((l) => !l.startsWith("# shoal load-test"));
      assert.deepEqual(body(again.stdout), body(printed.stdout));
    });
  }

  test("a bad key names the file, the line, the key and the problem (exit 2)", async (t) => {
    const dir = makeTmpdir(t);
    const file = join(dir, "load.toml");
    writeFileSync(file, "[load]\nseconds = 5\n\n[workload]\nseeder_ratio = 2\n");
    const r = await runShoalExpectingExit(["load-test", "udp", "--config", file]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr.trim(),
      `shoal: ${file}:5: workload.seeder_ratio: expected a number between 0 and 1, got 2`,
    );
  });
});
