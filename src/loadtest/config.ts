// The load tester's configuration: its own schema (one entry per key), read from a TOML file,
// overridden by command-line flags, validated with messages that name the file, the line, the key
// and the problem, and printed as a commented default file (`shoal load-test udp --print-config`).

import { readFileSync } from "node:fs";
import { parse, TomlError } from "smol-toml";
import { type ListenAddress, parseAddress } from "../config/address.ts";
import { locate } from "../config/locate.ts";
import { closest } from "../config/suggest.ts";
import { describeValue } from "../config/validate.ts";
import type { LoadProtocol } from "./shared.ts";
import { PORTS_PER_ADDRESS } from "./workload.ts";

export const SECTIONS = [
  { name: "load", comment: "What to run, against what, for how long" },
  { name: "workload", comment: "The simulated swarms: torrents, peers and what they send" },
  { name: "udp", comment: "UDP (BEP 15) generator" },
  { name: "http", comment: "HTTP generator (raw TCP sockets, hand-written requests)" },
  { name: "ws", comment: "WebTorrent (WebSocket) generator" },
] as const;

export type LoadSectionName = (typeof SECTIONS)[number]["name"];

export interface LoadKeySpec {
  readonly section: LoadSectionName;
  readonly key: string;
  /** "number" accepts integers and floats. */
  readonly type: "boolean" | "integer" | "number" | "string";
  readonly default: boolean | number | string;
  readonly comment: string;
  readonly min?: number;
  readonly max?: number;
  /** Extra check for a string: what is wrong, or undefined. */
  readonly validate?: (value: string) => string | undefined;
  /** The command-line flag that overrides this key, without its dashes. */
  readonly flag?: string;
}

/** 127.0.0.0/8 or ::1, the only targets the load tester accepts. */
export function isLoopback(a: ListenAddress): boolean {
  if (a.family === 4) return a.host.startsWith("127.");
  return a.host === "::1" || /^(0{0,4}:){7}0{0,3}1$/.test(a.host) || a.host === "0:0:0:0:0:0:0:1";
}

function target(value: string): string | undefined {
  let a: ListenAddress;
  try {
    a = parseAddress(value);
  } catch (err) {
    return (err as Error).message;
  }
  if (a.port === 0) return `${JSON.stringify(value)}: port 0 cannot be a target`;
  if (!isLoopback(a)) {
    return `${JSON.stringify(value)}: the load tester only sends to this machine, 127.0.0.0/8 or [::1]`;
  }
  return undefined;
}

export const LOAD_KEYS: readonly LoadKeySpec[] = [
  // [load]
  {
    section: "load",
    key: "target",
    type: "string",
    default: "127.0.0.1:6969",
    comment: "tracker address, IPv4:port or [IPv6]:port, loopback only (ws: the HTTP port)",
    validate: target,
    flag: "target",
  },
  {
    section: "load",
    key: "seconds",
    type: "integer",
    default: 10,
    comment: "seconds measured, after the warm-up",
    min: 1,
    max: 86_400,
    flag: "seconds",
  },
  {
    section: "load",
    key: "warmup",
    type: "integer",
    default: 2,
    comment: "seconds run first and left out of the summary (connections, JIT, swarms filling up)",
    min: 0,
    max: 3600,
    flag: "warmup",
  },
  {
    section: "load",
    key: "workers",
    type: "integer",
    default: 1,
    comment: "worker threads sending load, each with its own sockets",
    min: 1,
    max: 256,
    flag: "workers",
  },
  {
    section: "load",
    key: "timeout_ms",
    type: "integer",
    default: 2000,
    comment: "milliseconds without an answer before a request counts as a timeout",
    min: 10,
    max: 600_000,
    flag: "timeout-ms",
  },
  {
    section: "load",
    key: "fill",
    type: "boolean",
    default: false,
    comment: "fill mode (udp, http): announce each of workload.peers once (started), then stop",
    flag: "fill",
  },
  {
    section: "load",
    key: "fill_timeout",
    type: "integer",
    default: 600,
    comment: "seconds a fill may take at most",
    min: 1,
    max: 86_400,
    flag: "fill-timeout",
  },

  // [workload]
  {
    section: "workload",
    key: "torrents",
    type: "integer",
    default: 10_000,
    comment: "distinct torrents (info hashes)",
    min: 1,
    max: 100_000_000,
    flag: "torrents",
  },
  {
    section: "workload",
    key: "peers",
    type: "integer",
    default: 100_000,
    comment: "distinct peers (endpoints) over all workers; a fill announces exactly these",
    min: 1,
    max: 100_000_000,
    flag: "peers",
  },
  {
    section: "workload",
    key: "popularity",
    type: "number",
    default: 1.0,
    comment: "Zipf exponent of torrent popularity: rank r is picked in proportion to r^-s; 0 = uniform",
    min: 0,
    max: 5,
    flag: "popularity",
  },
  {
    section: "workload",
    key: "seeder_ratio",
    type: "number",
    default: 0.3,
    comment: "share of starting peers that start as seeders (left=0)",
    min: 0,
    max: 1,
    flag: "seeder-ratio",
  },
  {
    section: "workload",
    key: "scrape_ratio",
    type: "number",
    default: 0.05,
    comment: "share of requests that are scrapes; the rest are announces",
    min: 0,
    max: 1,
    flag: "scrape-ratio",
  },
  {
    section: "workload",
    key: "stop_ratio",
    type: "number",
    default: 0.05,
    comment: "share of a running peer's announces that stop it (it starts again later on another torrent)",
    min: 0,
    max: 1,
    flag: "stop-ratio",
  },
  {
    section: "workload",
    key: "complete_ratio",
    type: "number",
    default: 0.02,
    comment: "share of a leecher's announces that complete it (it becomes a seeder)",
    min: 0,
    max: 1,
    flag: "complete-ratio",
  },
  {
    section: "workload",
    key: "numwant",
    type: "integer",
    default: 50,
    comment: "peers asked for in each announce (udp, http)",
    min: 0,
    max: 10_000,
    flag: "numwant",
  },
  {
    section: "workload",
    key: "scrape_hashes",
    type: "integer",
    default: 1,
    comment: "info hashes in each scrape",
    min: 1,
    max: 74,
    flag: "scrape-hashes",
  },

  // [udp]
  {
    section: "udp",
    key: "inflight",
    type: "integer",
    default: 64,
    comment: "requests in flight per worker",
    min: 1,
    max: 65_536,
    flag: "inflight",
  },

  // [http]
  {
    section: "http",
    key: "connections",
    type: "integer",
    default: 64,
    comment: "connections per worker",
    min: 1,
    max: 100_000,
    flag: "inflight",
  },
  {
    section: "http",
    key: "keep_alive",
    type: "boolean",
    default: true,
    comment: "reuse connections (HTTP/1.1 keep-alive); false opens one connection per request",
    flag: "keep-alive",
  },
  {
    section: "http",
    key: "pipeline",
    type: "integer",
    default: 1,
    comment: "requests in flight on one keep-alive connection; 1 = no pipelining",
    min: 1,
    max: 256,
    flag: "pipeline",
  },

  // [ws]
  {
    section: "ws",
    key: "sockets",
    type: "integer",
    default: 100,
    comment: "WebSocket connections per worker, each one client with its own peer id",
    min: 1,
    max: 100_000,
    flag: "inflight",
  },
  {
    section: "ws",
    key: "offers",
    type: "integer",
    default: 10,
    comment: "WebRTC offers (fake SDP) in each announce, also its numwant",
    min: 0,
    max: 100,
    flag: "offers",
  },
  {
    section: "ws",
    key: "torrents_per_socket",
    type: "integer",
    default: 4,
    comment: "torrents one socket takes part in at the same time",
    min: 1,
    max: 100,
    flag: "torrents-per-socket",
  },
  {
    section: "ws",
    key: "sockets_per_address",
    type: "integer",
    default: 32,
    comment:
      "sockets opened from one source address 127.0.0.x (stay below the tracker's ws.max_sockets_per_ip)",
    min: 1,
    max: 1_000_000,
    flag: "sockets-per-address",
  },
];

export interface LoadConfig {
  load: {
    target: string;
    seconds: number;
    warmup: number;
    workers: number;
    timeout_ms: number;
    fill: boolean;
    fill_timeout: number;
  };
  workload: {
    torrents: number;
    peers: number;
    popularity: number;
    seeder_ratio: number;
    scrape_ratio: number;
    stop_ratio: number;
    complete_ratio: number;
    numwant: number;
    scrape_hashes: number;
  };
  udp: { inflight: number };
  http: { connections: number; keep_alive: boolean; pipeline: number };
  ws: { sockets: number; offers: number; torrents_per_socket: number; sockets_per_address: number };
}

const KEY_BY_NAME = new Map(LOAD_KEYS.map((k) => [`${k.section}.${k.key}`, k]));
const SECTION_NAMES: readonly string[] = SECTIONS.map((s) => s.name);

export function defaultLoadConfig(): LoadConfig {
  const c: Record<string, Record<string, unknown>> = {};
  for (const s of SECTIONS) c[s.name] = {};
  for (const k of LOAD_KEYS) c[k.section][k.key] = k.default;
  return c as unknown as LoadConfig;
}

/** `load.toml:3: workload.peers: expected an integer between 1 and 100000000, got 0` */
export class LoadConfigError extends Error {
  override readonly name = "LoadConfigError";
  readonly key: string | undefined;
  readonly problem: string;
  constructor(where: string, key: string | undefined, problem: string, options?: ErrorOptions) {
    super(`${where}: ${key === undefined ? "" : `${key}: `}${problem}`, options);
    this.key = key;
    this.problem = problem;
  }
}

function expected(spec: LoadKeySpec): string {
  switch (spec.type) {
    case "boolean":
      return "expected true or false";
    case "integer":
      return `expected an integer between ${spec.min} and ${spec.max}`;
    case "number":
      return `expected a number between ${spec.min} and ${spec.max}`;
    case "string":
      return "expected a string";
  }
}

/** Checks a TOML value (integers as bigint) against its spec: the value, or what is wrong. */
function checkValue(
  spec: LoadKeySpec,
  v: unknown,
): { value: boolean | number | string } | { problem: string } {
  const fail = (what: string) => ({ problem: `${expected(spec)}, got ${what}` });
  switch (spec.type) {
    case "boolean":
      return typeof v === "boolean" ? { value: v } : fail(describeValue(v));
    case "integer":
      if (typeof v !== "bigint") return fail(describeValue(v));
      if (v < BigInt(spec.min!) || v > BigInt(spec.max!)) return fail(String(v));
      return { value: Number(v) };
    case "number": {
      if (typeof v !== "bigint" && typeof v !== "number") return fail(describeValue(v));
      const n = Number(v);
      if (!Number.isFinite(n) || n < spec.min! || n > spec.max!) return fail(String(v));
      return { value: n };
    }
    case "string": {
      if (typeof v !== "string") return fail(describeValue(v));
      const problem = spec.validate?.(v);
      return problem === undefined ? { value: v } : { problem };
    }
  }
}

/** Reads and validates a load-test configuration file. Throws LoadConfigError. */
export function loadLoadConfigFile(file: string): LoadConfig {
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new LoadConfigError(file, undefined, `cannot read the file (${e.code ?? e.message})`, {
      cause: err,
    });
  }
  return parseLoadConfig(source, file);
}

/** Validates TOML text; `file` names it in error messages. Throws LoadConfigError. */
export function parseLoadConfig(source: string, file: string): LoadConfig {
  const text = source.startsWith("\uFEFF") ? source.slice(1) : source;
  const at = (path: readonly string[]) => {
    const line = locate(text, path);
    return line === undefined ? file : `${file}:${line}`;
  };
  let doc: Record<string, unknown>;
  try {
    doc = parse(text, { integersAsBigInt: true });
  } catch (err) {
    if (err instanceof TomlError) {
      const what = err.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
      throw new LoadConfigError(
        `${file}:${err.line}`,
        undefined,
        `TOML syntax error at column ${err.column}: ${what}`,
        { cause: err },
      );
    }
    throw new LoadConfigError(file, undefined, `cannot parse: ${(err as Error).message}`, { cause: err });
  }
  const config = defaultLoadConfig() as unknown as Record<string, Record<string, unknown>>;
  const sections = SECTION_NAMES.map((s) => `[${s}]`).join(", ");
  for (const [section, body] of Object.entries(doc)) {
    const isTable =
      typeof body === "object" && body !== null && !Array.isArray(body) && !(body instanceof Date);
    if (!SECTION_NAMES.includes(section)) {
      if (!isTable) {
        const home = LOAD_KEYS.find((k) => k.key === section);
        throw new LoadConfigError(
          at([section]),
          section,
          home
            ? `a setting outside any section; "${section}" belongs in [${home.section}]`
            : `unknown setting outside any section; settings go in ${sections}`,
        );
      }
      const near = closest(section, SECTION_NAMES);
      throw new LoadConfigError(
        at([section]),
        section,
        near ? `unknown section; did you mean [${near}]?` : `unknown section; sections are ${sections}`,
      );
    }
    if (!isTable) {
      throw new LoadConfigError(
        at([section]),
        section,
        `expected a table ([${section}]), got ${describeValue(body)}`,
      );
    }
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      const name = `${section}.${key}`;
      const spec = KEY_BY_NAME.get(name);
      if (spec === undefined) {
        const own = LOAD_KEYS.filter((k) => k.section === section).map((k) => k.key);
        const near = closest(key, own);
        const elsewhere = LOAD_KEYS.find((k) => k.key === key);
        throw new LoadConfigError(
          at([section, key]),
          name,
          near
            ? `unknown key; did you mean "${near}"?`
            : elsewhere
              ? `unknown key; "${key}" belongs in [${elsewhere.section}]`
              : `unknown key; [${section}] has ${own.join(", ")}`,
        );
      }
      const checked = checkValue(spec, value);
      if ("problem" in checked) throw new LoadConfigError(at([section, key]), name, checked.problem);
      config[section][key] = checked.value;
    }
  }
  return config as unknown as LoadConfig;
}

/**
 * Applies a command-line flag's text to the key it overrides, with the key's checks. Booleans
 * come as booleans from parseArgs. Throws LoadConfigError naming the flag.
 */
export function applyFlag(config: LoadConfig, spec: LoadKeySpec, raw: string | boolean): void {
  const where = `--${spec.flag}`;
  let v: unknown = raw;
  if (typeof raw === "string") {
    const s = raw.trim();
    if (spec.type === "integer") v = /^-?[0-9]+$/.test(s) ? BigInt(s) : raw;
    else if (spec.type === "number") v = s !== "" && Number.isFinite(Number(s)) ? Number(s) : raw;
    else if (spec.type === "boolean") v = s === "true" ? true : s === "false" ? false : raw;
  }
  const checked = checkValue(spec, v);
  if ("problem" in checked) {
    throw new LoadConfigError(where, `${spec.section}.${spec.key}`, checked.problem);
  }
  (config as unknown as Record<string, Record<string, unknown>>)[spec.section][spec.key] = checked.value;
}

/** The key a flag overrides for this protocol (`--inflight` means udp.inflight, http.connections...). */
export function keyForFlag(flag: string, protocol: LoadProtocol): LoadKeySpec | undefined {
  const all = LOAD_KEYS.filter((k) => k.flag === flag);
  return (
    all.find((k) => k.section === protocol) ??
    all.find((k) => k.section === "load" || k.section === "workload") ??
    all[0]
  );
}

/**
 * Checks that relate keys to each other and to the protocol; returns the problem (with the key
 * it is about), or undefined.
 */
export function checkLoadConfig(
  c: LoadConfig,
  protocol: LoadProtocol,
): { key: string; problem: string } | undefined {
  const t = parseAddress(c.load.target);
  if (c.load.fill && protocol === "ws") {
    return {
      key: "load.fill",
      problem: "fill mode is for udp and http (WebSocket peers live only as long as their socket)",
    };
  }
  if (c.load.fill && t.family === 6 && c.workload.peers > PORTS_PER_ADDRESS) {
    return {
      key: "workload.peers",
      problem: `an IPv6 fill sends from ::1 alone, so it can place at most ${PORTS_PER_ADDRESS} distinct peers (one per port), got ${c.workload.peers}`,
    };
  }
  if (c.load.fill && c.workload.peers < c.load.workers) {
    return {
      key: "workload.peers",
      problem: `a fill needs at least one peer per worker (${c.load.workers})`,
    };
  }
  return undefined;
}

function formatValue(spec: LoadKeySpec, v: boolean | number | string): string {
  if (spec.type === "string") return JSON.stringify(v);
  if (spec.type === "number") {
    const n = v as number;
    return Number.isInteger(n) ? n.toFixed(1) : String(n);
  }
  return String(v);
}

function accepts(spec: LoadKeySpec): string {
  if (spec.type === "integer" || spec.type === "number") return ` (${spec.min}..${spec.max})`;
  return "";
}

/**
 * The load-test configuration for `protocol` as commented TOML: [load], [workload] and the
 * protocol's own section, every key at its value in `config` (the defaults when undefined).
 */
export function renderLoadConfig(protocol: LoadProtocol, config?: LoadConfig): string {
  const values = (config ?? defaultLoadConfig()) as unknown as Record<string, Record<string, unknown>>;
  const out = [
    `# shoal load-test ${protocol} configuration${config === undefined ? ", every key at its default" : ""}.`,
    `# Use it with: shoal load-test ${protocol} --config FILE (flags override keys).`,
    "# Keys left out take their default.",
  ];
  for (const section of SECTIONS) {
    if (section.name !== "load" && section.name !== "workload" && section.name !== protocol) continue;
    out.push("", `# ${section.comment}`, `[${section.name}]`);
    for (const spec of LOAD_KEYS) {
      if (spec.section !== section.name) continue;
      const flag = spec.flag === undefined ? "" : `; --${spec.flag}`;
      out.push(
        `# ${spec.comment}${accepts(spec)}${flag}`,
        `${spec.key} = ${formatValue(spec, values[spec.section][spec.key] as boolean | number | string)}`,
      );
    }
  }
  return `${out.join("\n")}\n`;
}
