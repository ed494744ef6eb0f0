// One datagram in, at most one answer out, over plain byte arrays. The socket backend (dgram
// today, batched recvmmsg/sendmmsg later) owns the sockets and calls this for each datagram.

import { AnnounceRequest, AnnounceResult, SCRAPE_STRIDE, setEndpoint } from "../../core/announce.ts";
import type { Clock } from "../../core/clock.ts";
import { AnnounceStatus, type Tracker } from "../../core/tracker.ts";
import type { ConnectionIds } from "../../protocol/udp/connection-id.ts";
import { Action, MAX_SCRAPE_HASHES, ParseError, parseErrorMessage } from "../../protocol/udp/constants.ts";
import { parseRequest, UdpRequest } from "../../protocol/udp/request.ts";
import {
  MAX_ERROR_RESPONSE_LEN,
  writeAnnounceResponseHeader,
  writeConnectResponse,
  writeErrorResponse,
  writeScrapeEntry,
  writeScrapeResponseHeader,
} from "../../protocol/udp/response.ts";
import { Sampler } from "../../stats/histogram.ts";
import { TimedKind, type UdpStats } from "../../stats/udp-counters.ts";
import type { BanList } from "./ban-list.ts";

/**
 * Largest answer the handler writes: an announce header and max_numwant IPv6 peers, a full
 * scrape (74 entries), or an error, whichever is longest.
 */
export function maxAnswerLength(maxNumwant: number): number {
  return Math.max(20 + 18 * maxNumwant, 8 + 12 * MAX_SCRAPE_HASHES, MAX_ERROR_RESPONSE_LEN);
}

/** Delivers an answer that was computed after `handle` returned (asynchronous stores). */
export type LateAnswer = (answer: Uint8Array, length: number) => void;

const ANNOUNCE_HEADER = 20;

export class UdpHandler {
  private readonly tracker: Tracker;
  private readonly ids: ConnectionIds;
  private readonly bans: BanList;
  private readonly clock: Clock;
  readonly stats: UdpStats;
  private readonly req = new UdpRequest();
  private readonly announceReq = new AnnounceRequest();
  private readonly announceRes: AnnounceResult;
  private readonly scrapeHashes: string[] = new Array(MAX_SCRAPE_HASHES).fill("");
  private readonly scrapeOut = new Float64Array(MAX_SCRAPE_HASHES * SCRAPE_STRIDE);
  private readonly sampler = new Sampler();

  constructor(tracker: Tracker, ids: ConnectionIds, bans: BanList, clock: Clock, stats: UdpStats) {
    this.tracker = tracker;
    this.ids = ids;
    this.bans = bans;
    this.clock = clock;
    this.stats = stats;
    this.announceRes = new AnnounceResult(tracker.maxNumwant);
  }

  /**
   * Handles one datagram from `addr` (16 bytes, IPv4 mapped) and writes the answer into `out`
   * at `at`. Returns the answer's length, 0 for no answer, or -1 when the answer will come
   * later through `late` (only with an asynchronous store).
   */
  handle(
    packet: Buffer,
    family: 4 | 6,
    addr: Uint8Array,
    out: Uint8Array,
    at: number,
    late: LateAnswer,
  ): number {
    const counters = this.stats.family(family);
    counters.requests++;
    const now = this.clock.now;
    if (this.bans.isBanned(addr, family, now)) {
      counters.banned++;
      return 0;
    }
    const req = this.req;
    const code = parseRequest(packet, packet.length, req);
    if (code !== ParseError.None) {
      counters.malformed++;
      if (req.transactionId === -1) return 0; // too short to carry a transaction id
      return this.error(counters, out, at, req.transactionId, parseErrorMessage(code));
    }
    if (req.action !== Action.Connect && !this.ids.check(addr, req.connIdHi, req.connIdLo, now)) {
      counters.badConnectionIds++;
      if (this.bans.strike(addr, family, now)) this.stats.bansIssued++;
      return this.error(counters, out, at, req.transactionId, "invalid connection id");
    }
    const sample = this.sampler.next();
    const started = sample ? performance.now() : 0;
    let n: number;
    let kind: number;
    if (req.action === Action.Connect) {
      kind = TimedKind.Connect;
      counters.connects++;
      this.ids.make(addr, now);
      n = writeConnectResponse(out, at, req.transactionId, this.ids.hi, this.ids.lo) - at;
      counters.responses++;
    } else if (req.action === Action.Announce) {
      kind = TimedKind.Announce;
      counters.announces++;
      n = this.announce(packet, family, addr, out, at, late, counters);
    } else {
      kind = TimedKind.Scrape;
      counters.scrapes++;
      n = this.scrape(packet, out, at, late, counters);
    }
    if (sample) this.stats.durations[kind].observe((performance.now() - started) / 1000);
    return n;
  }

  private announce(
    packet: Buffer,
    family: 4 | 6,
    addr: Uint8Array,
    out: Uint8Array,
    at: number,
    late: LateAnswer,
    counters: UdpStats["v4"],
  ): number {
    const req = this.req;
    const tracker = this.tracker;
    const synchronous = tracker.store.synchronous;
    const a = synchronous ? this.announceReq : new AnnounceRequest();
    a.infoHash = req.infoHash;
    const epLen = setEndpoint(a, addr, family, req.port);
    const id = a.peerId;
    for (let i = 0, o = req.peerIdOffset; i < 20; i++, o++) id[i] = packet[o];
    a.seeder = req.leftIsZero;
    a.event = req.event;
    a.numWant = tracker.numWant(req.numWant);
    a.group = 0;
    const tid = req.transactionId;
    if (synchronous) {
      const res = this.announceRes;
      res.out = out;
      res.outOffset = at + ANNOUNCE_HEADER;
      const status = tracker.announce(a, res) as number;
      if (status !== AnnounceStatus.Ok) return this.refused(counters, out, at, tid);
      writeAnnounceResponseHeader(out, at, tid, tracker.announceInterval, res.leechers, res.seeders);
      counters.responses++;
      return ANNOUNCE_HEADER + res.peerCount * epLen;
    }
    const res = new AnnounceResult(tracker.maxNumwant);
    const answer = new Uint8Array(maxAnswerLength(tracker.maxNumwant));
    res.out = answer;
    res.outOffset = ANNOUNCE_HEADER;
    const pending = tracker.announce(a, res);
    if (typeof pending === "number") return this.refused(counters, out, at, tid);
    pending.then(
      (status) => {
        let n: number;
        if (status !== AnnounceStatus.Ok) {
          counters.refused++;
          counters.errors++;
          n = writeErrorResponse(answer, 0, tid, "info hash not allowed");
        } else {
          n = writeAnnounceResponseHeader(
            answer,
            0,
            tid,
            tracker.announceInterval,
            res.leechers,
            res.seeders,
          );
          n += res.peerCount * epLen;
        }
        counters.responses++;
        late(answer, n);
      },
      () => {
        this.stats.aborted++;
      },
    );
    return -1;
  }

  private scrape(
    packet: Buffer,
    out: Uint8Array,
    at: number,
    late: LateAnswer,
    counters: UdpStats["v4"],
  ): number {
    const req = this.req;
    const count = req.scrapeCount;
    const tid = req.transactionId;
    const synchronous = this.tracker.store.synchronous;
    const hashes = synchronous ? this.scrapeHashes : new Array<string>(count);
    for (let i = 0, o = req.scrapeOffset; i < count; i++, o += 20)
      hashes[i] = packet.toString("latin1", o, o + 20);
    const figures = synchronous ? this.scrapeOut : new Float64Array(count * SCRAPE_STRIDE);
    const pending = this.tracker.scrape(hashes, count, figures);
    if (pending === undefined) {
      counters.responses++;
      return writeScrape(out, at, tid, count, figures) - at;
    }
    pending.then(
      () => {
        const answer = new Uint8Array(8 + 12 * count);
        counters.responses++;
        late(answer, writeScrape(answer, 0, tid, count, figures));
      },
      () => {
        this.stats.aborted++;
      },
    );
    return -1;
  }

  private refused(counters: UdpStats["v4"], out: Uint8Array, at: number, tid: number): number {
    counters.refused++;
    return this.error(counters, out, at, tid, "info hash not allowed");
  }

  private error(counters: UdpStats["v4"], out: Uint8Array, at: number, tid: number, message: string): number {
    counters.errors++;
    counters.responses++;
    return writeErrorResponse(out, at, tid, message) - at;
  }
}

function writeScrape(out: Uint8Array, at: number, tid: number, count: number, figures: Float64Array): number {
  let o = writeScrapeResponseHeader(out, at, tid);
  for (let i = 0, f = 0; i < count; i++, f += SCRAPE_STRIDE) {
    o = writeScrapeEntry(out, o, figures[f], figures[f + 1], figures[f + 2]);
  }
  return o;
}
