import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AccessList } from "../../src/core/access-list.ts";
import { AnnounceEvent } from "../../src/core/announce.ts";
import { Clock } from "../../src/core/clock.ts";
import { MemoryStore } from "../../src/core/memory-store.ts";
import type { SwarmStore } from "../../src/core/swarm-store.ts";
import { AnnounceStatus, Tracker, type TrackerOptions } from "../../src/core/tracker.ts";
import { endpointOf, infoHashOf, newResult, peerIdOf, request } from "./helpers.ts";

const OPTIONS: TrackerOptions = {
  announceInterval: 1800,
  minAnnounceInterval: 900,
  defaultNumwant: 50,
  maxNumwant: 200,
};

function memoryTracker(
  list = new AccessList("off"),
  options = OPTIONS,
): { tracker: Tracker; store: MemoryStore } {
  const store = new MemoryStore(new Clock(1_000_000), { peerTimeout: 3600 });
  return { tracker: new Tracker(store, list, options), store };
}

/**
 * A store that answers with promises, as a shared store does: the memory store behind a proxy
 * that defers every answering method to a later microtask and counts announces.
 */
function asyncStore(inner: MemoryStore): { store: SwarmStore; calls: () => number } {
  let announces = 0;
  const deferred = new Set(["announce", "scrape", "totals", "expire", "forEachTorrent"]);
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "synchronous") return false;
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      if (typeof prop === "string" && deferred.has(prop)) {
        return async (...args: unknown[]) => {
          if (prop === "announce") announces++;
          await Promise.resolve();
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  }) as unknown as SwarmStore;
  return { store, calls: () => announces };
}

describe("Tracker options", () => {
  test("are exposed as given", () => {
    const { tracker, store } = memoryTracker();
    assert.equal(tracker.announceInterval, 1800);
    assert.equal(tracker.minAnnounceInterval, 900);
    assert.equal(tracker.defaultNumwant, 50);
    assert.equal(tracker.maxNumwant, 200);
    assert.equal(tracker.store, store);
  });
});

describe("Tracker.numWant", () => {
  test("0 or less means the default", () => {
    const { tracker } = memoryTracker();
    assert.equal(tracker.numWant(0), 50);
    assert.equal(tracker.numWant(-1), 50); // UDP's "default" is -1 as a signed 32-bit number
    assert.equal(tracker.numWant(-0x80000000), 50);
  });

  test("a request within the cap is honoured", () => {
    const { tracker } = memoryTracker();
    assert.equal(tracker.numWant(1), 1);
    assert.equal(tracker.numWant(49), 49);
    assert.equal(tracker.numWant(51), 51);
    assert.equal(tracker.numWant(200), 200);
  });

  test("above the cap is capped", () => {
    const { tracker } = memoryTracker();
    assert.equal(tracker.numWant(201), 200);
    assert.equal(tracker.numWant(0x7fffffff), 200);
  });

  test("the store returns what the policy resolved", () => {
    const { tracker } = memoryTracker(new AccessList("off"), {
      ...OPTIONS,
      defaultNumwant: 3,
      maxNumwant: 5,
    });
    const res = newResult(5);
    for (let i = 0; i < 10; i++) {
      tracker.announce(
        request({ endpoint: endpointOf(4, i), peerId: peerIdOf(i), numWant: tracker.numWant(-1) }),
        res,
      );
    }
    tracker.announce(request({ endpoint: endpointOf(4, 10), numWant: tracker.numWant(0) }), res);
    assert.equal(res.peerCount, 3);
    tracker.announce(request({ endpoint: endpointOf(4, 10), numWant: tracker.numWant(1000) }), res);
    assert.equal(res.peerCount, 5);
  });
});

describe("Tracker access list gate", () => {
  const allowed = infoHashOf(1);
  const other = infoHashOf(2);

  test("mode off: every torrent is served", () => {
    const { tracker, store } = memoryTracker();
    assert.equal(tracker.allows(other), true);
    assert.equal(tracker.announce(request({ infoHash: other }), newResult()), AnnounceStatus.Ok);
    assert.equal(store.totals().torrents, 1);
  });

  test("mode allow: only listed torrents; a refused announce never reaches the store", () => {
    const { tracker, store } = memoryTracker(new AccessList("allow", new Set([allowed])));
    const res = newResult();
    res.seeders = 77;
    assert.equal(tracker.announce(request({ infoHash: other }), res), AnnounceStatus.Refused);
    assert.equal(res.seeders, 77, "the result is left alone");
    assert.equal(store.totals().torrents, 0);
    assert.equal(tracker.allows(other), false);
    assert.equal(tracker.announce(request({ infoHash: allowed }), res), AnnounceStatus.Ok);
    assert.equal(res.leechers, 1);
    assert.equal(store.totals().torrents, 1);
  });

  test("mode deny: listed torrents are refused, others served", () => {
    const { tracker, store } = memoryTracker(new AccessList("deny", new Set([allowed])));
    assert.equal(tracker.announce(request({ infoHash: allowed }), newResult()), AnnounceStatus.Refused);
    assert.equal(tracker.announce(request({ infoHash: other }), newResult()), AnnounceStatus.Ok);
    assert.deepEqual([...store.swarms.keys()], [other]);
  });

  test("a stopped event to a refused torrent is refused too", () => {
    const { tracker } = memoryTracker(new AccessList("allow"));
    assert.equal(
      tracker.announce(request({ infoHash: allowed, event: AnnounceEvent.Stopped }), newResult()),
      AnnounceStatus.Refused,
    );
  });

  test("a replaced list takes effect on the next announce", () => {
    const list = new AccessList("allow", new Set([allowed]));
    const { tracker } = memoryTracker(list);
    assert.equal(tracker.announce(request({ infoHash: other }), newResult()), AnnounceStatus.Refused);
    list.replace(new Set([other]));
    assert.equal(tracker.announce(request({ infoHash: other }), newResult()), AnnounceStatus.Ok);
    assert.equal(tracker.announce(request({ infoHash: allowed }), newResult()), AnnounceStatus.Refused);
  });

  test("with a promise-based store: Ok once the store settles; refused without calling it", async () => {
    const inner = new MemoryStore(new Clock(1), { peerTimeout: 10 });
    const { store, calls } = asyncStore(inner);
    assert.equal(store.synchronous, false);
    const tracker = new Tracker(store, new AccessList("allow", new Set([allowed])), OPTIONS);
    const res = newResult();
    const r = tracker.announce(request({ infoHash: allowed }), res);
    assert.ok(r instanceof Promise);
    assert.equal(await r, AnnounceStatus.Ok);
    assert.equal(res.leechers, 1);
    assert.equal(tracker.announce(request({ infoHash: other }), res), AnnounceStatus.Refused);
    assert.equal(calls(), 1);
  });
});

describe("Tracker scrape masking", () => {
  const a = infoHashOf(1);
  const b = infoHashOf(2);
  const c = infoHashOf(3);

  function fill(store: MemoryStore): void {
    for (const [h, n] of [
      [a, 1],
      [b, 2],
      [c, 3],
    ] as const) {
      for (let i = 0; i < n; i++) {
        store.announce(
          request({ infoHash: h, endpoint: endpointOf(4, i), seeder: true, event: AnnounceEvent.Completed }),
          newResult(),
        );
      }
    }
  }

  test("mode off: the store's figures as they are", () => {
    const { tracker, store } = memoryTracker();
    fill(store);
    const out = new Float64Array(9);
    assert.equal(tracker.scrape([a, b, c], 3, out), undefined);
    assert.deepEqual([...out], [1, 1, 0, 2, 2, 0, 3, 3, 0]);
  });

  test("mode allow: zeros for unlisted torrents", () => {
    const list = new AccessList("off");
    const { store } = memoryTracker(list);
    fill(store);
    const tracker = new Tracker(store, new AccessList("allow", new Set([b])), OPTIONS);
    const out = new Float64Array(9);
    tracker.scrape([a, b, c], 3, out);
    assert.deepEqual([...out], [0, 0, 0, 2, 2, 0, 0, 0, 0]);
  });

  test("mode deny: zeros for listed torrents; beyond `count` nothing is touched", () => {
    const { store } = memoryTracker();
    fill(store);
    const tracker = new Tracker(store, new AccessList("deny", new Set([a, c])), OPTIONS);
    const out = new Float64Array(12).fill(-1);
    tracker.scrape([a, b, c, a], 3, out);
    assert.deepEqual([...out], [0, 0, 0, 2, 2, 0, 0, 0, 0, -1, -1, -1]);
  });

  test("with a promise-based store the mask applies after the store answered", async () => {
    const inner = new MemoryStore(new Clock(1), { peerTimeout: 10 });
    fill(inner);
    const tracker = new Tracker(asyncStore(inner).store, new AccessList("allow", new Set([c])), OPTIONS);
    const out = new Float64Array(9);
    const r = tracker.scrape([a, b, c], 3, out);
    assert.ok(r instanceof Promise);
    await r;
    assert.deepEqual([...out], [0, 0, 0, 0, 0, 0, 3, 3, 0]);
    const off = new Tracker(asyncStore(inner).store, new AccessList("off"), OPTIONS);
    const out2 = new Float64Array(3);
    await off.scrape([b], 1, out2);
    assert.deepEqual([...out2], [2, 2, 0]);
  });
});
