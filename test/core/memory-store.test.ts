import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AnnounceEvent, AnnounceRequest, SCRAPE_STRIDE } from "../../src/core/announce.ts";
import { Clock } from "../../src/core/clock.ts";
import { MemoryStore, selectPeers } from "../../src/core/memory-store.ts";
import { PeerList } from "../../src/core/peer-list.ts";
import {
  endpointOf,
  type Family,
  hex,
  infoHashOf,
  newResult,
  peerIdOf,
  request,
  returnedEndpoints,
  returnedPeerIds,
  storedPeers,
} from "./helpers.ts";

const T0 = 1_700_000_000;
const TIMEOUT = 1800;

function setup(): { clock: Clock; store: MemoryStore } {
  const clock = new Clock(T0);
  return { clock, store: new MemoryStore(clock, { peerTimeout: TIMEOUT }) };
}

function scrapeOne(
  store: MemoryStore,
  infoHash: string,
): { seeders: number; downloaded: number; leechers: number } {
  const out = new Float64Array(3);
  store.scrape([infoHash], 1, out);
  return { seeders: out[0], downloaded: out[1], leechers: out[2] };
}

/** Announces peer `n` of `family` to swarm `hash`; returns the result. */
function announce(
  store: MemoryStore,
  n: number,
  opts: {
    family?: Family;
    seeder?: boolean;
    event?: number;
    numWant?: number;
    hash?: number;
    peer?: number;
  } = {},
) {
  const family = opts.family ?? 4;
  const res = newResult();
  store.announce(
    request({
      infoHash: infoHashOf(opts.hash ?? 0),
      family,
      endpoint: endpointOf(family, n),
      peerId: peerIdOf(opts.peer ?? n),
      seeder: opts.seeder ?? false,
      event: opts.event ?? AnnounceEvent.None,
      numWant: opts.numWant ?? 50,
    }),
    res,
  );
  return res;
}

/** Calls expire with `budget` until a full pass has surely run over an unchanging store. */
function expireAll(store: MemoryStore, budget: number): void {
  const t = store.totals();
  const work = t.torrents + t.seeders + t.leechers + 1;
  const calls = 2 * Math.ceil(work / budget) + 4;
  for (let i = 0; i < calls; i++) store.expire(budget);
}

describe("MemoryStore announce", () => {
  test("the first peer creates the swarm and gets nobody back", () => {
    const { store } = setup();
    const res = announce(store, 0, { event: AnnounceEvent.Started });
    assert.equal(res.peerCount, 0);
    assert.equal(res.seeders, 0);
    assert.equal(res.leechers, 1);
    assert.equal(res.downloaded, 0);
    assert.deepEqual(store.totals(), { torrents: 1, seeders: 0, leechers: 1, completed: 0 });
    assert.equal(store.synchronous, true);
  });

  test("a second peer gets the first, and counts include both", () => {
    const { store } = setup();
    announce(store, 0, { seeder: true, event: AnnounceEvent.Started });
    const res = announce(store, 1, { event: AnnounceEvent.Started });
    assert.equal(res.peerCount, 1);
    assert.deepEqual(returnedEndpoints(res, 4), [hex(endpointOf(4, 0))]);
    assert.equal(res.seeders, 1);
    assert.equal(res.leechers, 1);
    const again = announce(store, 0, { seeder: true });
    assert.deepEqual(returnedEndpoints(again, 4), [hex(endpointOf(4, 1))], "and the first gets the second");
  });

  test("a re-announce from the same endpoint updates, it does not add", () => {
    const { store, clock } = setup();
    announce(store, 0);
    clock.now += 10;
    const res = announce(store, 0, { peer: 99 });
    assert.equal(res.leechers, 1);
    assert.equal(store.totals().leechers, 1);
    const p = storedPeers(store, infoHashOf(0), 4).get(hex(endpointOf(4, 0)));
    assert.equal(p?.peerId, hex(peerIdOf(99)), "the endpoint owns the entry; its peer id is refreshed");
    assert.equal(p?.lastSeen, T0 + 10);
  });

  test("the topology group is stored with the peer", () => {
    const { store } = setup();
    const res = newResult();
    store.announce(request({ group: 513 }), res);
    const swarm = store.swarms.get(infoHashOf(0));
    assert.equal(swarm?.v4?.group(0), 513);
  });

  test("IPv4 and IPv6 peers are kept apart, counts cover both", () => {
    const { store } = setup();
    announce(store, 0, { family: 4 });
    announce(store, 1, { family: 4, seeder: true });
    const r6 = announce(store, 0, { family: 6 });
    assert.equal(r6.peerCount, 0, "an IPv6 announcer gets no IPv4 peers");
    assert.equal(r6.seeders, 1);
    assert.equal(r6.leechers, 2);
    const r6b = announce(store, 1, { family: 6 });
    assert.deepEqual(returnedEndpoints(r6b, 6), [hex(endpointOf(6, 0))]);
    const r4 = announce(store, 2, { family: 4 });
    assert.deepEqual(
      new Set(returnedEndpoints(r4, 4)),
      new Set([hex(endpointOf(4, 0)), hex(endpointOf(4, 1))]),
    );
    assert.deepEqual(store.totals(), { torrents: 1, seeders: 1, leechers: 4, completed: 0 });
  });

  test("swarms are separate", () => {
    const { store } = setup();
    announce(store, 0, { hash: 1 });
    const res = announce(store, 1, { hash: 2 });
    assert.equal(res.peerCount, 0);
    assert.equal(res.leechers, 1);
    assert.equal(store.totals().torrents, 2);
  });

  test("numWant caps the peers returned; 0 returns none but still counts", () => {
    const { store } = setup();
    for (let i = 0; i < 20; i++) announce(store, i);
    assert.equal(announce(store, 20, { numWant: 5 }).peerCount, 5);
    const none = announce(store, 21, { numWant: 0 });
    assert.equal(none.peerCount, 0);
    assert.equal(none.leechers, 22);
    assert.equal(announce(store, 22, { numWant: 1000 }).peerCount, 22);
  });

  test("peer ids come back parallel to endpoints when asked", () => {
    const { store } = setup();
    for (let i = 0; i < 12; i++) announce(store, i, { peer: 1000 + i });
    const res = newResult();
    res.wantPeerIds = true;
    store.announce(request({ endpoint: endpointOf(4, 12), peerId: peerIdOf(1012), numWant: 7 }), res);
    assert.equal(res.peerCount, 7);
    const eps = returnedEndpoints(res, 4);
    const ids = returnedPeerIds(res);
    const stored = storedPeers(store, infoHashOf(0), 4);
    for (let i = 0; i < 7; i++) assert.equal(stored.get(eps[i])?.peerId, ids[i]);
  });

  test("endpoints are written from outOffset on", () => {
    const { store } = setup();
    announce(store, 0);
    announce(store, 1);
    const res = newResult(10);
    res.outOffset = 7;
    res.out.fill(0xee);
    store.announce(request({ endpoint: endpointOf(4, 2) }), res);
    assert.equal(res.peerCount, 2);
    assert.ok(
      res.out.subarray(0, 7).every((b) => b === 0xee),
      "bytes before the offset untouched",
    );
    assert.deepEqual(
      new Set(returnedEndpoints(res, 4)),
      new Set([hex(endpointOf(4, 0)), hex(endpointOf(4, 1))]),
    );
    assert.ok(
      res.out.subarray(7 + 12).every((b) => b === 0xee),
      "bytes after the peers untouched",
    );
  });

  test("a reused request and result carry nothing over", () => {
    const { store } = setup();
    const req = new AnnounceRequest();
    const res = newResult();
    for (let i = 0; i < 5; i++) store.announce(request({ endpoint: endpointOf(4, i) }, req), res);
    store.announce(request({ infoHash: infoHashOf(9), endpoint: endpointOf(4, 0) }, req), res);
    assert.equal(res.peerCount, 0);
    assert.equal(res.leechers, 1);
    store.announce(
      request({ infoHash: infoHashOf(9), endpoint: endpointOf(4, 0), event: AnnounceEvent.Stopped }, req),
      res,
    );
    assert.equal(res.peerCount, 0);
    assert.equal(res.leechers, 0);
  });
});

describe("MemoryStore seeders and leechers", () => {
  test("a seeder gets only leechers while there are any", () => {
    const { store } = setup();
    for (let i = 0; i < 10; i++) announce(store, i, { seeder: true });
    for (let i = 10; i < 13; i++) announce(store, i);
    for (let k = 0; k < 50; k++) {
      const res = announce(store, 99, { seeder: true });
      assert.equal(res.peerCount, 3);
      assert.deepEqual(
        new Set(returnedEndpoints(res, 4)),
        new Set([10, 11, 12].map((i) => hex(endpointOf(4, i)))),
      );
    }
  });

  test("a seeder gets seeders when there is nothing else", () => {
    const { store } = setup();
    for (let i = 0; i < 4; i++) announce(store, i, { seeder: true });
    const res = announce(store, 0, { seeder: true });
    assert.equal(res.peerCount, 3);
    assert.ok(!returnedEndpoints(res, 4).includes(hex(endpointOf(4, 0))));
  });

  test("a leecher gets seeders and leechers, never itself", () => {
    const { store } = setup();
    announce(store, 0, { seeder: true });
    announce(store, 1);
    announce(store, 2);
    const res = announce(store, 1);
    assert.deepEqual(
      new Set(returnedEndpoints(res, 4)),
      new Set([hex(endpointOf(4, 0)), hex(endpointOf(4, 2))]),
    );
  });

  test("leecher to seeder and back moves the totals", () => {
    const { store } = setup();
    announce(store, 0);
    announce(store, 0, { seeder: true });
    assert.deepEqual(store.totals(), { torrents: 1, seeders: 1, leechers: 0, completed: 0 });
    announce(store, 0);
    assert.deepEqual(store.totals(), { torrents: 1, seeders: 0, leechers: 1, completed: 0 });
  });
});

describe("MemoryStore completed (downloads)", () => {
  test("counted when a leecher completes, once", () => {
    const { store } = setup();
    announce(store, 0, { event: AnnounceEvent.Started });
    const r1 = announce(store, 0, { seeder: true, event: AnnounceEvent.Completed });
    assert.equal(r1.downloaded, 1);
    const r2 = announce(store, 0, { seeder: true, event: AnnounceEvent.Completed });
    assert.equal(r2.downloaded, 1, "a repeated completed from a seeder is not another download");
    assert.equal(store.totals().completed, 1);
    assert.equal(scrapeOne(store, infoHashOf(0)).downloaded, 1);
  });

  test("counted for a peer never seen before", () => {
    const { store } = setup();
    const res = announce(store, 5, { seeder: true, event: AnnounceEvent.Completed });
    assert.equal(res.downloaded, 1);
    assert.equal(res.seeders, 1);
  });

  test("counted again after the peer went back to leeching", () => {
    const { store } = setup();
    announce(store, 0, { seeder: true, event: AnnounceEvent.Completed });
    announce(store, 0, { seeder: false });
    announce(store, 0, { seeder: true, event: AnnounceEvent.Completed });
    assert.equal(store.totals().completed, 2);
  });

  test("per swarm, and the swarm outlives its peers for its count", () => {
    const { store } = setup();
    announce(store, 0, { hash: 1, seeder: true, event: AnnounceEvent.Completed });
    announce(store, 1, { hash: 2, seeder: true, event: AnnounceEvent.Completed });
    announce(store, 2, { hash: 2, seeder: true, event: AnnounceEvent.Completed });
    announce(store, 0, { hash: 1, event: AnnounceEvent.Stopped });
    assert.deepEqual(scrapeOne(store, infoHashOf(1)), { seeders: 0, downloaded: 1, leechers: 0 });
    assert.deepEqual(scrapeOne(store, infoHashOf(2)), { seeders: 2, downloaded: 2, leechers: 0 });
    assert.deepEqual(store.totals(), { torrents: 2, seeders: 2, leechers: 0, completed: 3 });
    assert.deepEqual(
      new Map(store.downloadCounts()),
      new Map([
        [infoHashOf(1), 1],
        [infoHashOf(2), 2],
      ]),
    );
  });

  test("a stopped peer's event does not count a download", () => {
    const { store } = setup();
    announce(store, 0);
    announce(store, 0, { event: AnnounceEvent.Stopped, seeder: true });
    assert.equal(store.totals().completed, 0);
  });
});

describe("MemoryStore stopped", () => {
  test("removes the peer; an empty swarm without downloads is dropped", () => {
    const { store } = setup();
    announce(store, 0);
    announce(store, 1, { seeder: true });
    const r = announce(store, 0, { event: AnnounceEvent.Stopped });
    assert.equal(r.peerCount, 0);
    assert.equal(r.seeders, 1);
    assert.equal(r.leechers, 0);
    announce(store, 1, { event: AnnounceEvent.Stopped, seeder: true });
    assert.deepEqual(store.totals(), { torrents: 0, seeders: 0, leechers: 0, completed: 0 });
    assert.equal(store.swarms.size, 0);
  });

  test("for an unknown swarm creates nothing", () => {
    const { store } = setup();
    const res = newResult();
    res.seeders = 9;
    res.leechers = 9;
    res.downloaded = 9;
    res.peerCount = 9;
    store.announce(request({ event: AnnounceEvent.Stopped }), res);
    assert.deepEqual([res.seeders, res.leechers, res.downloaded, res.peerCount], [0, 0, 0, 0]);
    assert.equal(store.totals().torrents, 0);
  });

  test("for an unknown peer of a known swarm changes nothing", () => {
    const { store } = setup();
    announce(store, 0);
    const r = announce(store, 1, { event: AnnounceEvent.Stopped });
    assert.equal(r.leechers, 1);
    assert.equal(r.peerCount, 0);
    const r6 = announce(store, 0, { family: 6, event: AnnounceEvent.Stopped });
    assert.equal(r6.leechers, 1, "the same number in the other family is another peer");
    assert.deepEqual(store.totals(), { torrents: 1, seeders: 0, leechers: 1, completed: 0 });
  });

  test("dropping one family's list keeps the other", () => {
    const { store } = setup();
    announce(store, 0, { family: 4 });
    announce(store, 0, { family: 6 });
    announce(store, 0, { family: 4, event: AnnounceEvent.Stopped });
    const swarm = store.swarms.get(infoHashOf(0));
    assert.equal(swarm?.v4, null);
    assert.equal(swarm?.v6?.count, 1);
    const res = announce(store, 1, { family: 6 });
    assert.deepEqual(returnedEndpoints(res, 6), [hex(endpointOf(6, 0))]);
  });

  test("a stopped peer can come back", () => {
    const { store } = setup();
    announce(store, 0);
    announce(store, 0, { event: AnnounceEvent.Stopped });
    const r = announce(store, 0, { event: AnnounceEvent.Started });
    assert.equal(r.leechers, 1);
  });
});

describe("MemoryStore peer id is not identity", () => {
  test("another endpoint with the same peer id is another peer, and cannot stop the first", () => {
    const { store } = setup();
    announce(store, 0, { peer: 7, seeder: true });
    const r = announce(store, 1, { peer: 7 });
    assert.equal(r.seeders, 1);
    assert.equal(r.leechers, 1);
    assert.deepEqual(returnedEndpoints(r, 4), [hex(endpointOf(4, 0))]);
    announce(store, 1, { peer: 7, event: AnnounceEvent.Stopped });
    const stored = storedPeers(store, infoHashOf(0), 4);
    assert.equal(stored.size, 1);
    assert.equal(stored.get(hex(endpointOf(4, 0)))?.seeder, true);
    assert.deepEqual(store.totals(), { torrents: 1, seeders: 1, leechers: 0, completed: 0 });
  });

  test("a different port on the same address is another peer", () => {
    const { store } = setup();
    announce(store, 0, { peer: 1 }); // 10.0.0.0:6881
    announce(store, 1, { peer: 1, event: AnnounceEvent.Stopped }); // 10.0.0.0:6882
    assert.equal(store.totals().leechers, 1);
  });
});

describe("MemoryStore scrape and totals", () => {
  test("three numbers per hash: seeders, downloaded, leechers; zeros for unknown", () => {
    const { store } = setup();
    announce(store, 0, { hash: 1, seeder: true, event: AnnounceEvent.Completed });
    announce(store, 1, { hash: 1 });
    announce(store, 2, { hash: 1 });
    announce(store, 3, { hash: 2 });
    const out = new Float64Array(4 * SCRAPE_STRIDE).fill(-1);
    store.scrape([infoHashOf(1), infoHashOf(7), infoHashOf(2), infoHashOf(1)], 3, out);
    assert.deepEqual([...out], [1, 1, 2, 0, 0, 0, 0, 0, 1, -1, -1, -1], "only the first `count` hashes");
  });

  test("forEachTorrent visits every torrent with its figures, including download-only ones", () => {
    const { store } = setup();
    announce(store, 0, { hash: 1, seeder: true, event: AnnounceEvent.Completed });
    announce(store, 1, { hash: 1, family: 6 });
    announce(store, 0, { hash: 2 });
    store.restoreDownloads(infoHashOf(3), 4);
    const seen = new Map<string, [number, number, number]>();
    store.forEachTorrent((h, s, d, l) => {
      assert.ok(!seen.has(h), "each torrent once");
      seen.set(h, [s, d, l]);
    });
    assert.deepEqual(
      seen,
      new Map([
        [infoHashOf(1), [1, 1, 1]],
        [infoHashOf(2), [0, 0, 1]],
        [infoHashOf(3), [0, 4, 0]],
      ]),
    );
  });

  test("totals sum over swarms and families", () => {
    const { store } = setup();
    for (let h = 0; h < 3; h++) {
      for (let i = 0; i < 4; i++)
        announce(store, i, { hash: h, family: i % 2 === 0 ? 4 : 6, seeder: i === 0 });
    }
    assert.deepEqual(store.totals(), { torrents: 3, seeders: 3, leechers: 9, completed: 0 });
  });
});

describe("MemoryStore expire", () => {
  test("drops peers last seen before now - peerTimeout, keeps the rest", () => {
    const { store, clock } = setup();
    announce(store, 0); // seen T0
    clock.now = T0 + 100;
    announce(store, 1, { seeder: true }); // seen T0 + 100
    announce(store, 0, { family: 6 }); // seen T0 + 100
    clock.now = T0 + TIMEOUT + 100; // deadline T0 + 100: T0 + 100 is not before it
    store.expire(1000);
    assert.deepEqual(store.totals(), { torrents: 1, seeders: 1, leechers: 1, completed: 0 });
    assert.deepEqual([...storedPeers(store, infoHashOf(0), 4).keys()], [hex(endpointOf(4, 1))]);
    clock.now += 1;
    store.expire(1000);
    assert.deepEqual(store.totals(), { torrents: 0, seeders: 0, leechers: 0, completed: 0 });
    assert.equal(store.swarms.size, 0, "the empty swarm is dropped");
  });

  test("a re-announce refreshes the peer", () => {
    const { store, clock } = setup();
    announce(store, 0);
    clock.now = T0 + TIMEOUT;
    announce(store, 0);
    clock.now = T0 + TIMEOUT + 10;
    store.expire(100);
    assert.equal(store.totals().leechers, 1);
  });

  test("keeps a swarm that has downloads", () => {
    const { store, clock } = setup();
    announce(store, 0, { seeder: true, event: AnnounceEvent.Completed });
    clock.now += TIMEOUT + 1;
    store.expire(100);
    assert.deepEqual(store.totals(), { torrents: 1, seeders: 0, leechers: 0, completed: 1 });
    assert.deepEqual(scrapeOne(store, infoHashOf(0)), { seeders: 0, downloaded: 1, leechers: 0 });
  });

  test("a call examines at most `budget` peers; repeated calls finish the job", () => {
    const { store, clock } = setup();
    for (let h = 0; h < 5; h++) {
      for (let i = 0; i < 40; i++)
        announce(store, i, { hash: h, family: i % 2 === 0 ? 4 : 6, seeder: i % 5 === 0 });
    }
    clock.now += TIMEOUT + 1;
    let before = store.totals();
    let calls = 0;
    while (before.seeders + before.leechers > 0) {
      store.expire(7);
      calls++;
      const after = store.totals();
      const removed = before.seeders + before.leechers - (after.seeders + after.leechers);
      assert.ok(removed <= 7, `removed ${removed} with a budget of 7`);
      before = after;
      assert.ok(calls < 1000, "expiry makes progress");
    }
    assert.ok(calls >= 200 / 7);
    assert.equal(store.totals().torrents, 0);
  });

  test("a budget of 0 does nothing", () => {
    const { store, clock } = setup();
    announce(store, 0);
    clock.now += TIMEOUT + 1;
    store.expire(0);
    assert.equal(store.totals().leechers, 1);
  });

  test("announces between bounded calls: fresh peers survive, stale ones go", () => {
    const { store, clock } = setup();
    for (let i = 0; i < 30; i++) announce(store, i, { seeder: i < 10 });
    clock.now += TIMEOUT + 1;
    store.expire(5);
    // Refresh some, stop some, add some while the sweep is in the middle of the list.
    for (let i = 0; i < 30; i += 3) announce(store, i, { seeder: i % 2 === 0 });
    announce(store, 1, { event: AnnounceEvent.Stopped });
    for (let i = 30; i < 36; i++) announce(store, i, { seeder: i % 2 === 0 });
    expireAll(store, 5);
    const left = storedPeers(store, infoHashOf(0), 4);
    const expected = new Set<string>();
    for (let i = 0; i < 30; i += 3) expected.add(hex(endpointOf(4, i)));
    for (let i = 30; i < 36; i++) expected.add(hex(endpointOf(4, i)));
    assert.deepEqual(new Set(left.keys()), expected);
    const t = store.totals();
    assert.equal(t.seeders + t.leechers, expected.size);
    assert.equal(t.seeders, [...left.values()].filter((p) => p.seeder).length);
  });

  test("a swarm emptied and recreated during a sweep is handled", () => {
    const { store, clock } = setup();
    for (let h = 0; h < 3; h++) for (let i = 0; i < 20; i++) announce(store, i, { hash: h });
    clock.now += TIMEOUT + 1;
    store.expire(3); // the sweep now holds swarm 0
    for (let i = 0; i < 20; i++) announce(store, i, { hash: 0, event: AnnounceEvent.Stopped });
    assert.equal(store.swarms.has(infoHashOf(0)), false);
    announce(store, 50, { hash: 0 }); // a new swarm under the same key
    expireAll(store, 3);
    assert.deepEqual(store.totals(), { torrents: 1, seeders: 0, leechers: 1, completed: 0 });
    assert.deepEqual([...storedPeers(store, infoHashOf(0), 4).keys()], [hex(endpointOf(4, 50))]);
  });
});

describe("MemoryStore download counts for snapshots", () => {
  test("downloadCounts lists swarms with downloads only", () => {
    const { store } = setup();
    announce(store, 0, { hash: 1 });
    announce(store, 0, { hash: 2, seeder: true, event: AnnounceEvent.Completed });
    assert.deepEqual([...store.downloadCounts()], [[infoHashOf(2), 1]]);
  });

  test("restoreDownloads adds to a new or existing swarm and to the total", () => {
    const { store } = setup();
    store.restoreDownloads(infoHashOf(1), 10);
    announce(store, 0, { hash: 2, seeder: true, event: AnnounceEvent.Completed });
    store.restoreDownloads(infoHashOf(2), 5);
    assert.deepEqual(store.totals(), { torrents: 2, seeders: 1, leechers: 0, completed: 16 });
    assert.deepEqual(scrapeOne(store, infoHashOf(1)), { seeders: 0, downloaded: 10, leechers: 0 });
    assert.deepEqual(scrapeOne(store, infoHashOf(2)), { seeders: 1, downloaded: 6, leechers: 0 });
    const res = announce(store, 1, { hash: 1 });
    assert.equal(res.downloaded, 10);
    assert.equal(res.peerCount, 0);
    // A restored swarm whose peers leave is kept for its count.
    announce(store, 1, { hash: 1, event: AnnounceEvent.Stopped });
    assert.equal(store.swarms.has(infoHashOf(1)), true);
  });

  // BUG (src/core/memory-store.ts, restoreDownloads): restoring a count of 0 (a snapshot record
  // of 0, which decodeSnapshot accepts) creates a swarm with no peers and no downloads. Such a
  // swarm is counted in totals().torrents and nothing ever removes it: dropList only runs when a
  // peer list empties, and this swarm has no list.
  test("restoring a count of 0 creates no torrent", () => {
    const { store, clock } = setup();
    store.restoreDownloads(infoHashOf(1), 0);
    clock.now += TIMEOUT + 1;
    expireAll(store, 10);
    assert.deepEqual(store.totals(), { torrents: 0, seeders: 0, leechers: 0, completed: 0 });
    assert.equal(store.swarms.size, 0);
  });
});

describe("selectPeers", () => {
  function list(seeders: number, leechers: number): PeerList {
    const l = new PeerList(6);
    for (let i = 0; i < seeders; i++) l.add(endpointOf(4, i), peerIdOf(i), true, 0, 1);
    for (let i = seeders; i < seeders + leechers; i++) l.add(endpointOf(4, i), peerIdOf(i), false, 0, 1);
    return l;
  }

  test("all available when numWant covers them, none when numWant is 0 or negative", () => {
    const l = list(3, 4);
    const res = newResult();
    const self = l.find(endpointOf(4, 5));
    selectPeers(l, self, false, 100, res);
    assert.equal(res.peerCount, 6);
    assert.ok(!returnedEndpoints(res, 4).includes(hex(endpointOf(4, 5))));
    selectPeers(l, self, false, 0, res);
    assert.equal(res.peerCount, 0);
    selectPeers(l, self, false, -3, res);
    assert.equal(res.peerCount, 0);
  });

  test("a seeder requester gets leechers only; self outside the list (-1) is fine", () => {
    const l = list(5, 3);
    const res = newResult();
    for (let k = 0; k < 30; k++) {
      selectPeers(l, 0, true, 2, res);
      assert.equal(res.peerCount, 2);
      for (const e of returnedEndpoints(res, 4)) assert.ok(l.find(Buffer.from(e, "hex")) >= l.seeders);
    }
    selectPeers(l, -1, false, 100, res);
    assert.equal(res.peerCount, 8);
  });

  test("a lone peer gets nothing; two peers get each other", () => {
    const l = list(0, 1);
    const res = newResult();
    selectPeers(l, 0, false, 10, res);
    assert.equal(res.peerCount, 0);
    l.add(endpointOf(4, 1), peerIdOf(1), false, 0, 1);
    for (let k = 0; k < 10; k++) {
      selectPeers(l, 0, false, 1, res);
      assert.deepEqual(returnedEndpoints(res, 4), [hex(endpointOf(4, 1))]);
    }
  });

  for (const n of [2, 3, 4, 6, 9, 12, 30, 97]) {
    test(`distinct picks for every numWant below ${n} (range sizes with many divisors)`, () => {
      const l = list(0, n);
      for (let self = -1; self < n; self += Math.max(1, n >> 2)) {
        for (let want = 1; want <= n; want++) {
          const res2 = newResult();
          selectPeers(l, self, false, want, res2);
          const available = self >= 0 ? n - 1 : n;
          assert.equal(res2.peerCount, Math.min(want, available));
          const eps = returnedEndpoints(res2, 4);
          assert.equal(new Set(eps).size, eps.length);
          if (self >= 0) {
            const own = new Uint8Array(6);
            l.copyEndpoint(self, own, 0);
            assert.ok(!eps.includes(hex(own)));
          }
        }
      }
    });
  }
});

describe("random selection is spread over the swarm", () => {
  test("100 peers, numWant 10: every peer is returned, and none hugely more than others", () => {
    const { store } = setup();
    for (let i = 0; i < 100; i++) announce(store, i, { seeder: i < 30 });
    const hits = new Map<string, number>();
    const rounds = 3000;
    for (let k = 0; k < rounds; k++) {
      const res = announce(store, k % 100, { seeder: k % 100 < 30, numWant: 10 });
      assert.equal(res.peerCount, 10);
      for (const e of returnedEndpoints(res, 4)) hits.set(e, (hits.get(e) ?? 0) + 1);
    }
    assert.equal(hits.size, 100, `only ${hits.size} of 100 peers were ever returned`);
    // Leechers are sent to seeders and leechers, seeders to leechers only.
    for (const [e, n] of hits) assert.ok(n > 50, `${e} returned ${n} times only`);
  });

  test("a seeder among 100 leechers sees all of them over time", () => {
    const { store } = setup();
    for (let i = 0; i < 100; i++) announce(store, i);
    const seen = new Set<string>();
    for (let k = 0; k < 500; k++) {
      for (const e of returnedEndpoints(announce(store, 200, { seeder: true, numWant: 10 }), 4)) seen.add(e);
    }
    assert.equal(seen.size, 100);
  });
});
