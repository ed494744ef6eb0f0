// WebTorrent swarms. Browsers cannot reach each other by address, so a WebTorrent peer is not an
// endpoint but a live connection to the tracker that relays WebRTC offers and answers. These
// swarms are kept apart from the BitTorrent store: a peer seen only here is never handed to a
// UDP or HTTP client, and the other way round. `P` is whatever handle the server uses for a
// connection; the core never looks inside it.

import { coprimeStride } from "./random-walk.ts";

export class SignalPeer<P> {
  readonly handle: P;
  /** The peer id as a 20-character binary string. */
  readonly peerId: string;
  seeder = false;
  /** Position in the swarm's dense array, for O(1) removal. */
  slot = -1;
  constructor(handle: P, peerId: string) {
    this.handle = handle;
    this.peerId = peerId;
  }
}

export class SignalSwarm<P> {
  readonly byId = new Map<string, SignalPeer<P>>();
  /** Dense, for random picks. */
  readonly peers: SignalPeer<P>[] = [];
  seeders = 0;
  downloaded = 0;

  get leechers(): number {
    return this.peers.length - this.seeders;
  }
}

export interface SignalTotals {
  torrents: number;
  seeders: number;
  leechers: number;
  completed: number;
}

export class SignalSwarms<P> {
  readonly swarms = new Map<string, SignalSwarm<P>>();
  private seeders = 0;
  private leechers = 0;
  private completed = 0;

  get(infoHash: string): SignalSwarm<P> | undefined {
    return this.swarms.get(infoHash);
  }

  /**
   * Adds or refreshes a peer. Returns the peer, or null when `peerId` is held in this swarm by
   * another connection: one connection cannot take over another's identity.
   */
  join(
    infoHash: string,
    peerId: string,
    handle: P,
    seeder: boolean,
    completed: boolean,
  ): SignalPeer<P> | null {
    let swarm = this.swarms.get(infoHash);
    if (swarm === undefined) {
      swarm = new SignalSwarm<P>();
      this.swarms.set(infoHash, swarm);
    }
    let peer = swarm.byId.get(peerId);
    if (peer !== undefined && peer.handle !== handle) return null;
    let wasSeeder = false;
    if (peer === undefined) {
      peer = new SignalPeer(handle, peerId);
      peer.slot = swarm.peers.length;
      swarm.peers.push(peer);
      swarm.byId.set(peerId, peer);
      this.leechers++;
    } else {
      wasSeeder = peer.seeder;
    }
    if (seeder !== peer.seeder) {
      peer.seeder = seeder;
      const d = seeder ? 1 : -1;
      swarm.seeders += d;
      this.seeders += d;
      this.leechers -= d;
    }
    if (completed && !wasSeeder) {
      swarm.downloaded++;
      this.completed++;
    }
    return peer;
  }

  /** Removes the peer if `handle` holds it; returns whether it did. */
  leave(infoHash: string, peerId: string, handle: P): boolean {
    const swarm = this.swarms.get(infoHash);
    if (swarm === undefined) return false;
    const peer = swarm.byId.get(peerId);
    if (peer === undefined || peer.handle !== handle) return false;
    swarm.byId.delete(peerId);
    const last = swarm.peers.pop()!;
    if (last !== peer) {
      swarm.peers[peer.slot] = last;
      last.slot = peer.slot;
    }
    if (peer.seeder) {
      swarm.seeders--;
      this.seeders--;
    } else {
      this.leechers--;
    }
    if (swarm.peers.length === 0 && swarm.downloaded === 0) this.swarms.delete(infoHash);
    return true;
  }

  /**
   * Up to `count` distinct peers of the swarm other than `self`, at random; a seeder is offered
   * to leechers only while there are any. Fills `out` and returns how many it wrote.
   */
  pick(swarm: SignalSwarm<P>, self: SignalPeer<P>, count: number, out: SignalPeer<P>[]): number {
    const peers = swarm.peers;
    const n = peers.length;
    let written = 0;
    if (n <= 1 || count <= 0) return 0;
    const onlyLeechers = self.seeder && swarm.leechers > 0;
    // Random start, walk with a stride coprime to n: distinct picks without a scratch set.
    let pos = Math.floor(Math.random() * n);
    const stride = coprimeStride(n);
    for (let visited = 0; visited < n && written < count; visited++) {
      const p = peers[pos];
      if (p !== self && !(onlyLeechers && p.seeder)) out[written++] = p;
      pos += stride;
      if (pos >= n) pos -= n;
    }
    return written;
  }

  totals(): SignalTotals {
    return {
      torrents: this.swarms.size,
      seeders: this.seeders,
      leechers: this.leechers,
      completed: this.completed,
    };
  }
}
