// Where the figures come from: the core's store (torrent figures) and each server's counters.
// The statistics exposition reads these when asked; nothing here runs per request.

import type { HttpStats } from "./http-counters.ts";
import type { UdpStats } from "./udp-counters.ts";
import type { WsStats } from "./ws-counters.ts";

export interface TorrentFigures {
  torrents: number;
  seeders: number;
  leechers: number;
  completed: number;
}

export interface StatsSources {
  /** BitTorrent swarms (UDP and HTTP peers). */
  torrents(): TorrentFigures;
  /** WebTorrent swarms; null when the WebSocket tracker is off. */
  webTorrents: (() => TorrentFigures) | null;
  udp: UdpStats | null;
  /** Sources under a UDP ban right now. */
  udpBannedIps(): number;
  http: HttpStats | null;
  ws: WsStats | null;
  /** API requests refused for a missing or wrong token. */
  apiUnauthorized(): number;
}
