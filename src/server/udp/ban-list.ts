// Sources that keep sending bad connection ids are ignored for a while: they are either
// spoofing addresses or broken, and answering them only feeds a reflection attack.

export interface BanOptions {
  /** Bad ids within `window` seconds that earn a ban; 0 disables banning. */
  threshold: number;
  window: number;
  duration: number;
  /** Sources tracked at most; the oldest entries make room. */
  tableSize: number;
}

interface Entry {
  strikes: number;
  windowStart: number;
  bannedUntil: number;
}

export class BanList {
  private readonly options: BanOptions;
  private readonly entries = new Map<number | string, Entry>();
  /** Sources whose ban has not yet been seen to expire: lets the hot path skip the map. */
  private active = 0;

  constructor(options: BanOptions) {
    this.options = options;
  }

  /** Sources currently banned (expired bans are dropped by `prune` and by lookups). */
  get bannedCount(): number {
    return this.active;
  }

  isBanned(addr: Uint8Array, family: 4 | 6, now: number): boolean {
    if (this.active === 0) return false;
    const key = keyOf(addr, family);
    const e = this.entries.get(key);
    if (e === undefined || e.bannedUntil === 0) return false;
    if (e.bannedUntil > now) return true;
    this.entries.delete(key);
    this.active--;
    return false;
  }

  /** Records a bad connection id; returns true when this strike starts a ban. */
  strike(addr: Uint8Array, family: 4 | 6, now: number): boolean {
    const o = this.options;
    if (o.threshold === 0) return false;
    const key = keyOf(addr, family);
    let e = this.entries.get(key);
    if (e === undefined) {
      if (this.entries.size >= o.tableSize) this.evictOldest();
      e = { strikes: 0, windowStart: now, bannedUntil: 0 };
      this.entries.set(key, e);
    } else if (now - e.windowStart >= o.window) {
      e.strikes = 0;
      e.windowStart = now;
    }
    if (e.bannedUntil !== 0) return false;
    if (++e.strikes < o.threshold) return false;
    e.bannedUntil = now + o.duration;
    this.active++;
    return true;
  }

  /** Forgets expired bans and stale strike windows; called from a timer, not per request. */
  prune(now: number): void {
    for (const [key, e] of this.entries) {
      if (e.bannedUntil !== 0) {
        if (e.bannedUntil <= now) {
          this.entries.delete(key);
          this.active--;
        }
      } else if (now - e.windowStart >= this.options.window) {
        this.entries.delete(key);
      }
    }
  }

  private evictOldest(): void {
    // Map order is insertion order; prefer dropping a source that is not banned.
    for (const [key, e] of this.entries) {
      if (e.bannedUntil === 0) {
        this.entries.delete(key);
        return;
      }
    }
    const first = this.entries.entries().next();
    if (!first.done) {
      this.entries.delete(first.value[0]);
      this.active--;
    }
  }
}

/** IPv4 sources key by their 32-bit number, IPv6 by their bytes as a string. */
function keyOf(addr: Uint8Array, family: 4 | 6): number | string {
  if (family === 4) return ((addr[12] << 24) | (addr[13] << 16) | (addr[14] << 8) | addr[15]) >>> 0;
  return String.fromCharCode(...addr);
}
