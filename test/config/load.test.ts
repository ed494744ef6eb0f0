import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { ConfigError, loadConfigFile, parseConfig } from "../../src/config/load.ts";
import { defaultConfig } from "../../src/config/schema.ts";

/** The ConfigError thrown for `source`, read as "shoal.toml". */
function errorOf(source: string): ConfigError {
  try {
    parseConfig(source, "shoal.toml");
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err;
  }
  assert.fail("the configuration was accepted");
}

/** Checks message, line, key and problem together. */
function assertError(
  source: string,
  line: number | undefined,
  key: string | undefined,
  problem: string,
): void {
  const err = errorOf(source);
  const where = `shoal.toml${line === undefined ? "" : `:${line}`}: ${key === undefined ? "" : `${key}: `}`;
  assert.equal(err.message, `${where}${problem}`);
  assert.equal(err.file, "shoal.toml");
  assert.equal(err.line, line);
  assert.equal(err.key, key);
  assert.equal(err.problem, problem);
  assert.equal(err.name, "ConfigError");
}

describe("parseConfig: accepted files", () => {
  test("an empty file is the defaults", () => {
    assert.deepEqual(parseConfig("", "shoal.toml"), defaultConfig());
    assert.deepEqual(parseConfig("# nothing to change\n", "shoal.toml"), defaultConfig());
  });

  test("a partial file merges with the defaults", () => {
    const config = parseConfig(
      [
        "[udp]",
        'addresses = ["127.0.0.1:0"]',
        "ban_threshold = 0",
        "",
        "[tracker]",
        "announce_interval = 600",
        "min_announce_interval = 300",
        "",
        "[access_list]",
        'mode = "deny"',
        'path = "/etc/shoal/denied.txt"',
        "",
        "[log]",
        'level = "debug"',
      ].join("\n"),
      "shoal.toml",
    );
    const want = defaultConfig();
    want.udp.addresses = ["127.0.0.1:0"];
    want.udp.ban_threshold = 0;
    want.tracker.announce_interval = 600;
    want.tracker.min_announce_interval = 300;
    want.access_list.mode = "deny";
    want.access_list.path = "/etc/shoal/denied.txt";
    want.log.level = "debug";
    assert.deepEqual(config, want);
  });

  test("dotted keys, inline tables and an empty address list", () => {
    const config = parseConfig(
      'udp.enabled = false\nhttp = { addresses = [] }\n[api]\naddress = "[::1]:0"\n',
      "shoal.toml",
    );
    assert.equal(config.udp.enabled, false);
    assert.deepEqual(config.http.addresses, []);
    assert.equal(config.api.address, "[::1]:0");
    assert.equal(config.http.enabled, true);
  });

  test("integer bounds are inclusive", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 86400 }), (n) => {
        assert.equal(parseConfig(`[udp]\nban_window = ${n}\n`, "x").udp.ban_window, n);
      }),
    );
    assert.equal(parseConfig("[udp]\nban_window = 1_000", "x").udp.ban_window, 1000);
    assert.equal(parseConfig("[udp]\nban_table_size = 0x10", "x").udp.ban_table_size, 16);
  });

  test("a byte-order mark and CRLF line ends are fine", () => {
    const config = parseConfig('\uFEFF[log]\r\nlevel = "warn"\r\n', "x");
    assert.equal(config.log.level, "warn");
  });
});

describe("parseConfig: errors", () => {
  test("TOML syntax error gives line and column", () => {
    assertError(
      "[udp]\nenabled = true\nban_window = \n",
      3,
      undefined,
      "TOML syntax error at column 14: incomplete key-value declaration: no value specified",
    );
    assert.equal(errorOf("[udp]\nenabled = true\nban_window = \n").column, 14);
  });

  test("a key written twice is a syntax error at the second one", () => {
    const err = errorOf("[udp]\nban_window = 5\nban_window = 6\n");
    assert.equal(err.line, 3);
    assert.equal(err.key, undefined);
    assert.match(err.message, /^shoal\.toml:3: TOML syntax error at column 1: /);
  });

  test("unknown section, with and without a suggestion", () => {
    assertError(
      "[udp]\nenabled = true\n\n[trackr]\nannounce_interval = 60\n",
      4,
      "trackr",
      "unknown section; did you mean [tracker]?",
    );
    assertError(
      "[metrics]\nenabled = true\n",
      1,
      "metrics",
      "unknown section; sections are [udp], [http], [ws], [api], [tracker], [store], [access_list], [log]",
    );
  });

  test("unknown key suggests the closest key within two edits", () => {
    assertError(
      "[tracker]\nmax_numwant = 100\nannounce_intervall = 60\n",
      3,
      "tracker.announce_intervall",
      'unknown key; did you mean "announce_interval"?',
    );
    assertError("[udp]\n\n  ban_windw = 5\n", 3, "udp.ban_windw", 'unknown key; did you mean "ban_window"?');
  });

  test("unknown key in the wrong section names the right one", () => {
    assertError(
      "[udp]\npeer_timeout = 60\n",
      2,
      "udp.peer_timeout",
      'unknown key; "peer_timeout" belongs in [tracker]',
    );
    assertError(
      "[tracker]\nenabled = true\n",
      2,
      "tracker.enabled",
      'unknown key; "enabled" belongs in [udp], [http], [ws] or [api]',
    );
  });

  test("unknown key with nothing close lists the section's keys", () => {
    assertError(
      "[api]\ncolour = 1\n",
      2,
      "api.colour",
      "unknown key; [api] has enabled, address, access_tokens",
    );
  });

  test("a setting before any section", () => {
    assertError(
      'level = "debug"\n[udp]\n',
      1,
      "level",
      'a setting outside any section; "level" belongs in [log]',
    );
    assertError(
      "verbose = true\n",
      1,
      "verbose",
      "unknown setting outside any section; settings go in [udp], [http], [ws], [api], [tracker], [store], [access_list], [log]",
    );
  });

  test("a section that is not a table", () => {
    assertError("udp = 5\n", 1, "udp", "expected a table ([udp]), got an integer (5)");
    assertError("[[udp]]\nenabled = true\n", 1, "udp", "expected a table ([udp]), got an array");
  });

  test("wrong type says what was expected and what was given", () => {
    assertError('[udp]\nenabled = "yes"\n', 2, "udp.enabled", 'expected true or false, got a string ("yes")');
    assertError(
      '[udp]\nban_window = "60"\n',
      2,
      "udp.ban_window",
      'expected an integer between 1 and 86400, got a string ("60")',
    );
    assertError(
      "[udp]\nban_window = true\n",
      2,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got a boolean (true)",
    );
    assertError(
      '[udp]\naddresses = "0.0.0.0:1"\n',
      2,
      "udp.addresses",
      'expected an array of strings, got a string ("0.0.0.0:1")',
    );
    assertError(
      "[store]\nsnapshot_path = 1979-05-27\n",
      2,
      "store.snapshot_path",
      "expected a string, got a date/time",
    );
    assertError("[store]\nsnapshot_path = []\n", 2, "store.snapshot_path", "expected a string, got an array");
    assertError(
      "[store]\nsnapshot_path = { a = 1 }\n",
      2,
      "store.snapshot_path",
      "expected a string, got a table",
    );
    assertError("[udp.enabled]\n", 1, "udp.enabled", "expected true or false, got a table");
  });

  test("float given where an integer is expected", () => {
    assertError(
      "[udp]\nban_window = 60.0\n",
      2,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got a float (60.0)",
    );
    assertError(
      "[udp]\nban_window = 1.5\n",
      2,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got a float (1.5)",
    );
    assertError(
      "[udp]\nban_window = 6e1\n",
      2,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got a float (60.0)",
    );
    assertError(
      "[udp]\nban_window = inf\n",
      2,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got a float (Infinity)",
    );
  });

  test("integer out of range", () => {
    assertError(
      "[udp]\nenabled = true\n\nban_window = 0\n",
      4,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got 0",
    );
    assertError(
      "[tracker]\nmax_numwant = 1001\n",
      2,
      "tracker.max_numwant",
      "expected an integer between 1 and 1000, got 1001",
    );
    assertError(
      "[udp]\nban_duration = -5\n",
      2,
      "udp.ban_duration",
      "expected an integer between 1 and 604800, got -5",
    );
    // Beyond 2^53: compared exactly, not after rounding to a float.
    assertError(
      "[udp]\nreceive_buffer_size = 9223372036854775807\n",
      2,
      "udp.receive_buffer_size",
      "expected an integer between 0 and 1073741824, got 9223372036854775807",
    );
  });

  test("out-of-range integers are refused for every value outside the bounds", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 86401 })), (n) => {
        assert.equal(
          errorOf(`[udp]\nban_window = ${n}\n`).problem,
          `expected an integer between 1 and 86400, got ${n}`,
        );
      }),
    );
  });

  test("bad enum value lists the allowed values", () => {
    assertError(
      '[access_list]\nmode = "whitelist"\n',
      2,
      "access_list.mode",
      'expected one of "off", "allow", "deny", got "whitelist"',
    );
    assertError(
      '[log]\nlevel = "verbose"\n',
      2,
      "log.level",
      'expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "verbose"',
    );
    assertError(
      "[log]\nlevel = 3\n",
      2,
      "log.level",
      'expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got an integer (3)',
    );
  });

  test("bad address names the array element", () => {
    assertError(
      '[udp]\naddresses = ["0.0.0.0:6969", "[::]"]\n',
      2,
      "udp.addresses",
      'item 2 of 2: "[::]" has no port; write it as "[::]:6969"',
    );
    assertError(
      '[http]\naddresses = [\n  "0.0.0.0:80",\n  "example.com:80",\n]\n',
      2,
      "http.addresses",
      'item 2 of 2: "example.com:80": "example.com" is not an IP address; hostnames are not accepted, write a literal IPv4 address or an IPv6 address in brackets',
    );
    assertError(
      '[udp]\naddresses = ["0.0.0.0:65536"]\n',
      2,
      "udp.addresses",
      'item 1 of 1: "0.0.0.0:65536": port 65536 is out of range 0..65535',
    );
    assertError(
      '[udp]\naddresses = ["0.0.0.0:1", 6969]\n',
      2,
      "udp.addresses",
      "item 2 of 2: expected a string, got an integer (6969)",
    );
    assertError(
      '[api]\naddress = "127.0.0.1"\n',
      2,
      "api.address",
      '"127.0.0.1" has no port; write it as "127.0.0.1:7070"',
    );
  });

  test("an address listed twice", () => {
    assertError(
      '[udp]\naddresses = ["[::]:6969", "0.0.0.0:6969", "[::]:6969"]\n',
      2,
      "udp.addresses",
      'item 3 of 3: "[::]:6969" is listed twice',
    );
  });

  test("bad connection id secret", () => {
    assertError(
      '[udp]\nconnection_id_secret = "not-a-secret"\n',
      2,
      "udp.connection_id_secret",
      'expected "" (random per process) or exactly 16 hex digits, got 12 characters',
    );
  });

  test("the first error in file order is reported", () => {
    const err = errorOf("[udp]\nban_window = 0\n[tracker]\nmax_numwant = 0\n");
    assert.equal(err.key, "udp.ban_window");
    const err2 = errorOf("[tracker]\nmax_numwant = 0\n[udp]\nban_window = 0\n");
    assert.equal(err2.key, "tracker.max_numwant");
    assert.equal(err2.line, 2);
  });
});

describe("parseConfig: lines for other ways of writing keys", () => {
  test("top-level dotted key", () => {
    assertError(
      '# c\nudp.ban_window = 0\n[log]\nlevel = "info"\n',
      2,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got 0",
    );
    assertError(
      '"udp" . "ban_window" = 0\n',
      1,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got 0",
    );
  });

  test("quoted key under a header", () => {
    assertError(
      '[udp]\n"ban_window" = 0\n',
      2,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got 0",
    );
  });

  test("inline table points at its line", () => {
    assertError(
      "\nudp = { enabled = true, ban_window = 0 }\n",
      2,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got 0",
    );
  });

  test("the same key name in an earlier section is not mistaken for it", () => {
    assertError(
      '[http]\nenabled = true\n[udp]\nenabled = "no"\n',
      4,
      "udp.enabled",
      'expected true or false, got a string ("no")',
    );
  });

  test("text inside a multi-line string is not read as a key", () => {
    assertError(
      '[store]\nsnapshot_path = """\n[udp]\nban_window = 0\n"""\n[udp]\nban_window = 0\n',
      7,
      "udp.ban_window",
      "expected an integer between 1 and 86400, got 0",
    );
  });
});

describe("parseConfig: rules across keys", () => {
  test("min_announce_interval must not exceed announce_interval", () => {
    assertError(
      "[tracker]\nannounce_interval = 600\nmin_announce_interval = 700\n",
      3,
      "tracker.min_announce_interval",
      "must be at most tracker.announce_interval (600), got 700",
    );
    // Only announce_interval is written: blame it, not the default the operator never saw.
    assertError(
      "[tracker]\nannounce_interval = 600\n",
      2,
      "tracker.announce_interval",
      "must be at least tracker.min_announce_interval (900), got 600",
    );
    assert.equal(parseConfig("[tracker]\nannounce_interval = 900\n", "x").tracker.announce_interval, 900);
  });

  test("peer_timeout must be at least min_announce_interval", () => {
    assertError(
      "[tracker]\npeer_timeout = 600\n",
      2,
      "tracker.peer_timeout",
      "must be at least tracker.min_announce_interval (900), got 600",
    );
    assertError(
      "[tracker]\nmin_announce_interval = 1800\nannounce_interval = 3600\npeer_timeout = 1000\n",
      4,
      "tracker.peer_timeout",
      "must be at least tracker.min_announce_interval (1800), got 1000",
    );
  });

  test("default_numwant must not exceed max_numwant", () => {
    assertError(
      "[tracker]\nmax_numwant = 30\n",
      2,
      "tracker.max_numwant",
      "must be at least tracker.default_numwant (50), got 30",
    );
    assertError(
      "[tracker]\ndefault_numwant = 300\nmax_numwant = 250\n",
      2,
      "tracker.default_numwant",
      "must be at most tracker.max_numwant (250), got 300",
    );
  });

  test("access_list.path is required unless mode is off", () => {
    assertError(
      '[access_list]\nmode = "allow"\n',
      2,
      "access_list.path",
      'must name a file when access_list.mode is "allow"',
    );
    assertError(
      '[access_list]\nmode = "deny"\npath = ""\n',
      3,
      "access_list.path",
      'must name a file when access_list.mode is "deny"',
    );
    assert.equal(parseConfig('[access_list]\nmode = "off"\npath = ""\n', "x").access_list.mode, "off");
  });
});

describe("loadConfigFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("reads and validates a file", () => {
    const file = join(dir, "ok.toml");
    writeFileSync(file, "[udp]\nban_window = 30\n");
    assert.equal(loadConfigFile(file).udp.ban_window, 30);
  });

  test("errors name the file that was read", () => {
    const file = join(dir, "bad.toml");
    writeFileSync(file, "[udp]\nban_window = 0\n");
    assert.throws(() => loadConfigFile(file), {
      name: "ConfigError",
      message: `${file}:2: udp.ban_window: expected an integer between 1 and 86400, got 0`,
      file,
      line: 2,
      key: "udp.ban_window",
    });
  });

  test("a missing file names the file and the OS reason", () => {
    const file = join(dir, "missing.toml");
    assert.throws(() => loadConfigFile(file), {
      name: "ConfigError",
      message: `${file}: cannot read the file: no such file or directory (ENOENT)`,
      file,
      line: undefined,
      key: undefined,
    });
  });

  test("a directory names the file and the OS reason", () => {
    assert.throws(() => loadConfigFile(dir), {
      name: "ConfigError",
      message: `${dir}: cannot read the file: illegal operation on a directory (EISDIR)`,
    });
  });

  test("an unreadable file names the file and the OS reason", { skip: process.getuid?.() === 0 }, () => {
    const file = join(dir, "secret.toml");
    writeFileSync(file, "");
    chmodSync(file, 0o000);
    assert.throws(() => loadConfigFile(file), {
      message: `${file}: cannot read the file: permission denied (EACCES)`,
    });
  });
});
