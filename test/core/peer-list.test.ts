import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { PeerList } from "../../src/core/peer-list.ts";
import { endpointLength, endpointOf, type Family, hex, listPeers, peerIdOf, v4, v6 } from "./helpers.ts";

/** Checks the list against the expected peers, and that every one of them is found at its slot. */
function assertHolds(
  list: PeerList,
  family: Family,
  expected: Map<string, { peerId: string; seeder: boolean; group: number; seen: number }>,
): void {
  const peers = listPeers(list);
  assert.equal(list.count, expected.size, "count");
  assert.equal(
    list.seeders,
    [...expected.values()].filter((p) => p.seeder).length,
    "seeders at the front of the list",
  );
  assert.equal(list.leechers, list.count - list.seeders);
  assert.ok(list.capacity >= list.count, "capacity holds every record");
  assert.ok(list.buf.length >= list.capacity * list.recordLength);
  const seen = new Set<string>();
  for (let s = 0; s < peers.length; s++) {
    const p = peers[s];
    assert.ok(!seen.has(p.endpoint), `endpoint ${p.endpoint} stored twice`);
    seen.add(p.endpoint);
    const e = expected.get(p.endpoint);
    assert.ok(e !== undefined, `unexpected endpoint ${p.endpoint} at slot ${s}`);
    assert.equal(p.seeder, e.seeder, `seeder flag of ${p.endpoint}`);
    assert.equal(p.peerId, e.peerId);
    assert.equal(p.group, e.group);
    assert.equal(p.lastSeen, e.seen);
    assert.equal(list.find(Buffer.from(p.endpoint, "hex")), s, `find(${p.endpoint})`);
  }
  // Something that is not there is not found, on either path.
  const absent = endpointOf(family, 1_000_003);
  assert.equal(list.find(absent), -1);
}

describe("PeerList layout", () => {
  test("record length: endpoint, peer id, group u16, last seen u32", () => {
    assert.equal(new PeerList(6).recordLength, 6 + 20 + 2 + 4);
    assert.equal(new PeerList(18).recordLength, 18 + 20 + 2 + 4);
    assert.equal(new PeerList(6).endpointLength, 6);
    assert.equal(new PeerList(18).endpointLength, 18);
  });

  test("a new list is empty and finds nothing", () => {
    const list = new PeerList(6);
    assert.equal(list.count, 0);
    assert.equal(list.seeders, 0);
    assert.equal(list.leechers, 0);
    assert.equal(list.find(v4(1, 2, 3, 4, 5)), -1);
  });

  test("fields round-trip, including the extremes of group and last seen", () => {
    const list = new PeerList(18);
    const ep = v6([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8], 65535);
    const slot = list.add(ep, peerIdOf(0xdeadbeef), false, 0xffff, 0xfffffffe);
    assert.equal(slot, 0);
    assert.equal(list.group(slot), 0xffff);
    assert.equal(list.lastSeen(slot), 0xfffffffe);
    const outEp = new Uint8Array(20);
    list.copyEndpoint(slot, outEp, 2);
    assert.equal(hex(outEp, 2, 20), hex(ep));
    assert.equal(outEp[0], 0, "copyEndpoint writes at the offset only");
    const outId = new Uint8Array(40);
    list.copyPeerId(slot, outId, 20);
    assert.equal(hex(outId, 20, 40), hex(peerIdOf(0xdeadbeef)));
    assert.equal(hex(outId, 0, 20), "00".repeat(20));
  });

  test("only the first endpointLength bytes of the endpoint buffer count", () => {
    const list = new PeerList(6);
    const a = new Uint8Array(18);
    a.set(v4(1, 2, 3, 4, 80));
    a.fill(0x55, 6);
    list.add(a, peerIdOf(1), false, 0, 1);
    const b = new Uint8Array(18);
    b.set(v4(1, 2, 3, 4, 80));
    assert.equal(list.find(b), 0);
  });

  test("endpoints that differ only by port, or only by address, are different peers", () => {
    const list = new PeerList(6);
    list.add(v4(1, 2, 3, 4, 80), peerIdOf(1), false, 0, 1);
    list.add(v4(1, 2, 3, 4, 81), peerIdOf(1), false, 0, 1);
    list.add(v4(1, 2, 3, 5, 80), peerIdOf(1), false, 0, 1);
    assert.equal(list.count, 3);
    assert.equal(list.find(v4(1, 2, 3, 4, 81)), 1);
    assert.equal(list.find(v4(1, 2, 3, 5, 80)), 2);
    assert.equal(list.find(v4(1, 2, 3, 4, 82)), -1);
  });
});

describe("PeerList seeder and leecher ranges", () => {
  test("seeders are kept in [0, seeders), leechers after", () => {
    const list = new PeerList(6);
    list.add(endpointOf(4, 0), peerIdOf(0), false, 0, 1);
    list.add(endpointOf(4, 1), peerIdOf(1), false, 0, 1);
    const s = list.add(endpointOf(4, 2), peerIdOf(2), true, 0, 1);
    assert.equal(s, 0, "a new seeder goes to the end of the seeder range");
    assert.equal(list.seeders, 1);
    assert.equal(list.leechers, 2);
    const s2 = list.add(endpointOf(4, 3), peerIdOf(3), true, 0, 1);
    assert.equal(s2, 1);
    const peers = listPeers(list);
    assert.deepEqual(
      peers.map((p) => p.seeder),
      [true, true, false, false],
    );
    assert.deepEqual(
      new Set(peers.slice(0, 2).map((p) => p.endpoint)),
      new Set([hex(endpointOf(4, 2)), hex(endpointOf(4, 3))]),
    );
  });

  test("update moves a peer between ranges and returns its new slot", () => {
    const list = new PeerList(6);
    for (let i = 0; i < 4; i++) list.add(endpointOf(4, i), peerIdOf(i), false, 0, 1);
    let slot = list.find(endpointOf(4, 3));
    slot = list.update(slot, peerIdOf(30), true, 7, 2);
    assert.equal(slot, 0);
    assert.equal(list.seeders, 1);
    assert.equal(list.find(endpointOf(4, 3)), 0);
    assert.equal(list.group(0), 7);
    assert.equal(list.lastSeen(0), 2);
    // No change of role: same slot, fields refreshed.
    assert.equal(list.update(0, peerIdOf(31), true, 8, 3), 0);
    assert.equal(list.lastSeen(0), 3);
    // Back to leecher.
    slot = list.update(0, peerIdOf(31), false, 8, 4);
    assert.equal(slot, 0, "the only seeder becomes the first leecher");
    assert.equal(list.seeders, 0);
    assert.equal(list.count, 4);
    for (let i = 0; i < 4; i++) assert.ok(list.find(endpointOf(4, i)) >= 0);
  });

  test("removing a seeder keeps the ranges packed", () => {
    const list = new PeerList(6);
    for (let i = 0; i < 6; i++) list.add(endpointOf(4, i), peerIdOf(i), i % 2 === 0, 0, i);
    assert.equal(list.seeders, 3);
    list.remove(list.find(endpointOf(4, 2)));
    assert.equal(list.seeders, 2);
    assert.equal(list.count, 5);
    const peers = listPeers(list);
    assert.deepEqual(
      peers.map((p) => p.seeder),
      [true, true, false, false, false],
    );
    assert.equal(list.find(endpointOf(4, 2)), -1);
    for (const i of [0, 1, 3, 4, 5]) {
      const s = list.find(endpointOf(4, i));
      assert.ok(s >= 0);
      assert.equal(list.lastSeen(s), i, "records move whole");
    }
  });

  test("removing the last record, the last seeder with no leechers, and the only record", () => {
    const list = new PeerList(6);
    list.add(endpointOf(4, 0), peerIdOf(0), true, 0, 1);
    list.add(endpointOf(4, 1), peerIdOf(1), true, 0, 1);
    list.remove(1);
    assert.equal(list.count, 1);
    assert.equal(list.seeders, 1);
    assert.equal(list.find(endpointOf(4, 0)), 0);
    list.remove(0);
    assert.equal(list.count, 0);
    assert.equal(list.seeders, 0);
    assert.equal(list.find(endpointOf(4, 0)), -1);
  });
});

describe("PeerList growth, index and shrink", () => {
  for (const family of [4, 6] as const) {
    test(`IPv${family}: grows past the linear threshold, indexes, then shrinks back`, () => {
      const list = new PeerList(endpointLength(family));
      const expected = new Map<string, { peerId: string; seeder: boolean; group: number; seen: number }>();
      const capacities = new Set<number>();
      for (let i = 0; i < 300; i++) {
        const ep = endpointOf(family, i);
        const seeder = i % 3 === 0;
        list.add(ep, peerIdOf(i), seeder, i & 0xffff, 1000 + i);
        expected.set(hex(ep), { peerId: hex(peerIdOf(i)), seeder, group: i, seen: 1000 + i });
        capacities.add(list.capacity);
        if (i < 20 || i % 37 === 0) assertHolds(list, family, expected);
      }
      assertHolds(list, family, expected);
      assert.ok(list.capacity >= 300);
      assert.ok(capacities.has(2) && capacities.has(8) && capacities.has(16) && capacities.has(512));
      const max = list.capacity;
      // Remove everything, in an order that mixes seeders and leechers and index clusters.
      const order = [...expected.keys()].sort((a, b) => (a.slice(-3) < b.slice(-3) ? -1 : 1));
      let k = 0;
      for (const key of order) {
        const slot = list.find(Buffer.from(key, "hex"));
        assert.ok(slot >= 0, `${key} still there before its removal`);
        list.remove(slot);
        expected.delete(key);
        assert.ok(!(list.capacity > 8 && list.count * 4 < list.capacity), "shrinks when a quarter full");
        if (++k % 23 === 0 || list.count < 12) assertHolds(list, family, expected);
      }
      assert.equal(list.count, 0);
      assert.ok(list.capacity < max, "gave memory back");
      assert.ok(list.capacity <= 8);
      // Still usable after shrinking.
      list.add(endpointOf(family, 7), peerIdOf(7), true, 0, 5);
      assert.equal(list.find(endpointOf(family, 7)), 0);
    });
  }

  test("an explicit initial capacity above the threshold works with or without an index", () => {
    const list = new PeerList(6, 64);
    const expected = new Map<string, { peerId: string; seeder: boolean; group: number; seen: number }>();
    for (let i = 0; i < 12; i++) {
      list.add(endpointOf(4, i), peerIdOf(i), false, 0, 1);
      expected.set(hex(endpointOf(4, i)), { peerId: hex(peerIdOf(i)), seeder: false, group: 0, seen: 1 });
      assertHolds(list, 4, expected);
    }
    for (let i = 0; i < 12; i++) {
      list.remove(list.find(endpointOf(4, i)));
      expected.delete(hex(endpointOf(4, i)));
      assertHolds(list, 4, expected);
    }
  });

  test("many endpoints with the same address bytes except one: lookups stay exact", () => {
    const list = new PeerList(18);
    const base = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 256; i++) {
      const addr = base.slice();
      addr[15] = i;
      list.add(v6(addr, 6881), peerIdOf(i), false, 0, i);
    }
    for (let i = 0; i < 256; i += 2) {
      const addr = base.slice();
      addr[15] = i;
      list.remove(list.find(v6(addr, 6881)));
    }
    for (let i = 0; i < 256; i++) {
      const addr = base.slice();
      addr[15] = i;
      const s = list.find(v6(addr, 6881));
      if (i % 2 === 0) assert.equal(s, -1);
      else assert.equal(list.lastSeen(s), i);
    }
  });
});

/**
 * Model-based: a Map from endpoint to fields, against random adds, updates and removals from a pool
 * large enough to cross the index threshold in both directions many times.
 */
describe("PeerList against a Map model", () => {
  type Op =
    | { kind: "put"; ep: number; peer: number; seeder: boolean; group: number }
    | { kind: "remove"; ep: number }
    | { kind: "removeMany"; n: number; pick: number };

  const poolSize = 120;
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({
        kind: fc.constant("put" as const),
        ep: fc.nat(poolSize - 1),
        peer: fc.nat(7),
        seeder: fc.boolean(),
        group: fc.nat(0xffff),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("remove" as const), ep: fc.nat(poolSize - 1) }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("removeMany" as const), n: fc.nat(80), pick: fc.nat() }),
    },
  );

  for (const family of [4, 6] as const) {
    test(`IPv${family}: every step matches the model`, () => {
      let maxCount = 0;
      let shrinks = 0;
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 400, size: "max" }), (ops) => {
          const list = new PeerList(endpointLength(family));
          const model = new Map<string, { peerId: string; seeder: boolean; group: number; seen: number }>();
          let now = 1;
          let lastCapacity = list.capacity;
          for (const o of ops) {
            now++;
            if (o.kind === "put") {
              const ep = endpointOf(family, o.ep);
              const key = hex(ep);
              const slot = list.find(ep);
              assert.equal(slot >= 0, model.has(key));
              const got =
                slot < 0
                  ? list.add(ep, peerIdOf(o.peer), o.seeder, o.group, now)
                  : list.update(slot, peerIdOf(o.peer), o.seeder, o.group, now);
              model.set(key, { peerId: hex(peerIdOf(o.peer)), seeder: o.seeder, group: o.group, seen: now });
              assert.equal(list.find(ep), got, "add/update return the peer's slot");
              assert.equal(got < list.seeders, o.seeder);
            } else if (o.kind === "remove") {
              const ep = endpointOf(family, o.ep);
              const slot = list.find(ep);
              assert.equal(slot >= 0, model.has(hex(ep)));
              if (slot >= 0) {
                list.remove(slot);
                model.delete(hex(ep));
              }
            } else {
              for (let i = 0; i < o.n && list.count > 0; i++) {
                const slot = (o.pick + i * 7) % list.count;
                const ep = new Uint8Array(list.endpointLength);
                list.copyEndpoint(slot, ep, 0);
                list.remove(slot);
                assert.ok(model.delete(hex(ep)));
              }
            }
            assertHolds(list, family, model);
            if (list.capacity < lastCapacity) shrinks++;
            lastCapacity = list.capacity;
            if (list.count > maxCount) maxCount = list.count;
          }
        }),
        { numRuns: 60 },
      );
      // The runs did reach the indexed path and came back down.
      assert.ok(maxCount > 40, `largest list ${maxCount}`);
      assert.ok(shrinks > 0);
    });
  }
});
