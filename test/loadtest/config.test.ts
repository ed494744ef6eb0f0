// The load tester's configuration: defaults, the printed file, validation messages and flags.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  applyFlag,
  checkLoadConfig,
  defaultLoadConfig,
  isLoopback,
  keyForFlag,
  LOAD_KEYS,
  LoadConfigError,
  parseLoadConfig,
  renderLoadConfig,
} from "../../src/loadtest/config.ts";
import type { LoadProtocol } from "../../src/loadtest/shared.ts";

function problem(source: string): string {
  try {
    parseLoadConfig(source, "load.toml");
  } catch (err) {
    assert.ok(err instanceof LoadConfigError);
    return err.message;
  }
  assert.fail("expected a LoadConfigError");
}

describe("load-test configuration", () => {
  for (const protocol of ["udp", "http", "ws"] as LoadProtocol[]) {
    test(`the printed ${protocol} defaults parse back to the defaults`, () => {
      const text = renderLoadConfig(protocol);
      assert.deepEqual(parseLoadConfig(text, "printed.toml"), defaultLoadConfig());
      for (const k of LOAD_KEYS) {
        if (k.section === "load" || k.section === "workload" || k.section === protocol) {
          assert.ok(text.includes(`\n${k.key} = `), `${k.section}.${k.key} is printed`);
        } else assert.ok(!text.includes(`\n[${k.section}]\n`), `[${k.section}] is left out`);
      }
    });
  }

  test("a changed configuration renders and parses back to itself", () => {
    const c = defaultLoadConfig();
    c.workload.seeder_ratio = 0.125;
    c.workload.popularity = 2;
    c.http.keep_alive = false;
    c.load.target = "[::1]:7000";
    assert.deepEqual(parseLoadConfig(renderLoadConfig("http", c), "x.toml"), c);
  });

  test("empty file: the defaults", () => {
    assert.deepEqual(parseLoadConfig("", "load.toml"), defaultLoadConfig());
  });

  test("errors name the file, the line, the key and the problem", () => {
    assert.equal(
      problem("[load]\nseconds = 5\nworkers = 0\n"),
      "load.toml:3: load.workers: expected an integer between 1 and 256, got 0",
    );
    assert.equal(
      problem("[workload]\nscrape_ratio = -0.1\n"),
      "load.toml:2: workload.scrape_ratio: expected a number between 0 and 1, got -0.1",
    );
    assert.equal(
      problem("[workload]\npeer = 3\n"),
      'load.toml:2: workload.peer: unknown key; did you mean "peers"?',
    );
    assert.equal(
      problem("[udp]\nkeep_alive = true\n"),
      'load.toml:2: udp.keep_alive: unknown key; "keep_alive" belongs in [http]',
    );
    assert.equal(problem("[lod]\n"), "load.toml:1: lod: unknown section; did you mean [load]?");
    assert.equal(
      problem("seconds = 3\n"),
      'load.toml:1: seconds: a setting outside any section; "seconds" belongs in [load]',
    );
    assert.equal(
      problem('[load]\nfill = "yes"\n'),
      'load.toml:2: load.fill: expected true or false, got a string ("yes")',
    );
    assert.equal(
      problem("[load]\nworkers = 2.0\n"),
      "load.toml:2: load.workers: expected an integer between 1 and 256, got a float (2.0)",
    );
    assert.match(problem("[load\n"), /^load\.toml:1: TOML syntax error/);
  });

  test("targets must be loopback addresses with a port", () => {
    assert.match(
      problem('[load]\ntarget = "192.168.1.1:6969"\n'),
      /^load\.toml:2: load\.target: .*only sends to this machine/,
    );
    assert.match(problem('[load]\ntarget = "127.0.0.1:0"\n'), /port 0 cannot be a target/);
    assert.match(problem('[load]\ntarget = "localhost:6969"\n'), /not an IP address/);
    assert.equal(parseLoadConfig('[load]\ntarget = "127.0.0.2:1"\n', "x").load.target, "127.0.0.2:1");
    assert.equal(parseLoadConfig('[load]\ntarget = "[::1]:6969"\n', "x").load.target, "[::1]:6969");
    assert.ok(isLoopback({ host: "::1", port: 1, family: 6 }));
    assert.ok(!isLoopback({ host: "::2", port: 1, family: 6 }));
  });

  test("flags override keys, with the keys' checks", () => {
    const c = defaultLoadConfig();
    applyFlag(c, keyForFlag("workers", "udp")!, "4");
    applyFlag(c, keyForFlag("seeder-ratio", "udp")!, "0.5");
    applyFlag(c, keyForFlag("keep-alive", "http")!, false);
    assert.equal(c.load.workers, 4);
    assert.equal(c.workload.seeder_ratio, 0.5);
    assert.equal(c.http.keep_alive, false);
    assert.throws(
      () => applyFlag(c, keyForFlag("workers", "udp")!, "many"),
      (err: Error) =>
        err.message ===
        '--workers: load.workers: expected an integer between 1 and 256, got a string ("many")',
    );
    assert.throws(() => applyFlag(c, keyForFlag("numwant", "udp")!, "1.5"), /expected an integer/);
  });

  test("--inflight means each protocol's own concurrency", () => {
    assert.equal(keyForFlag("inflight", "udp")?.key, "inflight");
    assert.equal(keyForFlag("inflight", "http")?.key, "connections");
    assert.equal(keyForFlag("inflight", "ws")?.key, "sockets");
    assert.equal(keyForFlag("json", "udp"), undefined);
  });

  test("cross checks: ws has no fill, an IPv6 fill is limited to one address's ports", () => {
    const c = defaultLoadConfig();
    c.load.fill = true;
    assert.equal(checkLoadConfig(c, "ws")?.key, "load.fill");
    assert.equal(checkLoadConfig(c, "udp"), undefined);
    c.load.target = "[::1]:6969";
    assert.equal(checkLoadConfig(c, "udp")?.key, "workload.peers");
    c.workload.peers = 60_000;
    assert.equal(checkLoadConfig(c, "http"), undefined);
  });
});
