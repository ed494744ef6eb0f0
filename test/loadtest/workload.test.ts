// The simulated workload: popularity, peer life cycles, endpoints, the latency histogram, and
// the allocation-free bencode checker the HTTP generator uses on every answer.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { scanTrackerBody, TrackerBody } from "../../src/loadtest/bencode-scan.ts";
import {
  fillSeeder,
  HISTOGRAM_BUCKETS,
  histogramIndex,
  histogramMax,
  histogramQuantile,
  histogramValue,
  type PeerAnnounce,
  Peers,
  PORTS_PER_ADDRESS,
  Popularity,
  peerAddressIndex,
  peerPort,
  peerRange,
  sourceAddress,
} from "../../src/loadtest/workload.ts";
import { bdecode, bencode } from "../../src/protocol/bencode.ts";
import { Event } from "../../src/protocol/udp/constants.ts";

describe("popularity", () => {
  test("picks stay in range, and s = 0 is uniform", () => {
    for (const s of [0, 0.5, 1, 2]) {
      const p = new Popularity(10, s);
      for (const u of [0, 0.3, 0.999999, 1 - Number.EPSILON]) {
        const t = p.pick(u);
        assert.ok(Number.isInteger(t) && t >= 0 && t < 10, `s=${s} u=${u} -> ${t}`);
      }
    }
    const uniform = new Popularity(4, 0);
    assert.deepEqual(
      [0.1, 0.3, 0.6, 0.9].map((u) => uniform.pick(u)),
      [0, 1, 2, 3],
    );
  });

  test("heavy-tailed: with s = 1 the top 1% of 10,000 torrents gets far more than 1% of picks", () => {
    const p = new Popularity(10_000, 1);
    let top = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) if (p.pick() < 100) top++;
    // Continuous Zipf(1): ln(101) / ln(10001), about 50%.
    assert.ok(top / n > 0.4 && top / n < 0.6, `top 1% share ${top / n}`);
  });
});

describe("peers", () => {
  test("start, re-announce, complete and stop in the configured proportions", () => {
    const peers = new Peers(0, 1000, new Popularity(100, 1), 0.3, 0.05, 0.02);
    const out: PeerAnnounce = { torrent: 0, event: 0, left: 0 };
    const events = [0, 0, 0, 0];
    let seederStarts = 0;
    for (let i = 0; i < 200_000; i++) {
      const g = peers.pickIdle();
      assert.ok(g >= 0 && g < 1000);
      peers.next(g, out);
      peers.release(g);
      events[out.event]++;
      if (out.event === Event.Started && out.left === 0) seederStarts++;
      assert.ok(out.torrent >= 0 && out.torrent < 100);
    }
    const total = 200_000;
    const started = events[Event.Started] / total;
    const stopped = events[Event.Stopped] / total;
    assert.ok(Math.abs(started - stopped) < 0.01, `started ${started} stopped ${stopped}`);
    assert.ok(started > 0.03 && started < 0.07, `started ${started}`);
    assert.ok(events[Event.Completed] > 0);
    assert.ok(events[Event.None] / total > 0.8);
    const seederShare = seederStarts / events[Event.Started];
    assert.ok(Math.abs(seederShare - 0.3) < 0.03, `seeder share ${seederShare}`);
  });

  test("a peer waiting for an answer is not picked twice", () => {
    const peers = new Peers(10, 13, new Popularity(5, 0), 0, 0, 0);
    const got = [peers.pickIdle(), peers.pickIdle(), peers.pickIdle()].sort();
    assert.deepEqual(got, [10, 11, 12]);
    assert.equal(peers.pickIdle(), -1);
    peers.release(11);
    assert.equal(peers.pickIdle(), 11);
  });

  test("endpoints: distinct (address, port) for every peer, addresses from 127.0.0.1", () => {
    assert.equal(sourceAddress(4, 0), "127.0.0.1");
    assert.equal(sourceAddress(4, 1), "127.0.0.2");
    assert.equal(sourceAddress(4, 255), "127.0.1.0");
    assert.equal(sourceAddress(6, 7), "::1");
    const seen = new Set<string>();
    for (const g of [0, 1, PORTS_PER_ADDRESS - 1, PORTS_PER_ADDRESS, 1_000_000]) {
      const key = `${peerAddressIndex(4, g)}:${peerPort(g)}`;
      assert.ok(!seen.has(key));
      seen.add(key);
      assert.ok(peerPort(g) >= 1024 && peerPort(g) <= 65535);
    }
    assert.equal(peerAddressIndex(4, 1_000_000), 15); // 1M peers need 16 addresses
  });

  test("worker ranges cover every peer once", () => {
    for (const [peers, workers] of [
      [10, 3],
      [5000, 2],
      [1, 1],
    ]) {
      let next = 0;
      for (let w = 0; w < workers; w++) {
        const r = peerRange(peers, workers, w);
        assert.equal(r.start, next);
        next = r.end;
      }
      assert.equal(next, peers);
    }
  });

  test("fill seeders are the configured share", () => {
    let n = 0;
    for (let g = 0; g < 100_000; g++) if (fillSeeder(g, 0.3)) n++;
    assert.ok(Math.abs(n / 100_000 - 0.3) < 0.01, String(n));
  });
});

describe("latency histogram", () => {
  test("buckets are monotonic and within about 3% of the value", () => {
    let last = -1;
    for (let us = 0; us < 10_000_000; us = us < 100 ? us + 1 : Math.ceil(us * 1.01)) {
      const i = histogramIndex(us);
      assert.ok(i >= last && i < HISTOGRAM_BUCKETS);
      last = i;
      const mid = histogramValue(i);
      assert.ok(Math.abs(mid - us) <= Math.max(1, us * 0.032), `${us} -> ${mid}`);
    }
  });

  test("quantiles in milliseconds", () => {
    const h = new Uint32Array(HISTOGRAM_BUCKETS);
    for (let i = 1; i <= 100; i++) h[histogramIndex(i * 100)]++; // 0.1 .. 10 ms
    assert.ok(Math.abs(histogramQuantile(h, 0.5) - 5) < 0.2);
    assert.ok(Math.abs(histogramQuantile(h, 0.99) - 9.9) < 0.3);
    assert.ok(Math.abs(histogramMax(h) - 10) < 0.3);
    assert.equal(histogramQuantile(new Uint32Array(HISTOGRAM_BUCKETS), 0.5), 0);
  });
});

describe("bencode checker", () => {
  const scan = (b: Uint8Array) => {
    const out = new TrackerBody();
    return { ok: scanTrackerBody(b, 0, b.length, out), out };
  };

  test("announce, scrape and failure answers", () => {
    const peers = new Uint8Array(12);
    const a = scan(bencode({ complete: 1, incomplete: 2, interval: 1800, peers, peers6: new Uint8Array(0) }));
    assert.ok(a.ok);
    assert.equal(a.out.interval, 1800);
    assert.equal(a.out.peersLength, 12);
    assert.equal(a.out.peers6Length, 0);
    assert.equal(a.out.failure, false);
    const s = scan(
      bencode({ files: { aaaaaaaaaaaaaaaaaaaa: { complete: 0, downloaded: 0, incomplete: 1 } } }),
    );
    assert.ok(s.ok);
    assert.equal(s.out.files, 1);
    const f = scan(bencode({ "failure reason": "nope" }));
    assert.ok(f.ok && f.out.failure);
    const list = scan(
      bencode({
        interval: 5,
        peers: [
          { ip: "1.2.3.4", port: 1 },
          { ip: "::1", port: 2 },
        ],
      }),
    );
    assert.ok(list.ok);
    assert.equal(list.out.peersList, 2);
  });

  test("agrees with bdecode on what is valid", () => {
    const samples = [
      "d8:intervali5ee",
      "d8:intervali5e",
      "d8:intervali05ee",
      "d8:intervali-0ee",
      "i5e",
      "le",
      "d5:peers3:abce",
      "d5:peers4:abce",
      "d5:peers03:abce",
      "d1:ad1:bleee",
      "d1:ad1:blee",
      "d1:ai1ee1:b",
      "",
      "d",
      "d3:abc",
      "di1ei2ee",
    ];
    for (const text of samples) {
      const bytes = Buffer.from(text, "latin1");
      let valid = true;
      try {
        const v = bdecode(bytes, { strictKeyOrder: false });
        valid = v instanceof Map;
      } catch {
        valid = false;
      }
      assert.equal(scan(bytes).ok, valid, text);
    }
  });
});
