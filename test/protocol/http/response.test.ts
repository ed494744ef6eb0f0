import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { AnnounceResult } from "../../../src/core/announce.ts";
import { type BencodeInput, bencode, binary } from "../../../src/protocol/bencode.ts";
import {
  type AnnounceFields,
  type AnnouncePeers,
  failureBodyLength,
  type HttpStatus,
  httpDate,
  maxAnnounceBodyLength,
  maxResponseHeadLength,
  maxScrapeBodyLength,
  writeAnnounceBody,
  writeFailureBody,
  writeIpText,
  writeResponseHead,
  writeScrapeBody,
} from "../../../src/protocol/http/response.ts";
import { formatIPv4, formatIPv6 } from "../../../src/protocol/udp/client.ts";

/** Concatenates latin1 text and byte arrays. */
function bin(...parts: (string | number[] | Uint8Array)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));
}

const GUARD = 0xee;

/**
 * Runs a writer at offset 3 of a buffer of exactly `3 + max + 3` bytes filled with a guard byte;
 * checks the writer returns an offset within `max`, and touched nothing outside what it wrote.
 */
function written(max: number, write: (out: Uint8Array, at: number) => number): Buffer {
  const out = new Uint8Array(3 + max + 3).fill(GUARD);
  const end = write(out, 3);
  assert.ok(end >= 3 && end - 3 <= max, `wrote ${end - 3} bytes, max ${max}`);
  for (let i = 0; i < 3; i++) assert.equal(out[i], GUARD, "byte before `at` untouched");
  for (let i = end; i < out.length; i++) assert.equal(out[i], GUARD, "bytes after the end untouched");
  return Buffer.from(out.subarray(3, end));
}

const FIELDS: AnnounceFields = {
  complete: 5,
  incomplete: 7,
  downloaded: 12,
  interval: 1800,
  minInterval: 900,
};
const HEAD_FIELDS = "d8:completei5e10:downloadedi12e10:incompletei7e8:intervali1800e12:min intervali900e";

function peers(family: 4 | 6, endpoints: number[][], ids: string[] = [], offset = 5): AnnouncePeers {
  const len = family === 4 ? 6 : 18;
  const res = new AnnounceResult(endpoints.length + 4);
  res.outOffset = offset;
  endpoints.forEach((e, i) => {
    assert.equal(e.length, len);
    res.out.set(e, offset + i * len);
  });
  ids.forEach((id, i) => {
    res.peerIds.set(Buffer.from(id, "latin1"), i * 20);
  });
  res.peerCount = endpoints.length;
  return res;
}

const V4_A = [1, 2, 3, 4, 0x1a, 0xe1]; // 1.2.3.4:6881
const V4_B = [10, 0, 0, 254, 0x00, 0x50]; // 10.0.0.254:80
const V6_A = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x1a, 0xe1]; // [2001:db8::1]:6881
const V6_B = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55, 0xff, 0xff]; // [fe80::211:22ff:fe33:4455]:65535
const ID_A = "-qB4650-aaaaaaaaaaaa";
const ID_B = "-TR3000-\u0000\u00ff\u0080bbbbbbbbb";

describe("writeAnnounceBody, compact", () => {
  test("IPv4: peers as 6-byte entries", () => {
    const res = peers(4, [V4_A, V4_B]);
    const body = written(maxAnnounceBodyLength(2, 4, true, false), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, res, 4, true, false),
    );
    assert.deepEqual(body, bin(HEAD_FIELDS, "5:peers12:", V4_A, V4_B, "e"));
  });

  test("IPv4 without peers", () => {
    const body = written(maxAnnounceBodyLength(0, 4, true, true), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, peers(4, []), 4, true, true),
    );
    assert.deepEqual(body, bin(HEAD_FIELDS, "5:peers0:e"));
  });

  test("IPv6 (BEP 7): an empty peers string, then peers6 as 18-byte entries", () => {
    const res = peers(6, [V6_A, V6_B]);
    const body = written(maxAnnounceBodyLength(2, 6, true, false), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, res, 6, true, false),
    );
    assert.deepEqual(body, bin(HEAD_FIELDS, "5:peers0:6:peers636:", V6_A, V6_B, "e"));
  });

  test("IPv6 without peers", () => {
    const body = written(maxAnnounceBodyLength(0, 6, true, false), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, peers(6, []), 6, true, false),
    );
    assert.deepEqual(body, bin(HEAD_FIELDS, "5:peers0:6:peers60:e"));
  });

  test("tracker id comes last", () => {
    const id = bin("abc\u0000");
    const body = written(maxAnnounceBodyLength(1, 4, true, false, id.length), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, peers(4, [V4_A]), 4, true, false, id),
    );
    assert.deepEqual(body, bin(HEAD_FIELDS, "5:peers6:", V4_A, "10:tracker id4:abc", [0], "e"));
    const none = written(maxAnnounceBodyLength(0, 4, true, false), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, peers(4, []), 4, true, false, new Uint8Array(0)),
    );
    assert.deepEqual(none, bin(HEAD_FIELDS, "5:peers0:e"), "an empty tracker id is left out");
  });

  test("100 IPv6 peers: a three-digit length", () => {
    const endpoints = Array.from({ length: 100 }, (_, i) => [...V6_A.slice(0, 15), i, 0, i]);
    const body = written(maxAnnounceBodyLength(100, 6, true, false), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, peers(6, endpoints), 6, true, false),
    );
    assert.deepEqual(body, bin(HEAD_FIELDS, "5:peers0:6:peers61800:", ...endpoints, "e"));
  });
});

describe("writeAnnounceBody, not compact", () => {
  test("IPv4: a list of {ip, peer id, port} with keys in byte order", () => {
    const res = peers(4, [V4_A, V4_B], [ID_A, ID_B]);
    const body = written(maxAnnounceBodyLength(2, 4, false, false), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, res, 4, false, false),
    );
    assert.deepEqual(
      body,
      bin(
        HEAD_FIELDS,
        "5:peersl",
        `d2:ip7:1.2.3.47:peer id20:${ID_A}4:porti6881ee`,
        `d2:ip10:10.0.0.2547:peer id20:${ID_B}4:porti80ee`,
        "ee",
      ),
    );
  });

  test("no_peer_id leaves the peer ids out", () => {
    const res = peers(4, [V4_A, V4_B]);
    const body = written(maxAnnounceBodyLength(2, 4, false, true), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, res, 4, false, true),
    );
    assert.deepEqual(
      body,
      bin(HEAD_FIELDS, "5:peersl", "d2:ip7:1.2.3.44:porti6881ee", "d2:ip10:10.0.0.2544:porti80ee", "ee"),
    );
  });

  test("IPv6: addresses as text", () => {
    const res = peers(6, [V6_A, V6_B], [ID_A, ID_B]);
    const body = written(maxAnnounceBodyLength(2, 6, false, false), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, res, 6, false, false, bin("t")),
    );
    assert.deepEqual(
      body,
      bin(
        HEAD_FIELDS,
        "5:peersl",
        `d2:ip11:2001:db8::17:peer id20:${ID_A}4:porti6881ee`,
        `d2:ip24:fe80::211:22ff:fe33:44557:peer id20:${ID_B}4:porti65535ee`,
        "e10:tracker id1:te",
      ),
    );
  });

  test("no peers: an empty list", () => {
    const body = written(maxAnnounceBodyLength(0, 4, false, false), (out, at) =>
      writeAnnounceBody(out, at, FIELDS, peers(4, []), 4, false, false),
    );
    assert.deepEqual(body, bin(HEAD_FIELDS, "5:peerslee"));
  });
});

describe("writeAnnounceBody, integers", () => {
  test("zero, large, and values that are not safe integers", () => {
    const res = peers(4, []);
    const cases: [AnnounceFields, string][] = [
      [
        { complete: 0, incomplete: 0, downloaded: 0, interval: 0, minInterval: 0 },
        "d8:completei0e10:downloadedi0e10:incompletei0e8:intervali0e12:min intervali0e",
      ],
      [
        {
          complete: 9,
          incomplete: 10,
          downloaded: 2 ** 31,
          interval: 2 ** 32 + 1,
          minInterval: Number.MAX_SAFE_INTEGER,
        },
        "d8:completei9e10:downloadedi2147483648e10:incompletei10e8:intervali4294967297e12:min intervali9007199254740991e",
      ],
      [
        { complete: -5, incomplete: 1.9, downloaded: Number.NaN, interval: 1e21, minInterval: -1e300 },
        "d8:completei-5e10:downloadedi0e10:incompletei1e8:intervali9007199254740991e12:min intervali-9007199254740991e",
      ],
      [
        { complete: -0, incomplete: -0.5, downloaded: 99, interval: 100, minInterval: 999999999999999 },
        "d8:completei0e10:downloadedi99e10:incompletei0e8:intervali100e12:min intervali999999999999999e",
      ],
    ];
    for (const [fields, expected] of cases) {
      const body = written(maxAnnounceBodyLength(0, 4, true, false), (out, at) =>
        writeAnnounceBody(out, at, fields, res, 4, true, false),
      );
      assert.deepEqual(body, bin(expected, "5:peers0:e"));
    }
  });
});

describe("writeFailureBody", () => {
  test("ASCII reason", () => {
    const reason = "info_hash must be 20 bytes, got 19";
    const body = written(failureBodyLength(reason), (out, at) => writeFailureBody(out, at, reason));
    assert.deepEqual(body, bin("d14:failure reason34:info_hash must be 20 bytes, got 19e"));
    assert.equal(body.length, failureBodyLength(reason));
  });

  test("empty and non-ASCII reasons (UTF-8)", () => {
    assert.deepEqual(
      written(failureBodyLength(""), (out, at) => writeFailureBody(out, at, "")),
      bin("d14:failure reason0:e"),
    );
    const reason = "torrent non autorisé €";
    const body = written(failureBodyLength(reason), (out, at) => writeFailureBody(out, at, reason));
    assert.deepEqual(body, bin("d14:failure reason25:", Buffer.from("torrent non autorisé €", "utf8"), "e"));
    assert.equal(body.length, failureBodyLength(reason));
  });
});

describe("writeScrapeBody", () => {
  const A = "a".repeat(20);
  const B = "b".repeat(20);
  const FF = "\u00ff".repeat(20);
  const ZERO = "\u0000".repeat(20);

  test("hashes in byte order, each once, with the figures of its first occurrence", () => {
    const hashes = [FF, B, A, B, ZERO];
    // seeders, downloaded, leechers per hash
    const figures = Float64Array.from([1, 2, 3, 10, 20, 30, 4, 5, 6, 99, 99, 99, 0, 1234567890123, 7]);
    const body = written(maxScrapeBodyLength(hashes.length), (out, at) =>
      writeScrapeBody(out, at, hashes, hashes.length, figures),
    );
    assert.deepEqual(
      body,
      bin(
        "d5:filesd",
        `20:${ZERO}d8:completei0e10:downloadedi1234567890123e10:incompletei7ee`,
        `20:${A}d8:completei4e10:downloadedi5e10:incompletei6ee`,
        `20:${B}d8:completei10e10:downloadedi20e10:incompletei30ee`,
        `20:${FF}d8:completei1e10:downloadedi2e10:incompletei3ee`,
        "ee",
      ),
    );
  });

  test("only the first `count` hashes", () => {
    const body = written(maxScrapeBodyLength(1), (out, at) =>
      writeScrapeBody(out, at, [B, A], 1, Float64Array.from([1, 2, 3, 4, 5, 6])),
    );
    assert.deepEqual(body, bin(`d5:filesd20:${B}d8:completei1e10:downloadedi2e10:incompletei3eeee`));
  });

  test("no hashes", () => {
    assert.deepEqual(
      written(maxScrapeBodyLength(0), (out, at) => writeScrapeBody(out, at, [], 0, new Float64Array(0))),
      bin("d5:filesdee"),
    );
  });

  test("a byte above 0x7f sorts after ASCII (byte order, not signed or locale order)", () => {
    const hi = `\u0080${"a".repeat(19)}`;
    const lo = `\u007f${"z".repeat(19)}`;
    const body = written(maxScrapeBodyLength(2), (out, at) =>
      writeScrapeBody(out, at, [hi, lo], 2, Float64Array.from([1, 1, 1, 2, 2, 2])),
    );
    assert.ok(body.indexOf(bin(lo)) < body.indexOf(bin(hi)));
  });
});

describe("writeResponseHead", () => {
  test("200 keep-alive, text/plain", () => {
    const head = written(maxResponseHeadLength(), (out, at) => writeResponseHead(out, at, 200, 123, true));
    assert.equal(
      head.toString("latin1"),
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 123\r\nConnection: keep-alive\r\n\r\n",
    );
  });

  test("400 close, another content type, zero length", () => {
    const head = written(maxResponseHeadLength("application/json"), (out, at) =>
      writeResponseHead(out, at, 400, 0, false, "application/json"),
    );
    assert.equal(
      head.toString("latin1"),
      "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
  });

  test("405 carries Allow; a Date when given", () => {
    const date = httpDate(784111777000);
    assert.equal(date.toString("latin1"), "Sun, 06 Nov 1994 08:49:37 GMT");
    const head = written(maxResponseHeadLength("text/plain", date.length), (out, at) =>
      writeResponseHead(out, at, 405, 18, false, "text/plain", date),
    );
    assert.equal(
      head.toString("latin1"),
      "HTTP/1.1 405 Method Not Allowed\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nAllow: GET, HEAD\r\nContent-Type: text/plain\r\nContent-Length: 18\r\nConnection: close\r\n\r\n",
    );
  });

  test("every status line", () => {
    const lines: [HttpStatus, string][] = [
      [200, "OK"],
      [400, "Bad Request"],
      [404, "Not Found"],
      [405, "Method Not Allowed"],
      [408, "Request Timeout"],
      [413, "Content Too Large"],
      [414, "URI Too Long"],
      [431, "Request Header Fields Too Large"],
      [500, "Internal Server Error"],
      [501, "Not Implemented"],
      [503, "Service Unavailable"],
      [505, "HTTP Version Not Supported"],
    ];
    for (const [status, reason] of lines) {
      const head = written(maxResponseHeadLength("text/plain", 29), (out, at) =>
        writeResponseHead(out, at, status, Number.MAX_SAFE_INTEGER, true, "text/plain", httpDate(0)),
      );
      const text = head.toString("latin1");
      assert.ok(text.startsWith(`HTTP/1.1 ${status} ${reason}\r\n`), text);
      assert.ok(text.includes("\r\nContent-Length: 9007199254740991\r\n"));
    }
    const unknown = written(maxResponseHeadLength(), (out, at) =>
      writeResponseHead(out, at, 418 as HttpStatus, 0, true),
    );
    assert.ok(unknown.toString("latin1").startsWith("HTTP/1.1 500 Internal Server Error\r\n"));
  });
});

// ---------------------------------------------------------------------------------------------
// Properties: the hand-written bodies equal what the general bencoder makes of the same data.

/** 16 bytes with long runs of zero groups, and the mapped and compatible IPv4 prefixes. */
const ipv6 = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc
    .array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
      minLength: 8,
      maxLength: 8,
    })
    .map((words) => {
      const b = new Uint8Array(16);
      words.forEach((w, i) => {
        b[2 * i] = w >> 8;
        b[2 * i + 1] = w & 0xff;
      });
      return b;
    }),
  fc
    .uint8Array({ minLength: 4, maxLength: 4 })
    .map((v4) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4])),
  fc
    .uint8Array({ minLength: 4, maxLength: 4 })
    .map((v4) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...v4])),
);

describe("response properties", () => {
  test("writeIpText prints IPv6 as Node does, and IPv4 dotted", () => {
    const out = new Uint8Array(50);
    fc.assert(
      fc.property(ipv6, fc.nat(3), (a, at) => {
        const end = writeIpText(out, at, a, 0, 6);
        assert.ok(end - at <= 39);
        assert.equal(Buffer.from(out.subarray(at, end)).toString("latin1"), formatIPv6(a, 0));
        const end4 = writeIpText(out, at, a, 12, 4);
        assert.equal(Buffer.from(out.subarray(at, end4)).toString("latin1"), formatIPv4(a, 12));
      }),
      { numRuns: 3000 },
    );
  });

  const int = fc.oneof(
    fc.nat(100),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    fc.constant(Number.MAX_SAFE_INTEGER),
  );
  const fields = fc.record({
    complete: int,
    incomplete: int,
    downloaded: int,
    interval: int,
    minInterval: int,
  });

  test("writeAnnounceBody equals bencode of the same dictionary, within the maximum length", () => {
    fc.assert(
      fc.property(
        fields,
        fc.constantFrom(4 as const, 6 as const),
        fc.boolean(),
        fc.boolean(),
        fc.nat(60),
        fc.nat(40),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 30 }), { nil: undefined }),
        fc.infiniteStream(fc.oneof(ipv6, fc.uint8Array({ minLength: 16, maxLength: 16 }))),
        (f, family, compact, noPeerId, count, offset, trackerId, addresses) => {
          const len = family === 4 ? 6 : 18;
          const res = new AnnounceResult(count + 3);
          res.outOffset = offset % 3;
          res.peerCount = count;
          const it = addresses[Symbol.iterator]();
          for (let i = 0; i < count; i++) {
            const a = it.next().value as Uint8Array;
            res.out.set(a.subarray(0, len), res.outOffset + i * len);
            res.peerIds.set(a, i * 20);
            res.peerIds.set(a.subarray(0, 4), i * 20 + 16);
          }
          const body = written(
            maxAnnounceBodyLength(count, family, compact, noPeerId, trackerId?.length ?? 0),
            (out, at) => writeAnnounceBody(out, at, f, res, family, compact, noPeerId, trackerId),
          );
          const expected: Record<string, BencodeInput | undefined> = {
            complete: f.complete,
            downloaded: f.downloaded,
            incomplete: f.incomplete,
            interval: f.interval,
            "min interval": f.minInterval,
            "tracker id": trackerId,
          };
          const endpoints = res.out.subarray(res.outOffset, res.outOffset + count * len);
          if (compact && family === 4) expected.peers = endpoints;
          if (compact && family === 6) {
            expected.peers = "";
            expected.peers6 = endpoints;
          }
          if (!compact) {
            expected.peers = Array.from({ length: count }, (_, i) => {
              const e = res.outOffset + i * len;
              return {
                ip: family === 4 ? formatIPv4(res.out, e) : formatIPv6(res.out, e),
                "peer id": noPeerId ? undefined : res.peerIds.subarray(i * 20, i * 20 + 20),
                port: (res.out[e + len - 2] << 8) | res.out[e + len - 1],
              };
            });
          }
          assert.deepEqual(body, bencode(expected));
        },
      ),
      { numRuns: 500 },
    );
  });

  test("writeScrapeBody equals bencode of the same dictionary, within the maximum length", () => {
    const hash = fc.oneof(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.constantFrom(new Uint8Array(20), new Uint8Array(20).fill(0xff), new Uint8Array(20).fill(0x80)),
    );
    fc.assert(
      fc.property(
        fc.array(hash, { maxLength: 300 }),
        fc.array(int, { minLength: 900, maxLength: 900 }),
        (raw, nums) => {
          const hashes = raw.map((h) => Buffer.from(h).toString("latin1"));
          const figures = Float64Array.from(nums);
          const body = written(maxScrapeBodyLength(hashes.length), (out, at) =>
            writeScrapeBody(out, at, hashes, hashes.length, figures),
          );
          const files = new Map<string, BencodeInput>();
          hashes.forEach((h, i) => {
            if (!files.has(h)) {
              files.set(h, {
                complete: nums[i * 3],
                downloaded: nums[i * 3 + 1],
                incomplete: nums[i * 3 + 2],
              });
            }
          });
          assert.deepEqual(body, bencode({ files }));
        },
      ),
      { numRuns: 300 },
    );
  });

  test("writeFailureBody equals bencode, with exactly failureBodyLength bytes", () => {
    const reasons = fc.oneof(
      fc.string({ unit: "binary-ascii", maxLength: 120 }),
      fc.string({ unit: "grapheme", maxLength: 60 }),
      fc.string({ unit: "binary", maxLength: 60 }),
    );
    fc.assert(
      fc.property(reasons, (reason) => {
        const body = written(failureBodyLength(reason), (out, at) => writeFailureBody(out, at, reason));
        assert.equal(body.length, failureBodyLength(reason));
        assert.deepEqual(body, bencode({ "failure reason": reason }));
      }),
    );
  });

  test("bencode of a binary info hash key equals the scrape writer's (latin1 keys)", () => {
    const h = "\u0000\u00ff".repeat(10);
    const viaMap = bencode({ files: new Map([[h, { complete: 1, downloaded: 2, incomplete: 3 }]]) });
    const viaBinary = bencode(["x", binary(h)]);
    assert.ok(viaMap.includes(bin("20:", Buffer.from(h, "latin1"))));
    assert.ok(viaBinary.includes(bin("20:", Buffer.from(h, "latin1"))));
  });
});
