import assert from "node:assert/strict";
import { isIP, SocketAddress } from "node:net";
import { describe, test } from "node:test";
import fc from "fast-check";
import { formatIp, isMappedIpv4, parseIp } from "../../src/core/address.ts";

function parse(text: string): { family: 0 | 4 | 6; bytes: string } {
  const out = new Uint8Array(16).fill(0xcc);
  const family = parseIp(text, out);
  return { family, bytes: Buffer.from(out).toString("hex") };
}

const mapped = (a: number, b: number, c: number, d: number) =>
  `00000000000000000000ffff${Buffer.of(a, b, c, d).toString("hex")}`;

/** Node's own rendering of an IPv6 address (inet_ntop), from its full uncompressed text. */
function nodeFormat(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let g = 0; g < 8; g++) groups.push(((bytes[g * 2] << 8) | bytes[g * 2 + 1]).toString(16));
  return new SocketAddress({ address: groups.join(":"), family: "ipv6" }).address;
}

/** The WHATWG URL parser's rendering (RFC 5952 without the dotted-quad special cases). */
function urlFormat(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let g = 0; g < 8; g++)
    groups.push(((bytes[g * 2] << 8) | bytes[g * 2 + 1]).toString(16).padStart(4, "0"));
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/** inet_ntop writes these with a dotted quad: ::a.b.c.d and ::ffff:a.b.c.d. */
function ntopUsesDottedQuad(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  if (b[10] === 0xff && b[11] === 0xff) return true;
  return b[10] === 0 && b[11] === 0 && (b[12] !== 0 || b[13] !== 0);
}

// 16-bit groups, zero half of the time so that runs of zeros (and ties between runs) are common.
const group = fc.oneof(
  fc.constant(0),
  fc.constant(0),
  fc.integer({ min: 1, max: 0xffff }),
  fc.constant(0xffff),
);
const ipv6Bytes = fc.array(group, { minLength: 8, maxLength: 8 }).map((gs) => {
  const b = new Uint8Array(16);
  gs.forEach((g, i) => {
    b[i * 2] = g >> 8;
    b[i * 2 + 1] = g & 0xff;
  });
  return b;
});

describe("parseIp: IPv4", () => {
  test("dotted quads, stored as ::ffff:a.b.c.d", () => {
    assert.deepEqual(parse("1.2.3.4"), { family: 4, bytes: mapped(1, 2, 3, 4) });
    assert.deepEqual(parse("0.0.0.0"), { family: 4, bytes: mapped(0, 0, 0, 0) });
    assert.deepEqual(parse("255.255.255.255"), { family: 4, bytes: mapped(255, 255, 255, 255) });
    assert.deepEqual(parse("192.168.100.10"), { family: 4, bytes: mapped(192, 168, 100, 10) });
  });

  test("not IPv4: 0 and no claim on the output", () => {
    for (const s of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "1..2.3",
      ".1.2.3",
      "1.2.3.",
      "256.1.1.1",
      "1.2.3.1000",
      "01.2.3.4", // leading zeros read as octal elsewhere
      "1.2.3.04",
      "00.0.0.0",
      "1.2.3.4 ",
      " 1.2.3.4",
      "1.2.3.-4",
      "a.b.c.d",
      "1.2.3.4/24",
      "localhost",
      "0x7f.0.0.1",
      "4294967295",
    ]) {
      assert.equal(parse(s).family, 0, JSON.stringify(s));
    }
  });

  test("random quads round-trip through formatIp (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (q) => {
        const text = `${q[0]}.${q[1]}.${q[2]}.${q[3]}`;
        const out = new Uint8Array(16);
        assert.equal(parseIp(text, out), 4);
        assert.ok(isMappedIpv4(out));
        assert.equal(formatIp(out, 12, 4), text);
        assert.equal(formatIp(q, 0, 4), text);
      }),
    );
  });
});

describe("parseIp: IPv6", () => {
  test("full, compressed and mixed-case forms", () => {
    assert.deepEqual(parse("2001:db8:0:0:0:0:0:1"), { family: 6, bytes: "20010db8000000000000000000000001" });
    assert.deepEqual(parse("2001:DB8::1"), { family: 6, bytes: "20010db8000000000000000000000001" });
    assert.deepEqual(parse("2001:0db8:0000:0000:0000:0000:0000:0001"), {
      family: 6,
      bytes: "20010db8000000000000000000000001",
    });
    assert.deepEqual(parse("fe80::1:2"), { family: 6, bytes: "fe800000000000000000000000010002" });
  });

  test(":: at the start, the end, alone, and standing for a single group", () => {
    assert.deepEqual(parse("::"), { family: 6, bytes: "0".repeat(32) });
    assert.deepEqual(parse("::1"), { family: 6, bytes: `${"0".repeat(31)}1` });
    assert.deepEqual(parse("1::"), { family: 6, bytes: `0001${"0".repeat(28)}` });
    assert.deepEqual(parse("1:2:3:4:5:6:7::"), { family: 6, bytes: "0001000200030004000500060007" + "0000" });
    assert.deepEqual(parse("::2:3:4:5:6:7:8"), { family: 6, bytes: "0000000200030004000500060007" + "0008" });
    assert.deepEqual(parse("1::3:4:5:6:7:8"), { family: 6, bytes: "0001000000030004000500060007" + "0008" });
  });

  test("embedded IPv4", () => {
    assert.deepEqual(parse("64:ff9b::192.0.2.33"), { family: 6, bytes: "0064ff9b0000000000000000c0000221" });
    assert.deepEqual(parse("::1.2.3.4"), { family: 6, bytes: "00000000000000000000000001020304" });
    assert.deepEqual(parse("1:2:3:4:5:6:1.2.3.4"), { family: 6, bytes: "00010002000300040005000601020304" });
  });

  test("IPv4-mapped addresses are IPv4, in text or in hex", () => {
    assert.deepEqual(parse("::ffff:1.2.3.4"), { family: 4, bytes: mapped(1, 2, 3, 4) });
    assert.deepEqual(parse("::FFFF:10.0.0.1"), { family: 4, bytes: mapped(10, 0, 0, 1) });
    assert.deepEqual(parse("::ffff:102:304"), { family: 4, bytes: mapped(1, 2, 3, 4) });
    assert.deepEqual(parse("0:0:0:0:0:ffff:1.2.3.4"), { family: 4, bytes: mapped(1, 2, 3, 4) });
    assert.equal(parse("::fffe:1.2.3.4").family, 6);
    assert.equal(parse("1::ffff:1.2.3.4").family, 6);
  });

  test("a zone index is ignored", () => {
    assert.deepEqual(parse("fe80::1%eth0"), { family: 6, bytes: "fe800000000000000000000000000001" });
  });

  test("malformed text is 0", () => {
    for (const s of [
      ":",
      ":::",
      ":1",
      "1:",
      "1::2:",
      "1:::2",
      "::1::",
      "1::2::3",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      "::1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7::8",
      "12345::",
      "g::1",
      "::ffff:1.2.3",
      "::ffff:1.2.3.4.5",
      "::ffff:01.2.3.4",
      "::ffff:256.1.1.1",
      "::1.2.3.4:5",
      "1.2.3.4::",
      "1:2:3:4:5:6:7:1.2.3.4",
      "[::1]",
      "::1 ",
      "1:2:3:4:5:6:7:8 ",
    ]) {
      assert.equal(parse(s).family, 0, JSON.stringify(s));
    }
  });

  test("accepts exactly what node:net accepts, on strings built from address pieces (property)", () => {
    const piece = fc.constantFrom(
      "0",
      "1",
      "00",
      "01",
      "ff",
      "FFFF",
      "abcd",
      "12345",
      ":",
      "::",
      ".",
      "1.2.3.4",
      "255",
      "256",
      "0.0.0.0",
      "ffff",
      "g",
      "",
    );
    const out = new Uint8Array(16);
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16, size: "max" }), (pieces) => {
        const s = pieces.join("");
        assert.equal(parseIp(s, out) !== 0, isIP(s) !== 0, JSON.stringify(s));
      }),
      { numRuns: 20000 },
    );
  });

  test("every textual form of an address parses to the same bytes (property)", () => {
    fc.assert(
      fc.property(ipv6Bytes, fc.boolean(), fc.boolean(), (b, upper, pad) => {
        const expected = Buffer.from(b).toString("hex");
        const family = isMappedIpv4(b) ? 4 : 6;
        const forms = [formatIp(b, 0, 6), nodeFormat(b), urlFormat(b)];
        const groups: string[] = [];
        for (let g = 0; g < 8; g++) {
          const x = ((b[g * 2] << 8) | b[g * 2 + 1]).toString(16);
          groups.push(pad ? x.padStart(4, "0") : x);
        }
        forms.push(groups.join(":"));
        // Compress every run of zero groups, not only the longest.
        for (let g = 0; g < 8; g++) {
          if (groups[g].replace(/0/g, "") !== "") continue;
          let e = g;
          while (e < 8 && groups[e].replace(/0/g, "") === "") e++;
          forms.push(`${groups.slice(0, g).join(":")}::${groups.slice(e).join(":")}`);
        }
        for (const f of forms) {
          const text = upper ? f.toUpperCase() : f;
          const out = new Uint8Array(16).fill(0x5a);
          assert.equal(parseIp(text, out), family, text);
          assert.equal(Buffer.from(out).toString("hex"), expected, text);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("formatIp", () => {
  test("IPv4 from any offset", () => {
    assert.equal(formatIp(Uint8Array.of(9, 9, 10, 0, 0, 1), 2, 4), "10.0.0.1");
  });

  test("IPv6 compression: longest run, first of equal runs, never a single group", () => {
    const h = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
    assert.equal(formatIp(h("0".repeat(32)), 0, 6), "::");
    assert.equal(formatIp(h(`${"0".repeat(31)}1`), 0, 6), "::1");
    assert.equal(formatIp(h(`0001${"0".repeat(28)}`), 0, 6), "1::");
    assert.equal(formatIp(h("20010db8000000000000000000000001"), 0, 6), "2001:db8::1");
    assert.equal(formatIp(h("00010000000200000003000000040000"), 0, 6), "1:0:2:0:3:0:4:0");
    assert.equal(formatIp(h("00010000000000020000000000030004"), 0, 6), "1::2:0:0:3:4");
    assert.equal(formatIp(h("00010000000000020000000000000004"), 0, 6), "1:0:0:2::4");
    assert.equal(
      formatIp(h("ffffffffffffffffffffffffffffffff"), 0, 6),
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    );
    assert.equal(formatIp(h("fe800000000000000000000000000001"), 0, 6), "fe80::1");
  });

  test("IPv6 from an offset", () => {
    const buf = new Uint8Array(20);
    buf[3] = 0x20;
    buf[4] = 0x01;
    buf[18] = 0xab;
    assert.equal(formatIp(buf, 3, 6), "2001::ab");
  });

  test("matches node:net (inet_ntop) for random addresses (property)", () => {
    fc.assert(
      fc.property(ipv6Bytes, (b) => {
        // inet_ntop writes ::a.b.c.d and ::ffff:a.b.c.d; formatIp has no dotted form for IPv6.
        fc.pre(!ntopUsesDottedQuad(b));
        assert.equal(formatIp(b, 0, 6), nodeFormat(b));
      }),
      { numRuns: 3000 },
    );
  });

  test("matches the URL parser's canonical IPv6 text for random addresses (property)", () => {
    fc.assert(
      fc.property(ipv6Bytes, (b) => {
        // Like Node's net, formatIp writes mapped and compatible addresses with a dotted quad.
        fc.pre(!ntopUsesDottedQuad(b));
        assert.equal(formatIp(b, 0, 6), urlFormat(b));
      }),
      { numRuns: 3000 },
    );
  });

  test("random bytes: format then parse gives the bytes back (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const out = new Uint8Array(16);
        assert.notEqual(parseIp(formatIp(b, 0, 6), out), 0);
        assert.deepEqual(out, b);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("isMappedIpv4", () => {
  test("true for ::ffff:0:0/96 only", () => {
    const b = new Uint8Array(16);
    assert.equal(isMappedIpv4(b), false);
    b[10] = 0xff;
    b[11] = 0xff;
    assert.equal(isMappedIpv4(b), true);
    b[0] = 1;
    assert.equal(isMappedIpv4(b), false);
  });
});
