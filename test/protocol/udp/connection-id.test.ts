import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  ConnectionIds,
  halfSipHash64,
  halfSipHash64Into,
  randomConnectionIdKey,
} from "../../../src/protocol/udp/connection-id.ts";
import { hex } from "./hex.ts";

// HalfSipHash-2-4 with 64-bit output: the reference implementation's published vectors
// (vectors_hsip64 in github.com/veorq/SipHash vectors.h), key 00 01 .. 07, message i bytes
// 00 01 .. i-1, output as the bytes the reference writes.
const HSIP64_VECTORS: [number, string][] = [
  [0, "218d1f59b9b83cc8"],
  [1, "be552412f8387315"],
  [2, "064f39ef7c50eb57"],
  [3, "ce0f1a45f7060679"],
  [4, "d5e78a175be52ea1"],
  [5, "cb9d7c3f2f3db580"],
  [6, "ce3e91358aa2bc25"],
  [7, "ff202728b07bc684"],
  [8, "edfee820bce4858c"],
  [9, "5b51cccc13888307"],
  [10, "95b0469f06a6f2ee"],
  [11, "ae26333994ddcd48"],
  [12, "7bc71f9faef5c799"],
  [13, "5a2352d75a0c3744"],
  [14, "3bb1a870eae8e658"],
  [15, "217d0bcb4e81c902"],
  [16, "7336aad25f7bf3b5"],
  [17, "37adc0641c4c4f6a"],
  [18, "c9b2db2b9a3e42f9"],
  [19, "f910e48020ab363c"],
  [20, "1bf52b0a6feea7db"],
  [63, "2ea63c71bf326087"],
];

const KEY = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]);

function seq(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i);
}

function v4mapped(a: number, b: number, c: number, d: number): Uint8Array {
  return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]);
}

describe("HalfSipHash-2-4, 64-bit output", () => {
  for (const [len, expected] of HSIP64_VECTORS) {
    test(`reference vector, message of ${len} bytes`, () => {
      assert.equal(Buffer.from(halfSipHash64(KEY, seq(len))).toString("hex"), expected);
    });
  }

  test("halfSipHash64Into hashes a window of a larger buffer", () => {
    const big = new Uint8Array(80).fill(0xaa);
    big.set(seq(20), 7);
    const out = new Uint32Array(2);
    halfSipHash64Into(0x03020100, 0x07060504, big, 7, 20, out);
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32LE(out[0], 0);
    bytes.writeUInt32LE(out[1], 4);
    assert.equal(bytes.toString("hex"), "1bf52b0a6feea7db");
  });

  test("rejects a key that is not 8 bytes", () => {
    assert.throws(() => halfSipHash64(new Uint8Array(16), seq(3)), RangeError);
  });
});

describe("ConnectionIds", () => {
  const key = hex("0011223344556677");
  const addr = v4mapped(192, 0, 2, 1);
  const now = 1_700_000_000;
  const bucketStart = Math.floor(now / 120) * 120;

  test("the id is the MAC of the address and the little-endian bucket number", () => {
    const ids = new ConnectionIds(key, 120);
    ids.make(addr, now);
    const input = new Uint8Array(20);
    input.set(addr);
    new DataView(input.buffer).setUint32(16, Math.floor(now / 120), true);
    const mac = Buffer.from(halfSipHash64(key, input));
    assert.equal(ids.hi, mac.readUInt32LE(0));
    assert.equal(ids.lo, mac.readUInt32LE(4));
  });

  test("make then check round-trips, across the whole validity window", () => {
    const ids = new ConnectionIds(key, 120);
    ids.make(addr, bucketStart);
    const { hi, lo } = ids;
    for (const t of [
      bucketStart,
      bucketStart + 0.5,
      bucketStart + 119.999,
      bucketStart + 120,
      bucketStart + 239.9,
    ]) {
      assert.equal(ids.check(addr, hi, lo, t), true, `at +${t - bucketStart}s`);
    }
  });

  test("an id from the previous bucket is accepted, two buckets old is rejected", () => {
    const ids = new ConnectionIds(key, 120);
    ids.make(addr, bucketStart + 119);
    const { hi, lo } = ids;
    assert.equal(ids.check(addr, hi, lo, bucketStart + 120), true);
    assert.equal(ids.check(addr, hi, lo, bucketStart + 239), true);
    assert.equal(ids.check(addr, hi, lo, bucketStart + 240), false);
    assert.equal(ids.check(addr, hi, lo, bucketStart + 1000), false);
  });

  test("an id from the future is rejected", () => {
    const ids = new ConnectionIds(key, 120);
    ids.make(addr, bucketStart + 120);
    assert.equal(ids.check(addr, ids.hi, ids.lo, bucketStart + 119), false);
  });

  test("the bucket length is configurable", () => {
    const ids = new ConnectionIds(key, 10);
    ids.make(addr, 1000);
    const { hi, lo } = ids;
    assert.equal(ids.check(addr, hi, lo, 1019), true);
    assert.equal(ids.check(addr, hi, lo, 1020), false);
  });

  test("an id made for another address is rejected", () => {
    const ids = new ConnectionIds(key);
    ids.make(addr, now);
    assert.equal(ids.check(v4mapped(192, 0, 2, 2), ids.hi, ids.lo, now), false);
    const v6 = hex("20010db8000000000000000000000001");
    ids.make(v6, now);
    assert.equal(ids.check(v6, ids.hi, ids.lo, now), true);
    assert.equal(ids.check(hex("20010db8000000000000000000000002"), ids.hi, ids.lo, now), false);
  });

  test("an id made with another key is rejected", () => {
    const a = new ConnectionIds(key);
    const b = new ConnectionIds(hex("0011223344556676"));
    a.make(addr, now);
    assert.equal(b.check(addr, a.hi, a.lo, now), false);
    assert.equal(a.check(addr, a.hi, a.lo, now), true);
  });

  test("every flipped bit of the id is rejected", () => {
    const ids = new ConnectionIds(key);
    ids.make(addr, now);
    const { hi, lo } = ids;
    for (let bit = 0; bit < 32; bit++) {
      assert.equal(ids.check(addr, (hi ^ (1 << bit)) >>> 0, lo, now), false, `hi bit ${bit}`);
      assert.equal(ids.check(addr, hi, (lo ^ (1 << bit)) >>> 0, now), false, `lo bit ${bit}`);
    }
  });

  test("every flipped bit of the address is rejected", () => {
    const ids = new ConnectionIds(key);
    ids.make(addr, now);
    for (let bit = 0; bit < 128; bit++) {
      const other = Uint8Array.from(addr);
      other[bit >> 3] ^= 1 << (bit & 7);
      assert.equal(ids.check(other, ids.hi, ids.lo, now), false, `bit ${bit}`);
    }
  });

  test("check accepts ids given as signed int32 halves", () => {
    const ids = new ConnectionIds(key);
    ids.make(addr, now);
    assert.equal(ids.check(addr, ids.hi | 0, ids.lo | 0, now), true);
  });

  test("hi and lo are uint32", () => {
    const ids = new ConnectionIds(randomConnectionIdKey());
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (a, t) => {
          ids.make(a, t);
          assert.ok(Number.isInteger(ids.hi) && ids.hi >= 0 && ids.hi <= 0xffffffff);
          assert.ok(Number.isInteger(ids.lo) && ids.lo >= 0 && ids.lo <= 0xffffffff);
          assert.equal(ids.check(a, ids.hi, ids.lo, t), true);
        },
      ),
    );
  });

  test("randomConnectionIdKey gives 8 fresh bytes", () => {
    const a = randomConnectionIdKey();
    const b = randomConnectionIdKey();
    assert.equal(a.length, 8);
    assert.notDeepEqual(a, b);
  });

  test("rejects a bad key or bucket length", () => {
    assert.throws(() => new ConnectionIds(new Uint8Array(7)), RangeError);
    assert.throws(() => new ConnectionIds(key, 0), RangeError);
    assert.throws(() => new ConnectionIds(key, Number.NaN), RangeError);
  });
});
