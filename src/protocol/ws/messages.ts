// The WebTorrent tracker protocol: JSON text messages over a WebSocket, as WebTorrent and the
// bittorrent-tracker package speak it. Info hashes, peer ids and offer ids are 20-character
// "binary strings" (one character per byte, U+0000..U+00FF).

export const WsEvent = { None: 0, Completed: 1, Started: 2, Stopped: 3 } as const;

export interface SessionDescription {
  type: string;
  sdp: string;
}

export interface WsOffer {
  offer: SessionDescription;
  offerId: string;
}

export interface WsAnnounce {
  action: "announce";
  infoHash: string;
  peerId: string;
  /** -1 when the client did not say. */
  numWant: number;
  /** null when the client did not say (an answer-only message). */
  left: number | null;
  event: number;
  offers: WsOffer[];
  /** Offers beyond the per-announce limit, dropped. */
  offersDropped: number;
  /** An answer to relay to `toPeerId`, for the offer `offerId`. */
  answer: SessionDescription | null;
  toPeerId: string | null;
  offerId: string | null;
}

export interface WsScrape {
  action: "scrape";
  /** Empty for a scrape of every torrent. */
  infoHashes: string[];
}

export interface WsParseError {
  action: "error";
  reason: string;
  /** What the request was about, when that much could be read: replies carry it back. */
  requestAction: "announce" | "scrape" | null;
  infoHash: string | null;
}

export type WsRequest = WsAnnounce | WsScrape | WsParseError;

const EVENTS: Record<string, number> = {
  started: WsEvent.Started,
  stopped: WsEvent.Stopped,
  completed: WsEvent.Completed,
  update: WsEvent.None,
  "": WsEvent.None,
};

/** A 20-character string of code points U+0000..U+00FF. */
export function isBinary20(v: unknown): v is string {
  if (typeof v !== "string" || v.length !== 20) return false;
  for (let i = 0; i < 20; i++) if (v.charCodeAt(i) > 0xff) return false;
  return true;
}

function description(v: unknown, type: string): SessionDescription | null {
  if (typeof v !== "object" || v === null) return null;
  const d = v as Record<string, unknown>;
  if (d.type !== type || typeof d.sdp !== "string") return null;
  return { type, sdp: d.sdp };
}

function count(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return Number.NaN;
  return v;
}

/** Parses one text message; never throws. */
export function parseWsMessage(text: string, maxOffers: number): WsRequest {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return fail("invalid JSON", null, null);
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
    return fail("a message must be a JSON object", null, null);
  }
  const m = msg as Record<string, unknown>;
  if (m.action === "scrape") return parseScrape(m);
  if (m.action !== "announce") return fail('action must be "announce" or "scrape"', null, null);

  if (m.info_hash === undefined) return fail("missing info_hash", "announce", null);
  if (!isBinary20(m.info_hash)) return fail("info_hash must be a 20-byte binary string", "announce", null);
  const infoHash = m.info_hash;
  if (m.peer_id === undefined) return fail("missing peer_id", "announce", infoHash);
  if (!isBinary20(m.peer_id)) return fail("peer_id must be a 20-byte binary string", "announce", infoHash);

  const numWant = count(m.numwant);
  if (Number.isNaN(numWant)) return fail("numwant must be a non-negative number", "announce", infoHash);
  const left = count(m.left);
  if (Number.isNaN(left)) return fail("left must be a non-negative number", "announce", infoHash);
  let event: number = WsEvent.None;
  if (m.event !== undefined && m.event !== null) {
    const e = typeof m.event === "string" && Object.hasOwn(EVENTS, m.event) ? EVENTS[m.event] : undefined;
    if (e === undefined) return fail("invalid event", "announce", infoHash);
    event = e;
  }

  const offers: WsOffer[] = [];
  let offersDropped = 0;
  if (m.offers !== undefined && m.offers !== null) {
    if (!Array.isArray(m.offers)) return fail("offers must be a list", "announce", infoHash);
    for (const o of m.offers) {
      if (offers.length >= maxOffers) {
        offersDropped++;
        continue;
      }
      const entry = typeof o === "object" && o !== null ? (o as Record<string, unknown>) : null;
      const offer = entry === null ? null : description(entry.offer, "offer");
      if (offer === null || entry === null || !isBinary20(entry.offer_id)) {
        return fail(
          "each offer needs an offer {type: 'offer', sdp} and a 20-byte offer_id",
          "announce",
          infoHash,
        );
      }
      offers.push({ offer, offerId: entry.offer_id });
    }
  }

  let answer: SessionDescription | null = null;
  let toPeerId: string | null = null;
  let offerId: string | null = null;
  if (m.answer !== undefined && m.answer !== null) {
    answer = description(m.answer, "answer");
    if (answer === null) return fail("answer must be {type: 'answer', sdp}", "announce", infoHash);
    if (!isBinary20(m.to_peer_id)) return fail("an answer needs a 20-byte to_peer_id", "announce", infoHash);
    if (!isBinary20(m.offer_id)) return fail("an answer needs a 20-byte offer_id", "announce", infoHash);
    toPeerId = m.to_peer_id;
    offerId = m.offer_id;
  }

  return {
    action: "announce",
    infoHash,
    peerId: m.peer_id,
    numWant: numWant ?? -1,
    left,
    event,
    offers,
    offersDropped,
    answer,
    toPeerId,
    offerId,
  };
}

function parseScrape(m: Record<string, unknown>): WsRequest {
  const v = m.info_hash;
  if (v === undefined || v === null) return { action: "scrape", infoHashes: [] };
  const list = Array.isArray(v) ? v : [v];
  const infoHashes: string[] = [];
  for (const h of list) {
    if (!isBinary20(h)) return fail("each info_hash must be a 20-byte binary string", "scrape", null);
    infoHashes.push(h);
  }
  return { action: "scrape", infoHashes };
}

function fail(
  reason: string,
  requestAction: "announce" | "scrape" | null,
  infoHash: string | null,
): WsParseError {
  return { action: "error", reason, requestAction, infoHash };
}

// Replies. JSON.stringify writes binary strings as they are (control characters escaped), and
// the WebSocket layer sends the text as UTF-8, which is what clients expect.

export function announceReply(
  infoHash: string,
  interval: number,
  complete: number,
  incomplete: number,
  warning: string | null,
): string {
  const r: Record<string, unknown> = {
    action: "announce",
    interval,
    info_hash: infoHash,
    complete,
    incomplete,
  };
  if (warning !== null) r["warning message"] = warning;
  return JSON.stringify(r);
}

export function offerMessage(
  infoHash: string,
  fromPeerId: string,
  offer: SessionDescription,
  offerId: string,
): string {
  return JSON.stringify({
    action: "announce",
    info_hash: infoHash,
    peer_id: fromPeerId,
    offer,
    offer_id: offerId,
  });
}

export function answerMessage(
  infoHash: string,
  fromPeerId: string,
  answer: SessionDescription,
  offerId: string,
): string {
  return JSON.stringify({
    action: "announce",
    info_hash: infoHash,
    peer_id: fromPeerId,
    answer,
    offer_id: offerId,
  });
}

export interface ScrapeFile {
  infoHash: string;
  complete: number;
  downloaded: number;
  incomplete: number;
}

export function scrapeReply(files: readonly ScrapeFile[]): string {
  const out: Record<string, { complete: number; downloaded: number; incomplete: number }> = {};
  for (const f of files)
    out[f.infoHash] = { complete: f.complete, downloaded: f.downloaded, incomplete: f.incomplete };
  return JSON.stringify({ action: "scrape", files: out });
}

export function failureReply(
  reason: string,
  action: "announce" | "scrape" | null,
  infoHash: string | null,
): string {
  const r: Record<string, unknown> = { "failure reason": reason };
  if (action !== null) r.action = action;
  if (infoHash !== null) r.info_hash = infoHash;
  return JSON.stringify(r);
}
