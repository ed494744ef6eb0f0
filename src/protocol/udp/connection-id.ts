/**
 * UDP connection ids (BEP 15) as a keyed MAC, so that the server keeps no state per client.
 *
 * id = HalfSipHash-2-4-64(key, client address (16 bytes) || time bucket (uint32, little-endian))
 *
 * The id proves that whoever sends it received the connect response at that address, and it
 * expires: `check` accepts the current and the previous time bucket, so an id stays valid for
 * between `bucketSeconds` and `2 * bucketSeconds` (BEP 15 asks clients to reuse an id for up to
 * two minutes, so `bucketSeconds` should be at least 120).
 *
 * HalfSipHash is SipHash with 32-bit words (Aumasson & Bernstein), cheap in JavaScript where
 * 64-bit arithmetic is not. Its 64-bit key is enough here: ids live minutes, keys are random per
 * process, and an attacker gets one guess per packet.
 */

import { randomBytes } from "node:crypto";

function rotl(x: number, b: number): number {
  return (x << b) | (x >>> (32 - b));
}

function le32(buf: Uint8Array, o: number): number {
  return (buf[o] | (buf[o + 1] << 8) | (buf[o + 2] << 16) | (buf[o + 3] << 24)) >>> 0;
}

/**
 * HalfSipHash-2-4 with 64-bit output over `msg[off, off + len)`, keyed by the two little-endian
 * key words `k0`, `k1`. Writes the output as two little-endian words: `out[0]` is bytes 0..3 of
 * the reference implementation's output, `out[1]` bytes 4..7. Allocates nothing.
 */
export function halfSipHash64Into(
  k0: number,
  k1: number,
  msg: Uint8Array,
  off: number,
  len: number,
  out: Uint32Array,
): void {
  let v0 = k0 | 0;
  let v1 = (k1 ^ 0xee) | 0;
  let v2 = (k0 ^ 0x6c796765) | 0;
  let v3 = (k1 ^ 0x74656462) | 0;

  const end = off + len;
  const wordsEnd = end - (len & 3);
  let m = 0;
  // The compression loop runs once per 4-byte word, then once for the final word that carries
  // the 0..3 leftover bytes and the length.
  for (let o = off; ; o += 4) {
    let last = false;
    if (o < wordsEnd) {
      m = le32(msg, o);
    } else {
      const left = end - o;
      m = (len & 0xff) << 24;
      if (left >= 3) m |= msg[o + 2] << 16;
      if (left >= 2) m |= msg[o + 1] << 8;
      if (left >= 1) m |= msg[o];
      last = true;
    }
    v3 ^= m;
    for (let r = 0; r < 2; r++) {
      v0 = (v0 + v1) | 0;
      v1 = rotl(v1, 5) ^ v0;
      v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0;
      v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0;
      v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0;
      v1 = rotl(v1, 13) ^ v2;
      v2 = rotl(v2, 16);
    }
    v0 ^= m;
    if (last) break;
  }

  v2 ^= 0xee;
  for (let r = 0; r < 4; r++) {
    v0 = (v0 + v1) | 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  }
  out[0] = v1 ^ v3;

  v1 ^= 0xdd;
  for (let r = 0; r < 4; r++) {
    v0 = (v0 + v1) | 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  }
  out[1] = v1 ^ v3;
}

/** HalfSipHash-2-4 with 64-bit output, as the 8 bytes the reference implementation writes. */
export function halfSipHash64(key: Uint8Array, msg: Uint8Array): Uint8Array {
  if (key.length !== 8) throw new RangeError(`HalfSipHash key must be 8 bytes, got ${key.length}`);
  const words = new Uint32Array(2);
  halfSipHash64Into(le32(key, 0), le32(key, 4), msg, 0, msg.length, words);
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = words[i >> 2] >>> ((i & 3) * 8);
  return out;
}

/** A fresh random 8-byte key for `ConnectionIds`. */
export function randomConnectionIdKey(): Uint8Array {
  return new Uint8Array(randomBytes(8));
}

const ADDR_LEN = 16;
const MAC_INPUT_LEN = ADDR_LEN + 4;

/**
 * Makes and checks connection ids. One instance per server (or per worker, with the same key):
 * `make` and `check` reuse scratch space in the instance and allocate nothing.
 */
export class ConnectionIds {
  /** High uint32 half of the id made by the last `make`. */
  hi = 0;
  /** Low uint32 half of the id made by the last `make`. */
  lo = 0;

  readonly bucketSeconds: number;
  readonly #k0: number;
  readonly #k1: number;
  readonly #input = new Uint8Array(MAC_INPUT_LEN);
  readonly #mac = new Uint32Array(2);

  /**
   * @param key 8 random bytes (see `randomConnectionIdKey`); workers that share a port must share it.
   * @param bucketSeconds length of a time bucket; an id is valid for between 1 and 2 buckets.
   */
  constructor(key: Uint8Array, bucketSeconds = 120) {
    if (key.length !== 8) throw new RangeError(`connection id key must be 8 bytes, got ${key.length}`);
    if (!Number.isFinite(bucketSeconds) || bucketSeconds <= 0) {
      throw new RangeError(`bucketSeconds must be a positive number, got ${bucketSeconds}`);
    }
    this.bucketSeconds = bucketSeconds;
    this.#k0 = le32(key, 0);
    this.#k1 = le32(key, 4);
  }

  /**
   * Sets `hi` and `lo` to the id for `addr` (16 bytes: IPv6, or IPv4-mapped ::ffff:a.b.c.d) at
   * `nowSeconds` (Unix time; fractions allowed).
   */
  make(addr: Uint8Array, nowSeconds: number): void {
    this.#mac64(addr, Math.floor(nowSeconds / this.bucketSeconds) >>> 0);
    this.hi = this.#mac[0];
    this.lo = this.#mac[1];
  }

  /** Whether `hi`/`lo` is an id made for `addr` in the current or the previous time bucket. */
  check(addr: Uint8Array, hi: number, lo: number, nowSeconds: number): boolean {
    const bucket = Math.floor(nowSeconds / this.bucketSeconds) >>> 0;
    const mac = this.#mac;
    this.#mac64(addr, bucket);
    if (mac[0] === hi >>> 0 && mac[1] === lo >>> 0) return true;
    this.#mac64(addr, (bucket - 1) >>> 0);
    return mac[0] === hi >>> 0 && mac[1] === lo >>> 0;
  }

  #mac64(addr: Uint8Array, bucket: number): void {
    const input = this.#input;
    for (let i = 0; i < ADDR_LEN; i++) input[i] = addr[i];
    input[16] = bucket;
    input[17] = bucket >>> 8;
    input[18] = bucket >>> 16;
    input[19] = bucket >>> 24;
    halfSipHash64Into(this.#k0, this.#k1, input, 0, MAC_INPUT_LEN, this.#mac);
  }
}
