// A real Prometheus server for the statistics tests: a configuration that scrapes one target
// every second, a temporary storage directory, a free loopback port, readiness and instant
// queries over its HTTP API, and a stop that never leaves the process or the directory behind.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PROMETHEUS = "/usr/bin/prometheus";
export const PROMTOOL = "/usr/bin/promtool";

export function havePrometheus(): boolean {
  return existsSync(PROMETHEUS);
}

export function havePromtool(): boolean {
  return existsSync(PROMTOOL);
}

/** A loopback TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** GET on loopback; resolves with the status and the body as text. */
export function getText(host: string, port: number, path: string, timeoutMs = 10_000) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to GET ${path} within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on("exit", () => {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export interface PrometheusServer {
  readonly port: number;
  readonly dir: string;
  output(): string;
  /** Resolves once /-/ready answers 200; rejects after `ms` or when the process exits. */
  ready(ms: number): Promise<void>;
  /** An instant query; resolves with the parsed JSON answer. */
  query(promql: string): Promise<PromQueryAnswer>;
  /** SIGTERM, then SIGKILL if it has not exited within 15 s; removes the directory. */
  stop(): Promise<void>;
}

export interface PromQueryAnswer {
  status: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
  error?: string;
}

/** The prometheus.yml text: scrape `target` ("host:port") every second as job "shoal". */
export function scrapeConfig(target: string): string {
  return [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "  evaluation_interval: 1s",
    "scrape_configs:",
    "  - job_name: shoal",
    "    metrics_path: /metrics",
    "    static_configs:",
    `      - targets: ["${target}"]`,
    "",
  ].join("\n");
}

export async function startPrometheus(target: string): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), "shoal-prom-"));
  dirs.add(dir);
  const configPath = join(dir, "prometheus.yml");
  writeFileSync(configPath, scrapeConfig(target));
  const port = await freePort();
  const proc = spawn(
    PROMETHEUS,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  live.add(proc);
  let out = "";
  proc.stdout!.setEncoding("utf8");
  proc.stderr!.setEncoding("utf8");
  proc.stdout!.on("data", (c: string) => {
    out += c;
  });
  proc.stderr!.on("data", (c: string) => {
    out += c;
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    proc.on("exit", () => {
      exited = true;
      live.delete(proc);
      resolve();
    });
  });
  proc.on("error", (err) => {
    out += `\nspawn error: ${err.message}`;
  });

  return {
    port,
    dir,
    output: () => out,
    async ready(ms: number) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (exited) throw new Error(`prometheus exited (code ${proc.exitCode}):\n${out}`);
        try {
          const r = await getText("127.0.0.1", port, "/-/ready", 2_000);
          if (r.status === 200) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`prometheus not ready within ${ms} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async query(promql: string) {
      const r = await getText("127.0.0.1", port, `/api/v1/query?query=${encodeURIComponent(promql)}`);
      return JSON.parse(r.text) as PromQueryAnswer;
    },
    async stop() {
      if (!exited) {
        proc.kill("SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<"late">((r) => {
          timer = setTimeout(() => r("late"), 15_000);
        });
        if ((await Promise.race([exit, late])) === "late") {
          proc.kill("SIGKILL");
          await exit;
        }
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}
