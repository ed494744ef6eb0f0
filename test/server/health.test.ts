// GET /health: health() itself, an ApiServer in this process whose listeners a test controls,
// and a whole tracker in this process with one of its real sockets closed under it.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Registry } from "prom-client";
import { defaultConfig } from "../../src/config/schema.ts";
import { ApiServer } from "../../src/server/api/api-server.ts";
import { health, type Listener } from "../../src/server/api/health.ts";
import { createLogger } from "../../src/server/log.ts";
import { startShoal } from "../../src/server/shoal.ts";
import { emptySources } from "../helpers/stats-sources.ts";

const TIMEOUT = 60_000;

function get(address: AddressInfo | { address: string; port: number }, path: string) {
  return new Promise<{ status: number; body: unknown; type: string | undefined }>((resolve, reject) => {
    const req = http.get(
      { host: address.address, port: address.port, path, agent: false, timeout: 10_000 },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), type: res.headers["content-type"] }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer to ${path}`)));
    req.on("error", reject);
  });
}

describe("health()", () => {
  const all: Listener[] = [
    { protocol: "udp", address: "127.0.0.1:6969", up: true },
    { protocol: "udp", address: "[::1]:6969", up: true },
    { protocol: "http", address: "127.0.0.1:6969", up: true },
  ];

  test("every listener up: 200, status ok, nothing failed, every listener listed", () => {
    assert.deepEqual(health(all), {
      status: 200,
      body: { status: "ok", failed: [], listeners: all },
    });
  });

  test('one listener down: 503, status unavailable, failed names "udp 127.0.0.1:6969"', () => {
    const listeners = all.map((l, i) => ({ ...l, up: i !== 0 }));
    assert.deepEqual(health(listeners), {
      status: 503,
      body: { status: "unavailable", failed: ["udp 127.0.0.1:6969"], listeners },
    });
  });

  test("several down: each named, in order", () => {
    const listeners: Listener[] = [
      { protocol: "udp", address: "127.0.0.1:6969", up: false },
      { protocol: "http", address: "[::1]:80", up: true },
      { protocol: "https", address: "[::1]:443", up: false },
    ];
    const h = health(listeners);
    assert.equal(h.status, 503);
    assert.deepEqual(h.body.failed, ["udp 127.0.0.1:6969", "https [::1]:443"]);
  });

  test("no listeners at all is healthy (nothing configured is down)", () => {
    assert.deepEqual(health([]), { status: 200, body: { status: "ok", failed: [], listeners: [] } });
  });

  test("the body's list is a copy: changing it later does not change the answer", () => {
    const listeners = all.map((l) => ({ ...l }));
    const h = health(listeners);
    listeners.push({ protocol: "udp", address: "10.0.0.1:1", up: false });
    assert.equal(h.body.listeners.length, 3);
  });
});

describe("ApiServer /health with listeners the test controls", { timeout: TIMEOUT }, () => {
  const listeners: Listener[] = [
    { protocol: "udp", address: "127.0.0.1:6969", up: true },
    { protocol: "http", address: "[::1]:6969", up: true },
  ];
  let calls = 0;
  const server = new ApiServer({
    accessTokens: ["secret-token"],
    sources: emptySources(),
    registry: new Registry(),
    listeners: () => {
      calls++;
      return listeners;
    },
  });
  let address: AddressInfo;
  after(() => server.close());

  test("answers 200 while every listener is up, without a token", async () => {
    address = await server.listen("127.0.0.1", 0);
    assert.equal(address.address, "127.0.0.1");
    assert.ok(address.port > 0);
    const r = await get(address, "/health");
    assert.equal(r.status, 200);
    assert.match(r.type ?? "", /^application\/json/);
    assert.deepEqual(r.body, { status: "ok", failed: [], listeners });
  });

  test("flips to 503 naming the listener once it goes down, and back to 200 when it is up again", async () => {
    const before = calls;
    listeners[0].up = false;
    const down = await get(address, "/health");
    assert.equal(down.status, 503);
    assert.deepEqual(down.body, { status: "unavailable", failed: ["udp 127.0.0.1:6969"], listeners });
    listeners[0].up = true;
    const up = await get(address, "/health");
    assert.equal(up.status, 200);
    assert.ok(calls >= before + 2, "the listeners are asked at every request");
  });

  test("a listener added later is listed", async () => {
    listeners.push({ protocol: "https", address: "127.0.0.1:443", up: false });
    const r = await get(address, "/health");
    assert.equal(r.status, 503);
    assert.deepEqual((r.body as { failed: string[] }).failed, ["https 127.0.0.1:443"]);
    listeners.pop();
  });
});

describe("a whole tracker in this process: /health follows its real sockets", { timeout: TIMEOUT }, () => {
  async function startInProcess(snapshotPath = "") {
    const config = defaultConfig();
    config.udp.addresses = ["127.0.0.1:0", "[::1]:0"];
    config.http.addresses = ["127.0.0.1:0"];
    config.api.address = "127.0.0.1:0";
    config.store.snapshot_path = snapshotPath;
    const shoal = await startShoal(config, createLogger("silent"));
    const api = shoal.addresses.api;
    assert.ok(api !== null);
    const [, host, port] = /^(.*):(\d+)$/.exec(api)!;
    return { shoal, at: { address: host, port: Number(port) } };
  }

  test("503 naming the UDP socket that closed; the other listeners stay up", async (t) => {
    const { shoal, at } = await startInProcess();
    // Closing a socket under the tracker makes its own close() fail: that is reported by the
    // next test; here the cleanup only has to release what is left.
    t.after(() => shoal.close().catch(() => {}));

    const ok = await get(at, "/health");
    assert.equal(ok.status, 200);
    const listed = (ok.body as { listeners: Listener[] }).listeners;
    assert.deepEqual(
      listed.map((l) => `${l.protocol} ${l.address} ${l.up}`),
      [
        ...shoal.addresses.udp.map((a) => `udp ${a} true`),
        ...shoal.addresses.http.map((a) => `http ${a} true`),
      ],
    );

    const v4 = shoal.udp!.bound.find((b) => b.family === 4)!;
    await new Promise<void>((resolve) => v4.socket.close(() => resolve()));
    const down = await get(at, "/health");
    assert.equal(down.status, 503);
    const body = down.body as { status: string; failed: string[]; listeners: Listener[] };
    assert.equal(body.status, "unavailable");
    assert.deepEqual(body.failed, [`udp 127.0.0.1:${v4.port}`]);
    assert.equal(body.listeners.filter((l) => l.up).length, listed.length - 1);
  });

  test("after a UDP socket went down, close() still stops everything and writes the snapshot", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "shoal-health-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const snapshot = join(dir, "state.bin");
    const { shoal, at } = await startInProcess(snapshot);
    const v4 = shoal.udp!.bound.find((b) => b.family === 4)!;
    await new Promise<void>((resolve) => v4.socket.close(() => resolve()));
    assert.equal((await get(at, "/health")).status, 503);
    let closeError: unknown = null;
    try {
      await shoal.close();
    } catch (err) {
      closeError = err;
    }
    assert.equal(closeError, null, `close() rejected: ${String(closeError)}`);
    assert.ok(existsSync(snapshot), "the snapshot was written");
  });
});
