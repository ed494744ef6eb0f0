// The test helper that reads Prometheus text exposition: checked here, so that the statistics
// tests that lean on it can be trusted.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { histogramSeries, parseExposition, sampleValue } from "../helpers/stats-prometheus.ts";

const TEXT = `# HELP a_total A counter.
# TYPE a_total counter
a_total{x="1",y="two"} 3
a_total{y="other",x="1"} 4 1700000000000
# a plain comment
# HELP g A gauge with special values.
# TYPE g gauge
g{v="nan"} Nan
g{v="inf"} +Inf
g{v="ninf"} -Inf
g{v="exp"} 1.5e-7
g{v="esc",w="q\\"b\\\\n\\n"} 1
# HELP h A histogram.
# TYPE h histogram
h_bucket{k="a",le="0.5"} 1
h_bucket{k="a",le="1"} 2
h_bucket{k="a",le="+Inf"} 3
h_sum{k="a"} 2.25
h_count{k="a"} 3
untyped_thing 7
`;

describe("parseExposition (test helper)", () => {
  const e = parseExposition(TEXT);

  test("reads families, types and help", () => {
    assert.deepEqual(
      [...e.families.values()].map((f) => [f.name, f.type, f.samples.length]),
      [
        ["a_total", "counter", 2],
        ["g", "gauge", 5],
        ["h", "histogram", 5],
        ["untyped_thing", null, 1],
      ],
    );
    assert.equal(e.families.get("g")?.help, "A gauge with special values.");
  });

  test("matches samples by their exact label set, whatever the order", () => {
    assert.equal(sampleValue(e, "a_total", { x: "1", y: "two" }), 3);
    assert.equal(sampleValue(e, "a_total", { y: "other", x: "1" }), 4, "timestamp ignored");
    assert.throws(() => sampleValue(e, "a_total", { x: "1" }), /0 samples/);
    assert.equal(sampleValue(e, "untyped_thing"), 7);
  });

  test("reads special values in any case, exponents and escaped label values", () => {
    assert.ok(Number.isNaN(sampleValue(e, "g", { v: "nan" })));
    assert.equal(sampleValue(e, "g", { v: "inf" }), Number.POSITIVE_INFINITY);
    assert.equal(sampleValue(e, "g", { v: "ninf" }), Number.NEGATIVE_INFINITY);
    assert.equal(sampleValue(e, "g", { v: "exp" }), 1.5e-7);
    assert.equal(sampleValue(e, "g", { v: "esc", w: 'q"b\\n\n' }), 1);
  });

  test("groups histogram samples into series", () => {
    assert.deepEqual(histogramSeries(e, "h"), [
      {
        labels: { k: "a" },
        buckets: [
          { le: 0.5, count: 1 },
          { le: 1, count: 2 },
          { le: Number.POSITIVE_INFINITY, count: 3 },
        ],
        sum: 2.25,
        count: 3,
      },
    ]);
  });

  test("throws on lines it cannot read", () => {
    for (const bad of ["x{a=1} 2", 'x{a="1" 2', "x 1 2 3", "x abc", '{a="1"} 2', "# TYPE x colour"]) {
      assert.throws(() => parseExposition(`${bad}\n`), Error, bad);
    }
  });
});
