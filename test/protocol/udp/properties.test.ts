import assert from "node:assert/strict";
import { SocketAddress } from "node:net";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  parseAnnounceResponse,
  parseConnectResponse,
  parseErrorResponse,
  parseScrapeResponse,
  responseAction,
  writeAnnounceRequest,
  writeConnectRequest,
  writeScrapeRequest,
} from "../../../src/protocol/udp/client.ts";
import { Action, MAX_SCRAPE_HASHES, ParseError } from "../../../src/protocol/udp/constants.ts";
import { parseRequest, UdpRequest } from "../../../src/protocol/udp/request.ts";
import {
  MAX_ERROR_RESPONSE_LEN,
  writeAnnounceResponseHeader,
  writeConnectResponse,
  writeErrorResponse,
  writeScrapeEntry,
  writeScrapeResponseHeader,
} from "../../../src/protocol/udp/response.ts";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const bytes20 = fc.uint8Array({ minLength: 20, maxLength: 20 });
const counter = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

describe("parseRequest on arbitrary bytes", () => {
  test("never throws, and returns a known code", () => {
    const req = new UdpRequest();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), (bytes) => {
        const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
        const code = parseRequest(buf, buf.length, req);
        assert.ok(code >= ParseError.None && code <= ParseError.NoInfoHash);
        if (buf.length >= 16) assert.equal(req.transactionId, buf.readUInt32BE(12));
        if (code === ParseError.None && req.action === Action.Scrape) {
          assert.ok(req.scrapeCount >= 1 && req.scrapeCount <= MAX_SCRAPE_HASHES);
          assert.ok(req.scrapeOffset + 20 * req.scrapeCount <= buf.length);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("never throws for requests that start with a valid header, whatever their length", () => {
    const req = new UdpRequest();
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 2, 3),
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.integer({ min: -10, max: 3000 }),
        (action, tail, len) => {
          const buf = Buffer.alloc(16 + tail.length);
          buf.writeUInt32BE(action, 8);
          buf.set(tail, 16);
          const code = parseRequest(buf, len, req);
          assert.ok(code >= ParseError.None && code <= ParseError.NoInfoHash);
        },
      ),
    );
  });
});

describe("client writers round-trip through the server parser", () => {
  test("connect", () => {
    const out = Buffer.alloc(16);
    const req = new UdpRequest();
    fc.assert(
      fc.property(u32, (tid) => {
        const end = writeConnectRequest(out, 0, tid);
        assert.equal(parseRequest(out, end, req), ParseError.None);
        assert.equal(req.action, Action.Connect);
        assert.equal(req.transactionId, tid);
      }),
    );
  });

  test("announce", () => {
    const out = Buffer.alloc(98 + 16);
    const req = new UdpRequest();
    fc.assert(
      fc.property(
        fc.record({
          connIdHi: u32,
          connIdLo: u32,
          tid: u32,
          infoHash: bytes20,
          peerId: bytes20,
          downloaded: counter,
          left: counter,
          uploaded: counter,
          event: fc.constantFrom(0, 1, 2, 3),
          ip: u32,
          key: u32,
          numWant: i32,
          port: fc.integer({ min: 1, max: 65535 }),
        }),
        fc.integer({ min: 0, max: 16 }),
        (a, optionBytes) => {
          const end = writeAnnounceRequest(out, 0, a);
          assert.equal(end, 98);
          assert.equal(parseRequest(out, end + optionBytes, req), ParseError.None);
          assert.equal(req.action, Action.Announce);
          assert.equal(req.transactionId, a.tid);
          assert.equal(req.connIdHi, a.connIdHi);
          assert.equal(req.connIdLo, a.connIdLo);
          assert.deepEqual(Buffer.from(req.infoHash, "latin1"), Buffer.from(a.infoHash));
          assert.deepEqual(out.subarray(req.peerIdOffset, req.peerIdOffset + 20), Buffer.from(a.peerId));
          assert.equal(req.leftIsZero, a.left === 0);
          assert.equal(out.readBigUInt64BE(56), BigInt(a.downloaded));
          assert.equal(out.readBigUInt64BE(64), BigInt(a.left));
          assert.equal(out.readBigUInt64BE(72), BigInt(a.uploaded));
          assert.equal(req.event, a.event);
          assert.equal(out.readUInt32BE(84), a.ip);
          assert.equal(req.key, a.key);
          assert.equal(req.numWant, a.numWant);
          assert.equal(req.port, a.port);
        },
      ),
    );
  });

  test("scrape", () => {
    const out = Buffer.alloc(16 + 20 * 100);
    const req = new UdpRequest();
    fc.assert(
      fc.property(
        u32,
        u32,
        u32,
        fc.array(bytes20, { minLength: 1, maxLength: 100 }),
        (hi, lo, tid, hashes) => {
          const end = writeScrapeRequest(out, 0, hi, lo, tid, hashes);
          assert.equal(end, 16 + 20 * hashes.length);
          assert.equal(parseRequest(out, end, req), ParseError.None);
          assert.equal(req.action, Action.Scrape);
          assert.equal(req.transactionId, tid);
          assert.equal(req.connIdHi, hi);
          assert.equal(req.connIdLo, lo);
          assert.equal(req.scrapeCount, Math.min(hashes.length, MAX_SCRAPE_HASHES));
          for (let i = 0; i < req.scrapeCount; i++) {
            const o = req.scrapeOffset + 20 * i;
            assert.deepEqual(out.subarray(o, o + 20), Buffer.from(hashes[i]));
          }
        },
      ),
    );
  });
});

describe("server writers round-trip through the client parsers", () => {
  test("connect response", () => {
    const out = new Uint8Array(16);
    fc.assert(
      fc.property(u32, u32, u32, (tid, hi, lo) => {
        const end = writeConnectResponse(out, 0, tid, hi, lo);
        assert.equal(responseAction(out.subarray(0, end)), Action.Connect);
        assert.deepEqual(parseConnectResponse(out.subarray(0, end)), {
          transactionId: tid,
          connIdHi: hi,
          connIdLo: lo,
        });
      }),
    );
  });

  test("announce response with IPv4 and IPv6 peers", () => {
    const out = Buffer.alloc(20 + 18 * 50);
    const peer4 = fc.record({
      a: fc.uint8Array({ minLength: 4, maxLength: 4 }),
      port: fc.integer({ min: 0, max: 65535 }),
    });
    const peer6 = fc.record({
      a: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      port: fc.integer({ min: 0, max: 65535 }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(4 as const, 6 as const),
        u32,
        u32,
        u32,
        u32,
        fc.array(peer4, { maxLength: 50 }),
        fc.array(peer6, { maxLength: 50 }),
        (family, tid, interval, leechers, seeders, p4, p6) => {
          let o = writeAnnounceResponseHeader(out, 0, tid, interval, leechers, seeders);
          const peers = family === 4 ? p4 : p6;
          for (const p of peers) {
            out.set(p.a, o);
            out.writeUInt16BE(p.port, o + p.a.length);
            o += p.a.length + 2;
          }
          const got = parseAnnounceResponse(out.subarray(0, o), family);
          assert.ok(got);
          assert.equal(got.action, Action.Announce);
          assert.equal(got.transactionId, tid);
          assert.equal(got.interval, interval);
          assert.equal(got.leechers, leechers);
          assert.equal(got.seeders, seeders);
          assert.equal(got.peers.length, peers.length);
          for (let i = 0; i < peers.length; i++) {
            assert.equal(got.peers[i].port, peers[i].port);
            // Addresses are printed as node:net prints them.
            const a = peers[i].a;
            if (family === 4) {
              assert.equal(got.peers[i].ip, Array.from(a).join("."));
            } else {
              const groups = [0, 1, 2, 3, 4, 5, 6, 7].map((g) =>
                ((a[2 * g] << 8) | a[2 * g + 1]).toString(16),
              );
              const expected = new SocketAddress({ address: groups.join(":"), family: "ipv6" }).address;
              assert.equal(got.peers[i].ip, expected);
            }
          }
        },
      ),
    );
  });

  test("scrape response", () => {
    const out = new Uint8Array(8 + 12 * MAX_SCRAPE_HASHES);
    const entry = fc.record({ seeders: u32, completed: u32, leechers: u32 });
    fc.assert(
      fc.property(u32, fc.array(entry, { maxLength: MAX_SCRAPE_HASHES }), (tid, entries) => {
        let o = writeScrapeResponseHeader(out, 0, tid);
        for (const e of entries) o = writeScrapeEntry(out, o, e.seeders, e.completed, e.leechers);
        assert.deepEqual(parseScrapeResponse(out.subarray(0, o)), {
          transactionId: tid,
          entries: entries.map((e) => ({ ...e })),
        });
      }),
    );
  });

  test("error response", () => {
    const out = new Uint8Array(MAX_ERROR_RESPONSE_LEN);
    const ascii = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    });
    fc.assert(
      fc.property(u32, ascii, (tid, message) => {
        const end = writeErrorResponse(out, 0, tid, message);
        assert.ok(end <= MAX_ERROR_RESPONSE_LEN);
        assert.deepEqual(parseErrorResponse(out.subarray(0, end)), {
          transactionId: tid,
          message: message.slice(0, 64),
        });
      }),
    );
  });
});
