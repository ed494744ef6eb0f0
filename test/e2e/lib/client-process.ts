// A BitTorrent client (or any helper program) run by an end-to-end test: spawned as the leader of
// its own process group, so that stopping it also stops whatever it started; its standard output
// and error kept for waiting on and for failure reports; and killed at the latest when the test
// process exits.

import { type ChildProcess, spawn } from "node:child_process";

/** Output kept per process; older output is dropped (a failure report shows the end). */
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;
/** Time a process gets to exit after its stop signal before its group is killed. */
export const STOP_GRACE_MS = 10_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  error?: Error;
}

// Last line of defence: no client outlives the test process, whatever happened to the test.
const live = new Set<ClientProcess>();
process.on("exit", () => {
  for (const p of live) p.killGroupNow("SIGKILL");
});

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The signal that makes the program leave the swarm and exit cleanly. Default SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** Output lines left out of failure reports (per-block chatter). */
  noise?: RegExp;
}

export class ClientProcess {
  /** Says who this is in messages: "aria2 seed". */
  readonly label: string;
  readonly commandLine: string;
  readonly exited: Promise<ExitStatus>;
  private readonly stopSignal: NodeJS.Signals;
  private readonly noise: RegExp | undefined;
  private readonly child: ChildProcess;
  private text = "";
  private status: ExitStatus | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(label: string, command: string, args: readonly string[], options: SpawnOptions) {
    this.label = label;
    this.commandLine = [command, ...args].join(" ");
    this.stopSignal = options.stopSignal ?? "SIGTERM";
    this.noise = options.noise;
    // detached: the child calls setsid(), so it leads a new process group whose id is its pid.
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(this);
    const append = (chunk: string) => {
      this.text += chunk;
      if (this.text.length > MAX_OUTPUT_CHARS) this.text = this.text.slice(-MAX_OUTPUT_CHARS / 2);
      this.notify();
    };
    this.child.stdout!.setEncoding("utf8");
    this.child.stderr!.setEncoding("utf8");
    this.child.stdout!.on("data", append);
    this.child.stderr!.on("data", append);
    this.exited = new Promise<ExitStatus>((resolve) => {
      this.child.on("error", (error) => {
        // Spawn failures come as "error" without "close".
        if (this.child.pid === undefined) {
          this.status = { code: null, signal: null, error };
          live.delete(this);
          resolve(this.status);
          this.notify();
        }
      });
      // "close" comes after the last output, "exit" may come before it.
      this.child.on("close", (code, signal) => {
        if (this.status !== null) return;
        this.status = { code, signal };
        live.delete(this);
        resolve(this.status);
        this.notify();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.status === null;
  }

  /** Everything printed so far, stdout and stderr interleaved as they arrived. */
  output(): string {
    return this.text;
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  describeExit(s: ExitStatus): string {
    if (s.error !== undefined) return `could not be started (${s.error.message})`;
    return s.signal !== null ? `was killed by ${s.signal}` : `exited with code ${s.code}`;
  }

  /**
   * Resolves once `predicate` holds for the output so far. Rejects when the process exits first
   * or after `timeoutMs`, with a message that says what was awaited.
   */
  waitForOutput(predicate: (output: string) => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        this.listeners.delete(check);
        if (timer !== undefined) clearTimeout(timer);
      };
      const check = () => {
        if (predicate(this.text)) {
          finish();
          resolve();
        } else if (this.status !== null) {
          finish();
          reject(new Error(`${this.label} ${this.describeExit(this.status)} before ${what}`));
        }
      };
      timer = setTimeout(
        () => {
          finish();
          reject(new Error(`${this.label}: ${what} did not happen within ${Math.round(timeoutMs / 1000)} s`));
        },
        Math.max(0, timeoutMs),
      );
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves with the exit status; rejects if the process still runs after `timeoutMs`. */
  async waitForExit(timeoutMs: number, what: string): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((r) => {
      timer = setTimeout(() => r(null), Math.max(0, timeoutMs));
    });
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === null) {
      throw new Error(`${this.label}: ${what} did not happen within ${Math.round(timeoutMs / 1000)} s`);
    }
    return result;
  }

  /** Sends `signal` to the whole process group; a group already gone is not an error. */
  killGroupNow(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }

  /**
   * The stop signal (SIGTERM unless the program wants another) to the group, then SIGKILL to
   * the group if the leader is still there after `graceMs`. Resolves with the leader's exit
   * status and whether it had to be killed. The group gets a SIGKILL in any case, for children
   * that ignored the stop signal.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<ExitStatus & { forced: boolean }> {
    let forced = false;
    if (this.status === null) {
      this.killGroupNow(this.stopSignal);
      try {
        await this.waitForExit(graceMs, `exit after ${this.stopSignal}`);
      } catch {
        forced = true;
      }
    }
    this.killGroupNow("SIGKILL");
    const status = await this.exited;
    return { ...status, forced };
  }

  /** SIGKILL to the group at once (cleanup after a failure). */
  async kill(): Promise<void> {
    this.killGroupNow("SIGKILL");
    await this.waitForExit(5_000, "exit after SIGKILL").catch(() => {});
  }

  /**
   * The last `maxLines` lines of output for a failure report: carriage returns (progress
   * read-outs) become line ends and runs of identical lines are counted, not repeated.
   */
  tail(maxLines = 80): string {
    const lines = this.text.replace(/\r\n?/g, "\n").split("\n");
    const out: string[] = [];
    let prev: string | null = null;
    let repeats = 0;
    const flush = () => {
      if (repeats > 0) out.push(`    (previous line ${repeats} more times)`);
      repeats = 0;
    };
    let dropped = 0;
    for (const raw of lines) {
      const line = raw.trimEnd();
      if (line === "") continue;
      if (this.noise?.test(line)) {
        dropped++;
        continue;
      }
      if (line === prev) {
        repeats++;
        continue;
      }
      flush();
      out.push(line);
      prev = line;
    }
    flush();
    const notes: string[] = [];
    if (dropped > 0) notes.push(`    (${dropped} lines of per-block chatter left out)`);
    if (out.length > maxLines) notes.push(`    (${out.length - maxLines} earlier lines left out)`);
    return [...notes, ...out.slice(-maxLines)].join("\n");
  }
}
