// Announce and scrape over UDP (BEP 15) against one running tracker, over IPv4 and IPv6. Tests
// share the process and keep apart by using their own random info hashes.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ShoalProcess, shoalConfig, startShoal } from "../helpers/shoal-process.ts";
import {
  compactPeersHex,
  compactPeersOf,
  type Endpoint,
  Event,
  loopback,
  newTransactionId,
  openClients,
  randomHash,
  UdpTrackerClient,
} from "../helpers/udp-client.ts";

const ANNOUNCE_INTERVAL = 1234;
const DEFAULT_NUMWANT = 4;
const MAX_NUMWANT = 6;
const TEST_TIMEOUT = 60_000;

let shoal: ShoalProcess;

before(async () => {
  shoal = await startShoal({
    config: (dir) =>
      shoalConfig(dir, {
        udp: { ban_threshold: 0 },
        tracker: {
          announce_interval: ANNOUNCE_INTERVAL,
          min_announce_interval: 600,
          default_numwant: DEFAULT_NUMWANT,
          max_numwant: MAX_NUMWANT,
        },
      }),
  });
});

after(async () => {
  await shoal?.cleanup();
});

function server(family: 4 | 6): Endpoint {
  return family === 6 ? shoal.udp6 : shoal.udp4;
}

function self(c: UdpTrackerClient): Endpoint {
  return { host: c.local.host, port: c.local.port };
}

for (const family of [4, 6] as const) {
  const peerSize = family === 6 ? 18 : 6;

  describe(`over IPv${family}`, { timeout: TEST_TIMEOUT }, () => {
    test(`connect over IPv${family} returns a connection id under the request's transaction id`, async (t) => {
      const [c] = await openClients(t, server(family), 1);
      const tid = newTransactionId();
      const answer = await c.request(c.connectRequest(tid));
      assert.equal(answer.length, 16);
      assert.equal(answer.readUInt32BE(0), 0, "action connect");
      assert.equal(answer.readUInt32BE(4), tid);
    });

    test(`announce over IPv${family} returns ${peerSize}-byte peers equal to the other announcers' address and announced port`, async (t) => {
      const hash = randomHash();
      const clients = await openClients(t, server(family), 4);
      for (const c of clients) await c.announce({ infoHash: hash, event: Event.Started });
      const [first, ...others] = clients;
      const r = await first.announce({ infoHash: hash });
      assert.equal(r.raw.length, 20 + peerSize * 3);
      assert.deepEqual(compactPeersOf(r.raw, family), compactPeersHex(others.map(self)));
      assert.equal(r.interval, ANNOUNCE_INTERVAL);
      assert.equal(r.leechers, 4);
      assert.equal(r.seeders, 0);
    });

    test(`announce over IPv${family} uses the source address and the announced port, not the source port`, async (t) => {
      const hash = randomHash();
      const [a, b] = await openClients(t, server(family), 2);
      await a.announce({ infoHash: hash, port: 51413 });
      const r = await b.announce({ infoHash: hash, port: 6881 });
      assert.deepEqual(
        compactPeersOf(r.raw, family),
        compactPeersHex([{ host: loopback(family), port: 51413 }]),
      );
    });

    test(`announce over IPv${family} ignores the IP field and uses the source address`, async (t) => {
      const hash = randomHash();
      const [a, b] = await openClients(t, server(family), 2);
      // 10.1.2.3: a client asking to be listed under another address.
      await a.announce({ infoHash: hash, ip: 0x0a010203 });
      const r = await b.announce({ infoHash: hash });
      assert.deepEqual(compactPeersOf(r.raw, family), compactPeersHex([self(a)]));
    });

    test(`announcer over IPv${family} is never given itself`, async (t) => {
      const hash = randomHash();
      const [a] = await openClients(t, server(family), 1);
      const r1 = await a.announce({ infoHash: hash, event: Event.Started });
      assert.equal(r1.peers.length, 0);
      const r2 = await a.announce({ infoHash: hash });
      assert.equal(r2.peers.length, 0);
      assert.equal(r2.leechers, 1, "announcing twice is still one peer");
    });

    test(`seeders and leechers over IPv${family} are counted in announce answers and scrapes`, async (t) => {
      const hash = randomHash();
      const [s1, s2, l1, l2, l3] = await openClients(t, server(family), 5);
      await s1.announce({ infoHash: hash, left: 0, event: Event.Started });
      await s2.announce({ infoHash: hash, left: 0, event: Event.Started });
      await l1.announce({ infoHash: hash, left: 5000, event: Event.Started });
      await l2.announce({ infoHash: hash, left: 5000, event: Event.Started });
      const r = await l3.announce({ infoHash: hash, left: 5000, event: Event.Started });
      assert.equal(r.seeders, 2);
      assert.equal(r.leechers, 3);
      assert.deepEqual(compactPeersOf(r.raw, family), compactPeersHex([s1, s2, l1, l2].map(self)));
      assert.deepEqual(await l3.scrapeOne(hash), { seeders: 2, completed: 0, leechers: 3 });
    });

    test(`a seeder over IPv${family} gets only leechers while leechers exist`, async (t) => {
      const hash = randomHash();
      const [s1, s2, s3, l1, l2] = await openClients(t, server(family), 5);
      for (const s of [s1, s2, s3]) await s.announce({ infoHash: hash, left: 0 });
      for (const l of [l1, l2]) await l.announce({ infoHash: hash, left: 1 });
      const r = await s1.announce({ infoHash: hash, left: 0, numWant: MAX_NUMWANT });
      assert.deepEqual(compactPeersOf(r.raw, family), compactPeersHex([l1, l2].map(self)));
      assert.equal(r.seeders, 3);
      assert.equal(r.leechers, 2);
      const rl = await l1.announce({ infoHash: hash, left: 1, numWant: MAX_NUMWANT });
      assert.deepEqual(compactPeersOf(rl.raw, family), compactPeersHex([s1, s2, s3, l2].map(self)));
    });

    test(`a seeder over IPv${family} gets the other seeders when there are no leechers`, async (t) => {
      const hash = randomHash();
      const [s1, s2, s3] = await openClients(t, server(family), 3);
      for (const s of [s1, s2, s3]) await s.announce({ infoHash: hash, left: 0 });
      const r = await s1.announce({ infoHash: hash, left: 0 });
      assert.deepEqual(compactPeersOf(r.raw, family), compactPeersHex([s2, s3].map(self)));
    });

    test(`a stopped peer over IPv${family} disappears from peer lists, counts and scrapes`, async (t) => {
      const hash = randomHash();
      const [a, b, c, s] = await openClients(t, server(family), 4);
      for (const x of [a, b, c]) await x.announce({ infoHash: hash, event: Event.Started });
      await s.announce({ infoHash: hash, left: 0, event: Event.Started });
      await b.announceRaw({ infoHash: hash, event: Event.Stopped });
      await s.announceRaw({ infoHash: hash, left: 0, event: Event.Stopped });
      const r = await a.announce({ infoHash: hash });
      assert.deepEqual(compactPeersOf(r.raw, family), compactPeersHex([self(c)]));
      assert.equal(r.leechers, 2);
      assert.equal(r.seeders, 0);
      assert.deepEqual(await a.scrapeOne(hash), { seeders: 0, completed: 0, leechers: 2 });
    });

    test(`completed announces over IPv${family} are counted as downloads in scrapes`, async (t) => {
      const hash = randomHash();
      const [a, b, c] = await openClients(t, server(family), 3);
      for (const x of [a, b, c]) await x.announce({ infoHash: hash, left: 100, event: Event.Started });
      await a.announce({ infoHash: hash, left: 0, event: Event.Completed });
      assert.deepEqual(await c.scrapeOne(hash), { seeders: 1, completed: 1, leechers: 2 });
      await b.announce({ infoHash: hash, left: 0, event: Event.Completed });
      assert.deepEqual(await c.scrapeOne(hash), { seeders: 2, completed: 2, leechers: 1 });
      // Stopping does not take a download back.
      await a.announceRaw({ infoHash: hash, left: 0, event: Event.Stopped });
      assert.deepEqual(await c.scrapeOne(hash), { seeders: 1, completed: 2, leechers: 1 });
    });

    test(`numwant over IPv${family}: -1 and 0 give default_numwant, more than max_numwant is capped`, async (t) => {
      const hash = randomHash();
      const clients = await openClients(t, server(family), 9);
      for (const c of clients) await c.announce({ infoHash: hash, event: Event.Started, numWant: 0 });
      const asker = clients[0];
      const others = new Set(compactPeersHex(clients.slice(1).map(self)));
      const cases: [number, number][] = [
        [-1, DEFAULT_NUMWANT],
        [0, DEFAULT_NUMWANT],
        [-100, DEFAULT_NUMWANT],
        [2, 2],
        [MAX_NUMWANT, MAX_NUMWANT],
        [100, MAX_NUMWANT],
        [0x7fffffff, MAX_NUMWANT],
      ];
      for (const [numWant, expected] of cases) {
        const r = await asker.announce({ infoHash: hash, numWant });
        assert.equal(r.raw.length, 20 + peerSize * expected, `numwant ${numWant}`);
        const got = compactPeersOf(r.raw, family);
        assert.equal(new Set(got).size, expected, `numwant ${numWant}: distinct peers`);
        for (const p of got)
          assert.ok(others.has(p), `numwant ${numWant}: ${p} is one of the other announcers`);
        assert.equal(r.leechers, 9, "the counts cover the whole swarm");
      }
    });

    test(`announce over IPv${family} with BEP 41 options appended is answered like a plain one`, async (t) => {
      const hash = randomHash();
      const [a, b] = await openClients(t, server(family), 2);
      await a.announce({ infoHash: hash });
      const plain = await b.announceRequest({ infoHash: hash });
      const path = Buffer.from("/announce?passkey=x");
      // URLData option (2, length, bytes), then NOP (1) and EndOfOptions (0).
      const withOptions = Buffer.concat([plain, Buffer.from([2, path.length]), path, Buffer.from([1, 0])]);
      const answer = await b.request(withOptions);
      assert.equal(answer.readUInt32BE(0), 1, `action announce, got ${answer.toString("hex")}`);
      assert.deepEqual(compactPeersOf(answer, family), compactPeersHex([self(a)]));
    });

    test(`scrape over IPv${family} answers entries in request order, zeros for unknown info hashes`, async (t) => {
      const h1 = randomHash();
      const h2 = randomHash();
      const unknown = randomHash();
      const [a, b] = await openClients(t, server(family), 2);
      await a.announce({ infoHash: h1, left: 0 });
      await b.announce({ infoHash: h2, left: 10 });
      const entries = await a.scrape([h2, unknown, h1, h2]);
      assert.deepEqual(entries, [
        { seeders: 0, completed: 0, leechers: 1 },
        { seeders: 0, completed: 0, leechers: 0 },
        { seeders: 1, completed: 0, leechers: 0 },
        { seeders: 0, completed: 0, leechers: 1 },
      ]);
    });

    test(`scrape over IPv${family} of exactly 74 info hashes answers 74 entries`, async (t) => {
      const [a] = await openClients(t, server(family), 1);
      const hashes = Array.from({ length: 74 }, () => randomHash());
      await a.announce({ infoHash: hashes[0], left: 0 });
      await a.announce({ infoHash: hashes[73] });
      const answer = await a.request(await a.scrapeRequest(hashes));
      assert.equal(answer.length, 8 + 12 * 74);
      const entries = await a.scrape(hashes);
      assert.equal(entries.length, 74);
      assert.deepEqual(entries[0], { seeders: 1, completed: 0, leechers: 0 });
      assert.deepEqual(entries[73], { seeders: 0, completed: 0, leechers: 1 });
      for (let i = 1; i < 73; i++) assert.deepEqual(entries[i], { seeders: 0, completed: 0, leechers: 0 });
    });

    test(`scrape over IPv${family} of more than 74 info hashes answers the first 74`, async (t) => {
      const [a] = await openClients(t, server(family), 1);
      const hashes = Array.from({ length: 100 }, () => randomHash());
      await a.announce({ infoHash: hashes[73], left: 0 });
      await a.announce({ infoHash: hashes[74], left: 0 });
      const entries = await a.scrape(hashes);
      assert.equal(entries.length, 74);
      assert.deepEqual(entries[73], { seeders: 1, completed: 0, leechers: 0 });
    });
  });
}

describe("IPv4 and IPv6 swarms", { timeout: TEST_TIMEOUT }, () => {
  test("announce over IPv4 from distinct source addresses returns each announcer's own address", async (t) => {
    const hash = randomHash();
    const a = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.2", owner: t });
    const b = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.3", owner: t });
    const c = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.1", owner: t });
    await a.announce({ infoHash: hash, port: 7001 });
    await b.announce({ infoHash: hash, port: 7002 });
    const r = await c.announce({ infoHash: hash, port: 7003 });
    assert.deepEqual(
      compactPeersOf(r.raw, 4),
      compactPeersHex([
        { host: "127.0.0.2", port: 7001 },
        { host: "127.0.0.3", port: 7002 },
      ]),
    );
    const ra = await a.announce({ infoHash: hash, port: 7001 });
    assert.deepEqual(
      compactPeersOf(ra.raw, 4),
      compactPeersHex([
        { host: "127.0.0.3", port: 7002 },
        { host: "127.0.0.1", port: 7003 },
      ]),
    );
  });

  test("a stopped announce from another address carrying a peer's id and port does not remove that peer", async (t) => {
    const hash = randomHash();
    const victim = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.4", owner: t });
    const attacker = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.5", owner: t });
    const observer = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.6", owner: t });
    await victim.announce({ infoHash: hash, port: 7100 });
    await attacker.announceRaw({ infoHash: hash, port: 7100, peerId: victim.peerId, event: Event.Stopped });
    const r = await observer.announce({ infoHash: hash, port: 7101 });
    assert.deepEqual(compactPeersOf(r.raw, 4), compactPeersHex([{ host: "127.0.0.4", port: 7100 }]));
    assert.equal(r.leechers, 2);
  });

  test("announce over IPv6 returns 18-byte peers of IPv6 announcers only, and IPv4 6-byte peers of IPv4 announcers only", async (t) => {
    const hash = randomHash();
    const v4 = await openClients(t, shoal.udp4, 3);
    const v6 = await openClients(t, shoal.udp6, 3);
    for (const c of [...v4, ...v6]) await c.announce({ infoHash: hash, event: Event.Started });
    const r6 = await v6[0].announce({ infoHash: hash, numWant: MAX_NUMWANT });
    assert.equal(r6.raw.length, 20 + 18 * 2);
    assert.deepEqual(compactPeersOf(r6.raw, 6), compactPeersHex(v6.slice(1).map(self)));
    const r4 = await v4[0].announce({ infoHash: hash, numWant: MAX_NUMWANT });
    assert.equal(r4.raw.length, 20 + 6 * 2);
    assert.deepEqual(compactPeersOf(r4.raw, 4), compactPeersHex(v4.slice(1).map(self)));
  });

  test("a torrent's counts and scrape cover its IPv4 and IPv6 peers together", async (t) => {
    const hash = randomHash();
    const [a4, b4] = await openClients(t, shoal.udp4, 2);
    const [a6] = await openClients(t, shoal.udp6, 1);
    await a4.announce({ infoHash: hash, left: 0 });
    await b4.announce({ infoHash: hash, left: 10, event: Event.Started });
    await a6.announce({ infoHash: hash, left: 10, event: Event.Started });
    await a6.announce({ infoHash: hash, left: 0, event: Event.Completed });
    const r = await b4.announce({ infoHash: hash, left: 10 });
    assert.equal(r.seeders, 2);
    assert.equal(r.leechers, 1);
    const expected = { seeders: 2, completed: 1, leechers: 1 };
    assert.deepEqual(await a4.scrapeOne(hash), expected);
    assert.deepEqual(await a6.scrapeOne(hash), expected);
  });

  test("a stopped IPv4 peer does not remove an IPv6 peer announcing the same port", async (t) => {
    const hash = randomHash();
    const [a4, b4] = await openClients(t, shoal.udp4, 2);
    const [a6, b6] = await openClients(t, shoal.udp6, 2);
    await a4.announce({ infoHash: hash, port: 40000 });
    await a6.announce({ infoHash: hash, port: 40000 });
    await a4.announceRaw({ infoHash: hash, port: 40000, event: Event.Stopped });
    const r6 = await b6.announce({ infoHash: hash, port: 40001 });
    assert.deepEqual(compactPeersOf(r6.raw, 6), compactPeersHex([{ host: "::1", port: 40000 }]));
    const r4 = await b4.announce({ infoHash: hash, port: 40001 });
    assert.equal(r4.peers.length, 0);
  });
});
