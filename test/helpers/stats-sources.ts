// Hand-filled statistics sources for unit tests of the JSON and Prometheus expositions: every
// counter gets its own distinct number, so a field that reads the wrong counter shows.

import { HttpStats } from "../../src/stats/http-counters.ts";
import type { StatsSources, TorrentFigures } from "../../src/stats/sources.ts";
import { TimedKind, UdpStats } from "../../src/stats/udp-counters.ts";
import { WsStats } from "../../src/stats/ws-counters.ts";

export interface FilledSources extends StatsSources {
  udp: UdpStats;
  http: HttpStats;
  ws: WsStats;
  figures: TorrentFigures;
  webFigures: TorrentFigures;
  bannedIps: number;
  unauthorized: number;
}

/** Sources with every counter set to a distinct value (see the numbers below). */
export function filledSources(): FilledSources {
  const udp = new UdpStats();
  Object.assign(udp.v4, {
    requests: 101,
    connects: 102,
    announces: 103,
    scrapes: 104,
    errors: 105,
    responses: 106,
    banned: 107,
    malformed: 108,
    badConnectionIds: 109,
    refused: 110,
  });
  Object.assign(udp.v6, {
    requests: 201,
    connects: 202,
    announces: 203,
    scrapes: 204,
    errors: 205,
    responses: 206,
    banned: 207,
    malformed: 208,
    badConnectionIds: 209,
    refused: 210,
  });
  udp.aborted = 11;
  udp.bansIssued = 12;
  // Means: connect 1.5 us, announce 4 us, scrape none.
  udp.durations[TimedKind.Connect].observe(1e-6);
  udp.durations[TimedKind.Connect].observe(2e-6);
  udp.durations[TimedKind.Announce].observe(4e-6);

  const http = new HttpStats();
  Object.assign(http.v4, {
    connections: 301,
    requests: 302,
    announces: 303,
    scrapes: 304,
    failures: 305,
    refused: 306,
    rejected: 307,
    timeouts: 308,
  });
  Object.assign(http.v6, {
    connections: 401,
    requests: 402,
    announces: 403,
    scrapes: 404,
    failures: 405,
    refused: 406,
    rejected: 407,
    timeouts: 408,
  });
  http.connectionsRefused = 13;
  http.open = 14;
  http.announceDurations.observe(3e-6);

  const ws = new WsStats();
  Object.assign(ws.v4, {
    connections: 501,
    announces: 502,
    scrapes: 503,
    offersRelayed: 504,
    answersRelayed: 505,
    answersDropped: 506,
    errors: 507,
    refused: 508,
  });
  Object.assign(ws.v6, {
    connections: 601,
    announces: 602,
    scrapes: 603,
    offersRelayed: 604,
    answersRelayed: 605,
    answersDropped: 606,
    errors: 607,
    refused: 608,
  });
  ws.open = 15;
  ws.connectionsRefused = 16;
  ws.offersDropped = 17;
  ws.closedSlow = 18;
  ws.closedIdle = 19;
  ws.closedDead = 20;
  ws.closedMisbehaving = 21;
  ws.scrapeDurations.observe(2);

  const s: FilledSources = {
    udp,
    http,
    ws,
    figures: { torrents: 1, seeders: 2, leechers: 3, completed: 4 },
    webFigures: { torrents: 5, seeders: 6, leechers: 7, completed: 8 },
    bannedIps: 22,
    unauthorized: 23,
    torrents: () => s.figures,
    webTorrents: () => s.webFigures,
    udpBannedIps: () => s.bannedIps,
    apiUnauthorized: () => s.unauthorized,
  };
  return s;
}

/** Sources of a tracker with every protocol off and nothing in its store. */
export function emptySources(): StatsSources {
  return {
    torrents: () => ({ torrents: 0, seeders: 0, leechers: 0, completed: 0 }),
    webTorrents: null,
    udp: null,
    udpBannedIps: () => 0,
    http: null,
    ws: null,
    apiUnauthorized: () => 0,
  };
}
