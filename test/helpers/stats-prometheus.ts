// A small parser for the Prometheus text exposition format (version 0.0.4), for tests that read
// shoal's /metrics: # HELP and # TYPE lines, samples with labels (escapes \\ \" \n in values),
// the special values +Inf, -Inf and NaN, and optional timestamps. Strict enough to throw on a
// line it cannot read, so a malformed exposition fails the test that reads it.

export type Labels = Record<string, string>;

export interface Sample {
  /** The sample's own name: for a histogram, `<family>_bucket`, `_sum` or `_count`. */
  name: string;
  labels: Labels;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string | null;
  type: string | null;
  samples: Sample[];
}

export interface Exposition {
  families: Map<string, MetricFamily>;
  /** Every sample in the order of the text. */
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"];
const SUMMARY_SUFFIXES = ["_sum", "_count"];

/**
 * A sample value as Prometheus reads it (Go's ParseFloat): special values in any letter case,
 * which matters because prom-client writes "Nan" for a gauge without data.
 */
export function parseValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower === "+inf" || lower === "inf") return Number.POSITIVE_INFINITY;
  if (lower === "-inf") return Number.NEGATIVE_INFINITY;
  if (lower === "nan") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`not a sample value: "${text}"`);
  return Number(text);
}

function unescapeLabelValue(s: string, line: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === "\\") out += "\\";
    else if (n === '"') out += '"';
    else if (n === "n") out += "\n";
    else throw new Error(`bad escape "\\${n}" in a label value: ${line}`);
  }
  return out;
}

/** Parses `{a="x",b="y"}` at the start of `text`; returns the labels and what follows. */
function parseLabels(text: string, line: string): { labels: Labels; rest: string } {
  const labels: Labels = {};
  let p = 1; // past "{"
  for (;;) {
    while (text[p] === " ") p++;
    if (text[p] === "}") return { labels, rest: text.slice(p + 1) };
    const m = LABEL_NAME.exec(text.slice(p));
    if (m === null) throw new Error(`bad label name in: ${line}`);
    const name = m[0];
    p += name.length;
    while (text[p] === " ") p++;
    if (text[p] !== "=") throw new Error(`expected "=" after label ${name}: ${line}`);
    p++;
    while (text[p] === " ") p++;
    if (text[p] !== '"') throw new Error(`expected a quoted value for label ${name}: ${line}`);
    p++;
    let raw = "";
    while (p < text.length && text[p] !== '"') {
      if (text[p] === "\\") {
        raw += text[p] + (text[p + 1] ?? "");
        p += 2;
      } else raw += text[p++];
    }
    if (p >= text.length) throw new Error(`unterminated label value in: ${line}`);
    p++; // past the closing quote
    if (Object.hasOwn(labels, name)) throw new Error(`label ${name} twice in: ${line}`);
    labels[name] = unescapeLabelValue(raw, line);
    while (text[p] === " ") p++;
    if (text[p] === ",") p++;
    else if (text[p] !== "}") throw new Error(`expected "," or "}" after label ${name}: ${line}`);
  }
}

/** The family a sample belongs to, given the families declared so far. */
function familyOf(name: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  const direct = families.get(name);
  if (direct !== undefined) return direct;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f === undefined) continue;
    if (f.type === "histogram" || (f.type === "summary" && SUMMARY_SUFFIXES.includes(suffix))) return f;
  }
  return undefined;
}

function family(families: Map<string, MetricFamily>, name: string): MetricFamily {
  let f = families.get(name);
  if (f === undefined) {
    f = { name, help: null, type: null, samples: [] };
    families.set(name, f);
  }
  return f;
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, MetricFamily>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s(.*))?$/.exec(line);
      if (m === null) continue; // a plain comment
      const f = family(families, m[2]);
      if (m[1] === "HELP") f.help = m[3] ?? "";
      else {
        const type = (m[3] ?? "").trim();
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(type))
          throw new Error(`unknown metric type "${type}": ${line}`);
        f.type = type;
      }
      continue;
    }
    const m = NAME.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const name = m[0];
    let rest = line.slice(name.length);
    let labels: Labels = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, line));
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === "") throw new Error(`bad sample line: ${line}`);
    const sample: Sample = { name, labels, value: parseValue(parts[0]) };
    samples.push(sample);
    (familyOf(name, families) ?? family(families, name)).samples.push(sample);
  }
  return { families, samples };
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** Samples named `name` whose labels include every pair of `labels`. */
export function findSamples(e: Exposition, name: string, labels: Labels = {}): Sample[] {
  return e.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The value of the one sample named `name` with exactly `labels`; throws if there is none or several. */
export function sampleValue(e: Exposition, name: string, labels: Labels = {}): number {
  const found = e.samples.filter((s) => s.name === name && sameLabels(s.labels, labels));
  if (found.length !== 1) {
    const near = e.samples
      .filter((s) => s.name === name)
      .map((s) => JSON.stringify(s.labels))
      .join(", ");
    throw new Error(
      `${found.length} samples ${name}${JSON.stringify(labels)} in the exposition (series of that name: ${near || "none"})`,
    );
  }
  return found[0].value;
}

export interface HistogramSeries {
  labels: Labels;
  /** Cumulative buckets in the order of the text: upper bound (le) and count. */
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/** Every series of histogram `name`, grouped by their labels (without `le`). */
export function histogramSeries(e: Exposition, name: string): HistogramSeries[] {
  const byKey = new Map<string, HistogramSeries>();
  const get = (labels: Labels) => {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let h = byKey.get(key);
    if (h === undefined) {
      h = { labels, buckets: [], sum: Number.NaN, count: Number.NaN };
      byKey.set(key, h);
    }
    return h;
  };
  for (const s of e.samples) {
    if (s.name === `${name}_bucket`) {
      const { le, ...labels } = s.labels;
      if (le === undefined) throw new Error(`${name}_bucket without le: ${JSON.stringify(s.labels)}`);
      get(labels).buckets.push({ le: parseValue(le), count: s.value });
    } else if (s.name === `${name}_sum`) get(s.labels).sum = s.value;
    else if (s.name === `${name}_count`) get(s.labels).count = s.value;
  }
  return [...byKey.values()];
}
