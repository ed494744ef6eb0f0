// Reading and validating a configuration file. Missing sections and keys take their defaults;
// everything present is checked, and the first problem (in file order) stops the load with a
// ConfigError that names the file, the line when it can be found, the key and what is wrong.

import { readFileSync } from "node:fs";
import { parse, TomlError } from "smol-toml";
import { locate } from "./locate.ts";
import { type Config, defaultConfig, KEY_BY_NAME, KEYS, RULES, SECTIONS } from "./schema.ts";
import { closest } from "./suggest.ts";
import { checkValue, describeValue } from "./validate.ts";

export interface ConfigErrorWhere {
  file: string;
  line?: number;
  column?: number;
  /** Dotted key ("udp.addresses") or section name; absent for syntax errors and unreadable files. */
  key?: string;
}

/** `shoal.toml:4: udp.ban_window: expected an integer between 1 and 86400, got 0` */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly key: string | undefined;
  readonly problem: string;

  constructor(where: ConfigErrorWhere, problem: string, options?: ErrorOptions) {
    const line = where.line === undefined ? "" : `:${where.line}`;
    const key = where.key === undefined ? "" : `${where.key}: `;
    super(`${where.file}${line}: ${key}${problem}`, options);
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.key = where.key;
    this.problem = problem;
  }
}

/** Reads and validates `file`. Throws ConfigError, also when the file cannot be read. */
export function loadConfigFile(file: string): Config {
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError({ file }, `cannot read the file: ${osReason(err)}`, { cause: err });
  }
  return parseConfig(source, file);
}

/** "no such file or directory (ENOENT)" rather than Node's message, which repeats the path. */
function osReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message ?? "");
  if (m && e.code) return `${m[1]} (${e.code})`;
  return e.message ?? String(err);
}

const SECTION_NAMES: readonly string[] = SECTIONS.map((s) => s.name);

/** Validates TOML text; `file` is only used in error messages. Throws ConfigError. */
export function parseConfig(source: string, file: string): Config {
  // Editors on some systems save a byte-order mark, which TOML does not allow.
  const text = source.startsWith("\uFEFF") ? source.slice(1) : source;
  const error = (path: readonly string[], problem: string) =>
    new ConfigError({ file, line: locate(text, path), key: path.join(".") }, problem);

  let doc: Record<string, unknown>;
  try {
    // Integers as bigint so that `60.0` (a float) can be told apart from `60`.
    doc = parse(text, { integersAsBigInt: true });
  } catch (err) {
    if (err instanceof TomlError) {
      const what = err.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
      throw new ConfigError(
        { file, line: err.line, column: err.column },
        `TOML syntax error at column ${err.column}: ${what}`,
        { cause: err },
      );
    }
    throw new ConfigError({ file }, `cannot parse: ${(err as Error).message}`, { cause: err });
  }

  const config = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
  const given = new Set<string>();

  for (const [section, body] of Object.entries(doc)) {
    const isTable =
      typeof body === "object" && body !== null && !Array.isArray(body) && !(body instanceof Date);
    if (!SECTION_NAMES.includes(section)) throw error([section], unknownTopLevel(section, isTable));
    if (!isTable) throw error([section], `expected a table ([${section}]), got ${describeValue(body)}`);

    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      const name = `${section}.${key}`;
      const spec = KEY_BY_NAME.get(name);
      if (!spec) throw error([section, key], unknownKey(section, key));
      const checked = checkValue(spec, value);
      if (!checked.ok) throw error([section, key], checked.problem);
      config[section][key] = checked.value;
      given.add(name);
    }
  }

  const result = config as unknown as Config;
  for (const rule of RULES) {
    const v = rule.check(result, (name) => given.has(name));
    if (v) {
      const at = (v.at ?? v.key).split(".");
      throw new ConfigError({ file, line: locate(text, at), key: v.key }, v.problem);
    }
  }
  return result;
}

/** Sections holding a key of this name, as "[udp], [http] or [api]". */
function sectionsWithKey(key: string): string | undefined {
  const found = KEYS.filter((k) => k.key === key).map((k) => `[${k.section}]`);
  if (found.length === 0) return undefined;
  return found.length === 1 ? found[0] : `${found.slice(0, -1).join(", ")} or ${found.at(-1)}`;
}

function unknownTopLevel(name: string, isTable: boolean): string {
  const all = SECTION_NAMES.map((s) => `[${s}]`).join(", ");
  if (isTable) {
    const near = closest(name, SECTION_NAMES);
    return near ? `unknown section; did you mean [${near}]?` : `unknown section; sections are ${all}`;
  }
  // A plain key before any [section] header.
  const home = sectionsWithKey(name);
  return home
    ? `a setting outside any section; "${name}" belongs in ${home}`
    : `unknown setting outside any section; settings go in ${all}`;
}

function unknownKey(section: string, key: string): string {
  const own = KEYS.filter((k) => k.section === section).map((k) => k.key as string);
  const near = closest(key, own);
  if (near) return `unknown key; did you mean "${near}"?`;
  const home = sectionsWithKey(key);
  if (home) return `unknown key; "${key}" belongs in ${home}`;
  return `unknown key; [${section}] has ${own.join(", ")}`;
}
