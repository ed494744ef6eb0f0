// Answers of every size, again and again: the smallest announce answers next to full scrape
// answers (74 entries, 896 bytes), and announce answers with a thousand IPv6 peers (18 020 bytes).
// Many answers in a row make sure whatever buffers the server writes answers into are reused
// and replaced correctly.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ShoalProcess, shoalConfig, startShoal } from "../helpers/shoal-process.ts";
import {
  compactPeersHex,
  compactPeersOf,
  type Endpoint,
  Event,
  randomHash,
  UdpTrackerClient,
} from "../helpers/udp-client.ts";

const TEST_TIMEOUT = 120_000;

describe("a tracker with max_numwant = 1", { timeout: TEST_TIMEOUT }, () => {
  test("answers 1000 scrapes of 74 info hashes in a row, each with 74 entries", async (t) => {
    const shoal = await startShoal({
      owner: t,
      config: (dir) => shoalConfig(dir, { tracker: { default_numwant: 1, max_numwant: 1 } }),
    });
    const c = await UdpTrackerClient.open(shoal.udp4, { owner: t });
    const hashes = Array.from({ length: 74 }, () => randomHash());
    await c.announce({ infoHash: hashes[5], left: 0, event: Event.Completed });
    for (let i = 0; i < 1000; i++) {
      const entries = await shoal.whileRunning(c.scrape(hashes));
      assert.equal(entries.length, 74, `scrape ${i}`);
      assert.deepEqual(entries[5], { seeders: 1, completed: 1, leechers: 0 }, `scrape ${i}`);
    }
    // An announce answer is still exactly one peer at most.
    const other = await UdpTrackerClient.open(shoal.udp4, { owner: t });
    const r = await other.announce({ infoHash: hashes[5], numWant: 50 });
    assert.equal(r.raw.length, 20 + 6);
  });
});

describe("a tracker with max_numwant = 1000", { timeout: TEST_TIMEOUT }, () => {
  let shoal: ShoalProcess;
  before(async () => {
    shoal = await startShoal({
      config: (dir) => shoalConfig(dir, { tracker: { default_numwant: 50, max_numwant: 1000 } }),
    });
  });
  after(async () => {
    await shoal?.cleanup();
  });

  for (const family of [4, 6] as const) {
    const peerSize = family === 6 ? 18 : 6;
    test(`announce over IPv${family} with numwant 1000 answers 1000 ${peerSize}-byte peers, 40 times in a row`, async (t) => {
      const server: Endpoint = family === 6 ? shoal.udp6 : shoal.udp4;
      const c = await UdpTrackerClient.open(server, { owner: t });
      const hash = randomHash();
      // One socket, 1001 announced ports: 1001 peers at the same address.
      const ports = Array.from({ length: 1001 }, (_, i) => 20000 + i);
      for (const port of ports) await shoal.whileRunning(c.announce({ infoHash: hash, port, numWant: 1 }));
      const expected = compactPeersHex(ports.slice(1).map((port) => ({ host: c.local.host, port })));
      for (let i = 0; i < 40; i++) {
        const r = await shoal.whileRunning(c.announce({ infoHash: hash, port: ports[0], numWant: 1000 }));
        assert.equal(r.raw.length, 20 + peerSize * 1000, `announce ${i}`);
        assert.equal(r.leechers, 1001);
        assert.deepEqual(compactPeersOf(r.raw, family), expected, `announce ${i}`);
      }
    });
  }
});
