import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseErrorMessage } from "../../../src/protocol/udp/constants.ts";
import {
  MAX_ERROR_RESPONSE_LEN,
  writeAnnounceResponseHeader,
  writeConnectResponse,
  writeErrorResponse,
  writeScrapeEntry,
  writeScrapeResponseHeader,
} from "../../../src/protocol/udp/response.ts";
import { hex } from "./hex.ts";

function written(out: Uint8Array, from: number, to: number): string {
  return Buffer.from(out.buffer, out.byteOffset + from, to - from).toString("hex");
}

describe("response writers", () => {
  test("connect response", () => {
    const out = new Uint8Array(64);
    const end = writeConnectResponse(out, 0, 0x12345678, 0xdeadbeef, 0x01020304);
    assert.equal(end, 16);
    // action 0 | transaction id | connection id
    assert.equal(written(out, 0, end), hex("00000000 | 12345678 | deadbeef 01020304").toString("hex"));
  });

  test("writers honour the offset and leave other bytes alone", () => {
    const out = new Uint8Array(40).fill(0x55);
    const end = writeConnectResponse(out, 10, 1, 2, 3);
    assert.equal(end, 26);
    assert.equal(
      Buffer.from(out).toString("hex"),
      hex(`${"55".repeat(10)} 00000000 00000001 00000002 00000003 ${"55".repeat(14)}`).toString("hex"),
    );
  });

  test("announce response header, then 6-byte IPv4 peers appended by the caller", () => {
    const out = new Uint8Array(64);
    let o = writeAnnounceResponseHeader(out, 0, 0xcafebabe, 1800, 5, 16);
    assert.equal(o, 20);
    out.set([192, 168, 1, 2, 0x1a, 0xe1], o);
    o += 6;
    // action 1 | transaction id | interval 1800 | leechers 5 | seeders 16 | 192.168.1.2:6881
    assert.equal(
      written(out, 0, o),
      hex("00000001 | cafebabe | 00000708 | 00000005 | 00000010 | c0a80102 1ae1").toString("hex"),
    );
  });

  test("transaction ids are echoed as the same 32 bits whether given signed or unsigned", () => {
    const a = new Uint8Array(16);
    const b = new Uint8Array(16);
    writeConnectResponse(a, 0, -1, -2, 0x7fffffff);
    writeConnectResponse(b, 0, 0xffffffff, 0xfffffffe, 0x7fffffff);
    assert.deepEqual(a, b);
    assert.equal(Buffer.from(a).toString("hex"), "00000000fffffffffffffffe7fffffff");
  });

  test("scrape response header and entries", () => {
    const out = new Uint8Array(64);
    let o = writeScrapeResponseHeader(out, 0, 0x01020304);
    assert.equal(o, 8);
    o = writeScrapeEntry(out, o, 1, 2, 3);
    assert.equal(o, 20);
    o = writeScrapeEntry(out, o, 0x7fffffff, 0, 0x100);
    assert.equal(o, 32);
    // action 2 | transaction id | seeders, completed, leechers | seeders, completed, leechers
    assert.equal(
      written(out, 0, o),
      hex("00000002 | 01020304 | 00000001 00000002 00000003 | 7fffffff 00000000 00000100").toString("hex"),
    );
  });

  test("error response", () => {
    const out = new Uint8Array(MAX_ERROR_RESPONSE_LEN);
    const end = writeErrorResponse(out, 0, 0x01020304, "invalid port");
    assert.equal(end, 8 + 12);
    // action 3 | transaction id | "invalid port"
    assert.equal(written(out, 0, end), hex("00000003 | 01020304 | 696e76616c696420706f7274").toString("hex"));
  });

  test("error messages are truncated to 64 bytes", () => {
    assert.equal(MAX_ERROR_RESPONSE_LEN, 72);
    const out = new Uint8Array(200);
    const end = writeErrorResponse(out, 0, 9, "x".repeat(100));
    assert.equal(end, 72);
    assert.equal(Buffer.from(out.subarray(8, end)).toString("latin1"), "x".repeat(64));
    assert.equal(out[72], 0);
  });

  test("non-ASCII characters in an error message become '?'", () => {
    const out = new Uint8Array(72);
    const end = writeErrorResponse(out, 0, 9, "é\n€ok");
    assert.equal(Buffer.from(out.subarray(8, end)).toString("latin1"), "???ok");
  });

  test("every parse error has a short ASCII message", () => {
    for (let code = 0; code <= 7; code++) {
      const m = parseErrorMessage(code);
      assert.ok(m.length > 0 && m.length < 40, m);
      assert.match(m, /^[\x20-\x7e]+$/);
    }
    assert.equal(parseErrorMessage(5), "invalid port");
    assert.equal(parseErrorMessage(3), "unknown action");
    assert.equal(parseErrorMessage(1), "packet too short");
  });
});
