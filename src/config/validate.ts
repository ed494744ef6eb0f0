// Checks one TOML value against its KeySpec. Values come from smol-toml parsed with
// `integersAsBigInt: true`, which is what lets us tell `60` (bigint) from `60.0` (number).

import type { KeySpec } from "./schema.ts";

export type Checked =
  | { ok: true; value: boolean | number | string | string[] }
  | { ok: false; problem: string };

/** "a string (\"60\")", "an integer (5)", "a float (1.5)", "a table"... */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return `a string (${quote(v)})`;
  if (typeof v === "bigint") return `an integer (${v})`;
  if (typeof v === "number") return `a float (${Number.isInteger(v) ? v.toFixed(1) : v})`;
  if (typeof v === "boolean") return `a boolean (${v})`;
  if (Array.isArray(v)) return "an array";
  // smol-toml's TomlDate is a Date subclass.
  if (v instanceof Date) return "a date/time";
  return "a table";
}

/** JSON-quoted, shortened so one silly value cannot flood a log line. */
function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

/** What the key accepts, as the start of a problem text: "expected an integer between 1 and 10". */
export function expected(spec: KeySpec): string {
  switch (spec.type) {
    case "boolean":
      return "expected true or false";
    case "integer":
      return `expected an integer between ${spec.min} and ${spec.max}`;
    case "string":
      return spec.values
        ? `expected one of ${spec.values.map((x) => `"${x}"`).join(", ")}`
        : "expected a string";
    case "string[]":
      return "expected an array of strings";
  }
}

export function checkValue(spec: KeySpec, v: unknown): Checked {
  const fail = (problem: string): Checked => ({ ok: false, problem });
  switch (spec.type) {
    case "boolean":
      return typeof v === "boolean"
        ? { ok: true, value: v }
        : fail(`${expected(spec)}, got ${describeValue(v)}`);

    case "integer": {
      if (typeof v !== "bigint") return fail(`${expected(spec)}, got ${describeValue(v)}`);
      // Compare as bigint: the value may be beyond Number's exact range.
      if (v < BigInt(spec.min!) || v > BigInt(spec.max!)) return fail(`${expected(spec)}, got ${v}`);
      return { ok: true, value: Number(v) };
    }

    case "string": {
      if (typeof v !== "string") return fail(`${expected(spec)}, got ${describeValue(v)}`);
      if (spec.values && !spec.values.includes(v)) return fail(`${expected(spec)}, got ${quote(v)}`);
      const problem = spec.validate?.(v);
      return problem === undefined ? { ok: true, value: v } : fail(problem);
    }

    case "string[]": {
      if (!Array.isArray(v)) return fail(`${expected(spec)}, got ${describeValue(v)}`);
      const out: string[] = [];
      for (let i = 0; i < v.length; i++) {
        const item = `item ${i + 1} of ${v.length}`;
        const el: unknown = v[i];
        if (typeof el !== "string") return fail(`${item}: expected a string, got ${describeValue(el)}`);
        const problem = spec.validate?.(el);
        if (problem !== undefined) return fail(`${item}: ${problem}`);
        // A repeat is a mistake in every list we have (for sockets it would fail with EADDRINUSE).
        if (out.includes(el))
          return fail(`${item}: ${spec.secret ? "this value" : quote(el)} is listed twice`);
        out.push(el);
      }
      return { ok: true, value: out };
    }
  }
}
