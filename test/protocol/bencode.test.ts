import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  BencodeError,
  type BencodeInput,
  type BencodeValue,
  BinaryString,
  bdecode,
  bencode,
  binary,
} from "../../src/protocol/bencode.ts";

function latin1(s: string): Buffer {
  return Buffer.from(s, "latin1");
}

function enc(v: BencodeInput): string {
  return bencode(v).toString("latin1");
}

function dec(s: string, limits?: Parameters<typeof bdecode>[1]): BencodeValue {
  return bdecode(latin1(s), limits);
}

/** Asserts a BencodeError at `position` whose message contains `text`. */
function rejects(
  s: string | Uint8Array,
  position: number,
  text: string,
  limits?: Parameters<typeof bdecode>[1],
): void {
  const input = typeof s === "string" ? latin1(s) : s;
  assert.throws(
    () => bdecode(input, limits),
    (e: unknown) => {
      assert.ok(e instanceof BencodeError, `expected a BencodeError, got ${e}`);
      assert.equal(e.position, position, `position of "${e.message}"`);
      assert.ok(e.message.includes(text), `"${e.message}" should contain "${text}"`);
      assert.ok(e.message.endsWith(`at byte ${position}`));
      return true;
    },
  );
}

describe("bencode", () => {
  test("integers", () => {
    assert.equal(enc(0), "i0e");
    assert.equal(enc(-0), "i0e");
    assert.equal(enc(42), "i42e");
    assert.equal(enc(-42), "i-42e");
    assert.equal(enc(Number.MAX_SAFE_INTEGER), "i9007199254740991e");
    assert.equal(enc(-Number.MAX_SAFE_INTEGER), "i-9007199254740991e");
  });

  test("integers that are not safe integers are refused", () => {
    for (const v of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 53)]) {
      assert.throws(() => bencode(v), RangeError, String(v));
    }
  });

  test("byte strings: text as UTF-8, Uint8Array and Buffer raw, BinaryString as latin1", () => {
    assert.equal(enc(""), "0:");
    assert.equal(enc("spam"), "4:spam");
    assert.deepEqual(bencode("é€"), Buffer.from([0x35, 0x3a, 0xc3, 0xa9, 0xe2, 0x82, 0xac]));
    assert.deepEqual(bencode(Uint8Array.from([0, 255, 10])), Buffer.from([0x33, 0x3a, 0, 255, 10]));
    assert.deepEqual(bencode(Buffer.from([1, 2])), Buffer.from([0x32, 0x3a, 1, 2]));
    assert.deepEqual(bencode(binary("\u0000\u00ff\u00e9")), Buffer.from([0x33, 0x3a, 0, 0xff, 0xe9]));
    assert.ok(binary("x") instanceof BinaryString);
    assert.throws(() => bencode(binary("\u0100")), TypeError);
  });

  test("a Uint8Array view encodes only its own bytes", () => {
    const backing = Uint8Array.from([9, 9, 1, 2, 3, 9]);
    assert.deepEqual(bencode(backing.subarray(2, 5)), Buffer.from([0x33, 0x3a, 1, 2, 3]));
  });

  test("lists", () => {
    assert.equal(enc([]), "le");
    assert.equal(enc(["spam", 42, [[]]]), "l4:spami42elleee");
  });

  test("dictionaries from objects: keys sorted as raw bytes, undefined values left out", () => {
    assert.equal(enc({}), "de");
    assert.equal(enc({ spam: ["a", "b"], cow: "moo" }), "d3:cow3:moo4:spaml1:a1:bee");
    // byte order, not locale or UTF-16 order: "Z" (0x5a) < "a" (0x61) < "é" (0xc3 0xa9)
    assert.equal(enc({ é: 1, a: 2, Z: 3, "": 4 }), "d0:i4e1:Zi3e1:ai2e2:\u00c3\u00a9i1ee");
    assert.equal(enc({ a: undefined, b: 1 }), "d1:bi1ee");
    // "10" vs "9": keys that look like array indices are still sorted as bytes
    assert.equal(enc({ 9: 1, 10: 2 }), "d2:10i2e1:9i1ee");
  });

  test("dictionaries from Maps: latin1 string or Uint8Array keys", () => {
    const hashA = "\u00ff".repeat(20);
    const hashB = "\u0000".repeat(20);
    const m = new Map<string | Uint8Array, BencodeInput>([
      [hashA, 1],
      [Uint8Array.from([0x61]), 2],
      [hashB, 3],
    ]);
    assert.equal(enc(m), `d20:${hashB}i3e1:ai2e20:${hashA}i1ee`);
    assert.throws(() => bencode(new Map([["\u20ac", 1]])), TypeError);
  });

  test("duplicate keys are refused", () => {
    const m = new Map<string | Uint8Array, BencodeInput>([
      ["a", 1],
      [latin1("a"), 2],
    ]);
    assert.throws(() => bencode(m), /duplicate dictionary key/);
  });

  test("a JSON-parsed __proto__ key is just a key", () => {
    assert.equal(enc(JSON.parse('{"__proto__": 1, "a": 2}')), "d9:__proto__i1e1:ai2ee");
  });

  test("values that have no bencoding are refused", () => {
    assert.throws(() => bencode(true as unknown as BencodeInput), TypeError);
    assert.throws(() => bencode(null as unknown as BencodeInput), TypeError);
    assert.throws(() => bencode(10n as unknown as BencodeInput), TypeError);
    assert.throws(() => bencode(new Date() as unknown as BencodeInput), TypeError);
    assert.throws(() => bencode([undefined] as unknown as BencodeInput), TypeError);
  });

  test("cyclic structures fail with an error, not a stack overflow", () => {
    const a: BencodeInput[] = [];
    a.push(a);
    assert.throws(() => bencode(a), RangeError);
  });
});

describe("bdecode", () => {
  test("integers", () => {
    assert.equal(dec("i0e"), 0);
    assert.equal(dec("i42e"), 42);
    assert.equal(dec("i-42e"), -42);
    assert.equal(dec("i9007199254740991e"), Number.MAX_SAFE_INTEGER);
    assert.equal(dec("i-9007199254740991e"), -Number.MAX_SAFE_INTEGER);
  });

  test("malformed integers", () => {
    rejects("i03e", 1, "leading zero");
    rejects("i-03e", 2, "leading zero");
    rejects("i00e", 1, "leading zero");
    rejects("i-0e", 0, "negative zero");
    rejects("ie", 1, "without digits");
    rejects("i-e", 2, "without digits");
    rejects("i+1e", 1, "invalid character");
    rejects("i1.5e", 2, "invalid character");
    rejects("i 1e", 1, "invalid character");
    rejects("i12", 3, "unterminated integer");
    rejects("i", 1, "unterminated integer");
    rejects("i9007199254740992e", 0, "safe range");
    rejects("i-99999999999999999999999e", 0, "safe range");
  });

  test("byte strings come back as copied Buffers", () => {
    const input = latin1("4:spam");
    const v = bdecode(input);
    assert.deepEqual(v, latin1("spam"));
    input[2] = 0x53;
    assert.deepEqual(v, latin1("spam"), "the value does not alias the input");
    assert.deepEqual(dec("0:"), Buffer.alloc(0));
    const bin = Buffer.concat([latin1("3:"), Buffer.from([0, 0xff, 0x80])]);
    assert.deepEqual(bdecode(bin), Buffer.from([0, 0xff, 0x80]));
  });

  test("a plain Uint8Array input and a view into a larger buffer", () => {
    const backing = latin1("xxxd1:ai1eeyyy");
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 3, 8);
    assert.deepEqual(bdecode(view), new Map([["a", 1]]));
  });

  test("malformed byte strings", () => {
    rejects("01:a", 0, "leading zero");
    rejects("5:abc", 0, "exceeds the input");
    rejects("99999999999999999999:a", 0, "exceeds the input");
    rejects("3abc", 1, "expected ':'");
    rejects("3", 0, "exceeds the input");
    rejects("1", 1, "unexpected end");
    rejects("-1:a", 0, "unexpected byte 0x2d");
  });

  test("lists", () => {
    assert.deepEqual(dec("le"), []);
    assert.deepEqual(dec("l4:spami42elleee"), [latin1("spam"), 42, [[]]]);
    rejects("l", 1, "unterminated list");
    rejects("li1e", 4, "unterminated list");
  });

  test("dictionaries: a Map keyed by latin1 strings, in input order", () => {
    const v = dec("d3:cow3:moo4:spaml1:a1:bee");
    assert.deepEqual(
      v,
      new Map<string, BencodeValue>([
        ["cow", latin1("moo")],
        ["spam", [latin1("a"), latin1("b")]],
      ]),
    );
    const binaryKey = Buffer.concat([latin1("d2:"), Buffer.from([0xff, 0x00]), latin1("i1ee")]);
    assert.deepEqual(bdecode(binaryKey), new Map([["\u00ff\u0000", 1]]));
  });

  test("dictionary keys must be byte strings, sorted and unique", () => {
    rejects("di1ei2ee", 1, "not a byte string");
    rejects("dle", 1, "not a byte string");
    rejects("d1:bi1e1:ai2ee", 7, "not in sorted order");
    rejects("d1:ai1e1:ai2ee", 7, "duplicate");
    // a shorter key that is a prefix sorts first
    assert.deepEqual(
      dec("d1:ai1e2:aai2ee"),
      new Map([
        ["a", 1],
        ["aa", 2],
      ]),
    );
    rejects("d2:aai1e1:ai2ee", 8, "not in sorted order");
    rejects("d1:a", 4, "unexpected end");
    rejects("d1:ai1e", 7, "unterminated dictionary");
  });

  test("strictKeyOrder: false accepts any order but never a repeated key", () => {
    assert.deepEqual(
      dec("d1:bi1e1:ai2ee", { strictKeyOrder: false }),
      new Map([
        ["b", 1],
        ["a", 2],
      ]),
    );
    rejects("d1:bi1e1:ai2e1:bi3ee", 13, "duplicate", { strictKeyOrder: false });
    rejects("d1:ai1e1:ai2ee", 7, "duplicate", { strictKeyOrder: false });
  });

  test("trailing bytes, empty input, stray bytes", () => {
    rejects("i1ei2e", 3, "trailing bytes");
    rejects("4:spamx", 6, "trailing bytes");
    rejects("dee", 2, "trailing bytes");
    rejects("", 0, "unexpected end");
    rejects("e", 0, "unexpected byte 0x65");
    rejects("x", 0, "unexpected byte 0x78");
  });

  test("maxDepth", () => {
    const nested = (n: number) => `${"l".repeat(n)}${"e".repeat(n)}`;
    assert.deepEqual(dec(nested(3), { maxDepth: 3 }), [[[]]]);
    rejects(nested(4), 3, "nesting deeper than 3", { maxDepth: 3 });
    assert.equal(dec("i1e", { maxDepth: 0 }), 1);
    rejects("le", 0, "nesting deeper than 0", { maxDepth: 0 });
    // the default (64) turns a deep attack into an error, not a stack overflow
    rejects(nested(100_000), 64, "nesting deeper than 64");
    rejects("d1:a".repeat(65), 4 * 64, "nesting deeper than 64");
  });

  test("maxLength and maxStringLength", () => {
    assert.deepEqual(dec("4:spam", { maxLength: 6 }), latin1("spam"));
    rejects("4:spam", 5, "input longer than 5", { maxLength: 5 });
    assert.deepEqual(dec("l4:spame", { maxStringLength: 4 }), [latin1("spam")]);
    rejects("l4:spame", 1, "string longer than 3", { maxStringLength: 3 });
    rejects("d4:spami1ee", 1, "string longer than 3", { maxStringLength: 3 });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const latin1String = fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString("latin1"));
const { value: decodedValue } = fc.letrec<{ value: BencodeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.uniqueArray(fc.tuple(latin1String, tie("value")), { maxLength: 5, selector: (e) => e[0] }).map(
      // bdecode returns the keys in input order, which bencode made byte order
      (entries) => new Map(entries.sort((a, b) => Buffer.compare(latin1(a[0]), latin1(b[0])))),
    ),
  ),
}));

describe("bencode/bdecode properties", () => {
  test("bdecode(bencode(x)) equals x, and bencode(bdecode(b)) equals b", () => {
    fc.assert(
      fc.property(decodedValue, (x) => {
        const bytes = bencode(x as BencodeInput);
        const back = bdecode(bytes, { maxDepth: 1000 });
        assert.deepStrictEqual(back, x);
        assert.deepStrictEqual(bencode(back as BencodeInput), bytes);
      }),
      { numRuns: 1000 },
    );
  });

  test("bencode of an object equals bencode of the same entries in a Map (ASCII keys)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: "binary-ascii", maxLength: 8 }), fc.integer()), (obj) => {
        const map = new Map(Object.entries(obj));
        assert.deepStrictEqual(bencode(obj), bencode(map));
      }),
    );
  });

  test("bdecode of random bytes returns a value or throws a BencodeError, nothing else", () => {
    const alphabet = fc.constantFrom(...latin1("ilde0123456789:-ax"));
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(alphabet, { maxLength: 200 }).map((a) => Uint8Array.from(a)),
    );
    fc.assert(
      fc.property(bytes, fc.boolean(), (b, strict) => {
        try {
          const v = bdecode(b, { strictKeyOrder: strict });
          // whatever decodes must re-encode to the same bytes when the key order was enforced
          if (strict) assert.deepStrictEqual(bencode(v as BencodeInput), Buffer.from(b));
        } catch (e) {
          if (!(e instanceof BencodeError)) throw e;
          assert.ok(e.position >= 0 && e.position <= b.length);
        }
      }),
      { numRuns: 5000 },
    );
  });

  test("mutating one byte of a valid encoding never throws anything but a BencodeError", () => {
    fc.assert(
      fc.property(decodedValue, fc.nat(), fc.integer({ min: 0, max: 255 }), (x, at, byte) => {
        const bytes = Buffer.from(bencode(x as BencodeInput));
        bytes[at % bytes.length] = byte;
        try {
          bdecode(bytes);
        } catch (e) {
          if (!(e instanceof BencodeError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
