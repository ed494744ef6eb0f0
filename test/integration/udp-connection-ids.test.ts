// Connection ids (BEP 15): announces and scrapes need an id the tracker issued to the same source
// address, and a source that keeps sending bad ids is ignored for ban_duration. Bans are per IP,
// so each test uses its own source address (127.0.0.x on Linux; ::1 is the only IPv6 loopback
// address, so one test alone bans it).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ShoalProcess, shoalConfig, startShoal } from "../helpers/shoal-process.ts";
import { Event, randomHash, UdpTrackerClient } from "../helpers/udp-client.ts";

const BAN_THRESHOLD = 3;
const TEST_TIMEOUT = 60_000;
/** Ids no tracker issued to anyone here (they could only verify by a 2^-64 chance). */
const MADE_UP_IDS = [
  { hi: 0xdeadbeef, lo: 0xcafebabe },
  { hi: 0, lo: 0 },
  { hi: 0xffffffff, lo: 0xffffffff },
];

let shoal: ShoalProcess;

before(async () => {
  shoal = await startShoal({
    config: (dir) =>
      shoalConfig(dir, {
        // A window and a duration far longer than the tests: no timing involved.
        udp: { ban_threshold: BAN_THRESHOLD, ban_window: 3600, ban_duration: 3600 },
      }),
  });
});

after(async () => {
  await shoal?.cleanup();
});

describe("connection ids", { timeout: TEST_TIMEOUT }, () => {
  test("an announce over IPv4 with a connection id never issued gets 'invalid connection id'", async (t) => {
    const c = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.10", owner: t });
    const message = await c.announceError({ infoHash: randomHash(), connId: MADE_UP_IDS[0] });
    assert.equal(message, "invalid connection id");
  });

  test("a scrape over IPv4 with a connection id never issued gets 'invalid connection id'", async (t) => {
    const c = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.11", owner: t });
    const answer = await c.request(await c.scrapeRequest([randomHash()], MADE_UP_IDS[1]));
    assert.equal(answer.readUInt32BE(0), 3, "action error");
    assert.equal(answer.subarray(8).toString(), "invalid connection id");
  });

  test("a connection id issued to one IPv4 address is refused from another", async (t) => {
    const owner = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.12", owner: t });
    const thief = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.13", owner: t });
    const id = await owner.connect();
    const hash = randomHash();
    assert.equal(await thief.announceError({ infoHash: hash, connId: id }), "invalid connection id");
    const r = await owner.announce({ infoHash: hash, connId: id });
    assert.equal(r.leechers, 1, "the owner's id still works, and the refused announce added no peer");
  });

  test("a connection id issued to one IPv4 source port works from another port of the same address", async (t) => {
    const a = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.14", owner: t });
    const b = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.14", owner: t });
    const id = await a.connect();
    const r = await b.announce({ infoHash: randomHash(), connId: id });
    assert.equal(r.leechers, 1);
  });

  test(`after ${BAN_THRESHOLD} bad connection ids an IPv4 source gets no answers, other sources still do`, async (t) => {
    const banned = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.20", owner: t });
    const samePlace = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.20", owner: t });
    const neighbour = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.21", owner: t });
    const hash = randomHash();
    const goodId = await banned.connect();
    for (let i = 0; i < BAN_THRESHOLD; i++) {
      const message = await banned.announceError({ infoHash: hash, connId: MADE_UP_IDS[i] });
      assert.equal(message, "invalid connection id", `bad id ${i + 1} of ${BAN_THRESHOLD} is still answered`);
    }
    // Everything from that address is now ignored: connects, announces with a good id, scrapes.
    // (Listened for together: each fails if anything at all arrives on its socket meanwhile.)
    await Promise.all([
      banned.expectNoAnswer(banned.connectRequest()),
      banned.expectNoAnswer(await banned.announceRequest({ infoHash: hash, connId: goodId })),
      banned.expectNoAnswer(await banned.scrapeRequest([hash], goodId)),
      samePlace.expectNoAnswer(samePlace.connectRequest()),
    ]);
    // Another address is served as before.
    await neighbour.connect();
    const r = await neighbour.announce({ infoHash: hash, event: Event.Started });
    assert.equal(r.leechers, 1, "the banned source's announce was not recorded");
  });

  test(`after ${BAN_THRESHOLD} bad connection ids over IPv6 the source gets errors, then no answers; IPv4 is unaffected`, async (t) => {
    const v6 = await UdpTrackerClient.open(shoal.udp6, { owner: t });
    const v4 = await UdpTrackerClient.open(shoal.udp4, { bind: "127.0.0.22", owner: t });
    const hash = randomHash();
    const goodId = await v6.connect();
    const r = await v6.announce({ infoHash: hash, connId: goodId });
    assert.equal(r.leechers, 1);
    for (let i = 0; i < BAN_THRESHOLD; i++) {
      const message = await v6.announceError({ infoHash: hash, connId: MADE_UP_IDS[i] });
      assert.equal(message, "invalid connection id", `bad id ${i + 1} of ${BAN_THRESHOLD} is still answered`);
    }
    await Promise.all([
      v6.expectNoAnswer(v6.connectRequest()),
      v6.expectNoAnswer(await v6.announceRequest({ infoHash: hash, connId: goodId })),
    ]);
    await v4.connect();
    assert.deepEqual(await v4.scrapeOne(hash), { seeders: 0, completed: 0, leechers: 1 });
  });
});
