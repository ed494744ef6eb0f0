// `npm run bench`: shoal side by side with opentracker (Debian package) and the npm
// bittorrent-tracker server, one at a time on loopback, under the same load from shoal's own
// load tester. Prints medians and ratios to shoal, and writes JSON and a markdown table under
// bench/results/. Timings on a shared machine are noisy: compare ratios within one run.
//
//   npm run bench                       every scenario, 3 repetitions, 10 s each
//   npm run bench -- --quick            1 repetition, 4 s, memory at 100,000 peers only
//   npm run bench -- --only udp,memory --reps 5 --seconds 15

import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeInfoHash } from "../src/loadtest/workload.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const NODE = process.execPath;

type TrackerName = "shoal" | "opentracker" | "bittorrent-tracker";
const TRACKERS: TrackerName[] = ["shoal", "opentracker", "bittorrent-tracker"];

interface Scenario {
  id: string;
  title: string;
  protocol: "udp" | "http" | "ws";
  flags: string[];
  trackers: TrackerName[];
  /** Which figure of the summary is the result. */
  metric: "announcesPerSecond";
}

const SCENARIOS: Scenario[] = [
  {
    id: "udp",
    title: "UDP announces/s",
    protocol: "udp",
    flags: [],
    trackers: TRACKERS,
    metric: "announcesPerSecond",
  },
  {
    id: "http-keepalive",
    title: "HTTP announces/s, keep-alive on",
    protocol: "http",
    flags: ["--keep-alive"],
    trackers: TRACKERS,
    metric: "announcesPerSecond",
  },
  {
    id: "http-close",
    title: "HTTP announces/s, keep-alive off",
    protocol: "http",
    flags: ["--no-keep-alive"],
    trackers: TRACKERS,
    metric: "announcesPerSecond",
  },
  {
    id: "ws",
    title: "WebSocket announces/s (with offers)",
    protocol: "ws",
    flags: [],
    trackers: ["shoal", "bittorrent-tracker"],
    metric: "announcesPerSecond",
  },
];

const { values: args } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    only: { type: "string" },
    peers: { type: "string", default: "100000,1000000" },
    torrents: { type: "string", default: "10000" },
    quick: { type: "boolean", default: false },
  },
});
const reps = args.quick ? 1 : Number(args.reps);
const seconds = args.quick ? 4 : Number(args.seconds);
const warmup = args.quick ? 1 : Number(args.warmup);
const torrents = Number(args.torrents);
const fills = (args.quick ? "100000" : args.peers).split(",").map(Number);
const only = args.only?.split(",");
const wanted = (id: string) => only === undefined || only.includes(id) || only.includes(id.split("-")[0]);

const work = mkdtempSync(join(tmpdir(), "shoal-bench-"));
const hasTaskset = spawnSync("taskset", ["-V"]).status === 0 && cpus().length >= 2;
/** Tracker on CPU 0, load generator on CPU 1: each gets one core, as "per core" means. */
const pin = (cpu: number, cmd: string, a: string[]): [string, string[]] =>
  hasTaskset ? ["taskset", ["-c", String(cpu), cmd, ...a]] : [cmd, a];

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

// --- trackers ---------------------------------------------------------------------------

interface Running {
  name: TrackerName;
  proc: ChildProcess;
  pid: number;
  port: number;
}

let nextPort = 20000 + Math.floor(Math.random() * 20000);

function ensureOpentracker(): void {
  if (spawnSync("sh", ["-c", "command -v opentracker"]).status === 0) return;
  log("opentracker is not installed: installing Debian's package");
  execFileSync("apt-get", ["update"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "opentracker"], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** Debian's opentracker is built with a whitelist: list every info hash the load uses. */
function opentrackerDir(): string {
  const dir = join(work, "opentracker");
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const hash = new Uint8Array(20);
  const lines: string[] = [];
  for (let t = 0; t < torrents; t++) {
    writeInfoHash(hash, 0, t);
    lines.push(Buffer.from(hash).toString("hex"));
  }
  writeFileSync(join(dir, "whitelist.txt"), `${lines.join("\n")}\n`, { mode: 0o644 });
  return dir;
}

async function startTracker(name: TrackerName): Promise<Running> {
  const port = nextPort++;
  let cmd: string;
  let a: string[];
  if (name === "shoal") {
    const config = join(work, `shoal-${port}.toml`);
    writeFileSync(
      config,
      [
        "[udp]",
        `addresses = ["127.0.0.1:${port}"]`,
        "receive_buffer_size = 4194304",
        "send_buffer_size = 4194304",
        "[http]",
        `addresses = ["127.0.0.1:${port}"]`,
        "max_connections = 100000",
        "[api]",
        "enabled = false",
        "[store]",
        'snapshot_path = ""',
        "[log]",
        'level = "warn"',
        "",
      ].join("\n"),
    );
    // The same V8 flags as `npm start` and the shoal bin.
    [cmd, a] = pin(0, NODE, [
      "--max-semi-space-size=4",
      join(ROOT, "src/cli/main.ts"),
      "run",
      "--config",
      config,
    ]);
  } else if (name === "opentracker") {
    ensureOpentracker();
    const dir = opentrackerDir();
    [cmd, a] = pin(0, "opentracker", [
      "-i",
      "127.0.0.1",
      "-p",
      String(port),
      "-P",
      String(port),
      "-u",
      "_opentracker",
      "-d",
      dir,
      "-w",
      "whitelist.txt",
    ]);
  } else {
    [cmd, a] = pin(0, NODE, [
      join(ROOT, "node_modules/bittorrent-tracker/bin/cmd.js"),
      "--port",
      String(port),
      "--http-hostname",
      "127.0.0.1",
      "--udp-hostname",
      "127.0.0.1",
      "--udp6-hostname",
      "::1",
      "--quiet",
    ]);
  }
  const proc = spawn(cmd, a, { stdio: ["ignore", "ignore", "pipe"], cwd: work });
  let stderr = "";
  proc.stderr?.on("data", (d) => {
    stderr += d;
  });
  const ready = await waitForUdp(port, 15_000, proc);
  if (!ready) {
    proc.kill("SIGKILL");
    throw new Error(`${name} did not answer on udp 127.0.0.1:${port}: ${stderr.slice(0, 500)}`);
  }
  return { name, proc, pid: proc.pid!, port };
}

/** Ready once a BEP 15 connect is answered. */
async function waitForUdp(port: number, ms: number, proc: ChildProcess): Promise<boolean> {
  const s = dgram.createSocket("udp4");
  const req = Buffer.alloc(16);
  req.writeUInt32BE(0x417, 0);
  req.writeUInt32BE(0x27101980, 4);
  req.writeUInt32BE(0, 8);
  req.writeUInt32BE(0x1234, 12);
  const answered = new Promise<boolean>((resolve) => s.once("message", () => resolve(true)));
  const deadline = Date.now() + ms;
  try {
    while (Date.now() < deadline && proc.exitCode === null) {
      s.send(req, port, "127.0.0.1");
      const r = await Promise.race([
        answered,
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 200)),
      ]);
      if (r) return true;
    }
    return false;
  } finally {
    s.close();
  }
}

async function stopTracker(t: Running): Promise<void> {
  if (t.proc.exitCode !== null) return;
  const exited = new Promise((resolve) => t.proc.once("exit", resolve));
  t.proc.kill("SIGTERM");
  const timer = setTimeout(() => t.proc.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  return m === null ? Number.NaN : Number(m[1]) * 1024;
}

// --- load -------------------------------------------------------------------------------

interface LoadResult {
  announcesPerSecond: number;
  answersPerSecond: number;
  answersPerCpuSecond: number;
  errors: number;
  timeouts: number;
  invalid: number;
}

function loadTest(protocol: string, port: number, pid: number, extra: string[]): Record<string, unknown> {
  const [cmd, a] = pin(1, NODE, [
    join(ROOT, "src/cli/main.ts"),
    "load-test",
    protocol,
    "--target",
    `127.0.0.1:${port}`,
    "--torrents",
    String(torrents),
    "--json",
    "--target-pid",
    String(pid),
    ...extra,
  ]);
  const r = spawnSync(cmd, a, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60 * 1000 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`load-test ${protocol} failed (exit ${r.status}): ${r.stderr.slice(0, 800)}`);
  }
}

function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((p, q) => p - q);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// --- run ----------------------------------------------------------------------------------

interface Row {
  id: string;
  title: string;
  unit: string;
  /** Median per tracker; absent when the tracker does not take part. */
  medians: Partial<Record<TrackerName, number>>;
  runs: Partial<Record<TrackerName, LoadResult[] | number[]>>;
  cpu?: Partial<Record<TrackerName, number>>;
  notes: string[];
}

const rows: Row[] = [];

async function runScenario(sc: Scenario): Promise<void> {
  const row: Row = {
    id: sc.id,
    title: sc.title,
    unit: "announces/s",
    medians: {},
    runs: {},
    cpu: {},
    notes: [],
  };
  for (const name of sc.trackers) {
    const results: LoadResult[] = [];
    for (let i = 0; i < reps; i++) {
      const t = await startTracker(name);
      try {
        log(`${sc.id}: ${name}, repetition ${i + 1}/${reps}`);
        const s = loadTest(sc.protocol, t.port, t.pid, [
          "--seconds",
          String(seconds),
          "--warmup",
          String(warmup),
          ...sc.flags,
        ]);
        const totals = s.totals as Record<string, number>;
        results.push({
          announcesPerSecond: (s.perSecond as Record<string, number>).announces,
          answersPerSecond: s.answersPerSecond as number,
          answersPerCpuSecond: s.answersPerCpuSecond as number,
          errors: totals.errors,
          timeouts: totals.timeouts,
          invalid: totals.invalid,
        });
      } catch (err) {
        row.notes.push(`${name}: ${(err as Error).message.split("\n")[0]}`);
      } finally {
        await stopTracker(t);
      }
    }
    row.runs[name] = results;
    if (results.length > 0) {
      row.medians[name] = median(results.map((r) => r.announcesPerSecond));
      row.cpu![name] = median(results.map((r) => r.answersPerCpuSecond));
      const bad = results.reduce((n, r) => n + r.errors + r.timeouts + r.invalid, 0);
      if (bad > 0)
        row.notes.push(`${name}: ${bad} errors, timeouts or invalid answers over ${results.length} runs`);
    }
  }
  rows.push(row);
}

async function runMemory(peers: number): Promise<void> {
  const row: Row = {
    id: `memory-${peers}`,
    title: `resident memory per peer, ${peers.toLocaleString("en-US")} peers over ${torrents.toLocaleString("en-US")} torrents`,
    unit: "bytes/peer",
    medians: {},
    runs: {},
    notes: [],
  };
  for (const name of TRACKERS) {
    const results: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t = await startTracker(name);
      try {
        log(`memory ${peers}: ${name}, repetition ${i + 1}/${reps}`);
        await new Promise((r) => setTimeout(r, 1000));
        const before = rssBytes(t.pid);
        const s = loadTest("udp", t.port, t.pid, ["--fill", "--peers", String(peers), "--workers", "1"]);
        const fill = s.fill as Record<string, number>;
        await new Promise((r) => setTimeout(r, 2000));
        const after = rssBytes(t.pid);
        if (fill.accepted < peers)
          row.notes.push(`${name}: only ${fill.accepted} of ${peers} peers accepted`);
        results.push((after - before) / fill.accepted);
      } catch (err) {
        row.notes.push(`${name}: ${(err as Error).message.split("\n")[0]}`);
      } finally {
        await stopTracker(t);
      }
    }
    row.runs[name] = results;
    if (results.length > 0) row.medians[name] = median(results);
  }
  rows.push(row);
}

function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return "–";
  return Math.round(v).toLocaleString("en-US");
}

function ratio(v: number | undefined, base: number | undefined): string {
  if (v === undefined || base === undefined || Number.isNaN(v) || Number.isNaN(base) || v === 0) return "–";
  return `${(base / v).toFixed(2)}×`;
}

function markdown(meta: Record<string, unknown>): string {
  const out: string[] = [];
  out.push(`# shoal benchmark, ${meta.date}`, "");
  out.push(`- machine: ${meta.cores} cores, ${meta.cpu}`);
  out.push(`- Node ${meta.node}; tracker pinned to CPU 0, load generator to CPU 1: ${meta.pinned}`);
  out.push(`- command: \`${meta.command}\``);
  out.push(
    `- ${meta.reps} repetition(s) of ${meta.seconds} s (after ${meta.warmup} s warm-up); medians shown`,
  );
  out.push(
    "- ratio = shoal's figure ÷ the other tracker's (above 1× means shoal does better; for memory, lower is better, so the ratio is theirs ÷ shoal's)",
    "",
  );
  out.push(
    "| scenario | shoal | opentracker | bittorrent-tracker | shoal vs opentracker | shoal vs bittorrent-tracker |",
  );
  out.push("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    const m = r.medians;
    const memory = r.unit === "bytes/peer";
    const vs = (o: TrackerName) => (memory ? ratio(m.shoal, m[o]) : ratio(m[o], m.shoal));
    out.push(
      `| ${r.title} (${r.unit}) | ${fmt(m.shoal)} | ${fmt(m.opentracker)} | ${fmt(m["bittorrent-tracker"])} | ${vs("opentracker")} | ${vs("bittorrent-tracker")} |`,
    );
  }
  const cpuRows = rows.filter((r) => r.cpu !== undefined);
  if (cpuRows.length > 0) {
    out.push(
      "",
      "Answers per CPU-second of the tracker (its own CPU time, from /proc; fair even when the load generator is the limit):",
      "",
    );
    out.push("| scenario | shoal | opentracker | bittorrent-tracker |", "| --- | ---: | ---: | ---: |");
    for (const r of cpuRows) {
      out.push(
        `| ${r.title} | ${fmt(r.cpu!.shoal)} | ${fmt(r.cpu!.opentracker)} | ${fmt(r.cpu!["bittorrent-tracker"])} |`,
      );
    }
  }
  const notes = rows.flatMap((r) => r.notes.map((n) => `- ${r.id}: ${n}`));
  if (notes.length > 0) out.push("", "Notes:", "", ...notes);
  return `${out.join("\n")}\n`;
}

async function main(): Promise<void> {
  const started = new Date();
  try {
    for (const sc of SCENARIOS) if (wanted(sc.id)) await runScenario(sc);
    if (wanted("memory")) for (const p of fills) await runMemory(p);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const meta = {
    date: started.toISOString(),
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    node: process.version,
    pinned: hasTaskset,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    reps,
    seconds,
    warmup,
    torrents,
  };
  const md = markdown(meta);
  process.stdout.write(md);
  const dir = join(ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, "-").slice(0, 19);
  writeFileSync(join(dir, `${stamp}.json`), `${JSON.stringify({ meta, rows }, null, 2)}\n`);
  writeFileSync(join(dir, `${stamp}.md`), md);
  log(`results written to bench/results/${stamp}.{json,md}`);
}

await main();
