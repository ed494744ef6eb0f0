// The JSON shapes of GET /api/v1/stats. The flat one has exactly torrust-tracker's field names,
// so dashboards and scripts written for torrust keep working; the nested one groups the same
// figures by protocol and adds the WebSocket tracker's.

import { HttpFamilyCounters } from "./http-counters.ts";
import type { StatsSources, TorrentFigures } from "./sources.ts";
import { TimedKind, UdpFamilyCounters } from "./udp-counters.ts";
import { WsFamilyCounters } from "./ws-counters.ts";

// Zeroed counters stand in for a protocol that is switched off.
const NO_UDP = new UdpFamilyCounters();
const NO_HTTP = new HttpFamilyCounters();
const NO_WS = new WsFamilyCounters();
const NO_TORRENTS: TorrentFigures = { torrents: 0, seeders: 0, leechers: 0, completed: 0 };

export interface FlatStats {
  torrents: number;
  seeders: number;
  completed: number;
  leechers: number;
  tcp4_connections_handled: number;
  tcp4_announces_handled: number;
  tcp4_scrapes_handled: number;
  tcp6_connections_handled: number;
  tcp6_announces_handled: number;
  tcp6_scrapes_handled: number;
  udp_requests_aborted: number;
  udp_requests_banned: number;
  udp_banned_ips_total: number;
  udp_avg_connect_processing_time_ns: number;
  udp_avg_announce_processing_time_ns: number;
  udp_avg_scrape_processing_time_ns: number;
  udp4_requests: number;
  udp4_connections_handled: number;
  udp4_announces_handled: number;
  udp4_scrapes_handled: number;
  udp4_responses: number;
  udp4_errors_handled: number;
  udp6_requests: number;
  udp6_connections_handled: number;
  udp6_announces_handled: number;
  udp6_scrapes_handled: number;
  udp6_responses: number;
  udp6_errors_handled: number;
}

/** torrust-tracker's flat object. Torrent figures are the BitTorrent (UDP and HTTP) swarms. */
export function flatStats(s: StatsSources): FlatStats {
  const t = s.torrents();
  const u4 = s.udp?.v4 ?? NO_UDP;
  const u6 = s.udp?.v6 ?? NO_UDP;
  const h4 = s.http?.v4 ?? NO_HTTP;
  const h6 = s.http?.v6 ?? NO_HTTP;
  return {
    torrents: t.torrents,
    seeders: t.seeders,
    completed: t.completed,
    leechers: t.leechers,
    // torrust counts every HTTP request here (HTTP has no handshake): announces plus scrapes.
    // Accepted TCP connections are in the nested shape.
    tcp4_connections_handled: h4.announces + h4.scrapes,
    tcp4_announces_handled: h4.announces,
    tcp4_scrapes_handled: h4.scrapes,
    tcp6_connections_handled: h6.announces + h6.scrapes,
    tcp6_announces_handled: h6.announces,
    tcp6_scrapes_handled: h6.scrapes,
    udp_requests_aborted: s.udp?.aborted ?? 0,
    udp_requests_banned: u4.banned + u6.banned,
    udp_banned_ips_total: s.udpBannedIps(),
    udp_avg_connect_processing_time_ns: Math.round(s.udp?.averageNs(TimedKind.Connect) ?? 0),
    udp_avg_announce_processing_time_ns: Math.round(s.udp?.averageNs(TimedKind.Announce) ?? 0),
    udp_avg_scrape_processing_time_ns: Math.round(s.udp?.averageNs(TimedKind.Scrape) ?? 0),
    udp4_requests: u4.requests,
    udp4_connections_handled: u4.connects,
    udp4_announces_handled: u4.announces,
    udp4_scrapes_handled: u4.scrapes,
    udp4_responses: u4.responses,
    udp4_errors_handled: u4.errors,
    udp6_requests: u6.requests,
    udp6_connections_handled: u6.connects,
    udp6_announces_handled: u6.announces,
    udp6_scrapes_handled: u6.scrapes,
    udp6_responses: u6.responses,
    udp6_errors_handled: u6.errors,
  };
}

function udpFamily(c: UdpFamilyCounters) {
  return {
    requests: c.requests,
    connections_handled: c.connects,
    announces_handled: c.announces,
    scrapes_handled: c.scrapes,
    responses: c.responses,
    errors_handled: c.errors,
    requests_banned: c.banned,
    malformed_requests: c.malformed,
    bad_connection_ids: c.badConnectionIds,
    refused_announces: c.refused,
  };
}

function httpFamily(c: HttpFamilyCounters) {
  return {
    // As in the flat shape (torrust's meaning): announces and scrapes handled.
    connections_handled: c.announces + c.scrapes,
    connections_accepted: c.connections,
    requests: c.requests,
    announces_handled: c.announces,
    scrapes_handled: c.scrapes,
    failures: c.failures,
    refused_announces: c.refused,
    rejected_requests: c.rejected,
    timeouts: c.timeouts,
  };
}

function wsFamily(c: WsFamilyCounters) {
  return {
    connections_handled: c.connections,
    announces_handled: c.announces,
    scrapes_handled: c.scrapes,
    offers_relayed: c.offersRelayed,
    answers_relayed: c.answersRelayed,
    answers_dropped: c.answersDropped,
    errors_handled: c.errors,
    refused_announces: c.refused,
  };
}

/** The nested shape, served at /api/v1/stats/nested. */
export function nestedStats(s: StatsSources) {
  const t = s.torrents();
  const w = s.webTorrents?.() ?? NO_TORRENTS;
  const udp = s.udp;
  const http = s.http;
  const ws = s.ws;
  return {
    torrent_metrics: {
      torrents: t.torrents,
      seeders: t.seeders,
      completed: t.completed,
      leechers: t.leechers,
    },
    udp_tracker_metrics: {
      requests_aborted: udp?.aborted ?? 0,
      requests_banned: (udp?.v4.banned ?? 0) + (udp?.v6.banned ?? 0),
      banned_ips_total: s.udpBannedIps(),
      bans_issued: udp?.bansIssued ?? 0,
      avg_connect_processing_time_ns: Math.round(udp?.averageNs(TimedKind.Connect) ?? 0),
      avg_announce_processing_time_ns: Math.round(udp?.averageNs(TimedKind.Announce) ?? 0),
      avg_scrape_processing_time_ns: Math.round(udp?.averageNs(TimedKind.Scrape) ?? 0),
      udp4: udpFamily(udp?.v4 ?? NO_UDP),
      udp6: udpFamily(udp?.v6 ?? NO_UDP),
    },
    http_tracker_metrics: {
      open_connections: http?.open ?? 0,
      connections_refused: http?.connectionsRefused ?? 0,
      tcp4: httpFamily(http?.v4 ?? NO_HTTP),
      tcp6: httpFamily(http?.v6 ?? NO_HTTP),
    },
    ws_tracker_metrics: {
      torrents: w.torrents,
      seeders: w.seeders,
      completed: w.completed,
      leechers: w.leechers,
      open_connections: ws?.open ?? 0,
      connections_refused: ws?.connectionsRefused ?? 0,
      offers_dropped: ws?.offersDropped ?? 0,
      closed_slow: ws?.closedSlow ?? 0,
      closed_idle: ws?.closedIdle ?? 0,
      closed_dead: ws?.closedDead ?? 0,
      closed_misbehaving: ws?.closedMisbehaving ?? 0,
      ws4: wsFamily(ws?.v4 ?? NO_WS),
      ws6: wsFamily(ws?.v6 ?? NO_WS),
    },
  };
}
