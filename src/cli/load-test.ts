// `shoal load-test udp | http | ws`: drive a tracker on this machine with a realistic workload
// (or fill it with peers) and report rates, errors and latencies. The configuration comes from
// the load tester's defaults, then `--config FILE`, then individual flags.

import { parseArgs } from "node:util";
import {
  applyFlag,
  checkLoadConfig,
  defaultLoadConfig,
  keyForFlag,
  LOAD_KEYS,
  type LoadConfig,
  LoadConfigError,
  loadLoadConfigFile,
  renderLoadConfig,
} from "../loadtest/config.ts";
import { type LoadSummary, runLoad, type SecondReport } from "../loadtest/runner.ts";
import { type LoadProtocol, PROTOCOLS } from "../loadtest/shared.ts";

const USAGE = `usage: shoal load-test udp|http|ws [--config FILE] [flags]
       shoal load-test udp|http|ws --print-config     commented default configuration
flags (each overrides its configuration key; see --print-config):
  --target ADDR  --seconds N  --warmup N  --workers N  --timeout-ms N
  --inflight N (udp: requests in flight, http: connections, ws: sockets; per worker)
  --torrents N  --peers N  --popularity S  --seeder-ratio R  --scrape-ratio R  --stop-ratio R
  --complete-ratio R  --numwant N  --scrape-hashes N
  --fill  --fill-timeout N            announce every peer once, then stop (udp, http)
  --keep-alive / --no-keep-alive  --pipeline N              (http)
  --offers N  --torrents-per-socket N  --sockets-per-address N  (ws)
  --json             print the summary as one JSON line
  --target-pid PID   also report the target's CPU time (Linux /proc)
`;

/** Every flag that overrides a key, with its parseArgs type. */
function flagOptions() {
  const options: Record<string, { type: "string" | "boolean" }> = {
    config: { type: "string" },
    "print-config": { type: "boolean" },
    json: { type: "boolean" },
    "target-pid": { type: "string" },
    help: { type: "boolean" },
  };
  for (const k of LOAD_KEYS) {
    if (k.flag !== undefined) options[k.flag] = { type: k.type === "boolean" ? "boolean" : "string" };
  }
  return options;
}

export async function loadTestCommand(args: string[]): Promise<number> {
  const [protocol, ...rest] = args;
  if (protocol === "--help" || protocol === "-h" || protocol === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!PROTOCOLS.includes(protocol as LoadProtocol)) {
    const shown = protocol === undefined ? "" : `shoal: unknown load-test protocol "${protocol}"\n`;
    process.stderr.write(`${shown}${USAGE}`);
    return 2;
  }
  const proto = protocol as LoadProtocol;
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: rest, options: flagOptions(), allowNegative: true, strict: true }).values;
  } catch (err) {
    process.stderr.write(`shoal: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }

  let config: LoadConfig;
  let targetPid: number | undefined;
  try {
    config = typeof values.config === "string" ? loadLoadConfigFile(values.config) : defaultLoadConfig();
    for (const [flag, value] of Object.entries(values)) {
      if (value === undefined || flag === "config") continue;
      const spec = keyForFlag(flag, proto);
      if (spec !== undefined) applyFlag(config, spec, value);
    }
    const wrong = checkLoadConfig(config, proto);
    if (wrong !== undefined) {
      const where = typeof values.config === "string" ? values.config : `load-test ${proto}`;
      throw new LoadConfigError(where, wrong.key, wrong.problem);
    }
    if (typeof values["target-pid"] === "string") {
      targetPid = Number(values["target-pid"]);
      if (!/^[0-9]+$/.test(values["target-pid"]) || targetPid < 1) {
        throw new LoadConfigError(
          "--target-pid",
          undefined,
          `expected a process id, got "${values["target-pid"]}"`,
        );
      }
    }
  } catch (err) {
    if (!(err instanceof LoadConfigError)) throw err;
    process.stderr.write(`shoal: ${err.message}\n`);
    return 2;
  }

  if (values["print-config"] === true) {
    // Flags and --config given with --print-config show up in what is printed.
    const changed =
      values.config !== undefined || Object.keys(values).some((f) => keyForFlag(f, proto) !== undefined);
    process.stdout.write(renderLoadConfig(proto, changed ? config : undefined));
    return 0;
  }

  const json = values.json === true;
  const summary = await runLoad({
    protocol: proto,
    config,
    targetPid,
    onSecond: json ? undefined : (r) => process.stdout.write(`${secondLine(proto, config, r)}\n`),
  });
  process.stdout.write(json ? `${JSON.stringify(summary)}\n` : summaryText(summary));
  if (summary.fill !== undefined && summary.fill.accepted < summary.fill.peers) return 1;
  return 0;
}

function secondLine(protocol: LoadProtocol, c: LoadConfig, r: SecondReport): string {
  const k = r.counts;
  const parts = [`${r.second}s${r.warmup ? " (warm-up)" : ""}`];
  if (c.load.fill) parts.push(`filled ${k.filled}`);
  parts.push(`announces ${k.announces}/s`, `scrapes ${k.scrapes}/s`);
  if (protocol === "udp") parts.push(`connects ${k.connects}/s`);
  if (protocol === "ws") parts.push(`offers ${k.offers}/s`, `answers ${k.answers}/s`);
  parts.push(
    `errors ${k.errors}`,
    `timeouts ${k.timeouts}`,
    `invalid ${k.invalid}`,
    `flawed ${k.flawed}`,
    `p50 ${r.p50Ms.toFixed(2)} ms`,
    `p99 ${r.p99Ms.toFixed(2)} ms`,
  );
  return parts.join("  ");
}

function summaryText(s: LoadSummary): string {
  const r = s.perSecond;
  const t = s.totals;
  const n = (v: number) => Math.round(v).toLocaleString("en-US");
  const lines = [
    s.mode === "fill"
      ? `fill: ${s.protocol} to ${s.target}, ${s.workers} worker(s): ${n(s.fill!.accepted)} of ${n(s.fill!.peers)} peers accepted over ${n(s.fill!.torrents)} torrents in ${s.fill!.seconds.toFixed(2)} s (${n(s.fill!.peersPerSecond)} peers/s)${s.fill!.complete ? "" : ", NOT COMPLETE (load.fill_timeout)"}`
      : `summary: ${s.protocol} to ${s.target}, ${s.workers} worker(s), ${s.seconds} s measured`,
    `  per second: announces ${n(r.announces)}, scrapes ${n(r.scrapes)}` +
      (s.protocol === "udp" ? `, connects ${n(r.connects)}` : "") +
      (s.protocol === "ws" ? `, offers ${n(r.offers)}, answers ${n(r.answers)}` : "") +
      `; all answers ${n(s.answersPerSecond)}`,
    `  errors ${t.errors}, timeouts ${t.timeouts}, invalid ${t.invalid}, flawed ${t.flawed}`,
    `  latency p50 ${s.p50Ms.toFixed(2)} ms, p90 ${s.p90Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms, p99.9 ${s.p999Ms.toFixed(2)} ms, max ${s.maxMs.toFixed(2)} ms`,
  ];
  if (!Number.isNaN(s.targetCpuSeconds)) {
    lines.push(
      `  target CPU ${s.targetCpuSeconds.toFixed(2)} s = ${n(s.answersPerCpuSecond)} answers per CPU-second`,
    );
  }
  return `${lines.join("\n")}\n`;
}
