import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { AnnounceEvent } from "../../src/core/announce.ts";
import { Clock } from "../../src/core/clock.ts";
import { MemoryStore } from "../../src/core/memory-store.ts";
import { decodeSnapshot, encodeSnapshot, loadSnapshot, writeSnapshot } from "../../src/core/snapshot.ts";
import { endpointOf, infoHashOf, newResult, request } from "./helpers.ts";

const hashArb = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString("latin1"));
const countArb = fc.oneof(fc.constant(0), fc.nat(1000), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

function newStore(): MemoryStore {
  return new MemoryStore(new Clock(1000), { peerTimeout: 60 });
}

/** Rewrites the checksum so that a deliberately altered body passes it. */
function reseal(data: Buffer): Buffer {
  const out = Buffer.from(data);
  out.writeUInt32BE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

function decodeError(data: Buffer): string {
  try {
    decodeSnapshot(data);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail("decoded");
}

describe("encodeSnapshot / decodeSnapshot", () => {
  test("layout: magic, count, records, CRC-32", () => {
    const h = infoHashOf(7);
    const data = encodeSnapshot([[h, 42]]);
    assert.equal(data.length, 8 + 4 + 28 + 4);
    assert.equal(data.toString("latin1", 0, 8), "SHOALSN1");
    assert.equal(data.readUInt32BE(8), 1);
    assert.equal(data.toString("latin1", 12, 32), h);
    assert.equal(data.readDoubleBE(32), 42);
    assert.equal(data.readUInt32BE(40), crc32(data.subarray(0, 40)));
  });

  test("an empty snapshot is 16 bytes and decodes to nothing", () => {
    const data = encodeSnapshot([]);
    assert.equal(data.length, 16);
    assert.deepEqual(decodeSnapshot(data), []);
  });

  test("round trip (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(hashArb, countArb), { selector: (e) => e[0], maxLength: 50 }),
        (entries) => {
          const data = encodeSnapshot(entries);
          assert.equal(data.length, 16 + 28 * entries.length);
          assert.deepEqual(decodeSnapshot(data), entries);
        },
      ),
    );
  });

  test("accepts any iterable, such as a store's generator", () => {
    const store = newStore();
    store.restoreDownloads(infoHashOf(1), 3);
    store.restoreDownloads(infoHashOf(2), 9);
    assert.deepEqual(decodeSnapshot(encodeSnapshot(store.downloadCounts())), [
      [infoHashOf(1), 3],
      [infoHashOf(2), 9],
    ]);
  });

  test("too short or a wrong magic: not a snapshot", () => {
    assert.equal(decodeError(Buffer.alloc(0)), "not a shoal snapshot");
    assert.equal(decodeError(encodeSnapshot([]).subarray(0, 15)), "not a shoal snapshot");
    const wrong = encodeSnapshot([[infoHashOf(1), 1]]);
    wrong[7] = 0x32; // SHOALSN2
    assert.equal(decodeError(reseal(wrong)), "not a shoal snapshot");
    assert.equal(decodeError(Buffer.from("this is a text file, not a snapshot")), "not a shoal snapshot");
  });

  test("truncated or with bytes appended: the size does not match the count", () => {
    const data = encodeSnapshot([
      [infoHashOf(1), 1],
      [infoHashOf(2), 2],
    ]);
    assert.match(
      decodeError(data.subarray(0, data.length - 1)),
      /^truncated or oversized: 2 records need 72 bytes, file has 71$/,
    );
    assert.match(decodeError(data.subarray(0, 44)), /truncated or oversized/);
    assert.match(decodeError(Buffer.concat([data, Buffer.of(0)])), /file has 73/);
    const lying = Buffer.from(data);
    lying.writeUInt32BE(0xffffffff, 8);
    assert.match(decodeError(reseal(lying)), /truncated or oversized: 4294967295 records/);
  });

  test("any flipped bit in the body or the checksum is caught", () => {
    const data = encodeSnapshot([
      [infoHashOf(1), 5],
      [infoHashOf(2), 6],
    ]);
    for (let i = 12; i < data.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(data);
        bad[i] ^= bit;
        assert.equal(decodeError(bad), "checksum mismatch", `byte ${i} bit ${bit}`);
      }
    }
  });

  test("a count that is negative, fractional, NaN or beyond 2^53 is refused even with a good checksum", () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      const data = encodeSnapshot([
        [infoHashOf(1), 1],
        [infoHashOf(2), bad],
      ]);
      assert.equal(decodeError(data), "record 1: bad count", String(bad));
    }
  });
});

describe("writeSnapshot / loadSnapshot", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "shoal-snapshot-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function storeWithDownloads(): MemoryStore {
    const store = newStore();
    for (let h = 0; h < 4; h++) {
      for (let i = 0; i <= h; i++) {
        store.announce(
          request({
            infoHash: infoHashOf(h),
            endpoint: endpointOf(4, i),
            seeder: true,
            event: AnnounceEvent.Completed,
          }),
          newResult(),
        );
      }
    }
    store.announce(request({ infoHash: infoHashOf(9) }), newResult()); // no downloads: not written
    return store;
  }

  test("writes the store's counts and leaves no temporary file", async () => {
    const path = join(dir, "counts.snap");
    const store = storeWithDownloads();
    assert.equal(await writeSnapshot(path, store), 4);
    assert.deepEqual(await readdir(dir), ["counts.snap"]);
    assert.deepEqual(new Map(decodeSnapshot(await readFile(path))), new Map(store.downloadCounts()));
  });

  test("replaces an existing snapshot as a whole", async () => {
    const path = join(dir, "replace.snap");
    await writeFile(path, "old content that is longer than the new snapshot will be ".repeat(10));
    const store = newStore();
    store.restoreDownloads(infoHashOf(1), 1);
    assert.equal(await writeSnapshot(path, store), 1);
    assert.deepEqual(decodeSnapshot(await readFile(path)), [[infoHashOf(1), 1]]);
    assert.ok(!(await readdir(dir)).some((f) => f.endsWith(".tmp")));
  });

  test("an empty store writes an empty snapshot", async () => {
    const path = join(dir, "empty.snap");
    assert.equal(await writeSnapshot(path, newStore()), 0);
    assert.deepEqual(decodeSnapshot(await readFile(path)), []);
    const into = newStore();
    assert.deepEqual(await loadSnapshot(path, into), { status: "loaded", torrents: 0 });
    assert.equal(into.totals().torrents, 0);
  });

  test("when the rename fails the temporary file is removed and the error surfaces", async () => {
    const path = join(dir, "occupied");
    await mkdir(path);
    await writeFile(join(path, "inside"), "x"); // a non-empty directory cannot be renamed over
    const before = (await readdir(dir)).sort();
    await assert.rejects(writeSnapshot(path, storeWithDownloads()));
    assert.deepEqual((await readdir(dir)).sort(), before);
  });

  test("a directory that does not exist is an error", async () => {
    await assert.rejects(writeSnapshot(join(dir, "no", "such", "dir", "x.snap"), newStore()), {
      code: "ENOENT",
    });
  });

  test("load restores download counts into a fresh store", async () => {
    const path = join(dir, "restart.snap");
    const first = storeWithDownloads();
    await writeSnapshot(path, first);
    const second = newStore();
    assert.deepEqual(await loadSnapshot(path, second), { status: "loaded", torrents: 4 });
    assert.deepEqual(new Map(second.downloadCounts()), new Map(first.downloadCounts()));
    assert.equal(second.totals().completed, first.totals().completed);
    const out = new Float64Array(3);
    second.scrape([infoHashOf(3)], 1, out);
    assert.deepEqual([...out], [0, 4, 0], "downloads survive, peers do not");
    // And they keep counting from there.
    second.announce(
      request({
        infoHash: infoHashOf(3),
        endpoint: endpointOf(4, 100),
        seeder: true,
        event: AnnounceEvent.Completed,
      }),
      newResult(),
    );
    second.scrape([infoHashOf(3)], 1, out);
    assert.equal(out[1], 5);
  });

  test("load adds to counts already in the store", async () => {
    const path = join(dir, "add.snap");
    await writeFile(path, encodeSnapshot([[infoHashOf(1), 10]]));
    const store = newStore();
    store.restoreDownloads(infoHashOf(1), 2);
    await loadSnapshot(path, store);
    assert.deepEqual([...store.downloadCounts()], [[infoHashOf(1), 12]]);
    assert.equal(store.totals().completed, 12);
  });

  test("a missing file is 'missing', and the store is untouched", async () => {
    const store = newStore();
    assert.deepEqual(await loadSnapshot(join(dir, "never-written.snap"), store), { status: "missing" });
    assert.equal(store.totals().torrents, 0);
  });

  test("a corrupt, truncated or foreign file is 'corrupt' with the problem, and nothing is loaded", async () => {
    const good = encodeSnapshot([
      [infoHashOf(1), 1],
      [infoHashOf(2), 2],
    ]);
    const flipped = Buffer.from(good);
    flipped[20] ^= 1;
    const cases: [string, Buffer, RegExp][] = [
      ["truncated.snap", good.subarray(0, good.length - 3), /truncated or oversized/],
      ["flipped.snap", flipped, /checksum mismatch/],
      ["foreign.snap", Buffer.from("d8:completei0ee"), /not a shoal snapshot/],
      ["empty-file.snap", Buffer.alloc(0), /not a shoal snapshot/],
      ["bad-count.snap", encodeSnapshot([[infoHashOf(1), -5]]), /record 0: bad count/],
    ];
    for (const [name, data, problem] of cases) {
      const path = join(dir, name);
      await writeFile(path, data);
      const store = newStore();
      const r = await loadSnapshot(path, store);
      assert.equal(r.status, "corrupt", name);
      assert.match((r as { problem: string }).problem, problem, name);
      assert.equal(store.totals().torrents, 0, `${name}: nothing restored`);
      assert.equal(store.totals().completed, 0);
    }
  });

  test("a path that cannot be read (a directory) is 'corrupt', not 'missing'", async () => {
    const path = join(dir, "a-directory");
    await mkdir(path);
    const r = await loadSnapshot(path, newStore());
    assert.equal(r.status, "corrupt");
    assert.match((r as { problem: string }).problem, /EISDIR/);
  });

  test("write then load, for random counts (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(hashArb, fc.integer({ min: 1, max: 2 ** 40 })), {
          selector: (e) => e[0],
          maxLength: 20,
        }),
        async (entries) => {
          const path = join(dir, "prop.snap");
          const from = newStore();
          for (const [h, n] of entries) from.restoreDownloads(h, n);
          assert.equal(await writeSnapshot(path, from), entries.length);
          const into = newStore();
          assert.deepEqual(await loadSnapshot(path, into), { status: "loaded", torrents: entries.length });
          assert.deepEqual(new Map(into.downloadCounts()), new Map(entries));
        },
      ),
      { numRuns: 30 },
    );
  });
});
