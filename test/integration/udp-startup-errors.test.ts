// Start-up failures of `shoal run`: a bad configuration or access list stops the process with
// exit code 2 and one message on stderr that names the file, the line where there is one, the key
// and what is wrong. None of these processes gets as far as listening.

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  type ExitResult,
  makeTmpdir,
  runShoalExpectingExit,
  shoalConfig,
  toToml,
} from "../helpers/shoal-process.ts";
import { type AfterHook, hashHex, randomHash } from "../helpers/udp-client.ts";

const TEST_TIMEOUT = 60_000;

/** Writes `toml` to a fresh directory and runs `shoal run --config` on it. */
async function runWithConfig(
  owner: AfterHook,
  toml: string | ((dir: string) => string),
): Promise<ExitResult & { file: string; dir: string }> {
  const dir = makeTmpdir(owner);
  const file = join(dir, "shoal.toml");
  writeFileSync(file, typeof toml === "function" ? toml(dir) : toml);
  return { ...(await runShoalExpectingExit(["run", "--config", file])), file, dir };
}

/** Exit code 2 and a stderr naming every one of `parts`, without having listened. */
function assertRefused(r: ExitResult, parts: (string | RegExp)[]): void {
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  for (const p of parts) {
    if (typeof p === "string")
      assert.ok(r.stderr.includes(p), `stderr names ${JSON.stringify(p)}: ${r.stderr}`);
    else assert.match(r.stderr, p);
  }
  assert.doesNotMatch(r.stdout, /"msg":"listening"/);
}

describe("configuration errors stop start-up with exit 2", { timeout: TEST_TIMEOUT }, () => {
  test("an unknown key names the file, the line and the key, and suggests the right one", async (t) => {
    const r = await runWithConfig(t, '[udp]\naddresses = ["127.0.0.1:0"]\nban_treshold = 3\n');
    assertRefused(r, [`${r.file}:3`, "udp.ban_treshold", /unknown key/, /ban_threshold/]);
  });

  test("an unknown section names the file, the line and the section", async (t) => {
    const r = await runWithConfig(t, '[log]\nlevel = "info"\n\n[udpp]\nenabled = true\n');
    assertRefused(r, [`${r.file}:4`, "udpp", /unknown section/]);
  });

  test("a value of the wrong type names the file, the line, the key and the expected type", async (t) => {
    const r = await runWithConfig(t, '[udp]\nenabled = true\nban_threshold = "3"\n');
    assertRefused(r, [`${r.file}:3`, "udp.ban_threshold", /integer/, /string/]);
  });

  test("a boolean given as a string is a wrong type too", async (t) => {
    const r = await runWithConfig(t, '[http]\nenabled = "false"\n');
    assertRefused(r, [`${r.file}:2`, "http.enabled", /true or false|boolean/, /string/]);
  });

  test("a number out of range names the file, the line, the key and the range", async (t) => {
    const r = await runWithConfig(t, "[udp]\n\nban_window = 0\n");
    assertRefused(r, [`${r.file}:3`, "udp.ban_window", /1 and 86400/]);
  });

  test("a bad UDP address (port out of range) names the file, the line, the key and the address", async (t) => {
    const r = await runWithConfig(t, '[udp]\naddresses = ["127.0.0.1:0", "127.0.0.1:99999"]\n');
    assertRefused(r, [`${r.file}:2`, "udp.addresses", "127.0.0.1:99999"]);
  });

  test("a host name instead of an IP address is a bad address", async (t) => {
    const r = await runWithConfig(t, '[udp]\naddresses = ["localhost:6969"]\n');
    assertRefused(r, [`${r.file}:2`, "udp.addresses", "localhost"]);
  });

  test("a TOML syntax error names the file and the line", async (t) => {
    const r = await runWithConfig(t, '[log]\nlevel = "info"\n[udp\nenabled = true\n');
    assertRefused(r, [`${r.file}:3`, /syntax/i]);
  });

  test("a configuration file that does not exist is named in the message", async (t) => {
    const dir = makeTmpdir(t);
    const file = join(dir, "missing.toml");
    const r = await runShoalExpectingExit(["run", "--config", file]);
    assertRefused(r, [file, /ENOENT|no such file/]);
  });

  test("a configuration path that is a directory is named in the message", async (t) => {
    const dir = makeTmpdir(t);
    const file = join(dir, "shoal.toml");
    mkdirSync(file);
    const r = await runShoalExpectingExit(["run", "--config", file]);
    assertRefused(r, [file, /EISDIR|directory/]);
  });

  test("access_list.mode allow without a path names the key", async (t) => {
    const r = await runWithConfig(t, '[access_list]\nmode = "allow"\n');
    assertRefused(r, [r.file, "access_list.path"]);
  });
});

describe("access list errors at start-up stop it with exit 2", { timeout: TEST_TIMEOUT }, () => {
  test("a bad line in the access list names the list file and the line", async (t) => {
    const r = await runWithConfig(t, (dir) => {
      const list = join(dir, "allow.txt");
      writeFileSync(list, `# torrents\n${hashHex(randomHash())}\n\n${hashHex(randomHash())}\n1234-not-hex\n`);
      return shoalConfig(dir, { access_list: { mode: "allow", path: list } });
    });
    assertRefused(r, [`${join(r.dir, "allow.txt")}:5`, "1234-not-hex"]);
  });

  test("a hash one digit short in a deny list names the list file and the line", async (t) => {
    const r = await runWithConfig(t, (dir) => {
      const list = join(dir, "deny.txt");
      writeFileSync(list, `${hashHex(randomHash()).slice(1)}\n`);
      return shoalConfig(dir, { access_list: { mode: "deny", path: list } });
    });
    assertRefused(r, [`${join(r.dir, "deny.txt")}:1`]);
  });

  test("a missing access list file is named in the message", async (t) => {
    const r = await runWithConfig(t, (dir) =>
      shoalConfig(dir, { access_list: { mode: "allow", path: join(dir, "nowhere.txt") } }),
    );
    assertRefused(r, [join(r.dir, "nowhere.txt")]);
  });
});

describe("other start-up failures", { timeout: TEST_TIMEOUT }, () => {
  test("a UDP address already in use stops start-up with a non-zero exit naming the address", async (t) => {
    const taken = dgram.createSocket("udp4");
    await new Promise<void>((resolve) =>
      taken.bind({ address: "127.0.0.1", port: 0, exclusive: true }, resolve),
    );
    t.after(() => taken.close());
    const port = taken.address().port;
    const r = await runWithConfig(
      t,
      toToml({
        udp: { addresses: [`127.0.0.1:${port}`] },
        http: { enabled: false },
        api: { enabled: false },
        store: { snapshot_path: "" },
      }),
    );
    assert.notEqual(r.code, 0, `exit code; stderr: ${r.stderr}`);
    assert.notEqual(r.code, null, "exited by itself");
    assert.ok(r.stderr.includes(`127.0.0.1:${port}`), `stderr names the address: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /"msg":"listening"/);
  });
});
