// Prometheus exposition with prom-client. The servers count with plain increments; every metric
// here reads those numbers in its collect callback, at scrape time, never per request.

import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from "prom-client";
import type { DurationHistogram } from "./histogram.ts";
import { HttpFamilyCounters } from "./http-counters.ts";
import type { StatsSources } from "./sources.ts";
import { TimedKind, UdpFamilyCounters } from "./udp-counters.ts";
import { WsFamilyCounters } from "./ws-counters.ts";

type Labels = Record<string, string>;
type Series = [Labels, number][];

const FAMILIES = [
  ["4", "v4"],
  ["6", "v6"],
] as const;

/** A counter whose values are read from elsewhere when scraped. */
function readCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Series,
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

function readGauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Series,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}

/** Histograms kept by the servers, exposed as one Prometheus histogram with labels. */
function readHistogram(
  registry: Registry,
  name: string,
  help: string,
  read: () => [Labels, DurationHistogram][],
): void {
  const get = async () => {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const [labels, h] of read()) {
      let cumulative = 0;
      for (let i = 0; i < h.bounds.length; i++) {
        cumulative += h.counts[i];
        values.push({
          metricName: `${name}_bucket`,
          labels: { ...labels, le: h.bounds[i] },
          value: cumulative,
        });
      }
      cumulative += h.counts[h.bounds.length];
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: cumulative });
      values.push({ metricName: `${name}_sum`, labels, value: h.sum });
      values.push({ metricName: `${name}_count`, labels, value: h.count });
    }
    return { name, help, type: "histogram", aggregator: "sum", values };
  };
  registry.registerMetric({
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    get,
    reset() {},
  } as unknown as Metric);
}

const NO_UDP = new UdpFamilyCounters();
const NO_HTTP = new HttpFamilyCounters();
const NO_WS = new WsFamilyCounters();

export function createRegistry(s: StatsSources): Registry {
  const r = new Registry();
  collectDefaultMetrics({ register: r });
  // These three are gauges named like counters; promtool rightly objects, so they go.
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ]) {
    r.removeSingleMetric(name);
  }

  const udp = (f: "v4" | "v6") => s.udp?.[f] ?? NO_UDP;
  const http = (f: "v4" | "v6") => s.http?.[f] ?? NO_HTTP;
  const ws = (f: "v4" | "v6") => s.ws?.[f] ?? NO_WS;
  const perFamily = <C>(pick: (f: "v4" | "v6") => C, value: (c: C) => number, extra: Labels = {}): Series =>
    FAMILIES.map(([label, f]) => [{ ...extra, ip_family: label }, value(pick(f))]);

  // Requests handled, by protocol and kind: the figures operators graph first.
  readCounter(
    r,
    "shoal_requests_total",
    "Requests handled, by protocol, IP family and kind.",
    ["protocol", "ip_family", "kind"],
    () => [
      ...perFamily(udp, (c) => c.connects, { protocol: "udp", kind: "connect" }),
      ...perFamily(udp, (c) => c.announces, { protocol: "udp", kind: "announce" }),
      ...perFamily(udp, (c) => c.scrapes, { protocol: "udp", kind: "scrape" }),
      ...perFamily(http, (c) => c.announces, { protocol: "http", kind: "announce" }),
      ...perFamily(http, (c) => c.scrapes, { protocol: "http", kind: "scrape" }),
      ...perFamily(ws, (c) => c.announces, { protocol: "ws", kind: "announce" }),
      ...perFamily(ws, (c) => c.scrapes, { protocol: "ws", kind: "scrape" }),
    ],
  );
  readCounter(
    r,
    "shoal_errors_total",
    "Error answers sent: UDP error packets, HTTP failure reasons, WebSocket failure replies.",
    ["protocol", "ip_family"],
    () => [
      ...perFamily(udp, (c) => c.errors, { protocol: "udp" }),
      ...perFamily(http, (c) => c.failures, { protocol: "http" }),
      ...perFamily(ws, (c) => c.errors, { protocol: "ws" }),
    ],
  );
  readCounter(
    r,
    "shoal_refused_announces_total",
    "Announces refused by the access list.",
    ["protocol", "ip_family"],
    () => [
      ...perFamily(udp, (c) => c.refused, { protocol: "udp" }),
      ...perFamily(http, (c) => c.refused, { protocol: "http" }),
      ...perFamily(ws, (c) => c.refused, { protocol: "ws" }),
    ],
  );

  // UDP
  readCounter(
    r,
    "shoal_udp_datagrams_received_total",
    "UDP datagrams received, whatever became of them.",
    ["ip_family"],
    () => perFamily(udp, (c) => c.requests),
  );
  readCounter(r, "shoal_udp_responses_total", "UDP answers sent.", ["ip_family"], () =>
    perFamily(udp, (c) => c.responses),
  );
  readCounter(r, "shoal_udp_malformed_total", "UDP datagrams that could not be parsed.", ["ip_family"], () =>
    perFamily(udp, (c) => c.malformed),
  );
  readCounter(
    r,
    "shoal_udp_bad_connection_ids_total",
    "UDP announces and scrapes with a connection id that did not verify.",
    ["ip_family"],
    () => perFamily(udp, (c) => c.badConnectionIds),
  );
  readCounter(
    r,
    "shoal_udp_banned_requests_total",
    "UDP datagrams ignored because their source is banned.",
    ["ip_family"],
    () => perFamily(udp, (c) => c.banned),
  );
  readCounter(r, "shoal_udp_aborted_requests_total", "UDP requests whose answer was never sent.", [], () => [
    [{}, s.udp?.aborted ?? 0],
  ]);
  readCounter(r, "shoal_udp_bans_total", "Sources put under a ban for bad connection ids.", [], () => [
    [{}, s.udp?.bansIssued ?? 0],
  ]);
  readGauge(r, "shoal_udp_banned_ips", "Sources under a ban now.", [], () => [[{}, s.udpBannedIps()]]);

  // HTTP and WebSocket connections
  readCounter(r, "shoal_connections_total", "Connections accepted.", ["protocol", "ip_family"], () => [
    ...perFamily(http, (c) => c.connections, { protocol: "http" }),
    ...perFamily(ws, (c) => c.connections, { protocol: "ws" }),
  ]);
  readGauge(r, "shoal_open_connections", "Connections open now.", ["protocol"], () => [
    [{ protocol: "http" }, s.http?.open ?? 0],
    [{ protocol: "ws" }, s.ws?.open ?? 0],
  ]);
  readCounter(
    r,
    "shoal_connections_refused_total",
    "Connections refused at a limit (open connections, sockets per address).",
    ["protocol"],
    () => [
      [{ protocol: "http" }, s.http?.connectionsRefused ?? 0],
      [{ protocol: "ws" }, s.ws?.connectionsRefused ?? 0],
    ],
  );
  readCounter(
    r,
    "shoal_http_requests_total",
    "HTTP request heads parsed, whatever their path.",
    ["ip_family"],
    () => perFamily(http, (c) => c.requests),
  );
  readCounter(
    r,
    "shoal_http_rejected_requests_total",
    "HTTP requests refused at the HTTP level (400, 404, 405, 408, 413, 414, 431).",
    ["ip_family"],
    () => perFamily(http, (c) => c.rejected),
  );
  readCounter(
    r,
    "shoal_http_timeouts_total",
    "HTTP connections closed for a slow request head or idling.",
    ["ip_family"],
    () => perFamily(http, (c) => c.timeouts),
  );

  // WebSocket signalling
  readCounter(
    r,
    "shoal_ws_offers_relayed_total",
    "WebRTC offers relayed to another peer.",
    ["ip_family"],
    () => perFamily(ws, (c) => c.offersRelayed),
  );
  readCounter(
    r,
    "shoal_ws_answers_relayed_total",
    "WebRTC answers relayed back to the offerer.",
    ["ip_family"],
    () => perFamily(ws, (c) => c.answersRelayed),
  );
  readCounter(
    r,
    "shoal_ws_answers_dropped_total",
    "WebRTC answers not relayed (unknown or expired offer, offerer gone).",
    ["ip_family"],
    () => perFamily(ws, (c) => c.answersDropped),
  );
  readCounter(r, "shoal_ws_offers_dropped_total", "Offers beyond the per-announce limit.", [], () => [
    [{}, s.ws?.offersDropped ?? 0],
  ]);
  readCounter(
    r,
    "shoal_ws_disconnects_total",
    "WebSocket connections closed by shoal, by reason.",
    ["reason"],
    () => [
      [{ reason: "slow_reader" }, s.ws?.closedSlow ?? 0],
      [{ reason: "idle" }, s.ws?.closedIdle ?? 0],
      [{ reason: "no_pong" }, s.ws?.closedDead ?? 0],
      [{ reason: "misbehaving" }, s.ws?.closedMisbehaving ?? 0],
    ],
  );

  // Swarms
  const swarms = (): [string, ReturnType<StatsSources["torrents"]>][] => {
    const out: [string, ReturnType<StatsSources["torrents"]>][] = [["bittorrent", s.torrents()]];
    if (s.webTorrents !== null) out.push(["webtorrent", s.webTorrents()]);
    return out;
  };
  readGauge(r, "shoal_torrents", "Torrents with peers or a download count.", ["swarm"], () =>
    swarms().map(([k, t]) => [{ swarm: k }, t.torrents]),
  );
  readGauge(r, "shoal_seeders", "Seeding peers.", ["swarm"], () =>
    swarms().map(([k, t]) => [{ swarm: k }, t.seeders]),
  );
  readGauge(r, "shoal_leechers", "Downloading peers.", ["swarm"], () =>
    swarms().map(([k, t]) => [{ swarm: k }, t.leechers]),
  );
  readCounter(
    r,
    "shoal_downloads_total",
    "Completed downloads reported (event=completed), snapshot included.",
    ["swarm"],
    () => swarms().map(([k, t]) => [{ swarm: k }, t.completed]),
  );

  readCounter(
    r,
    "shoal_api_unauthorized_total",
    "API requests refused for a missing or wrong token.",
    [],
    () => [[{}, s.apiUnauthorized()]],
  );

  readHistogram(
    r,
    "shoal_request_duration_seconds",
    "Time to handle a request, from a 1-in-16 sample.",
    () => {
      const out: [Labels, DurationHistogram][] = [];
      if (s.udp !== null) {
        out.push([{ protocol: "udp", kind: "connect" }, s.udp.durations[TimedKind.Connect]]);
        out.push([{ protocol: "udp", kind: "announce" }, s.udp.durations[TimedKind.Announce]]);
        out.push([{ protocol: "udp", kind: "scrape" }, s.udp.durations[TimedKind.Scrape]]);
      }
      if (s.http !== null) {
        out.push([{ protocol: "http", kind: "announce" }, s.http.announceDurations]);
        out.push([{ protocol: "http", kind: "scrape" }, s.http.scrapeDurations]);
      }
      if (s.ws !== null) {
        out.push([{ protocol: "ws", kind: "announce" }, s.ws.announceDurations]);
        out.push([{ protocol: "ws", kind: "scrape" }, s.ws.scrapeDurations]);
      }
      return out;
    },
  );
  return r;
}
