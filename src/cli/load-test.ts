// `shoal load-test udp`: drive a tracker with a realistic announce/scrape mix and report rates.

import { parseArgs } from "node:util";
import { parseAddress } from "../config/schema.ts";
import { runLoad } from "../loadtest/runner.ts";

export async function loadTestCommand(args: string[]): Promise<number> {
  const [protocol, ...rest] = args;
  if (protocol !== "udp") {
    process.stderr.write("usage: shoal load-test udp [--target ADDR] [--seconds N] [--workers N] ...\n");
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      target: { type: "string", default: "127.0.0.1:6969" },
      seconds: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      workers: { type: "string", default: "1" },
      inflight: { type: "string", default: "64" },
      torrents: { type: "string", default: "10000" },
      peers: { type: "string", default: "100000" },
      "scrape-ratio": { type: "string", default: "0.05" },
      "seeder-ratio": { type: "string", default: "0.3" },
      numwant: { type: "string", default: "50" },
      json: { type: "boolean", default: false },
      "target-pid": { type: "string" },
    },
  });
  const target = parseAddress(values.target);
  const summary = await runLoad({
    protocol: "udp",
    keepAlive: true,
    offers: 0,
    host: target.host,
    port: target.port,
    family: target.family,
    workers: Number(values.workers),
    inflight: Number(values.inflight),
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    torrents: Number(values.torrents),
    popularityExponent: 3,
    peersPerWorker: Number(values.peers),
    seederRatio: Number(values["seeder-ratio"]),
    scrapeRatio: Number(values["scrape-ratio"]),
    numWant: Number(values.numwant),
    targetPid: values["target-pid"] === undefined ? undefined : Number(values["target-pid"]),
    onSecond: values.json
      ? undefined
      : (s, c) =>
          process.stdout.write(
            `${s}s announces ${c.announces}/s scrapes ${c.scrapes}/s connects ${c.connects}/s errors ${c.errors} timeouts ${c.timeouts} invalid ${c.invalid}\n`,
          ),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    process.stdout.write(
      `summary over ${summary.seconds}s: ${Math.round(summary.announcesPerSecond)} announces/s, ${Math.round(summary.answersPerSecond)} answers/s, p50 ${summary.p50Ms.toFixed(2)} ms, p99 ${summary.p99Ms.toFixed(2)} ms, errors ${summary.totals.errors}, timeouts ${summary.totals.timeouts}, invalid ${summary.totals.invalid}${Number.isNaN(summary.targetCpuSeconds) ? "" : `; target CPU ${summary.targetCpuSeconds.toFixed(2)} s = ${Math.round(summary.answersPerCpuSecond)} answers per CPU-second`}\n`,
    );
  return 0;
}
