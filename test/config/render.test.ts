import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parse } from "smol-toml";
import { parseConfig } from "../../src/config/load.ts";
import { renderConfig, renderDefaultConfig } from "../../src/config/render.ts";
import { type Config, defaultConfig, KEYS, type KeySpec, SECTIONS } from "../../src/config/schema.ts";

describe("renderDefaultConfig", () => {
  test("parses back to exactly the defaults", () => {
    assert.deepEqual(parseConfig(renderDefaultConfig(), "default.toml"), defaultConfig());
  });

  test("starts with a comment header and ends with a newline", () => {
    const text = renderDefaultConfig();
    assert.ok(text.startsWith("# shoal configuration"));
    assert.ok(text.endsWith('level = "info"\n'));
  });

  test("every section and every key is written, each key under its comment", () => {
    const lines = renderDefaultConfig().split("\n");
    for (const s of SECTIONS) assert.ok(lines.includes(`[${s.name}]`), `[${s.name}] present`);
    for (const spec of KEYS as readonly KeySpec[]) {
      const at = lines.findIndex(
        (l, i) => l.startsWith(`${spec.key} = `) && sectionOf(lines, i) === spec.section,
      );
      assert.ok(at > 0, `${spec.section}.${spec.key} present`);
      assert.ok(
        lines[at - 1].startsWith(`# ${spec.comment}`),
        `${spec.section}.${spec.key} has its comment above`,
      );
    }
  });

  test("integer ranges and allowed values appear in the comments", () => {
    const text = renderDefaultConfig();
    assert.match(
      text,
      /# seconds between announces asked of clients \(10\.\.86400\)\nannounce_interval = 1800\n/,
    );
    assert.match(text, /\(off \| allow \| deny\)\nmode = "off"\n/);
    assert.match(text, /\naddresses = \[ "0\.0\.0\.0:6969", "\[::\]:6969" \]\n/);
  });
});

describe("renderConfig", () => {
  test("round-trips any valid configuration, including strings that need escaping", () => {
    const path = fc.string({ maxLength: 30 });
    const address = fc.oneof(
      fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 65535 })).map(([h, p]) => `${h}:${p}`),
      fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 65535 })).map(([h, p]) => `[${h}]:${p}`),
    );
    fc.assert(
      fc.property(
        path,
        fc.uniqueArray(address, { maxLength: 4 }),
        fc.integer({ min: 1, max: 86400 }),
        fc.constantFrom("off", "allow", "deny"),
        (snapshot, addresses, interval, mode) => {
          const config: Config = defaultConfig();
          config.store.snapshot_path = snapshot;
          config.udp.addresses = addresses;
          config.tracker.min_announce_interval = Math.min(interval, 1800);
          config.tracker.announce_interval = Math.max(interval, 10);
          config.tracker.peer_timeout = Math.max(interval, 10);
          config.access_list.mode = mode;
          config.access_list.path = 'lists/"allowed"\\hashes.txt';
          assert.deepEqual(parseConfig(renderConfig(config), "x"), config);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("is valid TOML with one table per section", () => {
    const doc = parse(renderConfig(defaultConfig()));
    assert.deepEqual(
      Object.keys(doc),
      SECTIONS.map((s) => s.name),
    );
  });
});

function sectionOf(lines: string[], index: number): string | undefined {
  for (let i = index; i >= 0; i--) {
    const m = /^\[([a-z_]+)\]$/.exec(lines[i]);
    if (m) return m[1];
  }
  return undefined;
}
