/**
 * Constants of the UDP tracker protocol (BEP 15).
 *
 * All multi-byte fields on the wire are big-endian.
 */

/** The `action` field of every request and response. */
export const Action = { Connect: 0, Announce: 1, Scrape: 2, Error: 3 } as const;
export type Action = (typeof Action)[keyof typeof Action];

/** The `event` field of an announce request. */
export const Event = { None: 0, Completed: 1, Started: 2, Stopped: 3 } as const;
export type Event = (typeof Event)[keyof typeof Event];

/** The magic protocol id 0x41727101980 that opens a connect request, as two uint32 halves. */
export const PROTOCOL_ID_HI = 0x417;
export const PROTOCOL_ID_LO = 0x27101980;

/** Connect request: protocol id (8), action (4), transaction id (4). */
export const CONNECT_REQUEST_LEN = 16;
/** Connect response: action (4), transaction id (4), connection id (8). */
export const CONNECT_RESPONSE_LEN = 16;
/** Announce request without BEP 41 options. */
export const ANNOUNCE_REQUEST_LEN = 98;
/** Announce response before the peers: action, transaction id, interval, leechers, seeders. */
export const ANNOUNCE_RESPONSE_HEADER_LEN = 20;
/** Scrape request header (connection id, action, transaction id); info hashes follow. */
export const SCRAPE_REQUEST_HEADER_LEN = 16;
/** Scrape response header (action, transaction id); one entry per hash follows. */
export const SCRAPE_RESPONSE_HEADER_LEN = 8;
/** One scrape response entry: seeders, completed, leechers. */
export const SCRAPE_ENTRY_LEN = 12;
/** Error response header (action, transaction id); the message follows. */
export const ERROR_RESPONSE_HEADER_LEN = 8;
/** Longest error message the server writes. */
export const MAX_ERROR_MESSAGE_LEN = 64;
/** An info hash or a peer id. */
export const HASH_LEN = 20;
/** A compact IPv4 peer (address, port). */
export const PEER_V4_LEN = 6;
/** A compact IPv6 peer (address, port). */
export const PEER_V6_LEN = 18;
/** BEP 15: "up to about 74 torrents can be scraped at once". */
export const MAX_SCRAPE_HASHES = 74;

/** Result of `parseRequest`. */
export const ParseError = {
  None: 0,
  TooShort: 1,
  BadProtocolId: 2,
  UnknownAction: 3,
  BadEvent: 4,
  BadPort: 5,
  NoInfoHash: 6,
} as const;
export type ParseError = (typeof ParseError)[keyof typeof ParseError];

/** Short ASCII text for a UDP error reply (each under 40 bytes). */
export function parseErrorMessage(code: number): string {
  switch (code) {
    case ParseError.None:
      return "ok";
    case ParseError.TooShort:
      return "packet too short";
    case ParseError.BadProtocolId:
      return "invalid protocol id";
    case ParseError.UnknownAction:
      return "unknown action";
    case ParseError.BadEvent:
      return "invalid event";
    case ParseError.BadPort:
      return "invalid port";
    case ParseError.NoInfoHash:
      return "no info hash";
    default:
      return "malformed request";
  }
}
