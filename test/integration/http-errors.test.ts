// Announce and scrape errors over HTTP: every malformed parameter, a refused info hash and the
// scrape limits come back as HTTP 200 with a bencoded `failure reason` that says exactly what is
// wrong, and the connection stays usable. Then the full scrape: refused when off, and when on,
// served from a periodically rebuilt cache that lists every tracked torrent.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  announce,
  decodeDict,
  failureFor,
  httpGet,
  pct,
  pctAll,
  RawHttpClient,
  randomHash,
  randomPeerId,
  rawGet,
  readScrape,
  type ScrapeFigures,
  scrape,
  scrapePath,
} from "../helpers/http-client.ts";
import { type HttpShoal, startHttpShoal } from "../helpers/http-process.ts";

const TEST_TIMEOUT = 60_000;
const MAX_SCRAPE_HASHES = 3;
const LOG_TIMEOUT = 15_000;

function listText(hashes: Uint8Array[]): string {
  return `# test list\n${hashes.map((h) => Buffer.from(h).toString("hex")).join("\n")}\n`;
}

describe("announce and scrape errors", { timeout: TEST_TIMEOUT }, () => {
  const allowed = randomHash();
  const refused = randomHash();
  let t: HttpShoal;

  before(async () => {
    t = await startHttpShoal({
      files: { "allow.txt": listText([allowed]) },
      sections: (dir) => ({
        http: { max_scrape_hashes: MAX_SCRAPE_HASHES },
        access_list: { mode: "allow", path: join(dir, "allow.txt") },
      }),
    });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  const id = pct(randomPeerId());
  const ih = pct(allowed);

  /** Announce queries and the failure reason each must get. */
  const announceCases: [string, string, string][] = [
    ["info_hash missing", `peer_id=${id}&port=6881`, "missing info_hash"],
    [
      "info_hash of 19 bytes",
      `info_hash=${pct(allowed.subarray(0, 19))}&peer_id=${id}&port=6881`,
      "info_hash must be 20 bytes, got 19",
    ],
    [
      "info_hash of 21 bytes",
      `info_hash=${ih}%00&peer_id=${id}&port=6881`,
      "info_hash must be 20 bytes, got 21",
    ],
    ["info_hash empty", `info_hash=&peer_id=${id}&port=6881`, "info_hash must be 20 bytes, got 0"],
    [
      "info_hash as 40 hex digits",
      `info_hash=${allowed.toString("hex")}&peer_id=${id}&port=6881`,
      "info_hash must be 20 bytes, got 40",
    ],
    ["peer_id missing", `info_hash=${ih}&port=6881`, "missing peer_id"],
    [
      "peer_id of 19 bytes",
      `info_hash=${ih}&peer_id=${pct(randomPeerId().subarray(1))}&port=6881`,
      "peer_id must be 20 bytes",
    ],
    ["port missing", `info_hash=${ih}&peer_id=${id}`, "missing port"],
    ["port 0", `info_hash=${ih}&peer_id=${id}&port=0`, "invalid port"],
    ["port 65536", `info_hash=${ih}&peer_id=${id}&port=65536`, "invalid port"],
    ["port huge", `info_hash=${ih}&peer_id=${id}&port=184467440737095516160`, "invalid port"],
    ["port negative", `info_hash=${ih}&peer_id=${id}&port=-1`, "invalid port"],
    ["port not a number", `info_hash=${ih}&peer_id=${id}&port=http`, "invalid port"],
    ["port empty", `info_hash=${ih}&peer_id=${id}&port=`, "invalid port"],
    ["uploaded negative", `info_hash=${ih}&peer_id=${id}&port=6881&uploaded=-5`, "invalid uploaded"],
    ["downloaded a fraction", `info_hash=${ih}&peer_id=${id}&port=6881&downloaded=1.5`, "invalid downloaded"],
    ["left not a number", `info_hash=${ih}&peer_id=${id}&port=6881&left=lots`, "invalid left"],
    [
      "left above 2^64",
      `info_hash=${ih}&peer_id=${id}&port=6881&left=99999999999999999999999`,
      "invalid left",
    ],
    ["left with a plus sign", `info_hash=${ih}&peer_id=${id}&port=6881&left=%2B5`, "invalid left"],
    ["numwant not a number", `info_hash=${ih}&peer_id=${id}&port=6881&numwant=many`, "invalid numwant"],
    ["event unknown", `info_hash=${ih}&peer_id=${id}&port=6881&event=finished`, "invalid event"],
    ["event in capitals", `info_hash=${ih}&peer_id=${id}&port=6881&event=STARTED`, "invalid event"],
    [
      "info_hash with a bad escape",
      `info_hash=%ZZ${pct(allowed.subarray(1))}&peer_id=${id}&port=6881`,
      "malformed percent-encoding",
    ],
    [
      "info_hash ending in a cut escape",
      `info_hash=${pctAll(allowed.subarray(0, 19))}%4&peer_id=${id}&port=6881`,
      "malformed percent-encoding",
    ],
    [
      "peer_id with a bad escape",
      `info_hash=${ih}&peer_id=%G1${pct(randomPeerId().subarray(1))}&port=6881`,
      "malformed percent-encoding",
    ],
    ["port with a bad escape", `info_hash=${ih}&peer_id=${id}&port=68%8`, "malformed percent-encoding"],
    [
      "event with a bad escape",
      `info_hash=${ih}&peer_id=${id}&port=6881&event=%s`,
      "malformed percent-encoding",
    ],
    ["no query at all", "", "missing info_hash"],
  ];

  for (const [name, query, reason] of announceCases) {
    test(`announce with ${name} fails with "${reason}"`, async () => {
      for (const e of t.http) {
        assert.equal(
          await failureFor(e, `/announce${query === "" ? "" : `?${query}`}`),
          reason,
          `over IPv${e.family}`,
        );
      }
    });
  }

  test("the first error in query order is the one reported", async () => {
    const reason = await failureFor(t.http4, `/announce?port=0&info_hash=${ih}&peer_id=short`);
    assert.equal(reason, "invalid port");
  });

  test("a failure answer is a 200 holding only the failure reason, and the connection stays open", async (tc) => {
    const c = await RawHttpClient.connect(t.http4, { owner: tc });
    const first = await c.request(rawGet(`/announce?peer_id=${id}&port=6881`));
    assert.equal(first.status, 200);
    assert.equal(first.headers.connection, "keep-alive");
    assert.equal(first.headers["content-type"], "text/plain");
    assert.match(
      first.headers.date ?? "",
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    assert.deepEqual([...decodeDict(first.body).keys()], ["failure reason"]);
    assert.equal(first.body.toString("latin1"), "d14:failure reason17:missing info_hashe");
    const second = await c.request(rawGet(`/announce?info_hash=${ih}&peer_id=${id}&port=6881`));
    assert.equal(second.status, 200);
    assert.equal(decodeDict(second.body).get("failure reason"), undefined);
  });

  test("valid odd forms are accepted: percent-encoded digits, empty/paused events, repeated parameters", async () => {
    const ok = [
      `info_hash=${ih}&peer_id=${id}&port=%36%38%38%31&numwant=%35`,
      `info_hash=${ih}&peer_id=${id}&port=6882&event=`,
      `info_hash=${ih}&peer_id=${id}&port=6883&event=empty`,
      `info_hash=${ih}&peer_id=${id}&port=6884&event=paused`,
      `info_hash=${ih}&peer_id=${id}&port=6885&port=0&info_hash=short`,
      `info_hash=${ih}&peer_id=${id}&port=6886&numwant=-5&key=%ZZ&trackerid=x&unknown=%%`,
      `info_hash=${ih}&peer_id=${id}&port=6887&left=18446744073709551615`,
    ];
    for (const q of ok) {
      const r = await httpGet(t.http4, `/announce?${q}`);
      assert.equal(r.status, 200);
      assert.equal(decodeDict(r.body).get("failure reason"), undefined, q);
    }
  });

  test('an announce for an info hash the allow list does not hold fails with "info hash not allowed"', async () => {
    for (const e of t.http) {
      const reason = await failureFor(e, `/announce?info_hash=${pct(refused)}&peer_id=${id}&port=6881`);
      assert.equal(reason, "info hash not allowed", `over IPv${e.family}`);
    }
    const a = await announce(t.http6, { infoHash: allowed, peerId: randomPeerId(), port: 7000 });
    assert.ok(a.incomplete >= 1, "the listed hash is tracked");
  });

  test("a scrape of a hash the allow list does not hold answers zeros", async () => {
    const s = await scrape(t.http4, [refused, allowed]);
    assert.deepEqual(s.get(refused.toString("hex")), { complete: 0, downloaded: 0, incomplete: 0 });
    assert.ok(s.has(allowed.toString("hex")));
  });

  test(`a scrape of ${MAX_SCRAPE_HASHES} hashes is answered; ${MAX_SCRAPE_HASHES + 1} fail naming the limit`, async () => {
    const hashes = [randomHash(), randomHash(), randomHash(), randomHash()];
    const okAnswer = await scrape(t.http4, hashes.slice(0, MAX_SCRAPE_HASHES));
    assert.equal(okAnswer.size, MAX_SCRAPE_HASHES);
    for (const e of t.http) {
      const reason = await failureFor(e, scrapePath(hashes));
      assert.equal(reason, `too many info_hash values, at most ${MAX_SCRAPE_HASHES}`, `over IPv${e.family}`);
    }
  });

  test("a scrape with a hash that is not 20 bytes or badly escaped fails", async () => {
    const short = await failureFor(
      t.http4,
      `/scrape?info_hash=${pct(randomHash())}&info_hash=${pct(randomHash().subarray(2))}`,
    );
    assert.match(short, /^info_hash must be 20 bytes/);
    const badEscape = await failureFor(t.http6, `/scrape?info_hash=%X${pctAll(randomHash()).slice(2)}`);
    assert.equal(badEscape, "malformed percent-encoding");
  });

  test('a scrape without info_hash while full_scrape is off fails with "a scrape must name at least one info_hash"', async () => {
    for (const e of t.http) {
      for (const path of ["/scrape", "/scrape?", "/scrape?peer_id=x"]) {
        assert.equal(
          await failureFor(e, path),
          "a scrape must name at least one info_hash",
          `${path} over IPv${e.family}`,
        );
      }
    }
  });
});

describe("full scrape", { timeout: TEST_TIMEOUT }, () => {
  let t: HttpShoal;
  const denied = randomHash();

  before(async () => {
    t = await startHttpShoal({
      files: { "deny.txt": listText([denied]) },
      sections: (dir) => ({
        http: { full_scrape: true, full_scrape_interval: 1 },
        access_list: { mode: "deny", path: join(dir, "deny.txt") },
      }),
    });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  /** Full scrapes until `done` holds for the files; bounded, since the cache is rebuilt each second. */
  async function fullScrapeUntil(
    done: (files: Map<string, ScrapeFigures>) => boolean,
    path = "/scrape",
  ): Promise<Map<string, ScrapeFigures>> {
    const deadline = Date.now() + 20_000;
    let last: Map<string, ScrapeFigures> = new Map();
    let lastText = "";
    while (Date.now() < deadline) {
      const r = await httpGet(t.http4, path);
      assert.equal(r.status, 200);
      const failure = decodeDict(r.body).get("failure reason");
      if (failure === undefined) {
        last = readScrape(r.body).files;
        if (done(last)) return last;
      } else lastText = String(failure);
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error(
      `the full scrape never satisfied the test; last: ${JSON.stringify([...last])} ${lastText}`,
    );
  }

  test("a full scrape straight after start-up is answered, not refused as if full scrape were off", async () => {
    // The cache is first built on the tracker's one-second tick; a request before it must not be
    // told that a scrape needs an info_hash (that is the answer when full_scrape is off).
    const r = await httpGet(t.http4, "/scrape");
    assert.equal(r.status, 200);
    const reason = decodeDict(r.body).get("failure reason");
    assert.equal(reason?.toString(), undefined, "full scrape is on");
    readScrape(r.body);
  });

  test("a scrape without info_hash lists every torrent of both families with its figures", async () => {
    const hashes = [randomHash(), randomHash(), randomHash()];
    await announce(t.http4, { infoHash: hashes[0], peerId: randomPeerId(), port: 7001 });
    await announce(t.http6, { infoHash: hashes[1], peerId: randomPeerId(), port: 7002, left: 0 });
    await announce(t.http4, {
      infoHash: hashes[2],
      peerId: randomPeerId(),
      port: 7003,
      left: 0,
      event: "completed",
    });
    await announce(t.http6, { infoHash: hashes[2], peerId: randomPeerId(), port: 7004 });
    const files = await fullScrapeUntil((f) => hashes.slice(0, 3).every((h) => f.has(h.toString("hex"))));
    assert.deepEqual(files.get(hashes[0].toString("hex")), { complete: 0, downloaded: 0, incomplete: 1 });
    assert.deepEqual(files.get(hashes[1].toString("hex")), { complete: 1, downloaded: 0, incomplete: 0 });
    assert.deepEqual(files.get(hashes[2].toString("hex")), { complete: 1, downloaded: 1, incomplete: 1 });
    // the same answer over IPv6 and for a query without info_hash
    const r6 = await httpGet(t.http6, "/scrape?foo=bar");
    const f6 = readScrape(r6.body).files;
    for (const h of hashes) assert.deepEqual(f6.get(h.toString("hex")), files.get(h.toString("hex")));
  });

  test("a denied info hash never shows in the full scrape, even after it was tracked before a reload", async () => {
    const later = randomHash();
    await announce(t.http4, { infoHash: later, peerId: randomPeerId(), port: 7010 });
    assert.equal(
      await failureFor(
        t.http4,
        `/announce?info_hash=${pct(denied)}&peer_id=${pct(randomPeerId())}&port=7011`,
      ),
      "info hash not allowed",
    );
    await fullScrapeUntil((f) => f.has(later.toString("hex")));
    const since = t.shoal.logs.length;
    writeFileSync(join(t.shoal.tmpdir, "deny.txt"), listText([denied, later]));
    t.shoal.proc.kill("SIGUSR1");
    await t.shoal.waitForLog((l) => l.msg === "access list reloaded", LOG_TIMEOUT, since);
    const files = await fullScrapeUntil((f) => !f.has(later.toString("hex")));
    assert.equal(files.has(denied.toString("hex")), false);
  });

  test("HEAD of a full scrape gets the head alone, its length that of the GET body", async (tc) => {
    await fullScrapeUntil((f) => f.size > 0);
    const c = await RawHttpClient.connect(t.http4, { owner: tc });
    const h = c.next({ head: true });
    const g = c.next();
    c.write("HEAD /scrape HTTP/1.1\r\nHost: x\r\n\r\nGET /scrape HTTP/1.1\r\nHost: x\r\n\r\n");
    const head = await h;
    const get = await g;
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers.connection, "keep-alive");
    // the cache may be rebuilt between the two; both must be full scrapes all the same
    readScrape(get.body);
    assert.ok(Number(head.headers["content-length"]) > 0);
  });

  test("a scrape naming hashes is still answered for those hashes alone while full scrape is on", async () => {
    const h = randomHash();
    await announce(t.http6, { infoHash: h, peerId: randomPeerId(), port: 7020 });
    const s = await scrape(t.http6, [h]);
    assert.deepEqual([...s.keys()], [h.toString("hex")]);
  });
});
