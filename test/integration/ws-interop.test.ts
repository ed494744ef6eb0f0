// Interop with the npm `bittorrent-tracker` client, the one WebTorrent runs, over ws:// on IPv4
// and IPv6: two clients of one torrent find each other (each emits 'peer' with the other's
// peer id: the offer went one way through shoal and the answer came back), scrape reports the
// counts, completed counts a download, and stop removes the peer.
//
// Clients in one process share one WebSocket per announce URL (the client's socket pool), so
// each scenario runs twice: both clients on one URL (one socket carrying both peers), and on
// `ws://host:port/` and `ws://host:port/announce` (a socket each). The WebRTC stand-in makes
// SDP-shaped offers and answers without connecting: only signalling is exercised here.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import { after, before, describe, test } from "node:test";
import { ANSWER_TIMEOUT_MS, startWsShoal, type WsShoal } from "../helpers/ws-client.ts";
import {
  loadTrackerClient,
  type ScrapeData,
  type TrackerClient,
  type TrackerPeer,
  type UpdateData,
} from "../helpers/ws-tracker-client.ts";

const TEST_TIMEOUT = 60_000;
const INTERVAL = 300;

/** Resolves with the first `event` whose argument satisfies `predicate`; rejects after a while. */
function nextEvent<T>(
  emitter: EventEmitter,
  event: string,
  predicate: (v: T) => boolean = () => true,
  what = event,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no ${what} within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    const on = (v: T) => {
      if (!predicate(v)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(v);
    };
    emitter.on(event, on);
  });
}

interface Running {
  client: TrackerClient;
  peerId: string;
  peers: TrackerPeer[];
  warnings: Error[];
}

describe("bittorrent-tracker client interop", { timeout: TEST_TIMEOUT }, () => {
  let t: WsShoal;
  let Client: Awaited<ReturnType<typeof loadTrackerClient>>["Client"];
  let wrtc: unknown;

  before(async () => {
    ({ Client, wrtc } = await loadTrackerClient());
    t = await startWsShoal({ announce_interval: INTERVAL });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  /** A started client; destroyed (with the peers it made) when the test ends. */
  function client(tc: { after(fn: () => unknown): void }, infoHash: string, url: string): Running {
    const peerId = randomBytes(20).toString("hex");
    const c = new Client({ infoHash, peerId, announce: [url], port: 6881, wrtc });
    const r: Running = { client: c, peerId, peers: [], warnings: [] };
    c.on("peer", (p) => r.peers.push(p));
    c.on("warning", (err) => r.warnings.push(err));
    c.on("error", (err) => r.warnings.push(err));
    tc.after(
      () =>
        new Promise<void>((resolve) => {
          for (const p of r.peers) p.destroy();
          c.destroy(() => resolve());
        }),
    );
    return r;
  }

  const urls = (family: 4 | 6): [string, [string, string]][] => [
    ["one shared socket", [t.url(family, "/announce"), t.url(family, "/announce")]],
    ["a socket each (/ and /announce)", [t.url(family, "/"), t.url(family, "/announce")]],
  ];

  for (const family of [4, 6] as const) {
    describe(`over IPv${family}`, () => {
      for (const mode of ["one shared socket", "a socket each (/ and /announce)"]) {
        test(`two clients on ${mode} find each other, scrape their counts, and stop removes one`, async (tc) => {
          const [urlA, urlB] = urls(family).find(([m]) => m === mode)![1];
          const infoHash = randomBytes(20).toString("hex");
          const isOurs = (d: { infoHash: string }) => d.infoHash === infoHash;

          // A seeds; its announce finds nobody.
          const a = client(tc, infoHash, urlA);
          const aStarted = nextEvent<UpdateData>(a.client, "update", isOurs, "announce reply to A");
          a.client.start({ left: 0 });
          const aUpdate = await aStarted;
          assert.equal(aUpdate.complete, 1);
          assert.equal(aUpdate.incomplete, 0);

          // B leeches; one of its offers goes to A, A answers through shoal.
          const b = client(tc, infoHash, urlB);
          const aGotPeer = nextEvent<TrackerPeer>(a.client, "peer", undefined, "peer on A");
          const bGotPeer = nextEvent<TrackerPeer>(b.client, "peer", undefined, "peer on B");
          const bStarted = nextEvent<UpdateData>(b.client, "update", isOurs, "announce reply to B");
          b.client.start();
          const bUpdate = await bStarted;
          assert.equal(bUpdate.complete, 1);
          assert.equal(bUpdate.incomplete, 1);
          const [peerOnA, peerOnB] = await Promise.all([aGotPeer, bGotPeer]);
          assert.equal(peerOnA.id, b.peerId, "A got B's offer");
          assert.equal(peerOnB.id, a.peerId, "B got A's answer");

          // Scrape.
          const scraped = nextEvent<ScrapeData>(b.client, "scrape", isOurs, "scrape on B");
          b.client.scrape();
          const s1 = await scraped;
          assert.deepEqual(
            { complete: s1.complete, incomplete: s1.incomplete, downloaded: s1.downloaded },
            { complete: 1, incomplete: 1, downloaded: 0 },
          );

          // B completes: a download is counted and B is a seeder.
          const bCompleted = nextEvent<UpdateData>(b.client, "update", (d) => isOurs(d) && d.complete === 2);
          b.client.complete({ left: 0 });
          await bCompleted;
          const scraped2 = nextEvent<ScrapeData>(b.client, "scrape", isOurs, "second scrape on B");
          b.client.scrape();
          const s2 = await scraped2;
          assert.deepEqual(
            { complete: s2.complete, incomplete: s2.incomplete, downloaded: s2.downloaded },
            { complete: 2, incomplete: 0, downloaded: 1 },
          );

          // A stops: it is gone from the swarm.
          const aStopped = nextEvent<UpdateData>(a.client, "update", (d) => isOurs(d) && d.complete === 1);
          a.client.stop();
          const stopReply = await aStopped;
          assert.equal(stopReply.incomplete, 0);
          const scraped3 = nextEvent<ScrapeData>(b.client, "scrape", isOurs, "third scrape on B");
          b.client.scrape();
          const s3 = await scraped3;
          assert.deepEqual(
            { complete: s3.complete, incomplete: s3.incomplete, downloaded: s3.downloaded },
            { complete: 1, incomplete: 0, downloaded: 1 },
          );

          // A third client now finds only B.
          const c = client(tc, infoHash, urlA);
          const cGotPeer = nextEvent<TrackerPeer>(c.client, "peer", undefined, "peer on C");
          c.client.start();
          assert.equal((await cGotPeer).id, b.peerId);

          assert.deepEqual(
            [...a.warnings, ...b.warnings, ...c.warnings].map((e) => e.message),
            [],
            "no client warned",
          );
        });
      }
    });
  }

  test("a client's scrape of several info hashes gets one 'scrape' event per hash", async (tc) => {
    const infoHash = randomBytes(20).toString("hex");
    const other = randomBytes(20).toString("hex");
    const a = client(tc, infoHash, t.url(4, "/announce"));
    const started = nextEvent<UpdateData>(a.client, "update", (d) => d.infoHash === infoHash);
    a.client.start();
    await started;
    const seen = new Map<string, ScrapeData>();
    const both = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("not both scrape events")), ANSWER_TIMEOUT_MS);
      a.client.on("scrape", (d) => {
        seen.set(d.infoHash, d);
        if (seen.has(infoHash) && seen.has(other)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    a.client.scrape({ infoHash: [infoHash, other] });
    await both;
    assert.equal(seen.get(infoHash)!.incomplete, 1);
    assert.equal(seen.get(other)!.incomplete, 0);
    assert.equal(seen.get(other)!.complete, 0);
  });

  test("a client announcing on a refused path gets no tracker: the upgrade on /scrape fails and it warns", async (tc) => {
    const infoHash = randomBytes(20).toString("hex");
    const a = client(tc, infoHash, t.url(4, "/scrape"));
    const warned = nextEvent<Error>(a.client, "warning");
    a.client.start();
    const err = await warned;
    assert.ok(err instanceof Error);
  });
});
