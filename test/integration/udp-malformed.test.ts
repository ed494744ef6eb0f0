// Packets a tracker must survive: each gets an error answer or nothing, never a crash and never
// a normal answer, and the tracker goes on answering well-formed requests afterwards.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Action } from "../../src/protocol/udp/constants.ts";
import { type ShoalProcess, shoalConfig, startShoal } from "../helpers/shoal-process.ts";
import {
  type Endpoint,
  Event,
  newTransactionId,
  randomHash,
  UdpTrackerClient,
} from "../helpers/udp-client.ts";

const TEST_TIMEOUT = 60_000;

let shoal: ShoalProcess;

before(async () => {
  // No bans here: some of these packets carry connection ids that cannot be valid.
  shoal = await startShoal({ config: (dir) => shoalConfig(dir, { udp: { ban_threshold: 0 } }) });
});

after(async () => {
  await shoal?.cleanup();
});

function server(family: 4 | 6): Endpoint {
  return family === 6 ? shoal.udp6 : shoal.udp4;
}

/** A request header: connection id (8), action (4), transaction id (4), then `size - 16` bytes. */
function packet(
  size: number,
  action: number,
  tid: number,
  connId = { hi: 0x12345678, lo: 0x9abcdef0 },
): Buffer {
  const buf = Buffer.alloc(size);
  if (size >= 8) {
    buf.writeUInt32BE(connId.hi, 0);
    buf.writeUInt32BE(connId.lo, 4);
  }
  if (size >= 12) buf.writeUInt32BE(action >>> 0, 8);
  if (size >= 16) buf.writeUInt32BE(tid >>> 0, 12);
  return buf;
}

/** Nothing came back, or an error answer under the packet's transaction id. */
function assertErrorOrNothing(answer: Buffer | null, tid: number | null, what: string): void {
  if (answer === null) return;
  assert.equal(
    answer.readUInt32BE(0),
    Action.Error,
    `${what}: answered with action ${answer.readUInt32BE(0)}`,
  );
  if (tid !== null) assert.equal(answer.readUInt32BE(4), tid, `${what}: transaction id of the error`);
}

/** The tracker still runs and answers a connect, an announce and a scrape from `c`. */
async function assertStillServing(c: UdpTrackerClient): Promise<void> {
  await shoal.whileRunning(
    (async () => {
      await c.connect();
      const hash = randomHash();
      const r = await c.announce({ infoHash: hash, event: Event.Started });
      assert.equal(r.leechers, 1);
      assert.deepEqual(await c.scrapeOne(hash), { seeders: 0, completed: 0, leechers: 1 });
    })(),
  );
}

for (const family of [4, 6] as const) {
  describe(`malformed packets over IPv${family}`, { timeout: TEST_TIMEOUT }, () => {
    test(`an announce with port 0 over IPv${family} gets an error`, async (t) => {
      const c = await UdpTrackerClient.open(server(family), { owner: t });
      const message = await c.announceError({ infoHash: randomHash(), port: 0 });
      assert.match(message, /port/);
      await assertStillServing(c);
    });

    test(`an announce with an event outside 0..3 over IPv${family} gets an error`, async (t) => {
      const c = await UdpTrackerClient.open(server(family), { owner: t });
      for (const event of [4, 0x7fffffff, 0xffffffff]) {
        const message = await c.announceError({ infoHash: randomHash(), event });
        assert.match(message, /event/, `event ${event}`);
      }
      await assertStillServing(c);
    });

    test(`a truncated announce over IPv${family} gets an error or nothing`, async (t) => {
      const c = await UdpTrackerClient.open(server(family), { owner: t });
      const full = await c.announceRequest({ infoHash: randomHash() });
      for (const size of [97, 60, 20, 16]) {
        const tid = newTransactionId();
        const cut = Buffer.from(full.subarray(0, size));
        cut.writeUInt32BE(tid, 12);
        assertErrorOrNothing(await c.requestOrSilence(cut), tid, `announce cut to ${size} bytes`);
      }
      await assertStillServing(c);
    });

    test(`a packet shorter than a request header over IPv${family} gets nothing back that could be mistaken for an answer`, async (t) => {
      const c = await UdpTrackerClient.open(server(family), { owner: t });
      for (const size of [0, 1, 8, 15]) await c.send(randomBytes(size));
      // Listen once for whatever the four of them may bring back.
      await c.requestOrSilence(randomBytes(12));
      for (const answer of c.received) assertErrorOrNothing(answer, null, "answer to a short packet");
      await assertStillServing(c);
    });

    test(`an unknown action over IPv${family} gets an error or nothing`, async (t) => {
      const c = await UdpTrackerClient.open(server(family), { owner: t });
      const id = await c.connect();
      for (const action of [4, 7, 0x100, 0xffffffff]) {
        const tid = newTransactionId();
        assertErrorOrNothing(await c.requestOrSilence(packet(98, action, tid, id)), tid, `action ${action}`);
      }
      await assertStillServing(c);
    });

    test(`a connect with a wrong protocol id over IPv${family} gets no connection id`, async (t) => {
      const c = await UdpTrackerClient.open(server(family), { owner: t });
      const tid = newTransactionId();
      const bad = c.connectRequest(tid);
      bad.writeUInt32BE(0xdeadbeef, 4);
      assertErrorOrNothing(await c.requestOrSilence(bad), tid, "connect with a wrong protocol id");
      await assertStillServing(c);
    });

    test(`garbage of random sizes over IPv${family} gets an error or nothing`, async (t) => {
      const c = await UdpTrackerClient.open(server(family), { owner: t });
      for (const size of [17, 33, 99, 150, 512, 1400]) {
        const tid = newTransactionId();
        const junk = randomBytes(size);
        junk.writeUInt32BE(tid, 12);
        assertErrorOrNothing(await c.requestOrSilence(junk), tid, `${size} random bytes`);
      }
      await assertStillServing(c);
    });

    test(`an oversize 4000-byte packet over IPv${family} gets an error or nothing`, async (t) => {
      const c = await UdpTrackerClient.open(server(family), { owner: t });
      const tid = newTransactionId();
      const big = Buffer.alloc(4000, 0xa5);
      big.writeUInt32BE(tid, 12);
      assertErrorOrNothing(await c.requestOrSilence(big), tid, "4000 bytes of 0xa5");
      const tid2 = newTransactionId();
      const junk = randomBytes(4000);
      junk.writeUInt32BE(0xdeadbeef, 8); // not an action
      junk.writeUInt32BE(tid2, 12);
      assertErrorOrNothing(await c.requestOrSilence(junk), tid2, "4000 random bytes");
      await assertStillServing(c);
    });

    test(`a scrape without a whole info hash over IPv${family} gets no scrape entries`, async (t) => {
      const c = await UdpTrackerClient.open(server(family), { owner: t });
      const id = await c.connect();
      for (const size of [16, 35]) {
        const tid = newTransactionId();
        const answer = await c.requestOrSilence(packet(size, Action.Scrape, tid, id));
        // An empty scrape answer (8 bytes) would do as well as an error or silence.
        if (answer !== null && answer.readUInt32BE(0) === Action.Scrape) assert.equal(answer.length, 8);
        else assertErrorOrNothing(answer, tid, `${size}-byte scrape`);
      }
      await assertStillServing(c);
    });

    test(`a stream of mixed malformed packets over IPv${family} leaves the tracker answering`, async (t) => {
      const c = await UdpTrackerClient.open(server(family), { owner: t });
      const id = await c.connect();
      const sizes = [0, 7, 16, 50, 97, 98, 200, 4000];
      // Small groups, each closed by a round trip: a burst larger than the socket's receive
      // buffer would have the kernel drop datagrams, the closing request among them.
      for (let i = 0; i < 200; i++) {
        const size = sizes[i % sizes.length];
        const p = randomBytes(size);
        if (size >= 98 && i % 3 === 0) {
          // A well-formed header with a valid connection id and nonsense after it.
          packet(16, Action.Announce, newTransactionId(), id).copy(p, 0);
          p.writeUInt16BE(0, 96); // port 0
        }
        await c.send(p);
        if (i % 5 === 4) await shoal.whileRunning(c.connect());
      }
      await assertStillServing(c);
    });
  });
}
