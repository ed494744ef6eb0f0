// HTTP connections to the tracker: keep-alive and pipelining, HTTP/1.0, the per-connection
// request limit, the HTTP-level refusals (404, 405, 413, 414, 431, 400, 505), and the
// protections against slow or idle clients (header_timeout, idle_timeout) and against too many
// connections. Raw sockets where the bytes or the timing of the bytes matter.

import assert from "node:assert/strict";
import http from "node:http";
import type net from "node:net";
import { after, before, describe, test } from "node:test";
import {
  announce,
  announcePath,
  httpGet,
  RawHttpClient,
  randomHash,
  randomPeerId,
  rawGet,
  readAnnounce,
  readScrape,
  scrapePath,
} from "../helpers/http-client.ts";
import { type HttpEndpoint, type HttpShoal, startHttpShoal } from "../helpers/http-process.ts";
import type { AfterHook } from "../helpers/udp-client.ts";

const TEST_TIMEOUT = 60_000;
/** How long a connection the tracker must close may take to close: generous, not a speed test. */
const CLOSE_BOUND_MS = 15_000;

const MAX_URL_LENGTH = 256;
const MAX_HEADER_SIZE = 1024;
const MAX_HEADERS = 8;
const MAX_REQUESTS = 5;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

let nextPort = 30_000 + Math.floor(Math.random() * 20_000);

function announceTarget(hash = randomHash()): string {
  return announcePath({ infoHash: hash, peerId: randomPeerId(), port: nextPort++ });
}

/** Writes `text` one byte every `everyMs`, then keeps writing `filler` bytes, until stopped or closed. */
function trickle(
  c: RawHttpClient,
  text: string,
  everyMs = 50,
  filler = "a",
): { sent: () => number; stop: () => void } {
  let i = 0;
  const timer = setInterval(() => {
    const byte = i < text.length ? text[i] : filler;
    if (c.isClosed || !c.write(byte)) {
      clearInterval(timer);
      return;
    }
    i++;
  }, everyMs);
  return { sent: () => i, stop: () => clearInterval(timer) };
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

describe("keep-alive, pipelining and refusals", { timeout: TEST_TIMEOUT }, () => {
  let t: HttpShoal;

  before(async () => {
    t = await startHttpShoal({
      sections: {
        http: {
          max_url_length: MAX_URL_LENGTH,
          max_header_size: MAX_HEADER_SIZE,
          max_headers: MAX_HEADERS,
          max_requests_per_connection: MAX_REQUESTS,
          header_timeout: 30,
          idle_timeout: 60,
        },
      },
    });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  const connect = (e: HttpEndpoint, owner: AfterHook, localAddress?: string) =>
    RawHttpClient.connect(e, { owner, localAddress });

  for (const family of [4, 6] as const) {
    test(`several requests through a keep-alive agent over IPv${family} use one connection`, async () => {
      const e = t.endpoint(family);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const sockets = new Set<net.Socket>();
        const hash = randomHash();
        for (let i = 0; i < 4; i++) {
          const r = await httpGet(e, i % 2 === 0 ? announceTarget(hash) : scrapePath([hash]), { agent });
          assert.equal(r.status, 200);
          assert.equal(r.headers.connection, "keep-alive");
          sockets.add(r.socket);
        }
        assert.equal(sockets.size, 1, "one connection for all four requests");
        const s = readScrape((await httpGet(e, scrapePath([hash]), { agent })).body).files;
        assert.equal(s.get(hash.toString("hex"))?.incomplete, 2);
      } finally {
        agent.destroy();
      }
    });

    test(`pipelined requests over IPv${family} are answered in order, whatever the write boundaries`, async (tc) => {
      const e = t.endpoint(family);
      const hashes = [randomHash(), randomHash(), randomHash()];
      const c = await connect(e, tc);
      const requests =
        rawGet(scrapePath([hashes[0]])) +
        rawGet("/nowhere") +
        rawGet(scrapePath([hashes[1]])) +
        `HEAD ${scrapePath([hashes[2]])} HTTP/1.1\r\nHost: x\r\n\r\n` +
        rawGet(scrapePath([hashes[2]]));
      const answers = [c.next(), c.next(), c.next(), c.next({ head: true }), c.next()];
      // 7-byte pieces: heads split everywhere, several heads in one piece
      for (let i = 0; i < requests.length; i += 7) {
        c.write(requests.slice(i, i + 7));
        if (i % 70 === 0) await sleep(1);
      }
      const [a, b, d, h, g] = await Promise.all(answers);
      assert.deepEqual([a.status, b.status, d.status, h.status, g.status], [200, 404, 200, 200, 200]);
      assert.deepEqual([...readScrape(a.body).files.keys()], [hashes[0].toString("hex")]);
      assert.deepEqual([...readScrape(d.body).files.keys()], [hashes[1].toString("hex")]);
      assert.deepEqual([...readScrape(g.body).files.keys()], [hashes[2].toString("hex")]);
      assert.equal(Number(h.headers["content-length"]), g.body.length);
      assert.equal(c.isClosed, false);
    });

    test(`HTTP/1.0 without keep-alive over IPv${family} gets Connection: close and the connection is closed`, async (tc) => {
      const c = await connect(t.endpoint(family), tc);
      const r = await c.request(rawGet(announceTarget(), "", "1.0"));
      assert.equal(r.status, 200);
      assert.equal(r.headers.connection, "close");
      readAnnounce(r.body);
      await c.waitClosed(CLOSE_BOUND_MS);
    });
  }

  test("HTTP/1.0 with Connection: keep-alive stays open for the next request", async (tc) => {
    const c = await connect(t.http4, tc);
    for (let i = 0; i < 3; i++) {
      const r = await c.request(rawGet(announceTarget(), "Connection: keep-alive\r\n", "1.0"));
      assert.equal(r.status, 200);
      assert.equal(r.headers.connection, "keep-alive");
    }
    assert.equal(c.isClosed, false);
  });

  test("HTTP/1.1 with Connection: close is answered, then the connection is closed", async (tc) => {
    const c = await connect(t.http6, tc);
    const r = await c.request(rawGet(announceTarget(), "Connection: close\r\n"));
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, "close");
    await c.waitClosed(CLOSE_BOUND_MS);
  });

  test(`the ${MAX_REQUESTS}th request on a connection is answered with Connection: close, later ones are not answered`, async (tc) => {
    const c = await connect(t.http4, tc);
    const answers = Array.from({ length: MAX_REQUESTS }, () => c.next());
    let all = "";
    for (let i = 0; i < MAX_REQUESTS + 2; i++) all += rawGet(announceTarget());
    c.write(all);
    const got = await Promise.all(answers);
    assert.deepEqual(
      got.map((r) => r.headers.connection),
      [...Array(MAX_REQUESTS - 1).fill("keep-alive"), "close"],
    );
    await c.waitClosed(CLOSE_BOUND_MS);
    await assert.rejects(c.next({ timeoutMs: 500 }), "nothing after the closing answer");
  });

  test(`the limit of ${MAX_REQUESTS} requests holds for requests sent one at a time too`, async (tc) => {
    const c = await connect(t.http6, tc);
    for (let i = 1; i <= MAX_REQUESTS; i++) {
      const r = await c.request(rawGet(scrapePath([randomHash()])));
      assert.equal(r.headers.connection, i < MAX_REQUESTS ? "keep-alive" : "close", `request ${i}`);
    }
    await c.waitClosed(CLOSE_BOUND_MS);
  });

  test("paths other than /announce and /scrape get 404 and the connection stays open", async (tc) => {
    for (const path of [
      "/",
      "/announce/",
      "/announcex",
      "/ANNOUNCE",
      "/scrape.php",
      "/stats",
      "/announce%3F",
    ]) {
      const c = await connect(t.http4, tc);
      const r = await c.request(rawGet(path));
      assert.equal(r.status, 404, path);
      assert.equal(r.headers.connection, "keep-alive", path);
      const next = await c.request(rawGet(announceTarget()));
      assert.equal(next.status, 200, `an announce after ${path} on the same connection`);
      c.destroy();
    }
  });

  test("methods other than GET and HEAD get 405 with Allow: GET, HEAD", async (tc) => {
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"]) {
      const c = await connect(t.http4, tc);
      const r = await c.request(`${method} ${announceTarget()} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, "GET, HEAD", method);
    }
    const viaNode = await httpGet(t.http6, "/announce", { method: "POST" });
    assert.equal(viaNode.status, 405);
  });

  test("a request with a body gets 413 and the connection is closed", async (tc) => {
    const cases = [
      `POST /announce HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`,
      `GET ${announceTarget()} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc`,
      `GET /scrape HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    ];
    for (const text of cases) {
      const c = await connect(t.http4, tc);
      const r = await c.request(text);
      assert.equal(r.status, 413, text);
      assert.equal(r.headers.connection, "close");
      await c.waitClosed(CLOSE_BOUND_MS);
    }
  });

  test("Content-Length: 0 is not a body", async (tc) => {
    const c = await connect(t.http4, tc);
    const r = await c.request(rawGet(announceTarget(), "Content-Length: 0\r\n"));
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, "keep-alive");
  });

  test(`a request target longer than max_url_length (${MAX_URL_LENGTH}) gets 414 and the connection is closed`, async (tc) => {
    const base = announceTarget();
    const exact = `${base}&pad=${"x".repeat(MAX_URL_LENGTH - base.length - 5)}`;
    assert.equal(exact.length, MAX_URL_LENGTH);
    const c = await connect(t.http4, tc);
    const ok = await c.request(rawGet(exact));
    assert.equal(ok.status, 200, "a target of exactly the limit is served");
    const r = await c.request(rawGet(`${exact}x`));
    assert.equal(r.status, 414);
    assert.equal(r.headers.connection, "close");
    await c.waitClosed(CLOSE_BOUND_MS);
    const viaNode = await httpGet(t.http6, `/announce?${"a".repeat(MAX_URL_LENGTH)}`);
    assert.equal(viaNode.status, 414);
  });

  test(`a head larger than max_header_size (${MAX_HEADER_SIZE}) gets 431, complete or not`, async (tc) => {
    const big = `X-Big: ${"b".repeat(MAX_HEADER_SIZE)}\r\n`;
    const complete = await connect(t.http4, tc);
    const r = await complete.request(rawGet(announceTarget(), big));
    assert.equal(r.status, 431);
    assert.equal(r.headers.connection, "close");
    await complete.waitClosed(CLOSE_BOUND_MS);
    // A head that keeps growing without its blank line is refused without waiting for the end.
    const endless = await connect(t.http6, tc);
    const answer = endless.next();
    endless.write(`GET ${announceTarget()} HTTP/1.1\r\nHost: x\r\n`);
    for (let i = 0; i < 8 && !endless.isClosed; i++) endless.write(`X-Filler-${i}: ${"f".repeat(300)}\r\n`);
    assert.equal((await answer).status, 431);
    await endless.waitClosed(CLOSE_BOUND_MS);
  });

  test(`more than max_headers (${MAX_HEADERS}) header fields get 431; exactly ${MAX_HEADERS} are served`, async (tc) => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: ${i}\r\n`).join("");
    const c = await connect(t.http4, tc);
    const ok = await c.request(`GET ${announceTarget()} HTTP/1.1\r\n${fields(MAX_HEADERS)}\r\n`);
    assert.equal(ok.status, 200);
    const r = await c.request(`GET ${announceTarget()} HTTP/1.1\r\n${fields(MAX_HEADERS + 1)}\r\n`);
    assert.equal(r.status, 431);
    await c.waitClosed(CLOSE_BOUND_MS);
  });

  const malformed: [string, string, number][] = [
    ["no HTTP version", "GET /announce\r\n\r\n", 400],
    ["two spaces in the request line", "GET  /announce HTTP/1.1\r\n\r\n", 400],
    ["a header without a colon", "GET /announce HTTP/1.1\r\nHost x\r\n\r\n", 400],
    ["a space before the colon", "GET /announce HTTP/1.1\r\nHost : x\r\n\r\n", 400],
    ["an obs-fold continuation line", "GET /announce HTTP/1.1\r\nX-A: 1\r\n continued\r\n\r\n", 400],
    ["a bare CR", "GET /announce HTTP/1.1\r\nX-A: 1\r2\r\n\r\n", 400],
    ["a control byte in a value", "GET /announce HTTP/1.1\r\nX-A: 1\x012\r\n\r\n", 400],
    ["Content-Length twice", "GET /announce HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 400],
    ["Content-Length not a number", "GET /announce HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400],
    [
      "Content-Length and Transfer-Encoding",
      "GET /announce HTTP/1.1\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
      400,
    ],
    [
      "Transfer-Encoding not ending in chunked",
      "GET /announce HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
      400,
    ],
    ["Host twice", "GET /announce HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
    [
      "a WebSocket upgrade of /scrape",
      "GET /scrape HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      400,
    ],
    ["HTTP/2.0", "GET /announce HTTP/2.0\r\n\r\n", 505],
  ];
  for (const [name, text, status] of malformed) {
    test(`a request head with ${name} gets ${status} and the connection is closed`, async (tc) => {
      const c = await connect(t.http4, tc);
      const r = await c.request(text);
      assert.equal(r.status, status);
      assert.equal(r.headers.connection, "close");
      await c.waitClosed(CLOSE_BOUND_MS);
    });
  }

  test("an empty line before the request line is skipped (RFC 9112 section 2.2)", async (tc) => {
    const c = await connect(t.http6, tc);
    const r = await c.request(`\r\n${rawGet(announceTarget())}`);
    assert.equal(r.status, 200);
    readAnnounce(r.body);
  });

  test("a head whose lines end in bare LF is served", async (tc) => {
    const c = await connect(t.http4, tc);
    const r = await c.request(`GET ${announceTarget()} HTTP/1.1\nHost: x\n\n`);
    assert.equal(r.status, 200);
    readAnnounce(r.body);
  });

  for (const family of [4, 6] as const) {
    test(`a client trickling its head over IPv${family} does not hold up clients on other connections`, async (tc) => {
      const slow = await connect(t.endpoint(family), tc);
      const hash = randomHash();
      const slowTarget = announceTarget(hash);
      const text = `GET ${slowTarget} HTTP/1.1\r\nHost: x\r\nX-Slow: `;
      const dripping = trickle(slow, text, 10);
      tc.after(dripping.stop);
      // While the slow head drips in, fast clients on both families are served, one request
      // after another, on connections of their own.
      let rounds = 0;
      while (rounds < 3 || dripping.sent() < text.length + 2) {
        for (const e of t.http) {
          const fast = await connect(e, tc);
          const r = await fast.request(rawGet(scrapePath([hash])));
          assert.equal(r.status, 200);
          assert.equal(
            readScrape(r.body).files.get(hash.toString("hex"))?.incomplete,
            0,
            "the slow announce is pending",
          );
          const a = await announce(e, { infoHash: randomHash(), peerId: randomPeerId(), port: nextPort++ });
          assert.equal(a.incomplete, 1);
          fast.destroy();
        }
        rounds++;
      }
      assert.equal(slow.received, 0, "the slow client has no answer yet");
      assert.equal(slow.isClosed, false, "and its connection is still open");
      // It was only pending: finishing the head gets it its answer.
      dripping.stop();
      const answer = await slow.request("1\r\n\r\n");
      assert.equal(answer.status, 200);
      assert.equal(readAnnounce(answer.body).incomplete, 1);
    });
  }
});

describe("slow and idle clients", { timeout: TEST_TIMEOUT }, () => {
  let t: HttpShoal;
  const HEADER_TIMEOUT = 1;
  const IDLE_TIMEOUT = 2;

  before(async () => {
    t = await startHttpShoal({
      sections: { http: { header_timeout: HEADER_TIMEOUT, idle_timeout: IDLE_TIMEOUT } },
    });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  for (const family of [4, 6] as const) {
    test(`a head trickled one byte at a time over IPv${family}, never finished, gets 408 and is closed`, async (tc) => {
      const slow = await RawHttpClient.connect(t.endpoint(family), { owner: tc });
      const dripping = trickle(slow, `GET ${announceTarget()} HTTP/1.1\r\nHost: x\r\nX-Slow: `, 100);
      tc.after(dripping.stop);
      const r = await slow.next({ timeoutMs: CLOSE_BOUND_MS });
      assert.equal(r.status, 408);
      assert.equal(r.headers.connection, "close");
      await slow.waitClosed(CLOSE_BOUND_MS);
    });

    test(`a keep-alive connection left idle over IPv${family} is closed after idle_timeout`, async (tc) => {
      const c = await RawHttpClient.connect(t.endpoint(family), { owner: tc });
      const r = await c.request(rawGet(announceTarget()));
      assert.equal(r.headers.connection, "keep-alive");
      await c.waitClosed(CLOSE_BOUND_MS);
    });
  }

  test(`a head sent in two pieces 300 ms apart is served with header_timeout = ${HEADER_TIMEOUT} s`, async (tc) => {
    // Well inside the timeout, every time; repeated so that the pause falls across the
    // tracker's once-a-second maintenance tick in some of the rounds.
    const c = await RawHttpClient.connect(t.http4, { owner: tc });
    const statuses: number[] = [];
    for (let i = 0; i < 16 && !c.isClosed; i++) {
      const text = rawGet(announceTarget());
      const answer = c.next({ timeoutMs: CLOSE_BOUND_MS });
      c.write(text.slice(0, 40));
      await sleep(300);
      c.write(text.slice(40));
      statuses.push((await answer).status);
    }
    assert.deepEqual(statuses, Array(16).fill(200), "a 300 ms pause in a head is not a 1 s timeout");
  });

  test("a connection opened and never written to is closed too", async (tc) => {
    const c = await RawHttpClient.connect(t.http4, { owner: tc });
    await c.waitClosed(CLOSE_BOUND_MS);
    assert.equal(c.received, 0);
  });

  test("a keep-alive connection in use is not closed for idleness", async (tc) => {
    const c = await RawHttpClient.connect(t.http6, { owner: tc });
    // Requests every 400 ms for about twice the idle timeout.
    const stopAt = Date.now() + IDLE_TIMEOUT * 2000;
    let n = 0;
    while (Date.now() < stopAt) {
      const r = await c.request(rawGet(scrapePath([randomHash()])));
      assert.equal(r.status, 200);
      n++;
      await sleep(400);
    }
    assert.ok(n >= 3);
    assert.equal(c.isClosed, false);
  });

  test("a client that ignores the tracker's FIN after Connection: close and stays silent is dropped", async (tc) => {
    const c = await RawHttpClient.connect(t.http4, { owner: tc, allowHalfOpen: true });
    const r = await c.request(rawGet(announceTarget(), "Connection: close\r\n"));
    assert.equal(r.headers.connection, "close");
    await until(() => c.ended, CLOSE_BOUND_MS, "the tracker has sent its FIN");
    // A silent half-open client cannot see the tracker let go of the socket: wait past the idle
    // timeout, then probe with a byte now and then; a socket the tracker has closed answers RST.
    await sleep((IDLE_TIMEOUT + 2) * 1000);
    const probing = trickle(c, "", 500, "z");
    tc.after(probing.stop);
    await c.waitClosed(CLOSE_BOUND_MS);
  });

  test("a client that ignores the tracker's FIN after Connection: close and keeps sending is disconnected", async (tc) => {
    const c = await RawHttpClient.connect(t.http6, { owner: tc, allowHalfOpen: true });
    const r = await c.request(rawGet(announceTarget(), "Connection: close\r\n"));
    assert.equal(r.headers.connection, "close");
    await until(() => c.ended, CLOSE_BOUND_MS, "the tracker has sent its FIN");
    const dripping = trickle(c, "", 200, "z");
    tc.after(dripping.stop);
    await c.waitClosed(CLOSE_BOUND_MS);
  });

  test("a client that ignores the tracker's FIN after a 408 and keeps trickling is disconnected all the same", async (tc) => {
    const slow = await RawHttpClient.connect(t.http4, { owner: tc, allowHalfOpen: true });
    const dripping = trickle(slow, `GET ${announceTarget()} HTTP/1.1\r\nHost: x\r\nX-Slow: `, 100);
    tc.after(dripping.stop);
    const r = await slow.next({ timeoutMs: CLOSE_BOUND_MS });
    assert.equal(r.status, 408);
    await until(() => slow.ended, CLOSE_BOUND_MS, "the tracker has sent its FIN");
    // Half-open now: our side stays open and writing. The tracker must not keep the socket (and
    // whatever we send) for as long as we like.
    await slow.waitClosed(CLOSE_BOUND_MS);
  });

  test("bytes sent after the tracker gave up on a connection are not buffered without limit", async (tc) => {
    const c = await RawHttpClient.connect(t.http4, { owner: tc, allowHalfOpen: true });
    c.write(`GET ${announceTarget()} HTTP/1.1\r\nHost: x\r\n`);
    const r = await c.next({ timeoutMs: CLOSE_BOUND_MS });
    assert.equal(r.status, 408);
    await until(() => c.ended, CLOSE_BOUND_MS, "the tracker has sent its FIN");
    // Push 64 MiB at the tracker, far more than loopback socket buffers hold. A tracker that
    // stops reading leaves writes waiting for 'drain'; one that drops the connection makes them
    // fail. Either is fine. Reading it all means it is being kept in memory.
    const chunk = Buffer.alloc(1 << 20, 0x61);
    let accepted = 0;
    const TOTAL = 64;
    const stalled = async (): Promise<boolean> => {
      if (c.socket.write(chunk)) return false;
      return await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), 3000);
        const settle = (value: boolean) => () => {
          clearTimeout(timer);
          c.socket.off("drain", onDrain);
          c.socket.off("close", onClose);
          resolve(value);
        };
        const onDrain = settle(false);
        const onClose = settle(true);
        c.socket.once("drain", onDrain);
        c.socket.once("close", onClose);
      });
    };
    for (; accepted < TOTAL && !c.isClosed; accepted++) {
      if (await stalled()) break;
    }
    assert.ok(
      c.isClosed || accepted < TOTAL,
      `the tracker read all ${TOTAL} MiB sent after it closed the connection (and keeps the socket: closed=${c.isClosed})`,
    );
  });
});

describe("max_connections", { timeout: TEST_TIMEOUT }, () => {
  let t: HttpShoal;
  const MAX_CONNECTIONS = 2;

  before(async () => {
    t = await startHttpShoal({ sections: { http: { max_connections: MAX_CONNECTIONS } } });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  /** Whether a fresh connection gets an answer (true) or is closed unanswered (false). */
  async function served(e: HttpEndpoint, owner: AfterHook): Promise<{ ok: boolean; client: RawHttpClient }> {
    const c = await RawHttpClient.connect(e, { owner });
    try {
      const r = await c.request(rawGet(announceTarget()));
      return { ok: r.status === 200, client: c };
    } catch {
      return { ok: false, client: c };
    }
  }

  test(`a connection beyond max_connections (${MAX_CONNECTIONS}) on the same address is refused`, async (tc) => {
    const open: RawHttpClient[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const s = await served(t.http4, tc);
      assert.equal(s.ok, true, `connection ${i + 1} is served`);
      open.push(s.client);
    }
    const extra = await served(t.http4, tc);
    assert.equal(extra.ok, false, "the extra connection is not served");
    for (const c of open) c.destroy();
    await Promise.all(open.map((c) => c.closed));
    // Once the others are gone there is room again (the tracker notices the close quickly).
    let again = false;
    const deadline = Date.now() + CLOSE_BOUND_MS;
    while (!again && Date.now() < deadline) {
      const s = await served(t.http4, tc);
      again = s.ok;
      s.client.destroy();
      if (!again) await sleep(100);
    }
    assert.ok(again, "a new connection is served after the others closed");
  });

  test(`max_connections (${MAX_CONNECTIONS}) counts the connections of every address together`, async (tc) => {
    const open: RawHttpClient[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const s = await served(t.http4, tc);
      assert.equal(s.ok, true, `IPv4 connection ${i + 1} is served`);
      open.push(s.client);
    }
    const v6 = await served(t.http6, tc);
    assert.equal(v6.ok, false, `an IPv6 connection while ${MAX_CONNECTIONS} IPv4 ones are open is refused`);
    for (const c of open) c.destroy();
  });
});

describe("a client that pipelines without reading", { timeout: TEST_TIMEOUT }, () => {
  let t: HttpShoal;

  before(async () => {
    t = await startHttpShoal({ sections: { tracker: { default_numwant: 50, max_numwant: 50 } } });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  for (const family of [4, 6] as const) {
    test(`over IPv${family} gets every answer, in order, once it reads`, async (tc) => {
      const e = t.endpoint(family);
      const hash = randomHash();
      for (let i = 0; i < 50; i++)
        await announce(e, { infoHash: hash, peerId: randomPeerId(), port: nextPort++ });
      const COUNT = 4000;
      const c = await RawHttpClient.connect(e, { owner: tc });
      // Non-compact answers of 50 peers, about 3.5 KB each: 14 MB the client does not read
      // for a while, so the tracker has to wait for the socket to drain.
      const me = { infoHash: hash, peerId: randomPeerId(), compact: 0 as const };
      const answers = Array.from({ length: COUNT }, (_, i) =>
        c.next({ timeoutMs: 30_000, head: i % 500 === 499 }),
      );
      c.socket.pause();
      let all = "";
      for (let i = 0; i < COUNT; i++) {
        const path = i % 100 === 99 ? scrapePath([hash]) : announcePath({ ...me, port: 1000 });
        all += i % 500 === 499 ? `HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\n` : rawGet(path);
      }
      c.write(all);
      await sleep(1000);
      c.socket.resume();
      const got = await Promise.all(answers);
      for (let i = 0; i < COUNT; i++) {
        const r = got[i];
        assert.equal(r.status, 200, `answer ${i}`);
        if (i % 500 === 499) assert.equal(r.body.length, 0, `answer ${i} is to a HEAD`);
        else if (i % 100 === 99) assert.equal(readScrape(r.body).files.size, 1, `answer ${i} is a scrape`);
        else assert.equal(readAnnounce(r.body).peerList?.length, 50, `answer ${i} is a full announce`);
      }
      assert.equal(c.isClosed, false);
    });
  }
});
