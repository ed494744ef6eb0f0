// The WebTorrent signalling swarms: joining, refreshing and leaving keep the counts right, a peer
// id held by one connection cannot be taken over or removed by another, and a pick returns
// distinct peers other than the asker, leechers first for a seeder. Ends with a model-based
// property over random join/leave/pick sequences.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type SignalPeer, type SignalSwarm, SignalSwarms } from "../../src/core/signal-swarms.ts";

/** A connection handle: the core never looks inside. */
interface Conn {
  name: string;
}

function conn(name: string): Conn {
  return { name };
}

/** The 20-character binary id number `n`. */
function idOf(n: number): string {
  return `peer-${String(n).padStart(15, "0")}`;
}

const H1 = `${"h".repeat(19)}1`;
const H2 = `${"h".repeat(19)}2`;

function pickAll(
  s: SignalSwarms<Conn>,
  hash: string,
  self: SignalPeer<Conn>,
  count: number,
): SignalPeer<Conn>[] {
  const out: SignalPeer<Conn>[] = [];
  const n = s.pick(s.get(hash)!, self, count, out);
  return out.slice(0, n);
}

/** The dense array and the map agree, every slot is the peer's index, and the counts add up. */
function assertConsistent(swarm: SignalSwarm<Conn>): void {
  assert.equal(swarm.peers.length, swarm.byId.size);
  let seeders = 0;
  swarm.peers.forEach((p, i) => {
    assert.equal(p.slot, i, "slot is the index in the dense array");
    assert.equal(swarm.byId.get(p.peerId), p);
    if (p.seeder) seeders++;
  });
  assert.equal(swarm.seeders, seeders);
  assert.equal(swarm.leechers, swarm.peers.length - seeders);
}

describe("SignalSwarms join and leave", () => {
  test("a first join creates the swarm with one leecher; a seeder join counts a seeder", () => {
    const s = new SignalSwarms<Conn>();
    const a = conn("a");
    const b = conn("b");
    assert.equal(s.get(H1), undefined);
    const pa = s.join(H1, idOf(1), a, false, false);
    assert.ok(pa !== null);
    assert.equal(pa.handle, a);
    assert.equal(pa.peerId, idOf(1));
    assert.equal(pa.seeder, false);
    s.join(H1, idOf(2), b, true, false);
    const swarm = s.get(H1)!;
    assert.equal(swarm.seeders, 1);
    assert.equal(swarm.leechers, 1);
    assert.equal(swarm.downloaded, 0);
    assertConsistent(swarm);
    assert.deepEqual(s.totals(), { torrents: 1, seeders: 1, leechers: 1, completed: 0 });
  });

  test("joining again with the same handle refreshes the same peer without counting it twice", () => {
    const s = new SignalSwarms<Conn>();
    const a = conn("a");
    const first = s.join(H1, idOf(1), a, false, false);
    const again = s.join(H1, idOf(1), a, false, false);
    assert.equal(again, first);
    assert.equal(s.get(H1)!.peers.length, 1);
    assert.deepEqual(s.totals(), { torrents: 1, seeders: 0, leechers: 1, completed: 0 });
  });

  test("a leecher that rejoins as a seeder moves from leechers to seeders, and back", () => {
    const s = new SignalSwarms<Conn>();
    const a = conn("a");
    s.join(H1, idOf(1), a, false, false);
    s.join(H1, idOf(1), a, true, false);
    assert.equal(s.get(H1)!.seeders, 1);
    assert.equal(s.get(H1)!.leechers, 0);
    assert.deepEqual(s.totals(), { torrents: 1, seeders: 1, leechers: 0, completed: 0 });
    s.join(H1, idOf(1), a, false, false);
    assert.equal(s.get(H1)!.seeders, 0);
    assert.equal(s.get(H1)!.leechers, 1);
    assert.deepEqual(s.totals(), { torrents: 1, seeders: 0, leechers: 1, completed: 0 });
  });

  test("completed counts a download once; a seeder repeating completed does not count again", () => {
    const s = new SignalSwarms<Conn>();
    const a = conn("a");
    s.join(H1, idOf(1), a, false, false);
    s.join(H1, idOf(1), a, true, true);
    assert.equal(s.get(H1)!.downloaded, 1);
    s.join(H1, idOf(1), a, true, true);
    assert.equal(s.get(H1)!.downloaded, 1);
    assert.equal(s.totals().completed, 1);
  });

  test("a peer id held by another handle can be neither taken over nor removed by it", () => {
    const s = new SignalSwarms<Conn>();
    const owner = conn("owner");
    const thief = conn("thief");
    const held = s.join(H1, idOf(1), owner, false, false)!;
    assert.equal(s.join(H1, idOf(1), thief, true, true), null);
    assert.equal(s.get(H1)!.byId.get(idOf(1))!.handle, owner);
    assert.equal(held.seeder, false, "the failed join changed nothing");
    assert.equal(s.get(H1)!.downloaded, 0);
    assert.equal(s.leave(H1, idOf(1), thief), false);
    assert.equal(s.get(H1)!.peers.length, 1);
    assert.deepEqual(s.totals(), { torrents: 1, seeders: 0, leechers: 1, completed: 0 });
  });

  test("the same peer id in another swarm is another peer, held by whoever joined there", () => {
    const s = new SignalSwarms<Conn>();
    const a = conn("a");
    const b = conn("b");
    assert.ok(s.join(H1, idOf(1), a, false, false) !== null);
    assert.ok(s.join(H2, idOf(1), b, false, false) !== null);
    assert.equal(s.get(H1)!.byId.get(idOf(1))!.handle, a);
    assert.equal(s.get(H2)!.byId.get(idOf(1))!.handle, b);
    assert.equal(s.totals().torrents, 2);
  });

  test("one handle may hold several peer ids in one swarm (a shared browser socket)", () => {
    const s = new SignalSwarms<Conn>();
    const a = conn("a");
    s.join(H1, idOf(1), a, false, false);
    s.join(H1, idOf(2), a, false, false);
    assert.equal(s.get(H1)!.peers.length, 2);
    const self = s.get(H1)!.byId.get(idOf(1))!;
    assert.deepEqual(
      pickAll(s, H1, self, 5).map((p) => p.peerId),
      [idOf(2)],
    );
  });

  test("leaving removes the peer, keeps the dense array compact, and the last leave drops the swarm", () => {
    const s = new SignalSwarms<Conn>();
    const handles = [0, 1, 2, 3].map((i) => conn(`c${i}`));
    handles.forEach((h, i) => {
      s.join(H1, idOf(i), h, i === 3, false);
    });
    assert.equal(s.leave(H1, idOf(1), handles[1]), true);
    assertConsistent(s.get(H1)!);
    assert.equal(s.get(H1)!.byId.has(idOf(1)), false);
    assert.equal(s.leave(H1, idOf(1), handles[1]), false, "a second leave finds nothing");
    assert.equal(s.leave(H1, idOf(3), handles[3]), true);
    assert.equal(s.get(H1)!.seeders, 0);
    assertConsistent(s.get(H1)!);
    s.leave(H1, idOf(0), handles[0]);
    s.leave(H1, idOf(2), handles[2]);
    assert.equal(s.get(H1), undefined);
    assert.deepEqual(s.totals(), { torrents: 0, seeders: 0, leechers: 0, completed: 0 });
  });

  test("a swarm with downloads outlives its last peer, so the download count is kept", () => {
    const s = new SignalSwarms<Conn>();
    const a = conn("a");
    s.join(H1, idOf(1), a, true, true);
    s.leave(H1, idOf(1), a);
    const swarm = s.get(H1);
    assert.ok(swarm !== undefined);
    assert.equal(swarm.peers.length, 0);
    assert.equal(swarm.downloaded, 1);
    assert.deepEqual(s.totals(), { torrents: 1, seeders: 0, leechers: 0, completed: 1 });
    // A peer coming back finds the count.
    s.join(H1, idOf(2), a, false, false);
    assert.equal(s.get(H1)!.downloaded, 1);
  });

  test("leaving a swarm that does not exist is a no-op", () => {
    const s = new SignalSwarms<Conn>();
    assert.equal(s.leave(H1, idOf(1), conn("a")), false);
    assert.equal(s.get(H1), undefined);
  });
});

describe("SignalSwarms pick", () => {
  function swarmOf(leechers: number, seeders: number): { s: SignalSwarms<Conn>; peers: SignalPeer<Conn>[] } {
    const s = new SignalSwarms<Conn>();
    const peers: SignalPeer<Conn>[] = [];
    for (let i = 0; i < leechers + seeders; i++)
      peers.push(s.join(H1, idOf(i), conn(`c${i}`), i >= leechers, false)!);
    return { s, peers };
  }

  test("the only peer of a swarm gets nobody", () => {
    const { s, peers } = swarmOf(1, 0);
    assert.deepEqual(pickAll(s, H1, peers[0], 10), []);
  });

  test("a count of 0 or less picks nobody", () => {
    const { s, peers } = swarmOf(5, 0);
    assert.deepEqual(pickAll(s, H1, peers[0], 0), []);
    assert.deepEqual(pickAll(s, H1, peers[0], -1), []);
  });

  test("asking for more than there are returns every other peer once, never the asker", () => {
    for (let n = 2; n <= 12; n++) {
      const { s, peers } = swarmOf(n, 0);
      for (const self of peers) {
        const got = pickAll(s, H1, self, 100);
        assert.equal(got.length, n - 1);
        assert.ok(!got.includes(self));
        assert.equal(new Set(got).size, got.length);
      }
    }
  });

  test("asking for fewer returns exactly that many distinct peers other than the asker", () => {
    const { s, peers } = swarmOf(30, 0);
    for (let round = 0; round < 200; round++) {
      const self = peers[round % peers.length];
      const got = pickAll(s, H1, self, 7);
      assert.equal(got.length, 7);
      assert.ok(!got.includes(self));
      assert.equal(new Set(got).size, 7);
    }
  });

  test("picks are spread over the swarm, not always the same peers", () => {
    const { s, peers } = swarmOf(20, 0);
    const seen = new Set<SignalPeer<Conn>>();
    for (let round = 0; round < 200; round++) for (const p of pickAll(s, H1, peers[0], 3)) seen.add(p);
    assert.equal(seen.size, 19, "every other peer is picked at some point");
  });

  test("a seeder is offered only leechers while there are leechers", () => {
    const { s, peers } = swarmOf(3, 4);
    const seeder = peers[5];
    for (let round = 0; round < 100; round++) {
      const got = pickAll(s, H1, seeder, 10);
      assert.equal(got.length, 3);
      assert.ok(got.every((p) => !p.seeder));
    }
  });

  test("a seeder in a swarm of seeders only gets the other seeders", () => {
    const { s, peers } = swarmOf(0, 4);
    const got = pickAll(s, H1, peers[0], 10);
    assert.equal(got.length, 3);
    assert.ok(!got.includes(peers[0]));
  });

  test("a leecher is offered seeders and leechers alike", () => {
    const { s, peers } = swarmOf(3, 4);
    const got = pickAll(s, H1, peers[0], 10);
    assert.equal(got.length, 6);
    assert.equal(got.filter((p) => p.seeder).length, 4);
  });

  test("after leaves, picks see only the peers that stayed", () => {
    const { s, peers } = swarmOf(6, 0);
    for (const i of [1, 3, 4]) s.leave(H1, peers[i].peerId, peers[i].handle);
    const got = pickAll(s, H1, peers[0], 10);
    assert.deepEqual(got.map((p) => p.peerId).sort(), [idOf(2), idOf(5)]);
  });
});

describe("SignalSwarms against a reference model", () => {
  const HASHES = ["a", "b", "c"].map((c) => c.repeat(20));
  const IDS = 6;
  const HANDLES = 4;

  type Cmd =
    | { kind: "join"; hash: number; id: number; handle: number; seeder: boolean; completed: boolean }
    | { kind: "leave"; hash: number; id: number; handle: number }
    | { kind: "pick"; hash: number; id: number; count: number };

  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    fc.record({
      kind: fc.constant("join" as const),
      hash: fc.nat(HASHES.length - 1),
      id: fc.nat(IDS - 1),
      handle: fc.nat(HANDLES - 1),
      seeder: fc.boolean(),
      completed: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant("leave" as const),
      hash: fc.nat(HASHES.length - 1),
      id: fc.nat(IDS - 1),
      handle: fc.nat(HANDLES - 1),
    }),
    fc.record({
      kind: fc.constant("pick" as const),
      hash: fc.nat(HASHES.length - 1),
      id: fc.nat(IDS - 1),
      count: fc.integer({ min: 0, max: IDS + 1 }),
    }),
  );

  interface ModelPeer {
    handle: number;
    seeder: boolean;
  }
  interface ModelSwarm {
    peers: Map<number, ModelPeer>;
    downloaded: number;
  }

  test("counts, ownership and picks agree with a plain Map model after every step", () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 120 }), (cmds) => {
        const handles = Array.from({ length: HANDLES }, (_, i) => conn(`c${i}`));
        const s = new SignalSwarms<Conn>();
        const model = new Map<number, ModelSwarm>();
        for (const c of cmds) {
          const hash = HASHES[c.hash];
          const peerId = idOf(c.id);
          let m = model.get(c.hash);
          if (c.kind === "join") {
            const got = s.join(hash, peerId, handles[c.handle], c.seeder, c.completed);
            if (m === undefined) {
              m = { peers: new Map(), downloaded: 0 };
              model.set(c.hash, m);
            }
            const held = m.peers.get(c.id);
            if (held !== undefined && held.handle !== c.handle) {
              assert.equal(got, null, "another handle's peer id is refused");
            } else {
              assert.ok(got !== null);
              const wasSeeder = held?.seeder ?? false;
              m.peers.set(c.id, { handle: c.handle, seeder: c.seeder });
              if (c.completed && !wasSeeder) m.downloaded++;
            }
            // The model keeps an empty swarm only when it has downloads, like the store does
            // after a leave; a refused join into a fresh swarm cannot happen (nobody holds ids).
          } else if (c.kind === "leave") {
            const left = s.leave(hash, peerId, handles[c.handle]);
            const held = m?.peers.get(c.id);
            const expected = held !== undefined && held.handle === c.handle;
            assert.equal(left, expected);
            if (expected && m !== undefined) {
              m.peers.delete(c.id);
              if (m.peers.size === 0 && m.downloaded === 0) model.delete(c.hash);
            }
          } else {
            const swarm = s.get(hash);
            const selfModel = m?.peers.get(c.id);
            if (swarm === undefined || selfModel === undefined) continue;
            const self = swarm.byId.get(peerId)!;
            const out: SignalPeer<Conn>[] = [];
            const n = s.pick(swarm, self, c.count, out);
            const got = out.slice(0, n);
            assert.ok(!got.includes(self), "never the asker");
            assert.equal(new Set(got).size, n, "distinct");
            const others = [...m!.peers.entries()].filter(([id]) => id !== c.id);
            const leechers = others.filter(([, p]) => !p.seeder).length;
            const eligible = selfModel.seeder && leechers > 0 ? leechers : others.length;
            assert.equal(n, Math.min(c.count, eligible), "as many as asked, or every eligible peer");
            if (selfModel.seeder && leechers > 0)
              assert.ok(
                got.every((p) => !p.seeder),
                "no seeder to a seeder",
              );
          }

          // Everything observable agrees with the model.
          let seeders = 0;
          let leechersTotal = 0;
          let completed = 0;
          for (const [h, ms] of model) {
            const swarm = s.get(HASHES[h]);
            assert.ok(swarm !== undefined, `swarm ${h} exists`);
            assertConsistent(swarm);
            assert.equal(swarm.peers.length, ms.peers.size);
            assert.equal(swarm.downloaded, ms.downloaded);
            for (const [id, p] of ms.peers) {
              const peer = swarm.byId.get(idOf(id));
              assert.ok(peer !== undefined);
              assert.equal(peer.handle, handles[p.handle]);
              assert.equal(peer.seeder, p.seeder);
              if (p.seeder) seeders++;
              else leechersTotal++;
            }
            completed += ms.downloaded;
          }
          for (let h = 0; h < HASHES.length; h++) {
            if (!model.has(h)) assert.equal(s.get(HASHES[h]), undefined, `swarm ${h} is gone`);
          }
          assert.deepEqual(s.totals(), {
            torrents: model.size,
            seeders,
            leechers: leechersTotal,
            completed,
          });
        }
      }),
      { numRuns: 300 },
    );
  });
});
