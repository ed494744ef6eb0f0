// Download counts ("completed" in a scrape) survive a restart through the snapshot file, written
// on SIGTERM and SIGINT (both exit 0). A snapshot that cannot be read is reported and start-up
// goes on with zero counts. Peers themselves are not kept across a restart.

import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { makeTmpdir, type ShoalProcess, shoalConfig, startShoal } from "../helpers/shoal-process.ts";
import { Event, randomHash, UdpTrackerClient } from "../helpers/udp-client.ts";

const TEST_TIMEOUT = 90_000;
const ZEROS = { seeders: 0, completed: 0, leechers: 0 };

/** Two peers complete `hash` over IPv4, one more over IPv6. */
async function completeThreeTimes(
  shoal: ShoalProcess,
  hash: Uint8Array,
  owner: { after(fn: () => unknown): void },
) {
  for (const server of [shoal.udp4, shoal.udp4, shoal.udp6]) {
    const c = await UdpTrackerClient.open(server, { owner });
    await c.announce({ infoHash: hash, left: 100, event: Event.Started });
    await c.announce({ infoHash: hash, left: 0, event: Event.Completed });
  }
}

async function scrapeBoth(
  shoal: ShoalProcess,
  hashes: Uint8Array[],
  owner: { after(fn: () => unknown): void },
) {
  const v4 = await UdpTrackerClient.open(shoal.udp4, { owner });
  const v6 = await UdpTrackerClient.open(shoal.udp6, { owner });
  return { v4: await v4.scrape(hashes), v6: await v6.scrape(hashes) };
}

describe("snapshot of download counts", { timeout: TEST_TIMEOUT }, () => {
  test("completed counts survive SIGTERM (exit 0) and a restart on the same snapshot_path, then SIGINT (exit 0) and another", async (t) => {
    const dir = makeTmpdir(t);
    const snapshot = join(dir, "state.bin");
    const hash = randomHash();
    const once = randomHash();
    const never = randomHash();

    const first = await startShoal({ tmpdir: dir, owner: t });
    await completeThreeTimes(first, hash, t);
    const c = await UdpTrackerClient.open(first.udp4, { owner: t });
    await c.announce({ infoHash: once, left: 0, event: Event.Completed });
    await c.announce({ infoHash: never, left: 5 });
    assert.deepEqual(await c.scrape([hash, once]), [
      { seeders: 3, completed: 3, leechers: 0 },
      { seeders: 1, completed: 1, leechers: 0 },
    ]);
    assert.equal(await first.stop("SIGTERM"), 0, "SIGTERM exits 0");
    assert.ok(existsSync(snapshot), "the snapshot file was written");

    const second = await startShoal({ tmpdir: dir, owner: t });
    const afterTerm = await scrapeBoth(second, [hash, once, never], t);
    const expected = [
      { seeders: 0, completed: 3, leechers: 0 },
      { seeders: 0, completed: 1, leechers: 0 },
      ZEROS,
    ];
    assert.deepEqual(afterTerm.v4, expected, "over IPv4 after SIGTERM");
    assert.deepEqual(afterTerm.v6, expected, "over IPv6 after SIGTERM");
    // One more download before the next stop.
    const d = await UdpTrackerClient.open(second.udp6, { owner: t });
    await d.announce({ infoHash: hash, left: 0, event: Event.Completed });
    assert.equal(await second.stop("SIGINT"), 0, "SIGINT exits 0");

    const third = await startShoal({ tmpdir: dir, owner: t });
    const afterInt = await scrapeBoth(third, [hash, once], t);
    const expected2 = [
      { seeders: 0, completed: 4, leechers: 0 },
      { seeders: 0, completed: 1, leechers: 0 },
    ];
    assert.deepEqual(afterInt.v4, expected2, "over IPv4 after SIGINT");
    assert.deepEqual(afterInt.v6, expected2, "over IPv6 after SIGINT");
    assert.equal(await third.stop("SIGTERM"), 0);
  });

  test("a corrupt snapshot file does not stop start-up: an error is logged and counts start at zero", async (t) => {
    const dir = makeTmpdir(t);
    const snapshot = join(dir, "state.bin");
    const hash = randomHash();

    const first = await startShoal({ tmpdir: dir, owner: t });
    await completeThreeTimes(first, hash, t);
    assert.equal(await first.stop("SIGTERM"), 0);

    // Flip one byte in the middle of the record: the file keeps its size but not its content.
    const data = readFileSync(snapshot);
    assert.ok(data.length > 20, `snapshot of ${data.length} bytes holds the record`);
    data[Math.floor(data.length / 2)] ^= 0xff;
    writeFileSync(snapshot, data);

    const second = await startShoal({ tmpdir: dir, owner: t });
    const error = await second.waitForLog((l) => (l.level ?? 0) >= 50);
    assert.match(JSON.stringify(error), /snapshot/i, "the error is about the snapshot");
    assert.ok(JSON.stringify(error).includes(snapshot), "the error names the snapshot file");
    const counts = await scrapeBoth(second, [hash], t);
    assert.deepEqual(counts.v4, [ZEROS]);
    assert.deepEqual(counts.v6, [ZEROS]);
    // And the tracker works as usual.
    const c = await UdpTrackerClient.open(second.udp4, { owner: t });
    await c.announce({ infoHash: hash, left: 0, event: Event.Completed });
    assert.deepEqual(await c.scrapeOne(hash), { seeders: 1, completed: 1, leechers: 0 });
    assert.equal(await second.stop("SIGTERM"), 0);
  });

  for (const [what, content] of [
    ["a snapshot file of garbage", Buffer.from("this is not a shoal snapshot at all\n")],
    ["an empty snapshot file", Buffer.alloc(0)],
  ] as const) {
    test(`${what} does not stop start-up: an error is logged and counts start at zero`, async (t) => {
      const dir = makeTmpdir(t);
      writeFileSync(join(dir, "state.bin"), content);
      const shoal = await startShoal({ tmpdir: dir, owner: t });
      const error = await shoal.waitForLog((l) => (l.level ?? 0) >= 50);
      assert.match(JSON.stringify(error), /snapshot/i);
      const c = await UdpTrackerClient.open(shoal.udp6, { owner: t });
      const hash = randomHash();
      assert.deepEqual(await c.scrapeOne(hash), ZEROS);
      await c.announce({ infoHash: hash, left: 0, event: Event.Completed });
      assert.deepEqual(await c.scrapeOne(hash), { seeders: 1, completed: 1, leechers: 0 });
      assert.equal(await shoal.stop("SIGINT"), 0);
    });
  }

  test("a tracker started without a snapshot file starts empty and writes one on SIGTERM", async (t) => {
    const shoal = await startShoal({ config: (dir) => shoalConfig(dir), owner: t });
    assert.equal(
      shoal.logs.filter((l) => (l.level ?? 0) >= 50).length,
      0,
      "a missing snapshot is not an error",
    );
    const c = await UdpTrackerClient.open(shoal.udp4, { owner: t });
    await c.announce({ infoHash: randomHash(), left: 0, event: Event.Completed });
    assert.equal(await shoal.stop("SIGTERM"), 0);
    assert.ok(existsSync(join(shoal.tmpdir, "state.bin")));
  });
});
