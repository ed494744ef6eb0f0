import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { AccessList, AccessListError, parseAccessList, readAccessList } from "../../src/core/access-list.ts";

const H1 = "0123456789abcdef0123456789abcdef01234567";
const H2 = "ffffffffffffffffffffffffffffffffffffffff";
const H3 = "00000000000000000000000000000000000000aa";
const key = (h: string) => Buffer.from(h, "hex").toString("latin1");

function parseError(text: string, file = "list.txt"): AccessListError {
  try {
    parseAccessList(text, file);
  } catch (err) {
    assert.ok(err instanceof AccessListError, `not an AccessListError: ${err}`);
    return err;
  }
  assert.fail(`${JSON.stringify(text)} was accepted`);
}

describe("parseAccessList", () => {
  test("one hash per line, as 20-character latin1 keys", () => {
    const set = parseAccessList(`${H1}\n${H2}\n`, "f");
    assert.deepEqual(set, new Set([key(H1), key(H2)]));
    for (const k of set) assert.equal(k.length, 20);
  });

  test("comments, blank lines, surrounding spaces, CRLF and upper case are fine", () => {
    const text = [
      "# the list",
      "",
      `   ${H1.toUpperCase()}   `,
      `\t${H2}\t# trailing comment`,
      "   # indented comment",
      `${H3}\r`,
      "\r",
      `${H1}`, // a duplicate
    ].join("\n");
    assert.deepEqual(parseAccessList(text, "f"), new Set([key(H1), key(H2), key(H3)]));
  });

  test("an empty text or only comments is an empty list", () => {
    assert.equal(parseAccessList("", "f").size, 0);
    assert.equal(parseAccessList("# nothing\n\n   \n", "f").size, 0);
  });

  test("a byte-order mark at the start is tolerated", () => {
    assert.deepEqual(parseAccessList(`\uFEFF${H1}\n`, "f"), new Set([key(H1)]));
  });

  test("errors name the file and the 1-based line", () => {
    const err = parseError(`# header\n${H1}\n\nnot-a-hash\n${H2}\n`, "/etc/shoal/list.txt");
    assert.equal(err.file, "/etc/shoal/list.txt");
    assert.equal(err.line, 4);
    assert.equal(err.name, "AccessListError");
    assert.ok(err instanceof Error);
    assert.match(
      err.message,
      /^\/etc\/shoal\/list\.txt:4: expected a 40-digit hex info hash, got "not-a-hash"$/,
    );
  });

  test("the first bad line is reported", () => {
    assert.equal(parseError("zz\nyy\n").line, 1);
    assert.equal(parseError(`${H1}\n${H1}x\nzz`).line, 2);
  });

  test("wrong lengths and non-hex digits are refused", () => {
    assert.equal(parseError(H1.slice(1)).line, 1);
    assert.equal(parseError(`${H1}0`).line, 1);
    assert.equal(parseError(`${H1.slice(1)}g`).line, 1);
    assert.equal(parseError(`${H1.slice(0, 20)} ${H1.slice(20)}`).line, 1, "no spaces inside");
    assert.equal(parseError(`0x${H1.slice(2)}`).line, 1);
    // A base32 info hash (32 characters) is not accepted either.
    assert.equal(parseError("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").line, 1);
  });

  test("a long bad line is shortened in the message", () => {
    const long = "x".repeat(500);
    const err = parseError(long);
    assert.ok(err.message.includes(`"${"x".repeat(60)}…"`));
    assert.ok(err.message.length < 200);
  });

  test("a comment marker hides the rest of the line, even inside a hash", () => {
    assert.equal(parseError(`${H1.slice(0, 20)}#${H1.slice(20)}`).line, 1);
  });

  test("any set of hashes written one per line reads back the same (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 20, maxLength: 20 }), { maxLength: 30 }),
        fc.boolean(),
        (hashes, upper) => {
          const lines = hashes.map((h, i) => {
            const x = Buffer.from(h).toString("hex");
            return `${i % 3 === 0 ? "  " : ""}${upper ? x.toUpperCase() : x}${i % 2 === 0 ? " # c" : ""}`;
          });
          const set = parseAccessList(lines.join(upper ? "\r\n" : "\n"), "f");
          assert.deepEqual(set, new Set(hashes.map((h) => Buffer.from(h).toString("latin1"))));
        },
      ),
    );
  });
});

describe("readAccessList", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "shoal-access-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("reads and parses a file", async () => {
    const file = join(dir, "ok.txt");
    await writeFile(file, `# allowed\n${H1}\n${H2}\n`);
    assert.deepEqual(await readAccessList(file), new Set([key(H1), key(H2)]));
  });

  test("a parse error carries the file name and line", async () => {
    const file = join(dir, "bad.txt");
    await writeFile(file, `${H1}\nbad\n`);
    await assert.rejects(readAccessList(file), (err: unknown) => {
      assert.ok(err instanceof AccessListError);
      assert.equal(err.file, file);
      assert.equal(err.line, 2);
      assert.ok(err.message.startsWith(`${file}:2: `));
      return true;
    });
  });

  test("a missing file is an AccessListError without a line", async () => {
    const file = join(dir, "missing.txt");
    await assert.rejects(readAccessList(file), (err: unknown) => {
      assert.ok(err instanceof AccessListError);
      assert.equal(err.line, undefined);
      assert.equal(err.file, file);
      assert.ok(err.message.startsWith(`${file}: cannot read the access list: `));
      assert.match(err.message, /ENOENT/);
      return true;
    });
  });
});

describe("AccessList", () => {
  const a = key(H1);
  const b = key(H2);

  test("off allows everything, whatever the set holds", () => {
    const list = new AccessList("off", new Set([a]));
    assert.equal(list.mode, "off");
    assert.equal(list.allows(a), true);
    assert.equal(list.allows(b), true);
  });

  test("allow allows the listed ones only", () => {
    const list = new AccessList("allow", new Set([a]));
    assert.equal(list.allows(a), true);
    assert.equal(list.allows(b), false);
    assert.equal(new AccessList("allow").allows(a), false, "an empty allow list refuses everything");
  });

  test("deny refuses the listed ones only", () => {
    const list = new AccessList("deny", new Set([a]));
    assert.equal(list.allows(a), false);
    assert.equal(list.allows(b), true);
    assert.equal(new AccessList("deny").allows(a), true, "an empty deny list refuses nothing");
  });

  test("size and replace: the new set takes over as a whole", () => {
    const list = new AccessList("allow", new Set([a]));
    assert.equal(list.size, 1);
    list.replace(new Set([b, key(H3)]));
    assert.equal(list.size, 2);
    assert.equal(list.allows(a), false);
    assert.equal(list.allows(b), true);
    assert.equal(list.mode, "allow");
  });

  test("works with what parseAccessList returns", () => {
    const list = new AccessList("allow", parseAccessList(H1.toUpperCase(), "f"));
    assert.equal(list.allows(a), true);
  });
});
