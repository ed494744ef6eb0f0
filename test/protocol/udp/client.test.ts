import assert from "node:assert/strict";
import { SocketAddress } from "node:net";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  formatIPv6,
  parseAnnounceResponse,
  parseConnectResponse,
  parseErrorResponse,
  parseScrapeResponse,
  responseAction,
  writeAnnounceRequest,
  writeConnectRequest,
  writeScrapeRequest,
} from "../../../src/protocol/udp/client.ts";
import { Event } from "../../../src/protocol/udp/constants.ts";
import { hex } from "./hex.ts";

const INFO_HASH_HEX = "0123456789abcdef0123456789abcdef01234567";
const PEER_ID_HEX = "2d5348303130302d313233343536373839303132";
const HASH_A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const HASH_B = "000102030405060708090a0b0c0d0e0f10111213";
const HASH_C = "ffeeddccbbaa99887766554433221100ffeeddcc";

function written(out: Uint8Array, end: number): string {
  return Buffer.from(out.subarray(0, end)).toString("hex");
}

describe("client request writers", () => {
  test("connect request", () => {
    const out = new Uint8Array(16);
    const end = writeConnectRequest(out, 0, 0x12345678);
    assert.equal(end, 16);
    // protocol id | action 0 | transaction id
    assert.equal(written(out, end), hex("00000417 27101980 | 00000000 | 12345678").toString("hex"));
  });

  test("IPv4 announce request", () => {
    const out = new Uint8Array(120);
    const end = writeAnnounceRequest(out, 0, {
      connIdHi: 0x01020304,
      connIdLo: 0x05060708,
      tid: 0xcafebabe,
      infoHash: hex(INFO_HASH_HEX),
      peerId: hex(PEER_ID_HEX),
      downloaded: 0x1_0000_0002,
      left: 0,
      uploaded: 1024,
      event: Event.Started,
      ip: 0,
      key: 0x11223344,
      numWant: -1,
      port: 6881,
    });
    assert.equal(end, 98);
    assert.equal(
      written(out, end),
      hex(`
        01020304 05060708 | 00000001 | cafebabe
        ${INFO_HASH_HEX}
        ${PEER_ID_HEX}
        00000001 00000002 | 00000000 00000000 | 00000000 00000400
        00000002 | 00000000 | 11223344 | ffffffff | 1ae1`).toString("hex"),
    );
  });

  test("64-bit counters: 2^53 - 1 and -1", () => {
    const out = new Uint8Array(98);
    writeAnnounceRequest(out, 0, {
      connIdHi: 0,
      connIdLo: 0,
      tid: 0,
      infoHash: new Uint8Array(20),
      peerId: new Uint8Array(20),
      downloaded: Number.MAX_SAFE_INTEGER,
      left: -1,
      uploaded: 0xffffffff,
      event: 0,
      ip: 0,
      key: 0,
      numWant: 0,
      port: 1,
    });
    assert.equal(
      Buffer.from(out.subarray(56, 80)).toString("hex"),
      "001fffffffffffffffffffffffffffff00000000ffffffff",
    );
  });

  test("announce request rejects a hash of the wrong size", () => {
    const fields = {
      connIdHi: 0,
      connIdLo: 0,
      tid: 0,
      infoHash: new Uint8Array(19),
      peerId: new Uint8Array(20),
      downloaded: 0,
      left: 0,
      uploaded: 0,
      event: 0,
      ip: 0,
      key: 0,
      numWant: -1,
      port: 1,
    };
    assert.throws(() => writeAnnounceRequest(new Uint8Array(98), 0, fields), RangeError);
  });

  test("scrape request with one and with three info hashes", () => {
    const out = new Uint8Array(100);
    let end = writeScrapeRequest(out, 0, 0x0a0b0c0d, 0x0e0f1011, 7, [hex(HASH_A)]);
    assert.equal(end, 36);
    assert.equal(
      written(out, end),
      hex(`0a0b0c0d 0e0f1011 | 00000002 | 00000007 | ${HASH_A}`).toString("hex"),
    );
    end = writeScrapeRequest(out, 0, 0x0a0b0c0d, 0x0e0f1011, 7, [hex(HASH_A), hex(HASH_B), hex(HASH_C)]);
    assert.equal(end, 76);
    assert.equal(
      written(out, end),
      hex(`0a0b0c0d 0e0f1011 | 00000002 | 00000007 | ${HASH_A} ${HASH_B} ${HASH_C}`).toString("hex"),
    );
  });
});

describe("client response parsers", () => {
  test("connect response", () => {
    assert.deepEqual(parseConnectResponse(hex("00000000 | 12345678 | deadbeef 01020304")), {
      transactionId: 0x12345678,
      connIdHi: 0xdeadbeef,
      connIdLo: 0x01020304,
    });
    assert.equal(parseConnectResponse(hex("00000000 12345678 deadbeef 010203")), null);
    assert.equal(parseConnectResponse(hex("00000003 12345678 deadbeef 01020304")), null);
  });

  test("announce response with 6-byte IPv4 peers", () => {
    const buf = hex(`00000001 | cafebabe | 00000708 | 00000005 | 00000010
      | c0a80102 1ae1 | 0a000001 c8d5 | ffffffff ffff`);
    assert.deepEqual(parseAnnounceResponse(buf, 4), {
      action: 1,
      transactionId: 0xcafebabe,
      interval: 1800,
      leechers: 5,
      seeders: 16,
      peers: [
        { ip: "192.168.1.2", port: 6881 },
        { ip: "10.0.0.1", port: 51413 },
        { ip: "255.255.255.255", port: 65535 },
      ],
    });
  });

  test("announce response with 18-byte IPv6 peers", () => {
    const buf = hex(`00000001 | 00000001 | 00000384 | 00000000 | 00000002
      | 20010db8 00000000 00000000 00000001 1ae1
      | 00000000 00000000 0000ffff 01020304 01bb
      | fe800000 00000000 02112233 44556677 0001`);
    assert.deepEqual(parseAnnounceResponse(buf, 6), {
      action: 1,
      transactionId: 1,
      interval: 900,
      leechers: 0,
      seeders: 2,
      peers: [
        { ip: "2001:db8::1", port: 6881 },
        { ip: "::ffff:1.2.3.4", port: 443 },
        { ip: "fe80::211:2233:4455:6677", port: 1 },
      ],
    });
  });

  test("announce response without peers, and malformed ones", () => {
    const header = "00000001 00000009 00000708 00000000 00000000";
    assert.deepEqual(parseAnnounceResponse(hex(header), 4)?.peers, []);
    assert.deepEqual(parseAnnounceResponse(hex(header), 6)?.peers, []);
    // a partial peer
    assert.equal(parseAnnounceResponse(hex(`${header} c0a80102 1a`), 4), null);
    // a 6-byte peer read as IPv6
    assert.equal(parseAnnounceResponse(hex(`${header} c0a80102 1ae1`), 6), null);
    // short header, wrong action
    assert.equal(parseAnnounceResponse(hex("00000001 00000009 00000708 00000000 000000"), 4), null);
    assert.equal(parseAnnounceResponse(hex("00000003 00000009 00000708 00000000 00000000"), 4), null);
  });

  test("scrape response", () => {
    const buf = hex("00000002 | 01020304 | 00000001 00000002 00000003 | 7fffffff 00000000 00000100");
    assert.deepEqual(parseScrapeResponse(buf), {
      transactionId: 0x01020304,
      entries: [
        { seeders: 1, completed: 2, leechers: 3 },
        { seeders: 0x7fffffff, completed: 0, leechers: 0x100 },
      ],
    });
    assert.deepEqual(parseScrapeResponse(hex("00000002 01020304")), {
      transactionId: 0x01020304,
      entries: [],
    });
    assert.equal(parseScrapeResponse(hex("00000002 01020304 00000001 00000002 000000")), null);
    assert.equal(parseScrapeResponse(hex("00000001 01020304")), null);
  });

  test("error response", () => {
    assert.deepEqual(parseErrorResponse(hex("00000003 | 01020304 | 696e76616c696420706f7274")), {
      transactionId: 0x01020304,
      message: "invalid port",
    });
    assert.deepEqual(parseErrorResponse(hex("00000003 01020304")), {
      transactionId: 0x01020304,
      message: "",
    });
    assert.equal(parseErrorResponse(hex("00000003 010203")), null);
    assert.equal(parseErrorResponse(hex("00000002 01020304")), null);
  });

  test("responseAction", () => {
    assert.equal(responseAction(hex("")), -1);
    assert.equal(responseAction(hex("00000003 010203")), -1);
    assert.equal(responseAction(hex("00000003 01020304")), 3);
    assert.equal(responseAction(hex("00000001 01020304 00")), 1);
    assert.equal(responseAction(hex("ffffffff 01020304")), 0xffffffff);
  });
});

describe("IPv6 formatting", () => {
  const cases: [string, string][] = [
    ["00000000000000000000000000000000", "::"],
    ["00000000000000000000000000000001", "::1"],
    ["00000000000000000000000000000002", "::2"],
    ["00000000000000000000ffff01020304", "::ffff:1.2.3.4"],
    ["00000000000000000000000001020304", "::1.2.3.4"],
    ["20010db8000000000000000000000001", "2001:db8::1"],
    ["00010000000000020000000000000003", "1:0:0:2::3"],
    ["00010000000200000003000000040005", "1:0:2:0:3:0:4:5"],
    ["00010000000000010000000000010001", "1::1:0:0:1:1"],
    ["ffff0000000000000000000000000000", "ffff::"],
  ];
  for (const [bytes, text] of cases) {
    test(`${bytes} -> ${text}`, () => {
      assert.equal(formatIPv6(hex(bytes), 0), text);
    });
  }

  test("matches how node:net prints addresses", () => {
    // Groups biased towards zero so that runs of zeros, IPv4-mapped and IPv4-compatible forms occur.
    const group = fc.oneof(
      fc.constant(0),
      fc.constant(0),
      fc.constant(0xffff),
      fc.integer({ min: 0, max: 0xffff }),
    );
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const buf = Buffer.alloc(16);
        for (let i = 0; i < 8; i++) buf.writeUInt16BE(groups[i], 2 * i);
        const ours = formatIPv6(buf, 0);
        const full = groups.map((g) => g.toString(16)).join(":");
        const theirs = new SocketAddress({ address: full, family: "ipv6" }).address;
        assert.equal(ours, theirs);
      }),
      { numRuns: 3000 },
    );
  });
});
