import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Action, Event, MAX_SCRAPE_HASHES, ParseError } from "../../../src/protocol/udp/constants.ts";
import { parseRequest, UdpRequest } from "../../../src/protocol/udp/request.ts";
import { hex } from "./hex.ts";

// Vectors written from BEP 15 by hand. Fields are separated by "|".

// connect: protocol id 0x41727101980 | action 0 | transaction id 0x12345678
const CONNECT = hex("00000417 27101980 | 00000000 | 12345678");

const INFO_HASH_HEX = "0123456789abcdef0123456789abcdef01234567";
// "-SH0100-123456789012"
const PEER_ID_HEX = "2d5348303130302d313233343536373839303132";

// announce: connection id 0x0102030405060708 | action 1 | transaction id 0xcafebabe | info hash
// | peer id | downloaded 0x100000002 | left 0 | uploaded 1024 | event 2 (started) | ip 0
// | key 0x11223344 | num_want -1 | port 6881
const ANNOUNCE = hex(`
  01020304 05060708 | 00000001 | cafebabe
  ${INFO_HASH_HEX}
  ${PEER_ID_HEX}
  00000001 00000002 | 00000000 00000000 | 00000000 00000400
  00000002 | 00000000 | 11223344 | ffffffff | 1ae1`);

const HASH_A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const HASH_B = "000102030405060708090a0b0c0d0e0f10111213";
const HASH_C = "ffeeddccbbaa99887766554433221100ffeeddcc";

// scrape: connection id 0x0a0b0c0d0e0f1011 | action 2 | transaction id 0x00000007 | hashes
const SCRAPE_HEADER = "0a0b0c0d 0e0f1011 | 00000002 | 00000007";

function parse(buf: Buffer, len = buf.length): { code: number; req: UdpRequest } {
  const req = new UdpRequest();
  return { code: parseRequest(buf, len, req), req };
}

function withByte(buf: Buffer, at: number, values: number[]): Buffer {
  const copy = Buffer.from(buf);
  for (let i = 0; i < values.length; i++) copy[at + i] = values[i];
  return copy;
}

describe("parseRequest: connect", () => {
  test("a BEP 15 connect request", () => {
    const { code, req } = parse(CONNECT);
    assert.equal(code, ParseError.None);
    assert.equal(req.action, Action.Connect);
    assert.equal(req.transactionId, 0x12345678);
  });

  test("a wrong protocol id is rejected, with action and transaction id still set", () => {
    for (let i = 0; i < 8; i++) {
      const { code, req } = parse(withByte(CONNECT, i, [CONNECT[i] ^ 0x01]));
      assert.equal(code, ParseError.BadProtocolId, `byte ${i}`);
      assert.equal(req.action, Action.Connect);
      assert.equal(req.transactionId, 0x12345678);
    }
  });

  test("every length below 16 is too short and leaves action and transaction id unknown", () => {
    for (let len = 0; len < 16; len++) {
      const { code, req } = parse(CONNECT.subarray(0, len));
      assert.equal(code, ParseError.TooShort, `length ${len}`);
      assert.equal(req.action, -1);
      assert.equal(req.transactionId, -1);
    }
  });

  test("the len argument wins over a larger receive buffer", () => {
    const big = Buffer.alloc(2048);
    CONNECT.copy(big);
    assert.equal(parse(big, 16).code, ParseError.None);
    assert.equal(parse(big, 15).code, ParseError.TooShort);
  });

  test("a len beyond the buffer is clamped to the buffer", () => {
    assert.equal(parse(CONNECT.subarray(0, 10), 16).code, ParseError.TooShort);
  });
});

describe("parseRequest: announce", () => {
  test("a BEP 15 IPv4 announce request", () => {
    assert.equal(ANNOUNCE.length, 98);
    const { code, req } = parse(ANNOUNCE);
    assert.equal(code, ParseError.None);
    assert.equal(req.action, Action.Announce);
    assert.equal(req.transactionId, 0xcafebabe);
    assert.equal(req.connIdHi, 0x01020304);
    assert.equal(req.connIdLo, 0x05060708);
    assert.equal(req.infoHash, Buffer.from(INFO_HASH_HEX, "hex").toString("latin1"));
    assert.equal(req.infoHash.length, 20);
    assert.equal(req.peerIdOffset, 36);
    assert.equal(ANNOUNCE.subarray(req.peerIdOffset, req.peerIdOffset + 20).toString("hex"), PEER_ID_HEX);
    assert.equal(req.leftIsZero, true);
    assert.equal(req.event, Event.Started);
    assert.equal(req.key, 0x11223344);
    assert.equal(req.numWant, -1);
    assert.equal(req.port, 6881);
  });

  test("left is non-zero if any of its 8 bytes is", () => {
    for (let i = 64; i < 72; i++) {
      const { code, req } = parse(withByte(ANNOUNCE, i, [0x01]));
      assert.equal(code, ParseError.None);
      assert.equal(req.leftIsZero, false, `byte ${i}`);
    }
    // 2^63 and all-ones (-1 as some clients send) are leechers too.
    assert.equal(parse(withByte(ANNOUNCE, 64, [0x80])).req.leftIsZero, false);
    assert.equal(
      parse(withByte(ANNOUNCE, 64, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).req.leftIsZero,
      false,
    );
  });

  test("num_want is signed and key and port are unsigned", () => {
    let { req } = parse(withByte(ANNOUNCE, 92, [0x00, 0x00, 0x00, 0x32]));
    assert.equal(req.numWant, 50);
    ({ req } = parse(withByte(ANNOUNCE, 92, [0x80, 0x00, 0x00, 0x00])));
    assert.equal(req.numWant, -0x80000000);
    ({ req } = parse(withByte(ANNOUNCE, 88, [0xff, 0xff, 0xff, 0xfe])));
    assert.equal(req.key, 0xfffffffe);
    ({ req } = parse(withByte(ANNOUNCE, 96, [0xff, 0xff])));
    assert.equal(req.port, 65535);
  });

  test("every event 0..3 is accepted", () => {
    for (const event of [Event.None, Event.Completed, Event.Started, Event.Stopped]) {
      const { code, req } = parse(withByte(ANNOUNCE, 80, [0, 0, 0, event]));
      assert.equal(code, ParseError.None);
      assert.equal(req.event, event);
    }
  });

  test("an event outside 0..3 is rejected", () => {
    for (const bytes of [
      [0, 0, 0, 4],
      [0, 0, 1, 0],
      [0xff, 0xff, 0xff, 0xff],
      [0x80, 0, 0, 2],
    ]) {
      const { code, req } = parse(withByte(ANNOUNCE, 80, bytes));
      assert.equal(code, ParseError.BadEvent, bytes.join(","));
      assert.equal(req.transactionId, 0xcafebabe);
    }
  });

  test("port 0 is rejected", () => {
    const { code, req } = parse(withByte(ANNOUNCE, 96, [0, 0]));
    assert.equal(code, ParseError.BadPort);
    assert.equal(req.action, Action.Announce);
    assert.equal(req.transactionId, 0xcafebabe);
  });

  test("the IP field is ignored", () => {
    const { code, req } = parse(withByte(ANNOUNCE, 84, [10, 1, 2, 3]));
    assert.equal(code, ParseError.None);
    assert.equal(req.port, 6881);
  });

  test("trailing BEP 41 option bytes are accepted and ignored", () => {
    // option 2 (URLData), length 5, "/ann?" ; option 1 (NOP) ; option 0 (EndOfOptions)
    const withOptions = Buffer.concat([ANNOUNCE, hex("02 05 2f616e6e3f | 01 | 00")]);
    const { code, req } = parse(withOptions);
    assert.equal(code, ParseError.None);
    assert.equal(req.port, 6881);
    assert.equal(req.infoHash, Buffer.from(INFO_HASH_HEX, "hex").toString("latin1"));
  });

  test("every truncation 0..97 is TooShort, never a throw", () => {
    for (let len = 0; len < 98; len++) {
      const req = new UdpRequest();
      const code = parseRequest(ANNOUNCE.subarray(0, len), len, req);
      assert.equal(code, ParseError.TooShort, `length ${len}`);
      if (len >= 16) {
        assert.equal(req.action, Action.Announce);
        assert.equal(req.transactionId, 0xcafebabe);
      } else {
        assert.equal(req.action, -1);
        assert.equal(req.transactionId, -1);
      }
      // The same through a large receive buffer and a shorter len.
      const big = Buffer.alloc(1500);
      ANNOUNCE.copy(big);
      assert.equal(parseRequest(big, len, req), ParseError.TooShort);
    }
  });
});

describe("parseRequest: scrape", () => {
  test("one info hash", () => {
    const buf = hex(`${SCRAPE_HEADER} ${HASH_A}`);
    assert.equal(buf.length, 36);
    const { code, req } = parse(buf);
    assert.equal(code, ParseError.None);
    assert.equal(req.action, Action.Scrape);
    assert.equal(req.transactionId, 7);
    assert.equal(req.connIdHi, 0x0a0b0c0d);
    assert.equal(req.connIdLo, 0x0e0f1011);
    assert.equal(req.scrapeOffset, 16);
    assert.equal(req.scrapeCount, 1);
    assert.equal(buf.subarray(16, 36).toString("hex"), HASH_A);
  });

  test("three info hashes, in order", () => {
    const buf = hex(`${SCRAPE_HEADER} ${HASH_A} ${HASH_B} ${HASH_C}`);
    const { code, req } = parse(buf);
    assert.equal(code, ParseError.None);
    assert.equal(req.scrapeCount, 3);
    const got = [0, 1, 2].map((i) =>
      buf.subarray(req.scrapeOffset + 20 * i, req.scrapeOffset + 20 * i + 20).toString("hex"),
    );
    assert.deepEqual(got, [HASH_A, HASH_B, HASH_C]);
  });

  test("more than 74 info hashes are capped at 74", () => {
    for (const n of [74, 75, 80, 200]) {
      const buf = hex(`${SCRAPE_HEADER} ${HASH_B.repeat(n)}`);
      const { code, req } = parse(buf);
      assert.equal(code, ParseError.None);
      assert.equal(req.scrapeCount, Math.min(n, MAX_SCRAPE_HASHES), `${n} hashes`);
    }
  });

  test("no whole info hash is NoInfoHash; trailing partial hash bytes are ignored", () => {
    const full = hex(`${SCRAPE_HEADER} ${HASH_A} ${HASH_B}`);
    for (let len = 16; len < 36; len++) {
      const { code, req } = parse(full.subarray(0, len));
      assert.equal(code, ParseError.NoInfoHash, `length ${len}`);
      assert.equal(req.action, Action.Scrape);
      assert.equal(req.transactionId, 7);
    }
    for (let len = 36; len < 56; len++) {
      const { code, req } = parse(full.subarray(0, len));
      assert.equal(code, ParseError.None, `length ${len}`);
      assert.equal(req.scrapeCount, 1);
    }
    assert.equal(parse(full).req.scrapeCount, 2);
  });
});

describe("parseRequest: other actions", () => {
  test("an unknown action is rejected, with action and transaction id set", () => {
    for (const action of ["00000003", "00000004", "ffffffff", "80000001"]) {
      const { code, req } = parse(hex(`00000417 27101980 | ${action} | 0000abcd`));
      assert.equal(code, ParseError.UnknownAction, action);
      assert.equal(req.action, Number.parseInt(action, 16));
      assert.equal(req.transactionId, 0xabcd);
    }
  });

  test("one instance is reused across requests", () => {
    const req = new UdpRequest();
    assert.equal(parseRequest(ANNOUNCE, ANNOUNCE.length, req), ParseError.None);
    assert.equal(parseRequest(CONNECT, CONNECT.length, req), ParseError.None);
    assert.equal(req.action, Action.Connect);
    assert.equal(req.transactionId, 0x12345678);
    assert.equal(parseRequest(Buffer.alloc(3), 3, req), ParseError.TooShort);
    assert.equal(req.action, -1);
  });
});
