/**
 * A coarse clock in whole seconds, advanced by whoever owns the timers (the server layer), so
 * the core never calls Date.now() on the hot path and tests can move time by hand.
 */
export class Clock {
  now: number;
  constructor(now = Math.floor(Date.now() / 1000)) {
    this.now = now;
  }
  tick(): void {
    this.now = Math.floor(Date.now() / 1000);
  }
}
