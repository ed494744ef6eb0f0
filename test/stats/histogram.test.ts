// DurationHistogram (fixed buckets, upper bounds inclusive as Prometheus's `le`) and Sampler
// (one in 2^shift).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DURATION_BUCKETS, DurationHistogram, Sampler } from "../../src/stats/histogram.ts";

describe("DurationHistogram", () => {
  test("the default bounds ascend strictly, from a microsecond to a second", () => {
    for (let i = 1; i < DURATION_BUCKETS.length; i++)
      assert.ok(DURATION_BUCKETS[i] > DURATION_BUCKETS[i - 1]);
    assert.equal(DURATION_BUCKETS[0], 1e-6);
    assert.equal(DURATION_BUCKETS[DURATION_BUCKETS.length - 1], 1);
    const h = new DurationHistogram();
    assert.equal(h.counts.length, DURATION_BUCKETS.length + 1, "one slot per bound and one above all");
  });

  test("starts empty with a mean of 0", () => {
    const h = new DurationHistogram();
    assert.equal(h.count, 0);
    assert.equal(h.sum, 0);
    assert.equal(h.meanNs(), 0);
    assert.deepEqual([...h.counts], new Array(DURATION_BUCKETS.length + 1).fill(0));
  });

  test("puts a value equal to a bound in that bound's bucket (le is inclusive)", () => {
    const h = new DurationHistogram([1, 2, 5]);
    h.observe(1);
    h.observe(2);
    h.observe(5);
    assert.deepEqual([...h.counts], [1, 1, 1, 0]);
  });

  test("puts values between bounds in the next bound's bucket, and above every bound in the last slot", () => {
    const h = new DurationHistogram([1, 2, 5]);
    for (const v of [0, 0.5, 1.5, 3, 4.99, 5.01, 100]) h.observe(v);
    assert.deepEqual([...h.counts], [2, 1, 2, 2]);
    assert.equal(h.count, 7);
    assert.ok(Math.abs(h.sum - (0 + 0.5 + 1.5 + 3 + 4.99 + 5.01 + 100)) < 1e-9);
  });

  test("meanNs is the mean in nanoseconds", () => {
    const h = new DurationHistogram();
    h.observe(1e-6);
    h.observe(3e-6);
    assert.ok(Math.abs(h.meanNs() - 2000) < 1e-6, String(h.meanNs()));
    h.observe(2e-6);
    assert.ok(Math.abs(h.meanNs() - 2000) < 1e-6);
  });

  test("the default buckets sort typical request times", () => {
    const h = new DurationHistogram();
    h.observe(0.5e-6); // le 1e-6
    h.observe(3e-6); // le 5e-6
    h.observe(0.003); // le 5e-3
    h.observe(5); // above 1 s
    const at = (bound: number) => h.counts[DURATION_BUCKETS.indexOf(bound)];
    assert.equal(at(1e-6), 1);
    assert.equal(at(5e-6), 1);
    assert.equal(at(5e-3), 1);
    assert.equal(h.counts[DURATION_BUCKETS.length], 1);
    assert.equal(
      h.counts.reduce((a, b) => a + b, 0),
      h.count,
    );
  });
});

describe("Sampler", () => {
  test("by default says yes once in 16 calls, on the 16th, 32nd, ...", () => {
    const s = new Sampler();
    const yes: number[] = [];
    for (let i = 1; i <= 64; i++) if (s.next()) yes.push(i);
    assert.deepEqual(yes, [16, 32, 48, 64]);
  });

  test("any 16 consecutive calls hold exactly one yes", () => {
    const s = new Sampler();
    const calls: boolean[] = [];
    for (let i = 0; i < 200; i++) calls.push(s.next());
    for (let start = 0; start + 16 <= calls.length; start++) {
      assert.equal(calls.slice(start, start + 16).filter(Boolean).length, 1, `window at ${start}`);
    }
  });

  test("shift sets the rate: 0 samples everything, 1 every other call, 3 one in 8", () => {
    const rate = (shift: number, n: number) => {
      const s = new Sampler(shift);
      let k = 0;
      for (let i = 0; i < n; i++) if (s.next()) k++;
      return k;
    };
    assert.equal(rate(0, 10), 10);
    assert.equal(rate(1, 10), 5);
    assert.equal(rate(3, 64), 8);
  });

  test("samplers are independent of each other", () => {
    const a = new Sampler();
    const b = new Sampler();
    for (let i = 0; i < 15; i++) a.next();
    assert.equal(a.next(), true);
    assert.equal(b.next(), false);
  });
});
