// The configuration as commented TOML: every section and key, each key preceded by its
// comment and what it accepts. `shoal config print` shows this, and parsing it gives back
// exactly the configuration it was rendered from.

import { stringify } from "smol-toml";
import { type Config, getValue, KEYS, type KeySpec, SECTIONS } from "./schema.ts";

const DEFAULT_HEADER = [
  "shoal configuration, with every key at its default value.",
  "Keys left out take their default, so a file needs only what it changes.",
];

/** The complete default configuration as commented TOML. */
export function renderDefaultConfig(): string {
  return renderConfig(undefined);
}

/** `config` (all keys) as commented TOML; the defaults when `config` is undefined. */
export function renderConfig(config: Config | undefined): string {
  const header = config ? ["shoal configuration."] : DEFAULT_HEADER;
  const out = header.map((l) => `# ${l}`);
  for (const section of SECTIONS) {
    out.push("", `# ${section.comment}`, `[${section.name}]`);
    for (const spec of KEYS as readonly KeySpec[]) {
      if (spec.section !== section.name) continue;
      const value = config ? getValue(config, `${spec.section}.${spec.key}`) : spec.default;
      out.push(`# ${spec.comment}${accepts(spec)}`, formatLine(spec.key, value));
    }
  }
  return `${out.join("\n")}\n`;
}

/** " (1..86400)" for integers, " (off | allow | deny)" for enums, "" otherwise. */
function accepts(spec: KeySpec): string {
  if (spec.type === "integer") return ` (${spec.min}..${spec.max})`;
  if (spec.values) return ` (${spec.values.join(" | ")})`;
  return "";
}

// smol-toml does the quoting and escaping; every value here is a scalar or an array of
// strings, so it renders as a single `key = value` line.
function formatLine(key: string, value: unknown): string {
  return stringify({ [key]: value }).trimEnd();
}
