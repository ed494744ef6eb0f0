import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultConfig, KEY_BY_NAME, KEYS, type KeySpec, RULES, SECTIONS } from "../../src/config/schema.ts";
import { checkValue } from "../../src/config/validate.ts";

describe("schema", () => {
  test("defaults are the documented ones", () => {
    assert.deepEqual(defaultConfig(), {
      udp: {
        enabled: true,
        addresses: ["0.0.0.0:6969", "[::]:6969"],
        connection_id_secret: "",
        ban_threshold: 10,
        ban_window: 60,
        ban_duration: 600,
        ban_table_size: 65536,
        receive_buffer_size: 4194304,
        send_buffer_size: 0,
      },
      http: {
        enabled: true,
        addresses: ["0.0.0.0:6969", "[::]:6969"],
        tls_cert_path: "",
        tls_key_path: "",
        max_url_length: 8192,
        max_header_size: 16384,
        max_headers: 64,
        header_timeout: 10,
        idle_timeout: 30,
        max_requests_per_connection: 10000,
        max_connections: 10000,
        max_scrape_hashes: 100,
        full_scrape: false,
        full_scrape_interval: 300,
        trusted_proxies: [],
        proxy_header: "x-forwarded-for",
        allow_ip_param: false,
      },
      ws: {
        enabled: true,
        announce_interval: 120,
        max_message_size: 65536,
        max_offers_per_announce: 10,
        offer_ttl: 120,
        max_swarms_per_socket: 100,
        max_sockets_per_ip: 64,
        idle_timeout: 300,
        ping_interval: 30,
        max_buffered_bytes: 1048576,
        max_bad_messages: 20,
      },
      api: { enabled: true, address: "127.0.0.1:7070", access_tokens: [] },
      tracker: {
        announce_interval: 1800,
        min_announce_interval: 900,
        peer_timeout: 3600,
        default_numwant: 50,
        max_numwant: 200,
      },
      store: { snapshot_path: "shoal-state.bin", snapshot_interval: 300, expiry_batch: 20000 },
      access_list: { mode: "off", path: "" },
      log: { level: "info" },
    });
  });

  test("defaultConfig returns a fresh deep copy", () => {
    const a = defaultConfig();
    a.udp.addresses.push("127.0.0.1:1");
    a.tracker.max_numwant = 1;
    const b = defaultConfig();
    assert.deepEqual(b.udp.addresses, ["0.0.0.0:6969", "[::]:6969"]);
    assert.equal(b.tracker.max_numwant, 200);
    assert.notEqual(b.udp.addresses, b.http.addresses);
  });

  test("every default passes its own validation", () => {
    for (const spec of KEYS as readonly KeySpec[]) {
      // Values as smol-toml would hand them over: integers as bigint.
      const raw = spec.type === "integer" ? BigInt(spec.default as number) : spec.default;
      const checked = checkValue(spec, Array.isArray(raw) ? [...raw] : raw);
      assert.ok(checked.ok, `${spec.section}.${spec.key}: ${checked.ok ? "" : checked.problem}`);
    }
  });

  test("defaults satisfy every cross-field rule", () => {
    for (const rule of RULES)
      assert.equal(
        rule.check(defaultConfig(), () => false),
        undefined,
      );
  });

  test("schema entries are well formed", () => {
    const sections = new Set<string>(SECTIONS.map((s) => s.name));
    assert.equal(KEY_BY_NAME.size, KEYS.length, "no key is declared twice");
    for (const spec of KEYS as readonly KeySpec[]) {
      const name = `${spec.section}.${spec.key}`;
      assert.ok(sections.has(spec.section), name);
      assert.ok(spec.comment.length > 0 && !spec.comment.includes("\n"), `${name}: one-line comment`);
      if (spec.type === "integer") {
        assert.ok(Number.isSafeInteger(spec.min) && Number.isSafeInteger(spec.max), `${name}: bounds`);
      } else {
        assert.equal(spec.min, undefined, `${name}: bounds only on integers`);
      }
    }
    for (const s of SECTIONS) {
      assert.ok(
        KEYS.some((k) => k.section === s.name),
        `section ${s.name} has keys`,
      );
    }
  });

  test("connection_id_secret never echoes the secret", () => {
    const spec = KEY_BY_NAME.get("udp.connection_id_secret")!;
    assert.deepEqual(checkValue(spec, "0123456789abcdef"), { ok: true, value: "0123456789abcdef" });
    assert.deepEqual(checkValue(spec, "0123456789ABCDEF"), { ok: true, value: "0123456789ABCDEF" });
    assert.deepEqual(checkValue(spec, ""), { ok: true, value: "" });
    assert.deepEqual(checkValue(spec, "0123456789abcdeg"), {
      ok: false,
      problem:
        'expected "" (random per process) or exactly 16 hex digits, got 16 characters that are not all hex digits',
    });
    assert.deepEqual(checkValue(spec, "0123456789abcdef0"), {
      ok: false,
      problem: 'expected "" (random per process) or exactly 16 hex digits, got 17 characters',
    });
  });
});
