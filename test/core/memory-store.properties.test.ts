// Model-based tests of MemoryStore: random command sequences run against the store and against a
// plain Map-based reference model; after every step the two must agree on everything observable.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { AnnounceEvent } from "../../src/core/announce.ts";
import { Clock } from "../../src/core/clock.ts";
import { MemoryStore } from "../../src/core/memory-store.ts";
import type { PeerList } from "../../src/core/peer-list.ts";
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

const TIMEOUT = 100;
const T0 = 5_000_000;
const HASHES = 3;
const ENDPOINTS = 48; // per family: one swarm can hold up to 96 peers, 48 per list
const PEER_IDS = 6; // few, so that many endpoints share a peer id
const MAX_WANT = 200;

type Cmd =
  | {
      kind: "announce";
      hash: number;
      family: Family;
      ep: number;
      peer: number;
      seeder: boolean;
      event: number;
      numWant: number;
      wantIds: boolean;
    }
  | { kind: "advance"; secs: number }
  | { kind: "expire"; budget: number }
  | { kind: "expireAll"; budget: number }
  | { kind: "restore"; hash: number; n: number }
  /** Peers `from`, `from + 1`, ... `from + k - 1` announce in turn: fills a swarm quickly. */
  | { kind: "flood"; hash: number; family: Family; from: number; k: number; seeders: number };

const announceCmd: fc.Arbitrary<Cmd> = fc.record({
  kind: fc.constant("announce" as const),
  // Swarm 0 gets most of the traffic so it grows large.
  hash: fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.constant(1) },
    fc.constant(2),
  ),
  family: fc.constantFrom<Family>(4, 6),
  ep: fc.nat(ENDPOINTS - 1),
  peer: fc.nat(PEER_IDS - 1),
  seeder: fc.boolean(),
  event: fc.oneof(
    { weight: 5, arbitrary: fc.constant<number>(AnnounceEvent.None) },
    { weight: 2, arbitrary: fc.constant<number>(AnnounceEvent.Started) },
    { weight: 2, arbitrary: fc.constant<number>(AnnounceEvent.Completed) },
    { weight: 1, arbitrary: fc.constant<number>(AnnounceEvent.Stopped) },
  ),
  numWant: fc.oneof({ weight: 6, arbitrary: fc.nat(60) }, fc.constant(0), fc.constant(MAX_WANT)),
  wantIds: fc.boolean(),
});

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 60, arbitrary: announceCmd },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      secs: fc.oneof(
        { weight: 6, arbitrary: fc.nat(25) },
        fc.integer({ min: TIMEOUT - 5, max: 2 * TIMEOUT }),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("expire" as const), budget: fc.integer({ min: 1, max: 12 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("expireAll" as const), budget: fc.integer({ min: 1, max: 9 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("restore" as const),
      hash: fc.nat(HASHES - 1),
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("flood" as const),
      hash: fc.nat(HASHES - 1),
      family: fc.constantFrom<Family>(4, 6),
      from: fc.nat(ENDPOINTS - 1),
      k: fc.integer({ min: 1, max: ENDPOINTS }),
      seeders: fc.nat(3), // every `seeders`-th one is a seeder; 0: none
    }),
  },
);

interface ModelPeer {
  peerId: string;
  seeder: boolean;
  seen: number;
}

interface ModelSwarm {
  v4: Map<string, ModelPeer>;
  v6: Map<string, ModelPeer>;
  downloaded: number;
}

class Model {
  now = T0;
  completed = 0;
  readonly swarms = new Map<string, ModelSwarm>();

  list(s: ModelSwarm, family: Family): Map<string, ModelPeer> {
    return family === 4 ? s.v4 : s.v6;
  }

  counts(key: string): { seeders: number; leechers: number; downloaded: number } {
    const s = this.swarms.get(key);
    if (s === undefined) return { seeders: 0, leechers: 0, downloaded: 0 };
    let seeders = 0;
    let leechers = 0;
    for (const p of [...s.v4.values(), ...s.v6.values()]) {
      if (p.seeder) seeders++;
      else leechers++;
    }
    return { seeders, leechers, downloaded: s.downloaded };
  }

  /** Drops a swarm with no peers and no downloads, as the store does. */
  tidy(key: string): void {
    const s = this.swarms.get(key);
    if (s !== undefined && s.v4.size === 0 && s.v6.size === 0 && s.downloaded === 0) this.swarms.delete(key);
  }

  swarm(key: string): ModelSwarm {
    let s = this.swarms.get(key);
    if (s === undefined) {
      s = { v4: new Map(), v6: new Map(), downloaded: 0 };
      this.swarms.set(key, s);
    }
    return s;
  }
}

interface Coverage {
  maxList: number;
  shrinks: number;
  expired: number;
  stopped: number;
  completed: number;
  sharedIdAnnounces: number;
}

/** Everything observable must match the model. */
function assertSameState(store: MemoryStore, model: Model): void {
  let seeders = 0;
  let leechers = 0;
  for (const key of model.swarms.keys()) {
    const c = model.counts(key);
    seeders += c.seeders;
    leechers += c.leechers;
  }
  assert.deepEqual(store.totals(), {
    torrents: model.swarms.size,
    seeders,
    leechers,
    completed: model.completed,
  });
  assert.deepEqual(new Set(store.swarms.keys()), new Set(model.swarms.keys()), "same torrents");

  const keys = [infoHashOf(999)];
  for (let h = 0; h < HASHES; h++) keys.push(infoHashOf(h));
  const out = new Float64Array(keys.length * 3);
  store.scrape(keys, keys.length, out);
  for (let i = 0; i < keys.length; i++) {
    const c = model.counts(keys[i]);
    assert.deepEqual(
      [out[i * 3], out[i * 3 + 1], out[i * 3 + 2]],
      [c.seeders, c.downloaded, c.leechers],
      `scrape ${i}`,
    );
  }

  const listed = new Map<string, number[]>();
  store.forEachTorrent((h, s, d, l) => listed.set(h, [s, d, l]));
  assert.deepEqual(
    listed,
    new Map(
      [...model.swarms.keys()].map((k) => {
        const c = model.counts(k);
        return [k, [c.seeders, c.downloaded, c.leechers]];
      }),
    ),
    "forEachTorrent",
  );

  for (const [key, ms] of model.swarms) {
    for (const family of [4, 6] as const) {
      const stored = storedPeers(store, key, family);
      const expected = model.list(ms, family);
      assert.equal(stored.size, expected.size, `IPv${family} peers of a swarm`);
      for (const [ep, p] of expected) {
        const s = stored.get(ep);
        assert.ok(s !== undefined, `peer ${ep} missing`);
        assert.equal(s.peerId, p.peerId);
        assert.equal(s.seeder, p.seeder);
        assert.equal(s.lastSeen, p.seen);
        assert.equal(s.group, 0);
      }
    }
  }
}

function run(cmds: Cmd[], cov: Coverage): void {
  const clock = new Clock(T0);
  const store = new MemoryStore(clock, { peerTimeout: TIMEOUT });
  const model = new Model();
  const res = newResult(MAX_WANT);
  const capacities = new WeakMap<PeerList, number>();
  // Peers that were stopped or expired, and have not announced since: nobody may get them.
  const gone = new Set<string>();
  const goneKey = (key: string, family: Family, ep: string) =>
    `${hex(Buffer.from(key, "latin1"))}/${family}/${ep}`;

  const check = (): void => {
    assertSameState(store, model);
    assert.deepEqual(
      new Map(store.downloadCounts()),
      new Map([...model.swarms].filter(([, s]) => s.downloaded > 0).map(([k, s]) => [k, s.downloaded])),
    );
    for (const swarm of store.swarms.values()) {
      for (const list of [swarm.v4, swarm.v6]) {
        if (list === null) continue;
        assert.ok(list.count > 0, "no empty list is kept");
        if (list.count > cov.maxList) cov.maxList = list.count;
        const last = capacities.get(list);
        if (last !== undefined && list.capacity < last) cov.shrinks++;
        capacities.set(list, list.capacity);
      }
    }
  };

  /** Runs one command on both sides, then compares everything. */
  const step = (c: Cmd): void => {
    switch (c.kind) {
      case "announce": {
        const key = infoHashOf(c.hash);
        const ep = endpointOf(c.family, c.ep);
        const epHex = hex(ep);
        const idHex = hex(peerIdOf(c.peer));
        const req = request({
          infoHash: key,
          family: c.family,
          endpoint: ep,
          peerId: peerIdOf(c.peer),
          seeder: c.seeder,
          event: c.event,
          numWant: c.numWant,
        });
        res.wantPeerIds = c.wantIds;
        res.peerCount = -1;

        // Other endpoints announcing this peer id, as they are before the announce.
        const sameId: [Family, string, ModelPeer][] = [];
        const before = model.swarms.get(key);
        if (before !== undefined) {
          for (const family of [4, 6] as const) {
            for (const [e, p] of model.list(before, family)) {
              if (p.peerId === idHex && !(family === c.family && e === epHex))
                sameId.push([family, e, { ...p }]);
            }
          }
        }
        if (sameId.length > 0) cov.sharedIdAnnounces++;

        store.announce(req, res);

        if (c.event === AnnounceEvent.Stopped) {
          const ms = model.swarms.get(key);
          if (ms !== undefined && model.list(ms, c.family).delete(epHex)) cov.stopped++;
          model.tidy(key);
          gone.add(goneKey(key, c.family, epHex));
          assert.equal(res.peerCount, 0, "nobody is sent to a peer that stops");
        } else {
          const ms = model.swarm(key);
          const peers = model.list(ms, c.family);
          const prev = peers.get(epHex);
          const wasSeeder = prev?.seeder === true;
          peers.set(epHex, { peerId: idHex, seeder: c.seeder, seen: model.now });
          gone.delete(goneKey(key, c.family, epHex));
          if (c.event === AnnounceEvent.Completed && !wasSeeder) {
            ms.downloaded++;
            model.completed++;
            cov.completed++;
          }

          // The peers sent back.
          const others = [...peers].filter(([e]) => e !== epHex);
          const leechers = others.filter(([, p]) => !p.seeder);
          const candidates = c.seeder && leechers.length > 0 ? leechers : others;
          const allowed = new Map(candidates);
          assert.equal(res.peerCount, Math.min(c.numWant, candidates.length), "min(numWant, available)");
          const got = returnedEndpoints(res, c.family);
          assert.equal(new Set(got).size, got.length, "distinct peers");
          const ids = c.wantIds ? returnedPeerIds(res) : [];
          for (let i = 0; i < got.length; i++) {
            assert.notEqual(got[i], epHex, "never the requester");
            assert.ok(!gone.has(goneKey(key, c.family, got[i])), "a stopped or expired peer came back");
            const p = allowed.get(got[i]);
            assert.ok(
              p !== undefined,
              peers.has(got[i])
                ? "a seeder was sent to a seeder while leechers exist"
                : "not a peer of this swarm and family",
            );
            if (c.wantIds) assert.equal(ids[i], p.peerId, "peer ids parallel to endpoints");
          }
        }

        const counts = model.counts(key);
        assert.equal(res.seeders, counts.seeders, "announce seeders");
        assert.equal(res.leechers, counts.leechers, "announce leechers");
        assert.equal(res.downloaded, counts.downloaded, "announce downloaded");

        // The same peer id from another endpoint never replaced or removed anyone.
        for (const [family, e, p] of sameId) {
          const s = storedPeers(store, key, family).get(e);
          assert.ok(s !== undefined, "a peer was removed through its peer id");
          assert.equal(s.seeder, p.seeder);
          assert.equal(s.lastSeen, p.seen);
        }
        break;
      }
      case "advance":
        clock.now += c.secs;
        model.now += c.secs;
        break;
      case "expire": {
        const t = store.totals();
        store.expire(c.budget);
        const after = store.totals();
        assert.ok(
          t.seeders + t.leechers - (after.seeders + after.leechers) <= c.budget,
          "bounded by the budget",
        );
        // A partial sweep removes some of the expired peers: whichever it removed must be expired.
        const deadline = model.now - TIMEOUT;
        for (const [key, ms] of model.swarms) {
          for (const family of [4, 6] as const) {
            const stored = storedPeers(store, key, family);
            for (const [e, p] of model.list(ms, family)) {
              if (stored.has(e)) continue;
              assert.ok(p.seen < deadline, `a peer seen at ${p.seen} was expired with deadline ${deadline}`);
              model.list(ms, family).delete(e);
              gone.add(goneKey(key, family, e));
              cov.expired++;
            }
          }
        }
        for (const key of [...model.swarms.keys()]) model.tidy(key);
        break;
      }
      case "expireAll": {
        const t = store.totals();
        const work = t.torrents + t.seeders + t.leechers + 1;
        const calls = 2 * Math.ceil(work / c.budget) + 4;
        for (let i = 0; i < calls; i++) store.expire(c.budget);
        const deadline = model.now - TIMEOUT;
        for (const [key, ms] of model.swarms) {
          for (const family of [4, 6] as const) {
            for (const [e, p] of model.list(ms, family)) {
              if (p.seen < deadline) {
                model.list(ms, family).delete(e);
                gone.add(goneKey(key, family, e));
                cov.expired++;
              }
            }
          }
        }
        for (const key of [...model.swarms.keys()]) model.tidy(key);
        break;
      }
      case "restore": {
        store.restoreDownloads(infoHashOf(c.hash), c.n);
        model.swarm(infoHashOf(c.hash)).downloaded += c.n;
        model.completed += c.n;
        break;
      }
      case "flood": {
        for (let i = 0; i < c.k; i++) {
          const ep = (c.from + i) % ENDPOINTS;
          step({
            kind: "announce",
            hash: c.hash,
            family: c.family,
            ep,
            peer: ep % PEER_IDS,
            seeder: c.seeders > 0 && i % c.seeders === 0,
            event: AnnounceEvent.Started,
            numWant: 50,
            wantIds: false,
          });
        }
        break;
      }
    }
    check();
  };

  for (const c of cmds) step(c);
}

describe("MemoryStore against a Map-based model", () => {
  test("random announces, clock moves and expiry keep store and model equal", () => {
    const cov: Coverage = {
      maxList: 0,
      shrinks: 0,
      expired: 0,
      stopped: 0,
      completed: 0,
      sharedIdAnnounces: 0,
    };
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 400, size: "max" }), (cmds) => run(cmds, cov)),
      { numRuns: 100 },
    );
    // The runs went through the interesting paths: large indexed lists that shrank again,
    // expiry, stops, downloads, and peer ids shared by several endpoints.
    assert.ok(cov.maxList >= 40, `largest list held ${cov.maxList} peers`);
    assert.ok(cov.shrinks > 0, "no list ever shrank");
    assert.ok(cov.expired > 0 && cov.stopped > 0 && cov.completed > 0 && cov.sharedIdAnnounces > 0);
  });

  test("a replay of a fixed scenario: a swarm filled, half stopped, rest expired in small steps", () => {
    const cmds: Cmd[] = [];
    const a = (ep: number, family: Family, seeder: boolean, event: number, numWant = 30): Cmd => ({
      kind: "announce",
      hash: 0,
      family,
      ep,
      peer: ep % PEER_IDS,
      seeder,
      event,
      numWant,
      wantIds: ep % 2 === 0,
    });
    for (let i = 0; i < ENDPOINTS; i++) {
      cmds.push(a(i, 4, i % 4 === 0, AnnounceEvent.Started));
      cmds.push(a(i, 6, i % 3 === 0, AnnounceEvent.Started));
    }
    cmds.push({ kind: "advance", secs: 10 });
    for (let i = 0; i < ENDPOINTS; i += 2) cmds.push(a(i, 4, true, AnnounceEvent.Completed));
    for (let i = 1; i < ENDPOINTS; i += 2) cmds.push(a(i, 4, false, AnnounceEvent.Stopped));
    cmds.push({ kind: "advance", secs: TIMEOUT - 5 });
    cmds.push({ kind: "expireAll", budget: 3 }); // the IPv6 peers, seen 105 s ago, go
    for (let k = 0; k < 10; k++) cmds.push({ kind: "expire", budget: 2 });
    cmds.push({ kind: "advance", secs: 10 });
    for (let k = 0; k < 20; k++) cmds.push({ kind: "expire", budget: 2 });
    cmds.push({ kind: "expireAll", budget: 4 });
    const cov: Coverage = {
      maxList: 0,
      shrinks: 0,
      expired: 0,
      stopped: 0,
      completed: 0,
      sharedIdAnnounces: 0,
    };
    run(cmds, cov);
    assert.equal(cov.maxList, ENDPOINTS);
    assert.equal(cov.stopped, ENDPOINTS / 2);
    assert.equal(cov.expired, ENDPOINTS + ENDPOINTS / 2);
    assert.ok(cov.shrinks > 0);
  });
});
