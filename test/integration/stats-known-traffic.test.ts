// One tracker with every protocol on both loopbacks gets a known sequence of requests (UDP, HTTP
// and WebSocket, IPv4 and IPv6, good ones and bad ones), then every figure of the flat JSON
// statistics (torrust-tracker's names), of the nested JSON and of the Prometheus exposition is
// compared with the number that sequence must produce. The numbers are written out by hand
// from the sequence, step by step, in the comments below.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { type BencodeValue, bdecode } from "../../src/protocol/bencode.ts";
import {
  type Exposition,
  histogramSeries,
  parseExposition,
  sampleValue,
} from "../helpers/stats-prometheus.ts";
import {
  apiJson,
  apiRequest,
  httpExchange,
  httpGet,
  pollUntil,
  QueueWs,
  type RawResponse,
  type StatsShoal,
  startStatsShoal,
} from "../helpers/stats-shoal.ts";
import {
  Event,
  errorMessageOf,
  newTransactionId,
  randomHash,
  UdpTrackerClient,
} from "../helpers/udp-client.ts";

const TIMEOUT = 120_000;
/** Bad connection ids from one address before it is banned: IPv6 reaches it, IPv4 does not. */
const BAN_THRESHOLD = 3;

let s: StatsShoal;
let flat: Record<string, number>;
let nested: Record<string, unknown>;
let metricsText: string;
let metricsType: string | undefined;
let metrics: Exposition;
const sockets: QueueWs[] = [];
const udpClients: UdpTrackerClient[] = [];

// --- small builders ---

function pct(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `%${b.toString(16).padStart(2, "0")}`;
  return out;
}

function peerId(): Buffer {
  return Buffer.concat([Buffer.from("-ST0001-"), randomBytes(12)]);
}

function announcePath(hash: Uint8Array, id: Uint8Array, port: number, left: number, event?: string): string {
  return (
    `/announce?info_hash=${pct(hash)}&peer_id=${pct(id)}&port=${port}&uploaded=0&downloaded=0` +
    `&left=${left}${event === undefined ? "" : `&event=${event}`}`
  );
}

function scrapePath(...hashes: Uint8Array[]): string {
  return `/scrape?${hashes.map((h) => `info_hash=${pct(h)}`).join("&")}`;
}

function bdict(r: RawResponse): Map<string, BencodeValue> {
  assert.equal(r.status, 200, `HTTP status, body ${r.body.toString("latin1")}`);
  const v = bdecode(r.body);
  assert.ok(v instanceof Map, `a bencoded dictionary: ${r.body.toString("latin1")}`);
  return v;
}

function assertNoFailure(r: RawResponse): Map<string, BencodeValue> {
  const d = bdict(r);
  assert.equal(d.get("failure reason")?.toString(), undefined, "no failure reason");
  return d;
}

function failureOf(r: RawResponse): string {
  const reason = bdict(r).get("failure reason");
  assert.ok(Buffer.isBuffer(reason), `a failure reason in ${r.body.toString("latin1")}`);
  return reason.toString("latin1");
}

function bin(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("latin1");
}

function offer(sdp: string) {
  return { offer: { type: "offer", sdp }, offer_id: bin(randomBytes(20)) };
}

function shortPacket(): Buffer {
  return Buffer.from([1, 2, 3, 4, 5]);
}

/** 16 bytes with action `action` and a fresh transaction id. */
function packet16(action: number, protocolId: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(protocolId, 0);
  b.writeUInt32BE(action, 8);
  b.writeUInt32BE(newTransactionId(), 12);
  return b;
}

async function udpClient(family: 4 | 6): Promise<UdpTrackerClient> {
  const c = await UdpTrackerClient.open(family === 4 ? s.udp4 : s.udp6);
  udpClients.push(c);
  return c;
}

async function ws(family: 4 | 6): Promise<QueueWs> {
  const e = family === 4 ? s.http4 : s.http6;
  const host = family === 4 ? e.host : `[${e.host}]`;
  const c = await QueueWs.open(`ws://${host}:${e.port}/announce`);
  sockets.push(c);
  return c;
}

// Hashes: H1 (UDP, both families), H3 (UDP IPv6), H2 (HTTP, both families); W4 and W6 are
// WebTorrent swarms, which are kept apart from the BitTorrent ones.
const H1 = randomHash();
const H2 = randomHash();
const H3 = randomHash();
const W4 = bin(randomBytes(20));
const W6 = bin(randomBytes(20));

async function udpTraffic(): Promise<void> {
  // IPv4                                                 requests conn ann scr resp err malf badid
  const c4a = await udpClient(4);
  const c4b = await udpClient(4);
  for (let i = 0; i < 16; i++) await c4a.connect(); //     16      16   0   0   16   0   0    0
  await c4b.connect(); //                                  17      17   0   0   17   0   0    0
  for (let i = 0; i < 16; i++) {
    // 16 announces of one leecher; the first one "started".
    await c4a.announce({ infoHash: H1, left: 1000, event: i === 0 ? Event.Started : Event.None });
  } //                                                     33      17  16   0   33   0   0    0
  const seeded = await c4b.announce({ infoHash: H1, left: 0, event: Event.Completed });
  assert.deepEqual([seeded.seeders, seeded.leechers], [1, 1]); //  34  17  17  0  34   0   0    0
  for (let i = 0; i < 16; i++) await c4a.scrape([H1, H2]); //  50  17  17  16  50   0   0    0
  const wrongId = { hi: (c4a.connectionId!.hi ^ 0x5a5a5a5a) >>> 0, lo: c4a.connectionId!.lo };
  assert.equal(
    errorMessageOf(await c4a.request(await c4a.announceRequest({ infoHash: H1, connId: wrongId }))),
    "invalid connection id",
  ); //                                                    51      17  17  16   51   1   0    1
  assert.equal(errorMessageOf(await c4a.request(packet16(7, 0x41727101980n))), "unknown action");
  //                                                       52      17  17  16   52   2   1    1
  await c4a.send(shortPacket()); // no answer possible:     53      17  17  16   52   2   2    1
  const [h1] = await c4a.scrape([H1]); // also a barrier:  54      17  17  17   53   2   2    1
  assert.deepEqual(h1, { seeders: 1, completed: 1, leechers: 1 });

  // IPv6                                                 requests conn ann scr resp err malf badid banned
  const c6a = await udpClient(6);
  const c6b = await udpClient(6);
  await c6a.connect();
  await c6b.connect(); //                                   2       2   0   0    2   0   0    0    0
  await c6a.announce({ infoHash: H1, left: 1000, event: Event.Started }); // 3  2  1  0  3  0  0  0  0
  await c6b.announce({ infoHash: H3, left: 0, event: Event.Started }); //   4  2  2  0  4  0  0  0  0
  const scraped = await c6a.scrape([H1, H3]); //            5       2   2   1    5   0   0    0    0
  assert.deepEqual(scraped, [
    { seeders: 1, completed: 1, leechers: 2 },
    { seeders: 1, completed: 0, leechers: 0 },
  ]);
  const badProtocol = packet16(0, 0x1234n);
  assert.equal(errorMessageOf(await c6a.request(badProtocol)), "invalid protocol id");
  //                                                        6       2   2   1    6   1   1    0    0
  const wrong6 = { hi: (c6a.connectionId!.hi ^ 0x00ff00ff) >>> 0, lo: c6a.connectionId!.lo };
  for (let i = 0; i < BAN_THRESHOLD; i++) {
    const answer = await c6a.request(await c6a.announceRequest({ infoHash: H1, connId: wrong6 }));
    assert.equal(errorMessageOf(answer), "invalid connection id");
  } // the third one bans ::1:                               9       2   2   1    9   4   1    3    0
  await c6b.expectNoAnswer(c6b.connectRequest()); //        10       2   2   1    9   4   1    3    1
  await c6a.send(await c6a.scrapeRequest([H1])); //          11       2   2   1    9   4   1    3    2
}

async function httpTraffic(): Promise<void> {
  const [p1, p2, p3] = [peerId(), peerId(), peerId()];
  // IPv4                                                    connections requests ann scr fail rejected
  let d = assertNoFailure(await httpGet(s.http4, announcePath(H2, p1, 7001, 1000, "started"))); // 1 1 1 0 0 0
  assert.deepEqual([d.get("complete"), d.get("incomplete")], [0, 1]);
  d = assertNoFailure(await httpGet(s.http4, announcePath(H2, p2, 7002, 0, "completed"))); //      2 2 2 0 0 0
  assert.deepEqual([d.get("complete"), d.get("incomplete"), d.get("downloaded")], [1, 1, 1]);
  assertNoFailure(await httpGet(s.http4, scrapePath(H2))); //                                        3 3 2 1 0 0
  const kept = await httpExchange(s.http4, [announcePath(H2, p1, 7001, 1000), scrapePath(H1, H2)]);
  for (const r of kept) assertNoFailure(r); // one connection, two requests:                         4 5 3 2 0 0
  const noHash = `/announce?peer_id=${pct(p1)}&port=7009&uploaded=0&downloaded=0&left=1`;
  assert.match(failureOf(await httpGet(s.http4, noHash)), /info_hash/); //                           5 6 4 2 1 0
  assert.equal((await httpGet(s.http4, "/nothing-here")).status, 404); //                              6 7 4 2 1 1

  // IPv6
  d = assertNoFailure(await httpGet(s.http6, announcePath(H2, p3, 7003, 1000, "started"))); //     1 1 1 0 0 0
  assert.deepEqual([d.get("complete"), d.get("incomplete")], [1, 2]);
  assertNoFailure(await httpGet(s.http6, scrapePath(H2))); //                                        2 2 1 1 0 0
  assert.match(failureOf(await httpGet(s.http6, "/scrape?info_hash=abc")), /info_hash/); //          3 3 1 2 1 0
}

async function wsTraffic(): Promise<void> {
  // Every WebSocket is also an HTTP connection and an HTTP request (the upgrade).
  // IPv4                                          ws: ann scr offers answers dropped errors
  const a4 = await ws(4);
  const b4 = await ws(4);
  const [pa4, pb4] = [bin(peerId()), bin(peerId())];
  a4.send({ action: "announce", info_hash: W4, peer_id: pa4, left: 1000, event: "started", offers: [] });
  let m = await a4.next("A4's announce reply"); //                     1   0   0   0   0   0
  assert.deepEqual([m.action, m.incomplete, m.complete], ["announce", 1, 0]);
  const offers4 = [offer("v=0 b4-1"), offer("v=0 b4-2")];
  b4.send({ action: "announce", info_hash: W4, peer_id: pb4, left: 1000, event: "started", offers: offers4 });
  m = await b4.next("B4's announce reply"); // one other peer: one offer relayed   2  0  1  0  0  0
  assert.deepEqual([m.action, m.incomplete], ["announce", 2]);
  const relayed = await a4.next("the offer relayed to A4");
  assert.equal(relayed.peer_id, pb4);
  assert.ok(offers4.some((o) => o.offer_id === relayed.offer_id));
  const answer4 = {
    action: "announce",
    info_hash: W4,
    peer_id: pa4,
    to_peer_id: pb4,
    offer_id: relayed.offer_id,
    answer: { type: "answer", sdp: "v=0 a4" },
  };
  a4.send(answer4); // an answer-only message is not an announce                 2  0  1  1  0  0
  m = await b4.next("the answer relayed to B4");
  assert.deepEqual([m.offer_id, m.peer_id], [relayed.offer_id, pa4]);
  a4.send(answer4); // the same offer answered twice: dropped                    2  0  1  1  1  0
  a4.send({ action: "scrape", info_hash: W4 }); //                               2  1  1  1  1  0
  m = await a4.next("A4's scrape reply (also proves the second answer was dropped)");
  assert.equal(m.action, "scrape");
  assert.deepEqual((m.files as Record<string, unknown>)[W4], { complete: 0, downloaded: 0, incomplete: 2 });
  b4.send("this is not JSON"); //                                                2  1  1  1  1  1
  m = await b4.next("B4's failure reply");
  assert.equal(typeof m["failure reason"], "string");
  b4.send({ action: "announce", info_hash: W4, peer_id: pb4, left: 0, event: "completed" }); // 3 1 1 1 1 1
  m = await b4.next("B4's completed reply");
  assert.deepEqual([m.complete, m.incomplete], [1, 1]);

  // IPv6
  const a6 = await ws(6);
  const b6 = await ws(6);
  const [pa6, pb6] = [bin(peerId()), bin(peerId())];
  a6.send({ action: "announce", info_hash: W6, peer_id: pa6, left: 1000, event: "started" }); // 1 0 0 0 0 0
  await a6.next("A6's announce reply");
  const offers6 = [offer("v=0 b6-1")];
  b6.send({ action: "announce", info_hash: W6, peer_id: pb6, left: 1000, event: "started", offers: offers6 });
  await b6.next("B6's announce reply"); //                                       2  0  1  0  0  0
  const relayed6 = await a6.next("the offer relayed to A6");
  assert.equal(relayed6.offer_id, offers6[0].offer_id);
  const answer6 = {
    action: "announce",
    info_hash: W6,
    peer_id: pa6,
    to_peer_id: pb6,
    offer_id: relayed6.offer_id,
    answer: { type: "answer", sdp: "v=0 a6" },
  };
  a6.send(answer6); //                                                           2  0  1  1  0  0
  m = await b6.next("the answer relayed to B6");
  assert.equal(m.offer_id, relayed6.offer_id);
  a6.send({ ...answer6, offer_id: bin(randomBytes(20)) }); // an offer never made: dropped  2 0 1 1 1 0
  b6.send({ action: "scrape", info_hash: [W6] }); //                             2  1  1  1  1  0
  m = await b6.next("B6's scrape reply");
  assert.deepEqual((m.files as Record<string, unknown>)[W6], { complete: 0, downloaded: 0, incomplete: 2 });
  a6.send({ action: "no-such-action" }); //                                      2  1  1  1  1  1
  m = await a6.next("A6's failure reply (also proves the unknown answer was dropped)");
  assert.equal(typeof m["failure reason"], "string");

  for (const c of [a4, b4, a6, b6]) assert.equal(c.untaken, 0, "no message beyond those expected");
}

// --- the expected figures ---

const EXPECTED_FLAT = {
  // BitTorrent swarms: H1 {seeder c4b; leechers c4a, c6a; 1 download}, H3 {seeder c6b},
  // H2 {seeder :7002; leechers :7001, [::1]:7003; 1 download}.
  torrents: 3,
  seeders: 3,
  completed: 2,
  leechers: 4,
  // torrust's meaning: every HTTP announce and scrape (4 + 2); accepted connections are nested.
  tcp4_connections_handled: 6,
  tcp4_announces_handled: 4,
  tcp4_scrapes_handled: 2,
  tcp6_connections_handled: 3,
  tcp6_announces_handled: 1,
  tcp6_scrapes_handled: 2,
  udp_requests_aborted: 0,
  udp_requests_banned: 2,
  udp_banned_ips_total: 1,
  udp_avg_connect_processing_time_ns: -1, // checked apart: sampled
  udp_avg_announce_processing_time_ns: -1,
  udp_avg_scrape_processing_time_ns: -1,
  udp4_requests: 54,
  udp4_connections_handled: 17,
  udp4_announces_handled: 17,
  udp4_scrapes_handled: 17,
  udp4_responses: 53,
  udp4_errors_handled: 2,
  udp6_requests: 11,
  udp6_connections_handled: 2,
  udp6_announces_handled: 2,
  udp6_scrapes_handled: 1,
  udp6_responses: 9,
  udp6_errors_handled: 4,
};
const AVG_FIELDS = [
  "udp_avg_connect_processing_time_ns",
  "udp_avg_announce_processing_time_ns",
  "udp_avg_scrape_processing_time_ns",
] as const;

const EXPECTED_NESTED = {
  torrent_metrics: { torrents: 3, seeders: 3, completed: 2, leechers: 4 },
  udp_tracker_metrics: {
    requests_aborted: 0,
    requests_banned: 2,
    banned_ips_total: 1,
    bans_issued: 1,
    avg_connect_processing_time_ns: -1,
    avg_announce_processing_time_ns: -1,
    avg_scrape_processing_time_ns: -1,
    udp4: {
      requests: 54,
      connections_handled: 17,
      announces_handled: 17,
      scrapes_handled: 17,
      responses: 53,
      errors_handled: 2,
      requests_banned: 0,
      malformed_requests: 2,
      bad_connection_ids: 1,
      refused_announces: 0,
    },
    udp6: {
      requests: 11,
      connections_handled: 2,
      announces_handled: 2,
      scrapes_handled: 1,
      responses: 9,
      errors_handled: 4,
      requests_banned: 2,
      malformed_requests: 1,
      bad_connection_ids: 3,
      refused_announces: 0,
    },
  },
  http_tracker_metrics: {
    open_connections: 0,
    connections_refused: 0,
    tcp4: {
      connections_handled: 6,
      connections_accepted: 8,
      requests: 9,
      announces_handled: 4,
      scrapes_handled: 2,
      failures: 1,
      refused_announces: 0,
      rejected_requests: 1,
      timeouts: 0,
    },
    tcp6: {
      connections_handled: 3,
      connections_accepted: 5,
      requests: 5,
      announces_handled: 1,
      scrapes_handled: 2,
      failures: 1,
      refused_announces: 0,
      rejected_requests: 0,
      timeouts: 0,
    },
  },
  ws_tracker_metrics: {
    // W4 {seeder B4 (completed); leecher A4}, W6 {leechers A6, B6}.
    torrents: 2,
    seeders: 1,
    completed: 1,
    leechers: 3,
    open_connections: 4,
    connections_refused: 0,
    offers_dropped: 0,
    closed_slow: 0,
    closed_idle: 0,
    closed_dead: 0,
    closed_misbehaving: 0,
    ws4: {
      connections_handled: 2,
      announces_handled: 3,
      scrapes_handled: 1,
      offers_relayed: 1,
      answers_relayed: 1,
      answers_dropped: 1,
      errors_handled: 1,
      refused_announces: 0,
    },
    ws6: {
      connections_handled: 2,
      announces_handled: 2,
      scrapes_handled: 1,
      offers_relayed: 1,
      answers_relayed: 1,
      answers_dropped: 1,
      errors_handled: 1,
      refused_announces: 0,
    },
  },
};

type Series = [name: string, labels: Record<string, string>, value: number];
const fam = (f: 4 | 6, extra: Record<string, string> = {}) => ({ ...extra, ip_family: String(f) });

const EXPECTED_SERIES: Series[] = [
  ["shoal_requests_total", fam(4, { protocol: "udp", kind: "connect" }), 17],
  ["shoal_requests_total", fam(6, { protocol: "udp", kind: "connect" }), 2],
  ["shoal_requests_total", fam(4, { protocol: "udp", kind: "announce" }), 17],
  ["shoal_requests_total", fam(6, { protocol: "udp", kind: "announce" }), 2],
  ["shoal_requests_total", fam(4, { protocol: "udp", kind: "scrape" }), 17],
  ["shoal_requests_total", fam(6, { protocol: "udp", kind: "scrape" }), 1],
  ["shoal_requests_total", fam(4, { protocol: "http", kind: "announce" }), 4],
  ["shoal_requests_total", fam(6, { protocol: "http", kind: "announce" }), 1],
  ["shoal_requests_total", fam(4, { protocol: "http", kind: "scrape" }), 2],
  ["shoal_requests_total", fam(6, { protocol: "http", kind: "scrape" }), 2],
  ["shoal_requests_total", fam(4, { protocol: "ws", kind: "announce" }), 3],
  ["shoal_requests_total", fam(6, { protocol: "ws", kind: "announce" }), 2],
  ["shoal_requests_total", fam(4, { protocol: "ws", kind: "scrape" }), 1],
  ["shoal_requests_total", fam(6, { protocol: "ws", kind: "scrape" }), 1],
  ["shoal_errors_total", fam(4, { protocol: "udp" }), 2],
  ["shoal_errors_total", fam(6, { protocol: "udp" }), 4],
  ["shoal_errors_total", fam(4, { protocol: "http" }), 1],
  ["shoal_errors_total", fam(6, { protocol: "http" }), 1],
  ["shoal_errors_total", fam(4, { protocol: "ws" }), 1],
  ["shoal_errors_total", fam(6, { protocol: "ws" }), 1],
  ...(["udp", "http", "ws"] as const).flatMap((protocol): Series[] => [
    ["shoal_refused_announces_total", fam(4, { protocol }), 0],
    ["shoal_refused_announces_total", fam(6, { protocol }), 0],
  ]),
  ["shoal_udp_datagrams_received_total", fam(4), 54],
  ["shoal_udp_datagrams_received_total", fam(6), 11],
  ["shoal_udp_responses_total", fam(4), 53],
  ["shoal_udp_responses_total", fam(6), 9],
  ["shoal_udp_malformed_total", fam(4), 2],
  ["shoal_udp_malformed_total", fam(6), 1],
  ["shoal_udp_bad_connection_ids_total", fam(4), 1],
  ["shoal_udp_bad_connection_ids_total", fam(6), 3],
  ["shoal_udp_banned_requests_total", fam(4), 0],
  ["shoal_udp_banned_requests_total", fam(6), 2],
  ["shoal_udp_aborted_requests_total", {}, 0],
  ["shoal_udp_bans_total", {}, 1],
  ["shoal_udp_banned_ips", {}, 1],
  ["shoal_connections_total", fam(4, { protocol: "http" }), 8],
  ["shoal_connections_total", fam(6, { protocol: "http" }), 5],
  ["shoal_connections_total", fam(4, { protocol: "ws" }), 2],
  ["shoal_connections_total", fam(6, { protocol: "ws" }), 2],
  ["shoal_open_connections", { protocol: "http" }, 0],
  ["shoal_open_connections", { protocol: "ws" }, 4],
  ["shoal_connections_refused_total", { protocol: "http" }, 0],
  ["shoal_connections_refused_total", { protocol: "ws" }, 0],
  ["shoal_http_requests_total", fam(4), 9],
  ["shoal_http_requests_total", fam(6), 5],
  ["shoal_http_rejected_requests_total", fam(4), 1],
  ["shoal_http_rejected_requests_total", fam(6), 0],
  ["shoal_http_timeouts_total", fam(4), 0],
  ["shoal_http_timeouts_total", fam(6), 0],
  ["shoal_ws_offers_relayed_total", fam(4), 1],
  ["shoal_ws_offers_relayed_total", fam(6), 1],
  ["shoal_ws_answers_relayed_total", fam(4), 1],
  ["shoal_ws_answers_relayed_total", fam(6), 1],
  ["shoal_ws_answers_dropped_total", fam(4), 1],
  ["shoal_ws_answers_dropped_total", fam(6), 1],
  ["shoal_ws_offers_dropped_total", {}, 0],
  ["shoal_ws_disconnects_total", { reason: "slow_reader" }, 0],
  ["shoal_ws_disconnects_total", { reason: "idle" }, 0],
  ["shoal_ws_disconnects_total", { reason: "no_pong" }, 0],
  ["shoal_ws_disconnects_total", { reason: "misbehaving" }, 0],
  ["shoal_torrents", { swarm: "bittorrent" }, 3],
  ["shoal_torrents", { swarm: "webtorrent" }, 2],
  ["shoal_seeders", { swarm: "bittorrent" }, 3],
  ["shoal_seeders", { swarm: "webtorrent" }, 1],
  ["shoal_leechers", { swarm: "bittorrent" }, 4],
  ["shoal_leechers", { swarm: "webtorrent" }, 3],
  ["shoal_downloads_total", { swarm: "bittorrent" }, 2],
  ["shoal_downloads_total", { swarm: "webtorrent" }, 1],
  ["shoal_api_unauthorized_total", {}, 0],
];

/** How many requests of each timed kind were sent (a histogram cannot count more). */
const TIMED: [protocol: string, kind: string, sent: number][] = [
  ["udp", "connect", 17 + 2],
  ["udp", "announce", 17 + 2],
  ["udp", "scrape", 17 + 1],
  ["http", "announce", 4 + 1],
  ["http", "scrape", 2 + 2],
  // WebSocket: answer-only messages are not announces.
  ["ws", "announce", 3 + 2],
  ["ws", "scrape", 1 + 1],
];

describe("statistics after a known sequence of requests", { timeout: TIMEOUT }, () => {
  before(async () => {
    s = await startStatsShoal({ sections: { udp: { ban_threshold: BAN_THRESHOLD } } });
    await s.shoal.whileRunning(
      (async () => {
        await udpTraffic();
        await httpTraffic();
        await wsTraffic();
      })(),
    );
    // The last banned datagram has no answer to wait for, and a closed HTTP connection is
    // counted out when the tracker sees it close: wait (bounded) for both to settle.
    const settled = await pollUntil(
      () => apiJson<typeof EXPECTED_NESTED>(s.api, "/api/v1/stats/nested"),
      (n) => n.udp_tracker_metrics.udp6.requests >= 11 && n.http_tracker_metrics.open_connections === 0,
      "the last UDP datagram counted and every HTTP connection closed",
    );
    assert.ok(settled);
    flat = await apiJson<Record<string, number>>(s.api, "/api/v1/stats");
    nested = await apiJson<Record<string, unknown>>(s.api, "/api/v1/stats/nested");
    const m = await apiRequest(s.api, "/metrics");
    assert.equal(m.status, 200);
    metricsText = m.text;
    metricsType = m.headers["content-type"];
    metrics = parseExposition(metricsText);
  });

  after(async () => {
    await Promise.all(sockets.map((c) => c.close()));
    for (const c of udpClients) c.close();
    await s?.shoal.cleanup();
  });

  test("GET /api/v1/stats has exactly torrust-tracker's fields, each with the expected number", () => {
    assert.deepEqual(Object.keys(flat).sort(), Object.keys(EXPECTED_FLAT).sort());
    const withoutAverages = { ...flat };
    for (const k of AVG_FIELDS) withoutAverages[k] = -1;
    assert.deepEqual(withoutAverages, EXPECTED_FLAT);
  });

  test("the UDP average processing times are integers, above 0 for each kind sent 16 times in a row", () => {
    for (const k of AVG_FIELDS) {
      assert.ok(Number.isInteger(flat[k]) && flat[k] > 0, `${k} = ${flat[k]}`);
    }
    const u = nested.udp_tracker_metrics as Record<string, number>;
    assert.equal(u.avg_connect_processing_time_ns, flat.udp_avg_connect_processing_time_ns);
    assert.equal(u.avg_announce_processing_time_ns, flat.udp_avg_announce_processing_time_ns);
    assert.equal(u.avg_scrape_processing_time_ns, flat.udp_avg_scrape_processing_time_ns);
  });

  test("GET /api/v1/stats/nested has every field with the expected number", () => {
    const copy = structuredClone(nested) as typeof EXPECTED_NESTED;
    copy.udp_tracker_metrics.avg_connect_processing_time_ns = -1;
    copy.udp_tracker_metrics.avg_announce_processing_time_ns = -1;
    copy.udp_tracker_metrics.avg_scrape_processing_time_ns = -1;
    assert.deepEqual(copy, EXPECTED_NESTED);
  });

  test("GET /metrics is text exposition 0.0.4 with every shoal series at the expected value", () => {
    assert.match(metricsType ?? "", /^text\/plain; version=0\.0\.4/);
    const wrong: string[] = [];
    for (const [name, labels, value] of EXPECTED_SERIES) {
      const got = sampleValue(metrics, name, labels);
      if (got !== value) wrong.push(`${name}${JSON.stringify(labels)} = ${got}, expected ${value}`);
    }
    assert.deepEqual(wrong, []);
  });

  test("every shoal_ family is covered by the expectations, and has HELP and TYPE", () => {
    const covered = new Set([...EXPECTED_SERIES.map(([n]) => n), "shoal_request_duration_seconds"]);
    const shoalFamilies = [...metrics.families.values()].filter((f) => f.name.startsWith("shoal_"));
    assert.deepEqual(shoalFamilies.map((f) => f.name).sort(), [...covered].sort());
    for (const f of shoalFamilies) {
      assert.ok(f.help !== null && f.help !== "", `${f.name} has HELP`);
      assert.ok(f.type !== null, `${f.name} has TYPE`);
      if (f.name.endsWith("_total")) assert.equal(f.type, "counter", `${f.name} is a counter`);
    }
    // Each expected series appears once and there are no others.
    const plain = metrics.samples.filter(
      (x) => x.name.startsWith("shoal_") && !x.name.startsWith("shoal_request_duration_seconds"),
    );
    assert.equal(plain.length, EXPECTED_SERIES.length, "no shoal_ series beyond the expected ones");
  });

  test("shoal_request_duration_seconds: one series per timed kind, cumulative, +Inf bucket == _count", () => {
    const series = histogramSeries(metrics, "shoal_request_duration_seconds");
    const f = metrics.families.get("shoal_request_duration_seconds");
    assert.equal(f?.type, "histogram");
    assert.deepEqual(
      series.map((h) => `${h.labels.protocol}/${h.labels.kind}`).sort(),
      TIMED.map(([p, k]) => `${p}/${k}`).sort(),
    );
    for (const h of series) {
      const name = `${h.labels.protocol}/${h.labels.kind}`;
      assert.deepEqual(Object.keys(h.labels).sort(), ["kind", "protocol"], name);
      assert.ok(h.buckets.length >= 2, `${name} has buckets`);
      for (let i = 1; i < h.buckets.length; i++) {
        assert.ok(h.buckets[i].le > h.buckets[i - 1].le, `${name}: bounds ascend`);
        assert.ok(h.buckets[i].count >= h.buckets[i - 1].count, `${name}: cumulative counts never decrease`);
      }
      const last = h.buckets[h.buckets.length - 1];
      assert.equal(last.le, Number.POSITIVE_INFINITY, `${name}: the last bucket is +Inf`);
      assert.equal(last.count, h.count, `${name}: +Inf bucket == _count`);
      assert.ok(Number.isInteger(h.count) && h.count >= 0, `${name}: _count ${h.count}`);
      assert.ok(h.sum >= 0 && Number.isFinite(h.sum), `${name}: _sum ${h.sum}`);
      if (h.count === 0) assert.equal(h.sum, 0, `${name}: no observation, no sum`);
      const sent = TIMED.find(([p, k]) => p === h.labels.protocol && k === h.labels.kind)![2];
      assert.ok(h.count <= sent, `${name}: ${h.count} observations of ${sent} requests`);
    }
    // The JSON averages are the histograms' means.
    for (const [kind, field] of [
      ["connect", "udp_avg_connect_processing_time_ns"],
      ["announce", "udp_avg_announce_processing_time_ns"],
      ["scrape", "udp_avg_scrape_processing_time_ns"],
    ] as const) {
      const h = series.find((x) => x.labels.protocol === "udp" && x.labels.kind === kind)!;
      assert.ok(h.count >= 1, `udp ${kind}: sampled at least once in 16 consecutive requests`);
      const mean = Math.round((h.sum / h.count) * 1e9);
      assert.ok(Math.abs(mean - flat[field]) <= 1, `udp ${kind}: mean ${mean} ns, ${field} ${flat[field]}`);
    }
  });

  // Last, since it changes the state the other tests read.
  test("when the WebSockets close, their peers leave the WebTorrent swarms and nothing else moves", async () => {
    await Promise.all(sockets.map((c) => c.close()));
    const n = await pollUntil(
      () => apiJson<typeof EXPECTED_NESTED>(s.api, "/api/v1/stats/nested"),
      (x) => x.ws_tracker_metrics.open_connections === 0,
      "every WebSocket counted out",
    );
    assert.deepEqual(n.ws_tracker_metrics, {
      ...EXPECTED_NESTED.ws_tracker_metrics,
      // W4 stays for its download count; W6 is gone. Closing is the client's doing, not shoal's.
      torrents: 1,
      seeders: 0,
      leechers: 0,
      completed: 1,
      open_connections: 0,
    });
    assert.deepEqual(n.http_tracker_metrics, EXPECTED_NESTED.http_tracker_metrics);
    assert.deepEqual(n.torrent_metrics, EXPECTED_NESTED.torrent_metrics);
    const e = parseExposition((await apiRequest(s.api, "/metrics")).text);
    assert.equal(sampleValue(e, "shoal_torrents", { swarm: "webtorrent" }), 1);
    assert.equal(sampleValue(e, "shoal_leechers", { swarm: "webtorrent" }), 0);
    assert.equal(sampleValue(e, "shoal_seeders", { swarm: "webtorrent" }), 0);
    assert.equal(sampleValue(e, "shoal_downloads_total", { swarm: "webtorrent" }), 1);
    assert.equal(sampleValue(e, "shoal_open_connections", { protocol: "ws" }), 0);
  });

  test("the metrics text ends with a newline and has no duplicate series", () => {
    assert.ok(metricsText.endsWith("\n"));
    const keys = metrics.samples.map((x) => `${x.name}${JSON.stringify(Object.entries(x.labels).sort())}`);
    assert.equal(new Set(keys).size, keys.length);
  });
});
