// A running shoal with its HTTP tracker on, for the HTTP integration tests: wraps startShoal()
// from shoal-process.ts, which knows only UDP addresses, and reads the "http" addresses and the
// "https" flag from the same "listening" log line.

import {
  type ConfigSections,
  type LogLine,
  type ShoalProcess,
  type StartOptions,
  shoalConfig,
  startShoal,
} from "./shoal-process.ts";
import type { Endpoint } from "./udp-client.ts";

/** An HTTP tracker endpoint; `family` says which loopback it is on. */
export interface HttpEndpoint extends Endpoint {
  family: 4 | 6;
}

export interface HttpShoal {
  readonly shoal: ShoalProcess;
  /** First IPv4 / IPv6 HTTP address from the "listening" line. */
  readonly http4: HttpEndpoint;
  readonly http6: HttpEndpoint;
  readonly http: readonly HttpEndpoint[];
  /** The "https" field of the "listening" line. */
  readonly https: boolean;
  endpoint(family: 4 | 6): HttpEndpoint;
}

/**
 * TOML for an HTTP test tracker: HTTP on ephemeral loopback ports of both families, UDP and the
 * API off, the snapshot off. `overrides` adds or replaces keys (in [http] too).
 */
export function httpConfig(dir: string, overrides: ConfigSections = {}): string {
  const base: ConfigSections = {
    udp: { enabled: false },
    http: { enabled: true, addresses: ["127.0.0.1:0", "[::1]:0"] },
    store: { snapshot_path: "" },
  };
  const merged: ConfigSections = { ...base };
  for (const [name, keys] of Object.entries(overrides)) merged[name] = { ...merged[name], ...keys };
  return shoalConfig(dir, merged);
}

function parseHttpEndpoint(text: string): HttpEndpoint {
  const m = /^\[(.*)\]:(\d+)$/.exec(text);
  if (m !== null) return { host: m[1], port: Number(m[2]), family: 6 };
  const v4 = /^([^:]*):(\d+)$/.exec(text);
  if (v4 === null) throw new Error(`cannot read the http address "${text}" of the listening line`);
  return { host: v4[1], port: Number(v4[2]), family: 4 };
}

/** The HTTP addresses and the https flag of an already started process's "listening" line. */
export function httpAddressesOf(shoal: ShoalProcess): { http: HttpEndpoint[]; https: boolean } {
  const line: LogLine | undefined = shoal.logs.find((l) => l.msg === "listening");
  if (line === undefined) throw new Error("no listening line yet");
  const list = line.http;
  if (!Array.isArray(list)) throw new Error(`the listening line has no "http" list: ${JSON.stringify(line)}`);
  return { http: (list as string[]).map(parseHttpEndpoint), https: line.https === true };
}

/**
 * Starts shoal (by default with `httpConfig(dir)`) and reads its HTTP addresses. `sections`
 * (or a function of the temporary directory returning them) is a shortcut for
 * `config: (dir) => httpConfig(dir, sections)`.
 */
export async function startHttpShoal(
  options: StartOptions & { sections?: ConfigSections | ((dir: string) => ConfigSections) } = {},
): Promise<HttpShoal> {
  const { sections, ...rest } = options;
  const shoal = await startShoal({
    ...rest,
    config:
      rest.config ?? ((dir) => httpConfig(dir, typeof sections === "function" ? sections(dir) : sections)),
  });
  let parsed: { http: HttpEndpoint[]; https: boolean };
  try {
    parsed = httpAddressesOf(shoal);
  } catch (err) {
    await shoal.cleanup();
    throw err;
  }
  const pick = (family: 4 | 6): HttpEndpoint => {
    const e = parsed.http.find((a) => a.family === family);
    if (e === undefined)
      throw new Error(`shoal listens on no IPv${family} HTTP address: ${JSON.stringify(parsed.http)}`);
    return e;
  };
  return {
    shoal,
    get http4() {
      return pick(4);
    },
    get http6() {
      return pick(6);
    },
    http: parsed.http,
    https: parsed.https,
    endpoint: pick,
  };
}
