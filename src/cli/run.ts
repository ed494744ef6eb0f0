// `shoal run`: start everything, report the bound addresses, and handle the signals an
// operator sends: SIGUSR1 reloads the access list, SIGTERM / SIGINT stop cleanly with exit 0.

import { ConfigError, loadConfigFile } from "../config/load.ts";
import { type Config, defaultConfig } from "../config/schema.ts";
import { AccessListError } from "../core/access-list.ts";
import { createLogger } from "../server/log.ts";
import { StartupConfigError, startShoal } from "../server/shoal.ts";

/** Returns an exit code for start-up failures, or -1 once the tracker is running. */
export async function runCommand(configFile: string | undefined): Promise<number> {
  let config: Config;
  try {
    config = configFile === undefined ? defaultConfig() : loadConfigFile(configFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`shoal: ${err.message}\n`);
    return 2;
  }
  const log = createLogger(config.log.level);
  let shoal: Awaited<ReturnType<typeof startShoal>>;
  try {
    shoal = await startShoal(config, log);
  } catch (err) {
    if (err instanceof AccessListError) {
      process.stderr.write(`shoal: access_list.path: ${err.message}\n`);
      log.fatal({ problem: err.message }, "access list unreadable");
      return 2;
    }
    if (err instanceof StartupConfigError) {
      process.stderr.write(`shoal: ${configFile ?? "(defaults)"}: ${err.message}\n`);
      log.fatal({ problem: err.message }, "start-up failed");
      return 2;
    }
    const e = err as NodeJS.ErrnoException;
    log.fatal({ err: e }, "start-up failed");
    process.stderr.write(`shoal: start-up failed: ${e.message}\n`);
    return 1;
  }
  log.info(
    {
      udp: shoal.addresses.udp,
      http: shoal.addresses.http,
      https: shoal.http?.secure ?? false,
      api: shoal.addresses.api,
      config: configFile ?? "(defaults)",
      node: process.version,
    },
    "listening",
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    shoal.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err) => {
        log.error({ err }, "stopped with an error");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGUSR1", () => void shoal.reloadAccessList());
  process.on("SIGHUP", () => shoal.reloadTls());
  return -1;
}
