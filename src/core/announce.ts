// The protocol-agnostic announce and scrape shapes. Servers fill a reusable request, the store
// fills a reusable result: an announce on the memory path allocates nothing.

export const AnnounceEvent = { None: 0, Completed: 1, Started: 2, Stopped: 3 } as const;

/** Largest endpoint: 16 address bytes and a 2-byte port, as in BEP 7 compact peers. */
export const MAX_ENDPOINT_LEN = 18;
export const PEER_ID_LEN = 20;

export class AnnounceRequest {
  /** The 20-byte info hash as a 20-character latin1 string (the swarm key). */
  infoHash = "";
  family: 4 | 6 = 4;
  /**
   * The peer's compact endpoint: 4 address bytes then the port (big-endian) for IPv4, 16 bytes
   * then the port for IPv6. The address comes from the socket, never from the request body.
   */
  endpoint = new Uint8Array(MAX_ENDPOINT_LEN);
  peerId = new Uint8Array(PEER_ID_LEN);
  seeder = false;
  event: number = AnnounceEvent.None;
  /** Peers wanted, already resolved against the defaults and the cap. */
  numWant = 0;
  /** Network location (topology group); 0 when topology is off. */
  group = 0;
}

/**
 * Sets the requester's address (16 bytes, IPv4 mapped) and announced port as `req.endpoint`
 * and its family; returns the endpoint's length (6 or 18).
 */
export function setEndpoint(req: AnnounceRequest, addr: Uint8Array, family: 4 | 6, port: number): number {
  const ep = req.endpoint;
  req.family = family;
  let n: number;
  if (family === 4) {
    ep[0] = addr[12];
    ep[1] = addr[13];
    ep[2] = addr[14];
    ep[3] = addr[15];
    n = 4;
  } else {
    for (let i = 0; i < 16; i++) ep[i] = addr[i];
    n = 16;
  }
  ep[n] = port >>> 8;
  ep[n + 1] = port & 0xff;
  return n + 2;
}

export class AnnounceResult {
  seeders = 0;
  leechers = 0;
  downloaded = 0;
  /** Peers written: their endpoints at `out[outOffset + i * endpointLength]`. */
  peerCount = 0;
  out: Uint8Array;
  outOffset = 0;
  /** When set, the peer ids of the chosen peers go to `peerIds` (20 bytes each), in order. */
  wantPeerIds = false;
  peerIds: Uint8Array;

  constructor(maxPeers: number) {
    this.out = new Uint8Array(maxPeers * MAX_ENDPOINT_LEN);
    this.peerIds = new Uint8Array(maxPeers * PEER_ID_LEN);
  }
}

/** Scrape figures for one info hash, three numbers per hash in the output array. */
export const SCRAPE_STRIDE = 3;
export const SCRAPE_SEEDERS = 0;
export const SCRAPE_DOWNLOADED = 1;
export const SCRAPE_LEECHERS = 2;
