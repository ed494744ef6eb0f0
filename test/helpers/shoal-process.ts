// Runs the real `shoal run` in a child process for integration tests: writes the configuration
// to a temporary directory, waits (bounded) for the "listening" log line and reads the bound
// addresses from it, keeps the parsed log lines, and makes sure nothing outlives the tests.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir as osTmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { AfterHook, Endpoint } from "./udp-client.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const MAIN = join(REPO_ROOT, "src/cli/main.ts");

/** Start-up (type stripping included) takes well under a second; this only bounds a hang. */
export const READY_TIMEOUT_MS = 15_000;
export const EXIT_TIMEOUT_MS = 15_000;

/** One parsed log line (pino): level, time, msg and whatever fields the line carried. */
export interface LogLine {
  level?: number;
  msg?: string;
  [field: string]: unknown;
}

export type TomlValue = string | number | boolean | readonly string[];
export type ConfigSections = Record<string, Record<string, TomlValue>>;

/**
 * TOML for a test tracker: UDP on ephemeral loopback ports of both families, no HTTP and no API
 * (nothing else listening), the snapshot in `dir`, info logs. `overrides` adds or replaces keys.
 */
export function shoalConfig(dir: string, overrides: ConfigSections = {}): string {
  const sections: ConfigSections = {
    udp: { addresses: ["127.0.0.1:0", "[::1]:0"] },
    http: { enabled: false },
    api: { enabled: false },
    store: { snapshot_path: join(dir, "state.bin") },
    log: { level: "info" },
  };
  for (const [name, keys] of Object.entries(overrides)) sections[name] = { ...sections[name], ...keys };
  return toToml(sections);
}

export function toToml(sections: ConfigSections): string {
  let out = "";
  for (const [name, keys] of Object.entries(sections)) {
    out += `[${name}]\n`;
    for (const [key, value] of Object.entries(keys)) out += `${key} = ${tomlValue(value)}\n`;
    out += "\n";
  }
  return out;
}

function tomlValue(v: TomlValue): string {
  if (typeof v === "string") return JSON.stringify(v); // JSON strings are valid TOML basic strings
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return `[${v.map((s) => JSON.stringify(s)).join(", ")}]`;
}

export interface StartOptions {
  /** TOML text, or a function of the temporary directory returning it. Default: shoalConfig(dir). */
  config?: string | ((dir: string) => string);
  /**
   * Run in this directory instead of a fresh one (to restart on the same snapshot). A directory
   * passed in is not removed by this process's cleanup.
   */
  tmpdir?: string;
  /** Files written into the directory before start: name -> content. */
  files?: Record<string, string | Uint8Array>;
  /** Cleanup (kill, remove the directory) runs when this test or suite finishes. */
  owner?: AfterHook;
  readyTimeoutMs?: number;
}

export interface ShoalProcess {
  readonly proc: ChildProcess;
  /** First IPv4 / IPv6 UDP address from the "listening" line; throws if there is none. */
  readonly udp4: Endpoint;
  readonly udp6: Endpoint;
  /** Every UDP address from the "listening" line. */
  readonly udp: readonly Endpoint[];
  /** Parsed stdout lines, appended as they arrive (non-JSON lines as { raw }). */
  readonly logs: LogLine[];
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly tmpdir: string;
  readonly configPath: string;
  /**
   * Resolves with the first log line from index `since` on that satisfies `predicate`; rejects
   * after `timeoutMs` or when the process exits first.
   */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number, since?: number): Promise<LogLine>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code (null if killed by a signal). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /**
   * Settles like `work`, but rejects as soon as the process exits first (with what it printed),
   * so that a crash fails a test at once instead of after a request timeout.
   */
  whileRunning<T>(work: Promise<T>): Promise<T>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the process if it still runs and removes the directory if this process made it. */
  cleanup(): Promise<void>;
}

// Last line of defence: never leave a tracker or a temporary directory behind, even when a test
// forgets its cleanup or the test process is interrupted.
const live = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
process.on("exit", () => {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  for (const d of ownedDirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when `owner` finishes (or at the latest on exit). */
export function makeTmpdir(owner?: AfterHook): string {
  const dir = mkdtempSync(join(osTmpdir(), "shoal-it-"));
  ownedDirs.add(dir);
  owner?.after(() => removeTmpdir(dir));
  return dir;
}

function removeTmpdir(dir: string): void {
  ownedDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // Set by node --test for its own children; the tracker is not a test file.
  delete env.NODE_TEST_CONTEXT;
  return env;
}

function parseEndpoint(text: string): Endpoint {
  const m = /^\[(.*)\]:(\d+)$/.exec(text) ?? /^([^:]*):(\d+)$/.exec(text);
  if (m === null) throw new Error(`cannot read the address "${text}" of the listening line`);
  return { host: m[1], port: Number(m[2]) };
}

function outputs(stdout: string, stderr: string): string {
  return `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
}

/** Starts `shoal run --config <tmpdir>/shoal.toml` and waits for its "listening" line. */
export async function startShoal(options: StartOptions = {}): Promise<ShoalProcess> {
  const ownDir = options.tmpdir === undefined;
  const dir = options.tmpdir ?? makeTmpdir();
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), content);
  const config =
    options.config === undefined
      ? shoalConfig(dir)
      : typeof options.config === "function"
        ? options.config(dir)
        : options.config;
  const configPath = join(dir, "shoal.toml");
  writeFileSync(configPath, config);

  const proc = spawn(process.execPath, [MAIN, "run", "--config", configPath], {
    cwd: REPO_ROOT,
    env: childEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(proc);

  let stdout = "";
  let stderr = "";
  let partial = "";
  const logs: LogLine[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of listeners) l();
  };
  proc.stdout!.setEncoding("utf8");
  proc.stderr!.setEncoding("utf8");
  proc.stdout!.on("data", (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    let nl = partial.indexOf("\n");
    while (nl >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line.trim() !== "") {
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          logs.push({ raw: line });
        }
      }
      nl = partial.indexOf("\n");
    }
    notify();
  });
  proc.stderr!.on("data", (chunk: string) => {
    stderr += chunk;
  });

  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    proc.on("exit", (code, signal) => {
      hasExited = true;
      live.delete(proc);
      resolveExit({ code, signal });
    });
  });
  // Streams may still hold the last lines when "exit" fires; "close" comes after them.
  const closed = new Promise<void>((r) => proc.on("close", () => r()));
  void closed.then(notify);
  proc.on("error", notify);

  const waitForLog = (
    predicate: (line: LogLine) => boolean,
    timeoutMs = READY_TIMEOUT_MS,
    since = 0,
  ): Promise<LogLine> =>
    new Promise((resolveWait, rejectWait) => {
      let checked = since;
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        for (; checked < logs.length; checked++) {
          if (predicate(logs[checked])) {
            finish();
            resolveWait(logs[checked]);
            return;
          }
        }
        if (hasExited && proc.stdout!.readableEnded) {
          finish();
          rejectWait(
            new Error(
              `shoal exited (code ${proc.exitCode}) before the awaited log line${outputs(stdout, stderr)}`,
            ),
          );
        }
      };
      const finish = () => {
        listeners.delete(check);
        if (timer !== undefined) clearTimeout(timer);
      };
      timer = setTimeout(() => {
        finish();
        rejectWait(
          new Error(`the awaited log line did not come within ${timeoutMs} ms${outputs(stdout, stderr)}`),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });

  const kill = async () => {
    if (!hasExited) {
      proc.kill("SIGKILL");
      await exited;
    }
  };
  const cleanup = async () => {
    await kill();
    if (ownDir) removeTmpdir(dir);
  };

  let listening: LogLine;
  try {
    listening = await waitForLog((l) => l.msg === "listening", options.readyTimeoutMs ?? READY_TIMEOUT_MS);
  } catch (err) {
    await cleanup();
    throw new Error(`shoal did not start: ${(err as Error).message}`);
  }
  options.owner?.after(cleanup);

  const udp = ((listening.udp as string[] | undefined) ?? []).map(parseEndpoint);
  const pick = (family: 4 | 6): Endpoint => {
    const e = udp.find((a) => a.host.includes(":") === (family === 6));
    if (e === undefined)
      throw new Error(`shoal listens on no IPv${family} UDP address: ${JSON.stringify(udp)}`);
    return e;
  };

  return {
    proc,
    get udp4() {
      return pick(4);
    },
    get udp6() {
      return pick(6);
    },
    udp,
    logs,
    stdout: () => stdout,
    stderr: () => stderr,
    tmpdir: dir,
    configPath,
    waitForLog,
    exited,
    cleanup,
    whileRunning<T>(work: Promise<T>): Promise<T> {
      const died = closed.then(() => {
        throw new Error(
          `shoal exited (code ${proc.exitCode}, signal ${proc.signalCode}) while a test was using it${outputs(stdout, stderr)}`,
        );
      });
      return Promise.race([work, died]);
    },
    async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = EXIT_TIMEOUT_MS) {
      if (!hasExited) proc.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((r) => {
        timer = setTimeout(() => r("timeout"), timeoutMs);
      });
      const result = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (result === "timeout") {
        await kill();
        throw new Error(`shoal did not exit within ${timeoutMs} ms of ${signal}${outputs(stdout, stderr)}`);
      }
      await closed;
      return result.code;
    },
  };
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `shoal <args>` and waits for it to exit by itself (for start-up failures). Rejects, with
 * what it printed, if it is still running after `timeoutMs` (it is then killed).
 */
export function runShoalExpectingExit(
  args: readonly string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<ExitResult> {
  const timeoutMs = options.timeoutMs ?? EXIT_TIMEOUT_MS;
  return new Promise((resolveRun, rejectRun) => {
    const proc = spawn(process.execPath, [MAIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(proc);
    let stdout = "";
    let stderr = "";
    proc.stdout.setEncoding("utf8");
    proc.stderr.setEncoding("utf8");
    proc.stdout.on("data", (c: string) => {
      stdout += c;
    });
    proc.stderr.on("data", (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      rejectRun(
        new Error(`shoal ${args.join(" ")} still ran after ${timeoutMs} ms${outputs(stdout, stderr)}`),
      );
    }, timeoutMs);
    proc.on("error", (err) => {
      clearTimeout(timer);
      live.delete(proc);
      rejectRun(err);
    });
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      live.delete(proc);
      resolveRun({ code, signal, stdout, stderr });
    });
  });
}
