// flatStats and nestedStats over hand-filled counters: exact objects, so a field that reads the
// wrong counter, a missing field or an extra one fails.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { flatStats, nestedStats } from "../../src/stats/json-stats.ts";
import { TimedKind } from "../../src/stats/udp-counters.ts";
import { emptySources, filledSources } from "../helpers/stats-sources.ts";

describe("flatStats", () => {
  test("maps every counter to torrust-tracker's field of the same meaning", () => {
    assert.deepEqual(flatStats(filledSources()), {
      torrents: 1,
      seeders: 2,
      completed: 4,
      leechers: 3,
      tcp4_connections_handled: 303 + 304, // announces + scrapes, as torrust counts them
      tcp4_announces_handled: 303,
      tcp4_scrapes_handled: 304,
      tcp6_connections_handled: 403 + 404,
      tcp6_announces_handled: 403,
      tcp6_scrapes_handled: 404,
      udp_requests_aborted: 11,
      udp_requests_banned: 107 + 207,
      udp_banned_ips_total: 22,
      udp_avg_connect_processing_time_ns: 1500,
      udp_avg_announce_processing_time_ns: 4000,
      udp_avg_scrape_processing_time_ns: 0,
      udp4_requests: 101,
      udp4_connections_handled: 102,
      udp4_announces_handled: 103,
      udp4_scrapes_handled: 104,
      udp4_responses: 106,
      udp4_errors_handled: 105,
      udp6_requests: 201,
      udp6_connections_handled: 202,
      udp6_announces_handled: 203,
      udp6_scrapes_handled: 204,
      udp6_responses: 206,
      udp6_errors_handled: 205,
    });
  });

  test("lists torrust-tracker's fields in torrust-tracker's order", () => {
    assert.deepEqual(Object.keys(flatStats(emptySources())), [
      "torrents",
      "seeders",
      "completed",
      "leechers",
      "tcp4_connections_handled",
      "tcp4_announces_handled",
      "tcp4_scrapes_handled",
      "tcp6_connections_handled",
      "tcp6_announces_handled",
      "tcp6_scrapes_handled",
      "udp_requests_aborted",
      "udp_requests_banned",
      "udp_banned_ips_total",
      "udp_avg_connect_processing_time_ns",
      "udp_avg_announce_processing_time_ns",
      "udp_avg_scrape_processing_time_ns",
      "udp4_requests",
      "udp4_connections_handled",
      "udp4_announces_handled",
      "udp4_scrapes_handled",
      "udp4_responses",
      "udp4_errors_handled",
      "udp6_requests",
      "udp6_connections_handled",
      "udp6_announces_handled",
      "udp6_scrapes_handled",
      "udp6_responses",
      "udp6_errors_handled",
    ]);
  });

  test("is all zeros, with every field present, when every protocol is off", () => {
    const f = flatStats(emptySources());
    assert.equal(Object.keys(f).length, 28);
    for (const [k, v] of Object.entries(f)) assert.equal(v, 0, k);
  });

  test("rounds the averages to whole nanoseconds", () => {
    const s = filledSources();
    s.udp.durations[TimedKind.Scrape].observe(1e-9);
    s.udp.durations[TimedKind.Scrape].observe(2e-9); // mean 1.5 ns
    const f = flatStats(s);
    assert.equal(f.udp_avg_scrape_processing_time_ns, 2);
    for (const k of [
      "udp_avg_connect_processing_time_ns",
      "udp_avg_announce_processing_time_ns",
      "udp_avg_scrape_processing_time_ns",
    ] as const) {
      assert.ok(Number.isInteger(f[k]), k);
    }
  });

  test("reads the counters when called, not when the sources were made", () => {
    const s = filledSources();
    const before = flatStats(s);
    s.udp.v4.requests++;
    s.http.v6.scrapes += 5;
    s.figures = { ...s.figures, torrents: 99 };
    const after = flatStats(s);
    assert.equal(after.udp4_requests, before.udp4_requests + 1);
    assert.equal(after.tcp6_scrapes_handled, before.tcp6_scrapes_handled + 5);
    assert.equal(after.torrents, 99);
  });
});

describe("nestedStats", () => {
  test("groups every counter by protocol and family", () => {
    assert.deepEqual(nestedStats(filledSources()), {
      torrent_metrics: { torrents: 1, seeders: 2, completed: 4, leechers: 3 },
      udp_tracker_metrics: {
        requests_aborted: 11,
        requests_banned: 314,
        banned_ips_total: 22,
        bans_issued: 12,
        avg_connect_processing_time_ns: 1500,
        avg_announce_processing_time_ns: 4000,
        avg_scrape_processing_time_ns: 0,
        udp4: {
          requests: 101,
          connections_handled: 102,
          announces_handled: 103,
          scrapes_handled: 104,
          responses: 106,
          errors_handled: 105,
          requests_banned: 107,
          malformed_requests: 108,
          bad_connection_ids: 109,
          refused_announces: 110,
        },
        udp6: {
          requests: 201,
          connections_handled: 202,
          announces_handled: 203,
          scrapes_handled: 204,
          responses: 206,
          errors_handled: 205,
          requests_banned: 207,
          malformed_requests: 208,
          bad_connection_ids: 209,
          refused_announces: 210,
        },
      },
      http_tracker_metrics: {
        open_connections: 14,
        connections_refused: 13,
        tcp4: {
          connections_handled: 303 + 304,
          connections_accepted: 301,
          requests: 302,
          announces_handled: 303,
          scrapes_handled: 304,
          failures: 305,
          refused_announces: 306,
          rejected_requests: 307,
          timeouts: 308,
        },
        tcp6: {
          connections_handled: 403 + 404,
          connections_accepted: 401,
          requests: 402,
          announces_handled: 403,
          scrapes_handled: 404,
          failures: 405,
          refused_announces: 406,
          rejected_requests: 407,
          timeouts: 408,
        },
      },
      ws_tracker_metrics: {
        torrents: 5,
        seeders: 6,
        completed: 8,
        leechers: 7,
        open_connections: 15,
        connections_refused: 16,
        offers_dropped: 17,
        closed_slow: 18,
        closed_idle: 19,
        closed_dead: 20,
        closed_misbehaving: 21,
        ws4: {
          connections_handled: 501,
          announces_handled: 502,
          scrapes_handled: 503,
          offers_relayed: 504,
          answers_relayed: 505,
          answers_dropped: 506,
          errors_handled: 507,
          refused_announces: 508,
        },
        ws6: {
          connections_handled: 601,
          announces_handled: 602,
          scrapes_handled: 603,
          offers_relayed: 604,
          answers_relayed: 605,
          answers_dropped: 606,
          errors_handled: 607,
          refused_announces: 608,
        },
      },
    });
  });

  test("has the same shape, all zeros, when every protocol is off", () => {
    const zero = (o: unknown): unknown =>
      typeof o === "number"
        ? 0
        : Object.fromEntries(Object.entries(o as object).map(([k, v]) => [k, zero(v)]));
    const empty = nestedStats(emptySources());
    assert.deepEqual(empty, zero(nestedStats(filledSources())));
  });

  test("agrees with flatStats on every figure they share", () => {
    const s = filledSources();
    const f = flatStats(s);
    const n = nestedStats(s);
    const u = n.udp_tracker_metrics;
    assert.deepEqual(n.torrent_metrics, {
      torrents: f.torrents,
      seeders: f.seeders,
      completed: f.completed,
      leechers: f.leechers,
    });
    assert.equal(u.requests_aborted, f.udp_requests_aborted);
    assert.equal(u.requests_banned, f.udp_requests_banned);
    assert.equal(u.banned_ips_total, f.udp_banned_ips_total);
    assert.equal(u.avg_connect_processing_time_ns, f.udp_avg_connect_processing_time_ns);
    assert.equal(u.avg_announce_processing_time_ns, f.udp_avg_announce_processing_time_ns);
    assert.equal(u.avg_scrape_processing_time_ns, f.udp_avg_scrape_processing_time_ns);
    for (const fam of ["4", "6"] as const) {
      const uf = fam === "4" ? u.udp4 : u.udp6;
      const hf = fam === "4" ? n.http_tracker_metrics.tcp4 : n.http_tracker_metrics.tcp6;
      const flatOf = (k: string) => (f as unknown as Record<string, number>)[k];
      for (const k of [
        "requests",
        "connections_handled",
        "announces_handled",
        "scrapes_handled",
        "responses",
        "errors_handled",
      ] as const) {
        assert.equal(uf[k], flatOf(`udp${fam}_${k}`), `udp${fam}_${k}`);
      }
      for (const k of ["connections_handled", "announces_handled", "scrapes_handled"] as const) {
        assert.equal(hf[k], flatOf(`tcp${fam}_${k}`), `tcp${fam}_${k}`);
      }
    }
  });
});
