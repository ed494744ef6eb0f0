// createRegistry over hand-filled counters: the exposition holds the expected series with the
// expected values, the histogram is cumulative and consistent, values are read at scrape time,
// and promtool (when installed) finds nothing to complain about.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { DURATION_BUCKETS } from "../../src/stats/histogram.ts";
import { createRegistry } from "../../src/stats/prometheus.ts";
import { TimedKind } from "../../src/stats/udp-counters.ts";
import { histogramSeries, parseExposition, sampleValue } from "../helpers/stats-prometheus.ts";
import { emptySources, filledSources } from "../helpers/stats-sources.ts";

const PROMTOOL = "/usr/bin/promtool";

type Series = [name: string, labels: Record<string, string>, value: number];

/** What filledSources() must show, series by series. */
const EXPECTED: Series[] = [
  ["shoal_requests_total", { protocol: "udp", kind: "connect", ip_family: "4" }, 102],
  ["shoal_requests_total", { protocol: "udp", kind: "connect", ip_family: "6" }, 202],
  ["shoal_requests_total", { protocol: "udp", kind: "announce", ip_family: "4" }, 103],
  ["shoal_requests_total", { protocol: "udp", kind: "announce", ip_family: "6" }, 203],
  ["shoal_requests_total", { protocol: "udp", kind: "scrape", ip_family: "4" }, 104],
  ["shoal_requests_total", { protocol: "udp", kind: "scrape", ip_family: "6" }, 204],
  ["shoal_requests_total", { protocol: "http", kind: "announce", ip_family: "4" }, 303],
  ["shoal_requests_total", { protocol: "http", kind: "announce", ip_family: "6" }, 403],
  ["shoal_requests_total", { protocol: "http", kind: "scrape", ip_family: "4" }, 304],
  ["shoal_requests_total", { protocol: "http", kind: "scrape", ip_family: "6" }, 404],
  ["shoal_requests_total", { protocol: "ws", kind: "announce", ip_family: "4" }, 502],
  ["shoal_requests_total", { protocol: "ws", kind: "announce", ip_family: "6" }, 602],
  ["shoal_requests_total", { protocol: "ws", kind: "scrape", ip_family: "4" }, 503],
  ["shoal_requests_total", { protocol: "ws", kind: "scrape", ip_family: "6" }, 603],
  ["shoal_errors_total", { protocol: "udp", ip_family: "4" }, 105],
  ["shoal_errors_total", { protocol: "udp", ip_family: "6" }, 205],
  ["shoal_errors_total", { protocol: "http", ip_family: "4" }, 305],
  ["shoal_errors_total", { protocol: "http", ip_family: "6" }, 405],
  ["shoal_errors_total", { protocol: "ws", ip_family: "4" }, 507],
  ["shoal_errors_total", { protocol: "ws", ip_family: "6" }, 607],
  ["shoal_refused_announces_total", { protocol: "udp", ip_family: "4" }, 110],
  ["shoal_refused_announces_total", { protocol: "udp", ip_family: "6" }, 210],
  ["shoal_refused_announces_total", { protocol: "http", ip_family: "4" }, 306],
  ["shoal_refused_announces_total", { protocol: "http", ip_family: "6" }, 406],
  ["shoal_refused_announces_total", { protocol: "ws", ip_family: "4" }, 508],
  ["shoal_refused_announces_total", { protocol: "ws", ip_family: "6" }, 608],
  ["shoal_udp_datagrams_received_total", { ip_family: "4" }, 101],
  ["shoal_udp_datagrams_received_total", { ip_family: "6" }, 201],
  ["shoal_udp_responses_total", { ip_family: "4" }, 106],
  ["shoal_udp_responses_total", { ip_family: "6" }, 206],
  ["shoal_udp_malformed_total", { ip_family: "4" }, 108],
  ["shoal_udp_malformed_total", { ip_family: "6" }, 208],
  ["shoal_udp_bad_connection_ids_total", { ip_family: "4" }, 109],
  ["shoal_udp_bad_connection_ids_total", { ip_family: "6" }, 209],
  ["shoal_udp_banned_requests_total", { ip_family: "4" }, 107],
  ["shoal_udp_banned_requests_total", { ip_family: "6" }, 207],
  ["shoal_udp_aborted_requests_total", {}, 11],
  ["shoal_udp_bans_total", {}, 12],
  ["shoal_udp_banned_ips", {}, 22],
  ["shoal_connections_total", { protocol: "http", ip_family: "4" }, 301],
  ["shoal_connections_total", { protocol: "http", ip_family: "6" }, 401],
  ["shoal_connections_total", { protocol: "ws", ip_family: "4" }, 501],
  ["shoal_connections_total", { protocol: "ws", ip_family: "6" }, 601],
  ["shoal_open_connections", { protocol: "http" }, 14],
  ["shoal_open_connections", { protocol: "ws" }, 15],
  ["shoal_connections_refused_total", { protocol: "http" }, 13],
  ["shoal_connections_refused_total", { protocol: "ws" }, 16],
  ["shoal_http_requests_total", { ip_family: "4" }, 302],
  ["shoal_http_requests_total", { ip_family: "6" }, 402],
  ["shoal_http_rejected_requests_total", { ip_family: "4" }, 307],
  ["shoal_http_rejected_requests_total", { ip_family: "6" }, 407],
  ["shoal_http_timeouts_total", { ip_family: "4" }, 308],
  ["shoal_http_timeouts_total", { ip_family: "6" }, 408],
  ["shoal_ws_offers_relayed_total", { ip_family: "4" }, 504],
  ["shoal_ws_offers_relayed_total", { ip_family: "6" }, 604],
  ["shoal_ws_answers_relayed_total", { ip_family: "4" }, 505],
  ["shoal_ws_answers_relayed_total", { ip_family: "6" }, 605],
  ["shoal_ws_answers_dropped_total", { ip_family: "4" }, 506],
  ["shoal_ws_answers_dropped_total", { ip_family: "6" }, 606],
  ["shoal_ws_offers_dropped_total", {}, 17],
  ["shoal_ws_disconnects_total", { reason: "slow_reader" }, 18],
  ["shoal_ws_disconnects_total", { reason: "idle" }, 19],
  ["shoal_ws_disconnects_total", { reason: "no_pong" }, 20],
  ["shoal_ws_disconnects_total", { reason: "misbehaving" }, 21],
  ["shoal_torrents", { swarm: "bittorrent" }, 1],
  ["shoal_torrents", { swarm: "webtorrent" }, 5],
  ["shoal_seeders", { swarm: "bittorrent" }, 2],
  ["shoal_seeders", { swarm: "webtorrent" }, 6],
  ["shoal_leechers", { swarm: "bittorrent" }, 3],
  ["shoal_leechers", { swarm: "webtorrent" }, 7],
  ["shoal_downloads_total", { swarm: "bittorrent" }, 4],
  ["shoal_downloads_total", { swarm: "webtorrent" }, 8],
  ["shoal_api_unauthorized_total", {}, 23],
];

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("createRegistry", () => {
  test("exposes every counter of hand-filled sources under its series", async () => {
    const text = await createRegistry(filledSources()).metrics();
    const e = parseExposition(text);
    const wrong: string[] = [];
    for (const [name, labels, value] of EXPECTED) {
      const got = sampleValue(e, name, labels);
      if (got !== value) wrong.push(`${name}${JSON.stringify(labels)} = ${got}, expected ${value}`);
    }
    assert.deepEqual(wrong, []);
    const shoal = e.samples.filter(
      (s) => s.name.startsWith("shoal_") && !s.name.startsWith("shoal_request_duration_seconds"),
    );
    assert.equal(shoal.length, EXPECTED.length, "no shoal_ series beyond the expected ones");
  });

  test("declares counters as counters and gauges as gauges, every one with HELP", async () => {
    const e = parseExposition(await createRegistry(filledSources()).metrics());
    for (const f of e.families.values()) {
      assert.ok(f.help !== null && f.help !== "", `${f.name} has HELP`);
      if (!f.name.startsWith("shoal_")) continue;
      const want = f.name.endsWith("_total")
        ? "counter"
        : f.name === "shoal_request_duration_seconds"
          ? "histogram"
          : "gauge";
      assert.equal(f.type, want, f.name);
    }
  });

  test("exposes the hand-filled histograms bucket by bucket, cumulative, with sum and count", async () => {
    const s = filledSources();
    s.udp.durations[TimedKind.Scrape].observe(0.3e-6);
    s.udp.durations[TimedKind.Scrape].observe(7e-6);
    s.udp.durations[TimedKind.Scrape].observe(30);
    const e = parseExposition(await createRegistry(s).metrics());
    const series = histogramSeries(e, "shoal_request_duration_seconds");
    const key = (l: Record<string, string>) => `${l.protocol}/${l.kind}`;
    assert.deepEqual(series.map((h) => key(h.labels)).sort(), [
      "http/announce",
      "http/scrape",
      "udp/announce",
      "udp/connect",
      "udp/scrape",
      "ws/announce",
      "ws/scrape",
    ]);
    const get = (k: string) => series.find((h) => key(h.labels) === k)!;

    const scrape = get("udp/scrape");
    assert.deepEqual(
      scrape.buckets.map((b) => b.le),
      [...DURATION_BUCKETS, Number.POSITIVE_INFINITY],
    );
    // 0.3 us <= 1 us; 7 us <= 10 us; 30 s above every bound.
    const cumulative = DURATION_BUCKETS.map((b) => (b >= 1e-5 ? 2 : b >= 1e-6 ? 1 : 0));
    assert.deepEqual(
      scrape.buckets.map((b) => b.count),
      [...cumulative, 3],
    );
    assert.equal(scrape.count, 3);
    assert.ok(Math.abs(scrape.sum - (0.3e-6 + 7e-6 + 30)) < 1e-9);

    const connect = get("udp/connect"); // 1 us and 2 us
    assert.equal(connect.count, 2);
    assert.equal(connect.buckets.find((b) => b.le === 1e-6)?.count, 1);
    assert.equal(connect.buckets.find((b) => b.le === 2.5e-6)?.count, 2);
    assert.ok(Math.abs(connect.sum - 3e-6) < 1e-15);
    assert.equal(get("ws/scrape").buckets.find((b) => b.le === 1)?.count, 0, "2 s is above 1 s");
    assert.equal(get("ws/scrape").count, 1);
    assert.equal(get("http/scrape").count, 0);

    for (const h of series) {
      for (let i = 1; i < h.buckets.length; i++)
        assert.ok(h.buckets[i].count >= h.buckets[i - 1].count, key(h.labels));
      assert.equal(h.buckets[h.buckets.length - 1].count, h.count, `${key(h.labels)}: +Inf == _count`);
    }
  });

  test("reads the counters at every scrape", async () => {
    const s = filledSources();
    const r = createRegistry(s);
    const first = parseExposition(await r.metrics());
    s.udp.v4.announces += 1000;
    s.ws.open = 0;
    s.unauthorized = 0;
    s.udp.durations[TimedKind.Announce].observe(1e-6);
    const second = parseExposition(await r.metrics());
    const labels = { protocol: "udp", kind: "announce", ip_family: "4" };
    assert.equal(sampleValue(first, "shoal_requests_total", labels), 103);
    assert.equal(sampleValue(second, "shoal_requests_total", labels), 1103);
    assert.equal(sampleValue(second, "shoal_open_connections", { protocol: "ws" }), 0);
    assert.equal(sampleValue(second, "shoal_api_unauthorized_total"), 0);
    const hl = { protocol: "udp", kind: "announce" };
    assert.equal(sampleValue(first, "shoal_request_duration_seconds_count", hl), 1);
    assert.equal(sampleValue(second, "shoal_request_duration_seconds_count", hl), 2);
  });

  test("with every protocol off: zero series for counters, no histogram series, no webtorrent swarm", async () => {
    const e = parseExposition(await createRegistry(emptySources()).metrics());
    assert.equal(
      sampleValue(e, "shoal_requests_total", { protocol: "udp", kind: "connect", ip_family: "4" }),
      0,
    );
    assert.equal(sampleValue(e, "shoal_torrents", { swarm: "bittorrent" }), 0);
    assert.equal(
      e.samples.filter((s) => s.name === "shoal_torrents" && s.labels.swarm === "webtorrent").length,
      0,
    );
    assert.equal(histogramSeries(e, "shoal_request_duration_seconds").length, 0);
  });

  test("two registries in one process do not interfere", async () => {
    const a = filledSources();
    const b = filledSources();
    b.udp.v6.requests = 7;
    const ra = createRegistry(a);
    const rb = createRegistry(b);
    const ea = parseExposition(await ra.metrics());
    const eb = parseExposition(await rb.metrics());
    assert.equal(sampleValue(ea, "shoal_udp_datagrams_received_total", { ip_family: "6" }), 201);
    assert.equal(sampleValue(eb, "shoal_udp_datagrams_received_total", { ip_family: "6" }), 7);
  });

  test("promtool check metrics finds nothing in the exposition of hand-filled sources", async (t) => {
    if (!existsSync(PROMTOOL)) {
      t.skip("promtool not installed (apt-get install prometheus)");
      return;
    }
    const text = await createRegistry(filledSources()).metrics();
    const r = promtool(text);
    assert.equal(r.output, "", "promtool output");
    assert.equal(r.status, 0);
  });
});
