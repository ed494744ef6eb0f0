// The configuration schema: one entry per key. The Config type, defaults, validation, the
// commented default file and the error messages are all derived from these tables, so adding
// a key means adding one entry here (and, if it relates to other keys, a rule below).

import { parseCidr } from "../core/cidr.ts";
import { parseAddress } from "./address.ts";

export type { ListenAddress } from "./address.ts";
export { parseAddress } from "./address.ts";

export const SECTIONS = [
  { name: "udp", comment: "UDP tracker (BEP 15)" },
  { name: "http", comment: "HTTP tracker (BEP 3, 23, 48) and WebTorrent WebSocket upgrades" },
  { name: "ws", comment: "WebTorrent tracker over WebSocket, on the [http] addresses" },
  { name: "api", comment: "Statistics API, Prometheus metrics and health check" },
  { name: "tracker", comment: "What clients are told" },
  { name: "store", comment: "Swarm store" },
  { name: "access_list", comment: "Which torrents are tracked" },
  { name: "log", comment: "Logging" },
] as const;

export type SectionName = (typeof SECTIONS)[number]["name"];

export type ValueType = "boolean" | "integer" | "string" | "string[]";

export interface KeySpec {
  readonly section: SectionName;
  readonly key: string;
  readonly type: ValueType;
  readonly default: boolean | number | string | readonly string[];
  /** One line, shown above the key in the rendered default file. */
  readonly comment: string;
  /** Inclusive bounds; integers only. */
  readonly min?: number;
  readonly max?: number;
  /** Allowed values; strings only. */
  readonly values?: readonly string[];
  /** The value is a secret: no message may quote it. */
  readonly secret?: boolean;
  /**
   * Extra check for a string (or for each element of a string[]): returns what is wrong, or
   * undefined when the value is fine. The text must not echo secrets.
   */
  readonly validate?: (value: string) => string | undefined;
}

function address(examplePort: number): (value: string) => string | undefined {
  return (value) => {
    try {
      parseAddress(value, examplePort);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
}

function cidr(value: string): string | undefined {
  try {
    parseCidr(value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function token(value: string): string | undefined {
  if (value.length < 8) return `a token needs at least 8 characters, got ${value.length}`;
  if (!/^[\x21-\x7e]+$/.test(value)) return "a token may hold only printable ASCII without spaces";
  return undefined;
}

// Never echo the secret itself: error messages end up in logs.
function hexSecret(value: string): string | undefined {
  if (value === "" || /^[0-9a-fA-F]{16}$/.test(value)) return undefined;
  const what =
    value.length === 16 ? "16 characters that are not all hex digits" : `${value.length} characters`;
  return `expected "" (random per process) or exactly 16 hex digits, got ${what}`;
}

export const KEYS = [
  // [udp]
  {
    section: "udp",
    key: "enabled",
    type: "boolean",
    default: true,
    comment: "serve the UDP tracker (BEP 15)",
  },
  {
    section: "udp",
    key: "addresses",
    type: "string[]",
    default: ["0.0.0.0:6969", "[::]:6969"],
    comment: "one socket per address, IPv4:port or [IPv6]:port; port 0 picks a free port",
    validate: address(6969),
  },
  {
    section: "udp",
    key: "connection_id_secret",
    type: "string",
    default: "",
    comment: '16 hex digits (64-bit key) shared by instances behind one address; "" = random per process',
    validate: hexSecret,
  },
  {
    section: "udp",
    key: "ban_threshold",
    type: "integer",
    default: 10,
    comment: "bad connection ids from one IP within ban_window before it is ignored; 0 = never ban",
    min: 0,
    max: 1_000_000,
  },
  {
    section: "udp",
    key: "ban_window",
    type: "integer",
    default: 60,
    comment: "seconds over which bad connection ids are counted",
    min: 1,
    max: 86_400,
  },
  {
    section: "udp",
    key: "ban_duration",
    type: "integer",
    default: 600,
    comment: "seconds a banned IP is ignored",
    min: 1,
    max: 604_800,
  },
  {
    section: "udp",
    key: "ban_table_size",
    type: "integer",
    default: 65_536,
    comment: "IPs tracked for banning at most",
    min: 16,
    max: 16_777_216,
  },
  {
    section: "udp",
    key: "receive_buffer_size",
    type: "integer",
    default: 4_194_304,
    comment: "socket receive buffer in bytes (the kernel caps it at net.core.rmem_max); 0 = OS default",
    min: 0,
    max: 1_073_741_824,
  },
  {
    section: "udp",
    key: "send_buffer_size",
    type: "integer",
    default: 0,
    comment: "socket send buffer in bytes; 0 = OS default",
    min: 0,
    max: 1_073_741_824,
  },

  // [http]
  {
    section: "http",
    key: "enabled",
    type: "boolean",
    default: true,
    comment: "serve the HTTP tracker (BEP 3/23/48) and WebSocket upgrades",
  },
  {
    section: "http",
    key: "addresses",
    type: "string[]",
    default: ["0.0.0.0:6969", "[::]:6969"],
    comment: "one socket per address, IPv4:port or [IPv6]:port; port 0 picks a free port",
    validate: address(6969),
  },
  {
    section: "http",
    key: "tls_cert_path",
    type: "string",
    default: "",
    comment: "PEM certificate chain; with tls_key_path set, every address serves HTTPS (re-read on SIGHUP)",
  },
  {
    section: "http",
    key: "tls_key_path",
    type: "string",
    default: "",
    comment: "PEM private key for tls_cert_path",
  },
  {
    section: "http",
    key: "max_url_length",
    type: "integer",
    default: 8192,
    comment: "bytes of the request target (path and query) at most; longer gets 414",
    min: 64,
    max: 1_048_576,
  },
  {
    section: "http",
    key: "max_header_size",
    type: "integer",
    default: 16_384,
    comment: "bytes of the whole request head (request line and headers) at most; larger gets 431",
    min: 256,
    max: 1_048_576,
  },
  {
    section: "http",
    key: "max_headers",
    type: "integer",
    default: 64,
    comment: "header fields in one request at most",
    min: 4,
    max: 1000,
  },
  {
    section: "http",
    key: "header_timeout",
    type: "integer",
    default: 10,
    comment: "seconds a client has to send a complete request head once it starts one",
    min: 1,
    max: 3600,
  },
  {
    section: "http",
    key: "idle_timeout",
    type: "integer",
    default: 30,
    comment: "seconds an idle keep-alive connection is kept open",
    min: 1,
    max: 3600,
  },
  {
    section: "http",
    key: "max_requests_per_connection",
    type: "integer",
    default: 10_000,
    comment: "requests served on one connection before it is closed; 0 = no limit",
    min: 0,
    max: 100_000_000,
  },
  {
    section: "http",
    key: "max_connections",
    type: "integer",
    default: 10_000,
    comment: "open connections at most, over all addresses; further ones are refused",
    min: 1,
    max: 10_000_000,
  },
  {
    section: "http",
    key: "max_scrape_hashes",
    type: "integer",
    default: 100,
    comment: "info hashes in one scrape at most",
    min: 1,
    max: 10_000,
  },
  {
    section: "http",
    key: "full_scrape",
    type: "boolean",
    default: false,
    comment: "answer a scrape without info_hash with every torrent (served from a cache)",
  },
  {
    section: "http",
    key: "full_scrape_interval",
    type: "integer",
    default: 300,
    comment: "seconds between rebuilds of the cached full scrape",
    min: 1,
    max: 86_400,
  },
  {
    section: "http",
    key: "trusted_proxies",
    type: "string[]",
    default: [],
    comment: "CIDRs of reverse proxies whose client-address header is believed; [] = none",
    validate: cidr,
  },
  {
    section: "http",
    key: "proxy_header",
    type: "string",
    default: "x-forwarded-for",
    comment: "header that carries the client address from a trusted proxy",
    values: ["x-forwarded-for", "forwarded", "x-real-ip"],
  },
  {
    section: "http",
    key: "allow_ip_param",
    type: "boolean",
    default: false,
    comment: "honour the announce's ip parameter (only sensible on private networks)",
  },

  // [ws]
  {
    section: "ws",
    key: "enabled",
    type: "boolean",
    default: true,
    comment: "accept WebSocket upgrades on / and /announce of the HTTP addresses (ws://, wss:// with TLS)",
  },
  {
    section: "ws",
    key: "announce_interval",
    type: "integer",
    default: 120,
    comment: "seconds between announces asked of WebTorrent clients",
    min: 10,
    max: 86_400,
  },
  {
    section: "ws",
    key: "max_message_size",
    type: "integer",
    default: 65_536,
    comment: "bytes of one incoming message at most; larger closes the socket (1009)",
    min: 1024,
    max: 16_777_216,
  },
  {
    section: "ws",
    key: "max_offers_per_announce",
    type: "integer",
    default: 10,
    comment: "offers relayed from one announce at most; the rest are dropped with a warning",
    min: 0,
    max: 1000,
  },
  {
    section: "ws",
    key: "offer_ttl",
    type: "integer",
    default: 120,
    comment: "seconds an offer may be answered after shoal relayed it",
    min: 5,
    max: 3600,
  },
  {
    section: "ws",
    key: "max_swarms_per_socket",
    type: "integer",
    default: 100,
    comment: "torrents one socket may announce at the same time",
    min: 1,
    max: 100_000,
  },
  {
    section: "ws",
    key: "max_sockets_per_ip",
    type: "integer",
    default: 64,
    comment: "open WebSocket connections from one client address at most",
    min: 1,
    max: 1_000_000,
  },
  {
    section: "ws",
    key: "idle_timeout",
    type: "integer",
    default: 300,
    comment: "seconds a socket may stay silent (no message) before it is closed",
    min: 10,
    max: 86_400,
  },
  {
    section: "ws",
    key: "ping_interval",
    type: "integer",
    default: 30,
    comment: "seconds between pings; a socket that has not answered the previous ping is dropped",
    min: 1,
    max: 3600,
  },
  {
    section: "ws",
    key: "max_buffered_bytes",
    type: "integer",
    default: 1_048_576,
    comment: "bytes queued towards one socket at most; a slower reader is disconnected",
    min: 16_384,
    max: 1_073_741_824,
  },
  {
    section: "ws",
    key: "max_bad_messages",
    type: "integer",
    default: 20,
    comment: "bad messages one socket may send before it is closed (each gets a failure reason)",
    min: 1,
    max: 1_000_000,
  },

  // [api]
  {
    section: "api",
    key: "enabled",
    type: "boolean",
    default: true,
    comment: "serve the statistics API, metrics and health",
  },
  {
    section: "api",
    key: "address",
    type: "string",
    default: "127.0.0.1:7070",
    comment: "IPv4:port or [IPv6]:port; keep it private, it is not rate limited",
    validate: address(7070),
  },
  {
    section: "api",
    key: "access_tokens",
    type: "string[]",
    default: [],
    comment: "tokens accepted for /api/* (Authorization: Bearer TOKEN or ?token=TOKEN); [] = open",
    validate: token,
    secret: true,
  },

  // [tracker]
  {
    section: "tracker",
    key: "announce_interval",
    type: "integer",
    default: 1800,
    comment: "seconds between announces asked of clients",
    min: 10,
    max: 86_400,
  },
  {
    section: "tracker",
    key: "min_announce_interval",
    type: "integer",
    default: 900,
    comment: "seconds clients must wait between announces; at most announce_interval",
    min: 1,
    max: 86_400,
  },
  {
    section: "tracker",
    key: "peer_timeout",
    type: "integer",
    default: 3600,
    comment: "seconds without an announce before a peer is dropped; at least min_announce_interval",
    min: 10,
    max: 604_800,
  },
  {
    section: "tracker",
    key: "default_numwant",
    type: "integer",
    default: 50,
    comment: "peers returned when the client does not say how many; at most max_numwant",
    min: 0,
    max: 1000,
  },
  {
    section: "tracker",
    key: "max_numwant",
    type: "integer",
    default: 200,
    comment: "cap on peers returned",
    min: 1,
    max: 1000,
  },

  // [store]
  {
    section: "store",
    key: "snapshot_path",
    type: "string",
    default: "shoal-state.bin",
    comment: 'where download counts are saved across restarts; "" disables',
  },
  {
    section: "store",
    key: "snapshot_interval",
    type: "integer",
    default: 300,
    comment: "seconds between snapshots",
    min: 10,
    max: 86_400,
  },
  {
    section: "store",
    key: "expiry_batch",
    type: "integer",
    default: 20_000,
    comment: "peers checked for expiry per second at most",
    min: 100,
    max: 10_000_000,
  },

  // [access_list]
  {
    section: "access_list",
    key: "mode",
    type: "string",
    default: "off",
    comment: "off: track every torrent; allow: only those listed; deny: all but those listed",
    values: ["off", "allow", "deny"],
  },
  {
    section: "access_list",
    key: "path",
    type: "string",
    default: "",
    comment: "file of hex info hashes, one per line, '#' starts a comment; required unless mode is off",
  },

  // [log]
  {
    section: "log",
    key: "level",
    type: "string",
    default: "info",
    comment: "least severe level logged",
    values: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
  },
] as const satisfies readonly KeySpec[];

type AnyKey = (typeof KEYS)[number];

type ValueOf<K> = K extends { values: readonly (infer V)[] }
  ? V
  : K extends { type: "boolean" }
    ? boolean
    : K extends { type: "integer" }
      ? number
      : K extends { type: "string" }
        ? string
        : string[];

/** The whole configuration, keys exactly as written in TOML (`config.tracker.announce_interval`). */
export type Config = {
  -readonly [S in SectionName]: {
    -readonly [K in AnyKey as K extends { section: S } ? K["key"] : never]: ValueOf<K>;
  };
};

/** "udp.ban_window" -> its spec. */
export const KEY_BY_NAME: ReadonlyMap<string, KeySpec> = new Map(
  KEYS.map((k): [string, KeySpec] => [`${k.section}.${k.key}`, k]),
);

export function defaultConfig(): Config {
  const config: Record<string, Record<string, unknown>> = {};
  for (const s of SECTIONS) config[s.name] = {};
  for (const k of KEYS as readonly KeySpec[]) {
    config[k.section][k.key] = Array.isArray(k.default) ? [...k.default] : k.default;
  }
  return config as Config;
}

/** Reads a value by dotted name ("tracker.announce_interval"). */
export function getValue(config: Config, name: string): unknown {
  const dot = name.indexOf(".");
  const section = (config as unknown as Record<string, Record<string, unknown>>)[name.slice(0, dot)];
  return section?.[name.slice(dot + 1)];
}

// ---- Rules that involve more than one key ----

export interface RuleViolation {
  /** The key to blame, dotted. */
  key: string;
  problem: string;
  /** Where to point in the file when `key` itself is not written there (dotted). */
  at?: string;
}

export interface CrossRule {
  /**
   * `given(name)` tells whether the file sets that key, so the message can blame the key the
   * operator actually wrote rather than a default they never saw.
   */
  check(config: Config, given: (name: string) => boolean): RuleViolation | undefined;
}

/** `low <= high`. Blames `prefer` when the file sets it (or sets neither), else the other. */
function atMost(low: string, high: string, prefer: string): CrossRule {
  return {
    check(config, given) {
      const lo = getValue(config, low) as number;
      const hi = getValue(config, high) as number;
      if (lo <= hi) return undefined;
      const other = prefer === low ? high : low;
      const blame = given(prefer) || !given(other) ? prefer : other;
      return blame === low
        ? { key: low, problem: `must be at most ${high} (${hi}), got ${lo}` }
        : { key: high, problem: `must be at least ${low} (${lo}), got ${hi}` };
    },
  };
}

export const RULES: readonly CrossRule[] = [
  atMost("tracker.min_announce_interval", "tracker.announce_interval", "tracker.min_announce_interval"),
  // A peer that announces as rarely as it may must not expire in between.
  atMost("tracker.min_announce_interval", "tracker.peer_timeout", "tracker.peer_timeout"),
  atMost("tracker.default_numwant", "tracker.max_numwant", "tracker.default_numwant"),
  {
    check(config, given) {
      const { tls_cert_path: cert, tls_key_path: key } = config.http;
      if ((cert === "") === (key === "")) return undefined;
      const missing = cert === "" ? "http.tls_cert_path" : "http.tls_key_path";
      return {
        key: missing,
        problem: "HTTPS needs both tls_cert_path and tls_key_path",
        at: given(missing) ? missing : cert === "" ? "http.tls_key_path" : "http.tls_cert_path",
      };
    },
  },
  {
    check(config, given) {
      const { mode, path } = config.access_list;
      if (mode === "off" || path !== "") return undefined;
      return {
        key: "access_list.path",
        problem: `must name a file when access_list.mode is "${mode}"`,
        at: given("access_list.path") ? "access_list.path" : "access_list.mode",
      };
    },
  },
];
