// The access list over UDP: in allow mode only listed info hashes are tracked, in deny mode all
// but the listed ones. Refused announces get "info hash not allowed", refused scrapes zeros.
// SIGUSR1 reloads the list; a list that does not parse leaves the previous one in force.

import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LogLine, type ShoalProcess, shoalConfig, startShoal } from "../helpers/shoal-process.ts";
import { type Endpoint, Event, hashHex, randomHash, UdpTrackerClient } from "../helpers/udp-client.ts";

const TEST_TIMEOUT = 60_000;
const LOG_TIMEOUT = 15_000;
const REFUSED = "info hash not allowed";
const ZEROS = { seeders: 0, completed: 0, leechers: 0 };

/** An access list file: a comment, a blank line, hashes (the odd ones in upper case). */
function listText(hashes: Uint8Array[]): string {
  const lines = ["# test access list", ""];
  hashes.forEach((h, i) => {
    const hex = hashHex(h);
    lines.push(i % 2 === 1 ? `${hex.toUpperCase()}  # upper case` : hex);
  });
  return `${lines.join("\n")}\n`;
}

function server(shoal: ShoalProcess, family: 4 | 6): Endpoint {
  return family === 6 ? shoal.udp6 : shoal.udp4;
}

/** One client per family. */
function clientsOf(
  shoal: ShoalProcess,
  owner: { after(fn: () => unknown): void },
): Promise<UdpTrackerClient[]> {
  return Promise.all([4, 6].map((f) => UdpTrackerClient.open(server(shoal, f as 4 | 6), { owner })));
}

describe("access list in allow mode", { timeout: TEST_TIMEOUT }, () => {
  const listed = randomHash();
  let shoal: ShoalProcess;
  let listPath: string;

  before(async () => {
    shoal = await startShoal({
      files: { "allow.txt": listText([randomHash(), listed]) },
      config: (dir) => {
        listPath = join(dir, "allow.txt");
        return shoalConfig(dir, { access_list: { mode: "allow", path: listPath } });
      },
    });
    await shoal.waitForLog((l) => l.msg === "access list loaded");
  });

  after(async () => {
    await shoal?.cleanup();
  });

  /** Writes the list, sends SIGUSR1 and waits for the log line that says how the reload went. */
  async function reload(text: string): Promise<LogLine> {
    writeFileSync(listPath, text);
    const since = shoal.logs.length;
    shoal.proc.kill("SIGUSR1");
    return shoal.waitForLog(
      (l) => typeof l.msg === "string" && l.msg.startsWith("access list reload"),
      LOG_TIMEOUT,
      since,
    );
  }

  for (const family of [4, 6] as const) {
    test(`announce over IPv${family} of a listed info hash is answered`, async (t) => {
      const c = await UdpTrackerClient.open(server(shoal, family), { owner: t });
      const r = await c.announce({ infoHash: listed, event: Event.Started });
      assert.ok(r.leechers >= 1);
    });

    test(`announce over IPv${family} of an unlisted info hash gets '${REFUSED}' and its scrape zeros`, async (t) => {
      const c = await UdpTrackerClient.open(server(shoal, family), { owner: t });
      const unlisted = randomHash();
      assert.equal(await c.announceError({ infoHash: unlisted, event: Event.Started }), REFUSED);
      assert.deepEqual(await c.scrapeOne(unlisted), ZEROS);
    });
  }

  test("SIGUSR1 with a good file: newly listed info hashes are allowed, delisted ones refused and scraped as zeros", async (t) => {
    const a = randomHash();
    const b = randomHash();
    const clients = await clientsOf(shoal, t);

    const first = await reload(listText([a]));
    assert.equal(first.msg, "access list reloaded");
    for (const c of clients) {
      await c.announce({ infoHash: a, left: 0, event: Event.Completed });
      assert.equal(await c.announceError({ infoHash: b }), REFUSED, `IPv${c.family}`);
    }
    assert.deepEqual(await clients[0].scrapeOne(a), { seeders: 2, completed: 2, leechers: 0 });

    const second = await reload(listText([b]));
    assert.equal(second.msg, "access list reloaded");
    for (const c of clients) await c.announce({ infoHash: b, event: Event.Started });
    for (const c of clients) {
      assert.equal(await c.announceError({ infoHash: a, left: 0 }), REFUSED, `IPv${c.family}`);
      assert.deepEqual(await c.scrapeOne(a), ZEROS, `IPv${c.family}: a delisted torrent scrapes as zeros`);
      assert.deepEqual(await c.scrapeOne(b), { seeders: 0, completed: 0, leechers: 2 }, `IPv${c.family}`);
    }
  });

  test("SIGUSR1 with a file that does not parse keeps the previous list and logs an error", async (t) => {
    const kept = randomHash();
    const other = randomHash();
    const clients = await clientsOf(shoal, t);
    assert.equal((await reload(listText([kept]))).msg, "access list reloaded");

    const failed = await reload(`${hashHex(other)}\nnot-a-hash\n`);
    assert.equal(failed.msg, "access list reload failed; keeping the previous list");
    assert.equal(failed.level, 50, "logged at error level");
    assert.match(JSON.stringify(failed), /allow\.txt/, "the log line names the file");
    assert.match(JSON.stringify(failed), /:2\b/, "the log line names the bad line");
    for (const c of clients) {
      const r = await c.announce({ infoHash: kept });
      assert.ok(r.leechers >= 1, `IPv${c.family}: the previous list still allows its hash`);
      assert.equal(
        await c.announceError({ infoHash: other }),
        REFUSED,
        `IPv${c.family}: nothing of the bad file applies`,
      );
    }
  });

  test("SIGUSR1 when the list file is gone keeps the previous list and logs an error", async (t) => {
    const kept = randomHash();
    const [c] = await clientsOf(shoal, t);
    assert.equal((await reload(listText([kept]))).msg, "access list reloaded");
    const since = shoal.logs.length;
    rmSync(listPath);
    try {
      shoal.proc.kill("SIGUSR1");
      const failed = await shoal.waitForLog(
        (l) => typeof l.msg === "string" && l.msg.startsWith("access list reload"),
        LOG_TIMEOUT,
        since,
      );
      assert.equal(failed.msg, "access list reload failed; keeping the previous list");
      assert.equal(failed.level, 50);
      await c.announce({ infoHash: kept });
    } finally {
      writeFileSync(listPath, listText([listed]));
    }
  });
});

describe("access list in deny mode", { timeout: TEST_TIMEOUT }, () => {
  const denied = randomHash();
  let shoal: ShoalProcess;

  before(async () => {
    shoal = await startShoal({
      files: { "deny.txt": listText([denied, randomHash()]) },
      config: (dir) => shoalConfig(dir, { access_list: { mode: "deny", path: join(dir, "deny.txt") } }),
    });
  });

  after(async () => {
    await shoal?.cleanup();
  });

  for (const family of [4, 6] as const) {
    test(`announce over IPv${family} of a listed info hash gets '${REFUSED}', its scrape zeros`, async (t) => {
      const c = await UdpTrackerClient.open(server(shoal, family), { owner: t });
      assert.equal(await c.announceError({ infoHash: denied, event: Event.Started }), REFUSED);
      assert.equal(await c.announceError({ infoHash: denied, left: 0, event: Event.Completed }), REFUSED);
      assert.deepEqual(await c.scrapeOne(denied), ZEROS);
    });

    test(`announce over IPv${family} of an unlisted info hash is answered`, async (t) => {
      const [a, b] = await Promise.all(
        [1, 2].map(() => UdpTrackerClient.open(server(shoal, family), { owner: t })),
      );
      const hash = randomHash();
      await a.announce({ infoHash: hash, left: 0 });
      const r = await b.announce({ infoHash: hash });
      assert.equal(r.peers.length, 1);
      assert.deepEqual(await b.scrape([hash, denied]), [{ seeders: 1, completed: 0, leechers: 1 }, ZEROS]);
    });
  }
});
