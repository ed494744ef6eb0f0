// Announce and scrape over the HTTP tracker (BEP 3, 7, 23, 48) against one running tracker, over
// IPv4 and IPv6: compact and non-compact peer lists byte for byte, events, numwant, families kept
// apart, and info hashes whose bytes cover every value, percent-encoded or not. Tests share the
// process and keep apart by using their own random info hashes.

import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import {
  announce,
  announcePath,
  compactList,
  httpGet,
  loopback,
  pct,
  pctAll,
  RawHttpClient,
  randomHash,
  randomPeerId,
  rawGet,
  readAnnounce,
  readScrape,
  scrape,
  scrapePath,
} from "../helpers/http-client.ts";
import { type HttpShoal, startHttpShoal } from "../helpers/http-process.ts";
import { compactPeer } from "../helpers/udp-client.ts";

const ANNOUNCE_INTERVAL = 1234;
const MIN_INTERVAL = 600;
const DEFAULT_NUMWANT = 3;
const MAX_NUMWANT = 5;
const TEST_TIMEOUT = 60_000;

let t: HttpShoal;

before(async () => {
  t = await startHttpShoal({
    sections: {
      tracker: {
        announce_interval: ANNOUNCE_INTERVAL,
        min_announce_interval: MIN_INTERVAL,
        default_numwant: DEFAULT_NUMWANT,
        max_numwant: MAX_NUMWANT,
      },
    },
  });
});

after(async () => {
  await t?.shoal.cleanup();
});

let nextPort = 20_000 + Math.floor(Math.random() * 20_000);
/** A fresh announced port for each simulated peer. */
function port(): number {
  return nextPort++;
}

interface Peer {
  peerId: Buffer;
  port: number;
  /** Source address; undefined: the family's loopback. */
  localAddress?: string;
}

function peers(n: number): Peer[] {
  return Array.from({ length: n }, () => ({ peerId: randomPeerId(), port: port() }));
}

function hexOf(ip: string, p: number): string {
  return compactPeer(ip, p).toString("hex");
}

for (const family of [4, 6] as const) {
  const size = family === 6 ? 18 : 6;
  const me = loopback(family);

  describe(`over IPv${family}`, { timeout: TEST_TIMEOUT }, () => {
    test(`announcers of one torrent get each other's address and announced port as ${size}-byte compact peers`, async () => {
      const e = t.endpoint(family);
      const hash = randomHash();
      const ps = peers(4);
      for (const p of ps) await announce(e, { infoHash: hash, ...p, event: "started" });
      const [first, ...others] = ps;
      const a = await announce(e, { infoHash: hash, ...first });
      assert.equal(a.interval, ANNOUNCE_INTERVAL);
      assert.equal(a.minInterval, MIN_INTERVAL);
      assert.equal(a.complete, 0);
      assert.equal(a.incomplete, 4);
      assert.equal(a.downloaded, 0);
      const expected = others.map((p) => hexOf(me, p.port)).sort();
      if (family === 4) {
        assert.ok(a.peers !== undefined);
        assert.deepEqual(compactList(a.peers, 6), expected);
        assert.equal(a.peers6, undefined, "an IPv4 announcer gets no peers6");
        assert.deepEqual(
          [...a.dict.keys()],
          ["complete", "downloaded", "incomplete", "interval", "min interval", "peers"],
        );
      } else {
        assert.deepEqual(a.peers, Buffer.alloc(0), "an IPv6 announcer gets an empty peers string");
        assert.ok(a.peers6 !== undefined);
        assert.deepEqual(compactList(a.peers6, 18), expected);
      }
    });

    test(`compact=1 given explicitly over IPv${family} answers as the default does`, async () => {
      const e = t.endpoint(family);
      const hash = randomHash();
      const [a, b] = peers(2);
      await announce(e, { infoHash: hash, ...a });
      const r = await announce(e, { infoHash: hash, ...b, compact: 1 });
      const list = family === 4 ? r.peers : r.peers6;
      assert.ok(list !== undefined);
      assert.deepEqual(compactList(list, size), [hexOf(me, a.port)]);
    });

    test(`compact=0 over IPv${family} lists every other peer as a dictionary of ip, peer id and port`, async () => {
      const e = t.endpoint(family);
      const hash = randomHash();
      // Peer ids with bytes a text encoding would mangle: 0x00, 0x80, 0xff, '%', '&'.
      const ids = [
        Buffer.from([0x00, 0x01, 0x25, 0x26, 0x3d, 0x2b, 0x80, 0xff, ...Array(12).fill(0x7f)]),
        Buffer.from(Array.from({ length: 20 }, (_, i) => 0xff - i)),
        randomPeerId(),
      ];
      const ps: Peer[] = ids.map((peerId) => ({ peerId, port: port() }));
      for (const p of ps) await announce(e, { infoHash: hash, ...p });
      const asker = { peerId: randomPeerId(), port: port() };
      const r = await announce(e, { infoHash: hash, ...asker, compact: 0 });
      assert.equal(r.peers6, undefined);
      assert.ok(r.peerList !== undefined);
      const got = r.peerList.map((p) => ({ ip: p.ip, port: p.port, peerId: p.peerId, keys: p.keys }));
      got.sort((x, y) => x.port - y.port);
      assert.deepEqual(
        got,
        ps.map((p) => ({
          ip: me,
          port: p.port,
          peerId: p.peerId.toString("hex"),
          keys: ["ip", "peer id", "port"],
        })),
      );
      assert.equal(r.incomplete, 4);
    });

    test(`compact=0 with no_peer_id=1 over IPv${family} leaves the peer id out`, async () => {
      const e = t.endpoint(family);
      const hash = randomHash();
      const ps = peers(2);
      for (const p of ps) await announce(e, { infoHash: hash, ...p });
      const r = await announce(e, { infoHash: hash, ...peers(1)[0], compact: 0, noPeerId: true });
      assert.ok(r.peerList !== undefined);
      assert.deepEqual(
        r.peerList.map((p) => ({ ip: p.ip, port: p.port, keys: p.keys })).sort((x, y) => x.port - y.port),
        ps.map((p) => ({ ip: me, port: p.port, keys: ["ip", "port"] })),
      );
    });

    test(`event=stopped over IPv${family} removes the peer from peer lists and counts`, async () => {
      const e = t.endpoint(family);
      const hash = randomHash();
      const [a, b, c] = peers(3);
      await announce(e, { infoHash: hash, ...a });
      await announce(e, { infoHash: hash, ...b });
      await announce(e, { infoHash: hash, ...c, left: 0 });
      const stopped = await announce(e, { infoHash: hash, ...b, event: "stopped" });
      assert.equal(stopped.incomplete, 1, "the stopped leecher is no longer counted");
      assert.equal(stopped.complete, 1);
      const r = await announce(e, { infoHash: hash, ...a });
      const list = family === 4 ? r.peers : r.peers6;
      assert.ok(list !== undefined);
      assert.deepEqual(compactList(list, size), [hexOf(me, c.port)]);
      const s = await scrape(e, [hash]);
      assert.deepEqual(s.get(hash.toString("hex")), { complete: 1, downloaded: 0, incomplete: 1 });
    });

    test(`event=completed over IPv${family} counts a download and turns the leecher into a seeder`, async () => {
      const e = t.endpoint(family);
      const hash = randomHash();
      const [a, b] = peers(2);
      await announce(e, { infoHash: hash, ...a, event: "started" });
      await announce(e, { infoHash: hash, ...b, event: "started" });
      const done = await announce(e, { infoHash: hash, ...a, left: 0, event: "completed" });
      assert.equal(done.downloaded, 1);
      assert.equal(done.complete, 1);
      assert.equal(done.incomplete, 1);
      // An update from the same seeder (no event) counts no second download.
      await announce(e, { infoHash: hash, ...a, left: 0 });
      const s = await scrape(e, [hash]);
      assert.deepEqual(s.get(hash.toString("hex")), { complete: 1, downloaded: 1, incomplete: 1 });
    });

    test(`a seeder over IPv${family} is sent leechers only while there are leechers`, async () => {
      const e = t.endpoint(family);
      const hash = randomHash();
      const seeders = peers(3);
      const [leecher] = peers(1);
      for (const p of seeders) await announce(e, { infoHash: hash, ...p, left: 0 });
      await announce(e, { infoHash: hash, ...leecher });
      const r = await announce(e, { infoHash: hash, ...seeders[0], left: 0, numwant: MAX_NUMWANT });
      const list = family === 4 ? r.peers : r.peers6;
      assert.ok(list !== undefined);
      assert.deepEqual(compactList(list, size), [hexOf(me, leecher.port)]);
      assert.equal(r.complete, 3);
      assert.equal(r.incomplete, 1);
    });

    test(`numwant over IPv${family}: the default when absent, 0 or negative, as asked below the cap, the cap above it`, async () => {
      const e = t.endpoint(family);
      const hash = randomHash();
      for (const p of peers(8)) await announce(e, { infoHash: hash, ...p });
      const count = async (numwant: number | undefined, extra?: string) => {
        const r = await announce(e, { infoHash: hash, ...peers(1)[0], numwant, extra });
        const list = family === 4 ? r.peers : r.peers6;
        assert.ok(list !== undefined);
        const ids = compactList(list, size);
        assert.equal(new Set(ids).size, ids.length, "no peer twice");
        return ids.length;
      };
      assert.equal(await count(undefined), DEFAULT_NUMWANT, "absent");
      assert.equal(await count(0), DEFAULT_NUMWANT, "numwant=0");
      assert.equal(await count(undefined, "&numwant=-1"), DEFAULT_NUMWANT, "numwant=-1");
      assert.equal(await count(2), 2, "numwant=2");
      assert.equal(await count(MAX_NUMWANT), MAX_NUMWANT, "numwant at the cap");
      assert.equal(await count(100), MAX_NUMWANT, "numwant=100");
      assert.equal(await count(undefined, "&numwant=99999999999999"), MAX_NUMWANT, "numwant huge");
      const r = await announce(e, { infoHash: hash, ...peers(1)[0], compact: 0, numwant: 100 });
      assert.equal(r.peerList?.length, MAX_NUMWANT, "non-compact answers are capped too");
    });

    test(`an announcer over IPv${family} never gets itself back, and announcing twice counts once`, async () => {
      const e = t.endpoint(family);
      const hash = randomHash();
      const [a] = peers(1);
      const first = await announce(e, { infoHash: hash, ...a });
      const again = await announce(e, { infoHash: hash, ...a });
      assert.equal(first.incomplete, 1);
      assert.equal(again.incomplete, 1);
      const list = family === 4 ? again.peers : again.peers6;
      assert.deepEqual(list, Buffer.alloc(0));
    });

    test(`HEAD /announce over IPv${family} gets the head of an announce answer and no body`, async (tc) => {
      const e = t.endpoint(family);
      const hash = randomHash();
      const p = peers(1)[0];
      const c = await RawHttpClient.connect(e, { owner: tc });
      // HEAD then GET pipelined: if the HEAD answer carried a body, the GET answer would not parse.
      const headAnswer = c.next({ head: true });
      const getAnswer = c.next();
      c.write(`HEAD ${announcePath({ infoHash: hash, ...p })} HTTP/1.1\r\nHost: x\r\n\r\n`);
      c.write(rawGet(announcePath({ infoHash: hash, ...p })));
      const h = await headAnswer;
      const g = await getAnswer;
      assert.equal(h.status, 200);
      assert.equal(h.body.length, 0);
      assert.equal(g.status, 200);
      assert.equal(h.headers["content-type"], g.headers["content-type"]);
      assert.equal(
        Number(h.headers["content-length"]),
        g.body.length,
        "HEAD announces the GET body's length",
      );
      const a = readAnnounce(g.body);
      assert.equal(a.incomplete, 1, "the HEAD request announced too");
      // node:http agrees that nothing follows the head.
      const viaNode = await httpGet(e, scrapePath([hash]), { method: "HEAD" });
      assert.equal(viaNode.status, 200);
      assert.equal(viaNode.body.length, 0);
      assert.ok(Number(viaNode.headers["content-length"]) > 0);
    });

    test(`scrape over IPv${family} answers each asked hash once, in byte order, zeros for unknown ones`, async () => {
      const e = t.endpoint(family);
      const known = randomHash();
      const unknown = randomHash();
      await announce(e, { infoHash: known, ...peers(1)[0], left: 0 });
      await announce(e, { infoHash: known, ...peers(1)[0] });
      const r = await httpGet(e, scrapePath([unknown, known, unknown]));
      assert.equal(r.status, 200);
      const { files, keys } = readScrape(r.body); // bdecode rejects keys out of order
      assert.equal(keys.length, 2);
      assert.deepEqual(files.get(known.toString("hex")), { complete: 1, downloaded: 0, incomplete: 1 });
      assert.deepEqual(files.get(unknown.toString("hex")), { complete: 0, downloaded: 0, incomplete: 0 });
    });
  });
}

describe("addresses and families", { timeout: TEST_TIMEOUT }, () => {
  test("IPv4 and IPv6 announcers of one torrent get only peers of their own family; counts cover both", async () => {
    const hash = randomHash();
    const [v4a, v4b] = peers(2);
    const [v6a, v6b] = peers(2);
    await announce(t.http4, { infoHash: hash, ...v4a });
    await announce(t.http6, { infoHash: hash, ...v6a, left: 0 });
    const r4 = await announce(t.http4, { infoHash: hash, ...v4b, numwant: MAX_NUMWANT });
    const r6 = await announce(t.http6, { infoHash: hash, ...v6b, numwant: MAX_NUMWANT });
    assert.ok(r4.peers !== undefined);
    assert.deepEqual(compactList(r4.peers, 6), [hexOf("127.0.0.1", v4a.port)]);
    assert.equal(r4.peers6, undefined);
    assert.deepEqual(r6.peers, Buffer.alloc(0));
    assert.ok(r6.peers6 !== undefined);
    assert.deepEqual(compactList(r6.peers6, 18), [hexOf("::1", v6a.port)]);
    assert.equal(r6.complete, 1);
    assert.equal(r6.incomplete, 3);
    const s = await scrape(t.http4, [hash]);
    assert.deepEqual(s.get(hash.toString("hex")), { complete: 1, downloaded: 0, incomplete: 3 });
    const n4 = await announce(t.http4, { infoHash: hash, ...v4b, compact: 0 });
    assert.deepEqual(
      n4.peerList?.map((p) => p.ip),
      ["127.0.0.1"],
    );
    const n6 = await announce(t.http6, { infoHash: hash, ...v6b, compact: 0 });
    assert.deepEqual(
      n6.peerList?.map((p) => p.ip),
      ["::1"],
    );
  });

  test("peers from distinct IPv4 source addresses are listed under their own address, with the same port kept apart", async () => {
    const hash = randomHash();
    const shared = port();
    const sources = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
    const ids = sources.map(() => randomPeerId());
    for (let i = 0; i < sources.length; i++) {
      await announce(t.http4, { infoHash: hash, peerId: ids[i], port: shared }, { localAddress: sources[i] });
    }
    const asker = { peerId: randomPeerId(), port: port() };
    const r = await announce(
      t.http4,
      { infoHash: hash, ...asker, numwant: MAX_NUMWANT },
      { localAddress: "127.0.0.4" },
    );
    assert.equal(r.incomplete, 4);
    assert.ok(r.peers !== undefined);
    assert.deepEqual(compactList(r.peers, 6), sources.map((ip) => hexOf(ip, shared)).sort());
    const n = await announce(
      t.http4,
      { infoHash: hash, peerId: randomPeerId(), port: port(), compact: 0, numwant: MAX_NUMWANT },
      { localAddress: "127.0.0.5" },
    );
    assert.deepEqual(
      (n.peerList ?? []).map((p) => `${p.ip} ${p.port} ${p.peerId}`).sort(),
      [
        ...sources.map((ip, i) => `${ip} ${shared} ${ids[i].toString("hex")}`),
        `127.0.0.4 ${asker.port} ${asker.peerId.toString("hex")}`,
      ].sort(),
    );
  });
});

describe("info_hash encodings", { timeout: TEST_TIMEOUT }, () => {
  /** 13 hashes whose 260 bytes hold every value 0x00..0xff (0x00..0x03 twice). */
  const everyByte = Array.from({ length: 13 }, (_, k) =>
    Buffer.from(Array.from({ length: 20 }, (_, i) => (k * 20 + i) & 0xff)),
  );

  test("info hashes covering every byte value, percent-encoded, each name their own torrent", async () => {
    const all = new Set(everyByte.flatMap((h) => [...h]));
    assert.equal(all.size, 256);
    for (const [i, hash] of everyByte.entries()) {
      // alternate encodings: as a client would (unreserved bytes raw), every byte, lowercase hex
      const encoded = i % 3 === 0 ? pct(hash) : i % 3 === 1 ? pctAll(hash) : pctAll(hash, true);
      const r = await httpGet(
        i % 2 === 0 ? t.http4 : t.http6,
        `/announce?info_hash=${encoded}&peer_id=${pct(randomPeerId())}&port=${port()}&left=0`,
      );
      assert.equal(r.status, 200);
      const a = readAnnounce(r.body);
      assert.equal(a.complete, 1, `hash ${hash.toString("hex")} is a new torrent`);
    }
    const r = await httpGet(t.http4, `/scrape?${everyByte.map((h) => `info_hash=${pctAll(h)}`).join("&")}`);
    const { files, keys } = readScrape(r.body);
    assert.deepEqual(
      keys.map((k) => Buffer.from(k, "latin1").toString("hex")),
      everyByte.map((h) => h.toString("hex")).sort(),
      "the files keys are the raw 20 bytes of each hash",
    );
    for (const h of everyByte) {
      assert.deepEqual(files.get(h.toString("hex")), { complete: 1, downloaded: 0, incomplete: 0 });
    }
  });

  test("the reserved query bytes '+', '%', '&' and '=' inside an info hash travel percent-encoded", async () => {
    const hash = Buffer.from("+%&=+%&=+%&=+%&=+%&=", "latin1");
    const encoded = pctAll(hash);
    assert.equal(encoded.slice(0, 12), "%2B%25%26%3D");
    const p = { peerId: randomPeerId(), port: port() };
    const r = await httpGet(
      t.http4,
      `/announce?info_hash=${encoded}&peer_id=${pct(p.peerId)}&port=${p.port}`,
    );
    assert.equal(readAnnounce(r.body).incomplete, 1);
    const s = await scrape(t.http4, [hash]);
    assert.deepEqual(s.get(hash.toString("hex")), { complete: 0, downloaded: 0, incomplete: 1 });
  });

  test("a '+' in info_hash is the byte 0x20, the same torrent as %20", async () => {
    const hash = Buffer.alloc(20, 0x41);
    hash[5] = 0x20;
    hash[15] = 0x20;
    const plus = "AAAAA+AAAAAAAAA+AAAA";
    const a = peers(2);
    await httpGet(t.http4, `/announce?info_hash=${plus}&peer_id=${pct(a[0].peerId)}&port=${a[0].port}`);
    const r = await httpGet(
      t.http4,
      `/announce?info_hash=${pctAll(hash)}&peer_id=${pct(a[1].peerId)}&port=${a[1].port}`,
    );
    assert.equal(readAnnounce(r.body).incomplete, 2);
  });

  test("raw bytes 0x80..0xff in the request target are taken as themselves", async (tc) => {
    const hash = Buffer.from(Array.from({ length: 20 }, (_, i) => 0x80 + i * 6));
    const c = await RawHttpClient.connect(t.http4, { owner: tc });
    const target = Buffer.concat([
      Buffer.from("/announce?info_hash=", "latin1"),
      hash,
      Buffer.from(`&peer_id=${pct(randomPeerId())}&port=${port()}`, "latin1"),
    ]);
    const answer = await c.request(
      Buffer.concat([
        Buffer.from("GET ", "latin1"),
        target,
        Buffer.from(" HTTP/1.1\r\nHost: x\r\n\r\n", "latin1"),
      ]),
    );
    assert.equal(answer.status, 200);
    assert.equal(readAnnounce(answer.body).incomplete, 1);
    const s = await scrape(t.http4, [hash]);
    assert.deepEqual(s.get(hash.toString("hex")), { complete: 0, downloaded: 0, incomplete: 1 });
  });

  test("fetch() with a percent-encoded hash reaches the same torrent as node:http", async () => {
    const hash = randomHash();
    const p = peers(1)[0];
    await announce(t.http6, { infoHash: hash, ...p });
    const res = await fetch(`http://[::1]:${t.http6.port}${scrapePath([hash])}`);
    assert.equal(res.status, 200);
    const { files } = readScrape(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual(files.get(hash.toString("hex")), { complete: 0, downloaded: 0, incomplete: 1 });
  });

  test("an absolute-form request target (as proxies send) reaches /announce", async () => {
    const hash = randomHash();
    const p = peers(1)[0];
    const r = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: t.http4.port,
          path: `http://tracker.example:${t.http4.port}${announcePath({ infoHash: hash, ...p })}`,
          agent: false,
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(r, 200);
    const s = await scrape(t.http4, [hash]);
    assert.equal(s.get(hash.toString("hex"))?.incomplete, 1);
  });
});
