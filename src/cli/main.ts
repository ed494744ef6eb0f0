// `shoal <command>`: run the tracker, print or check its configuration.

import { parseArgs } from "node:util";
import { configCommand } from "./config.ts";
import { loadTestCommand } from "./load-test.ts";
import { runCommand } from "./run.ts";

const USAGE = `usage:
  shoal run [--config FILE]     run the tracker (defaults when no file is given)
  shoal config                  print the default configuration, commented, as TOML
  shoal config check FILE       validate a configuration file (exit 0 when valid, 2 when not)
  shoal load-test udp|http|ws [--config FILE] [flags]
                                drive a tracker on this machine with a realistic load
  shoal load-test udp --print-config
                                the load tester's commented default configuration
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "run": {
      const { values } = parseArgs({ args: rest, options: { config: { type: "string", short: "c" } } });
      return runCommand(values.config);
    }
    case "config":
      return configCommand(rest);
    case "load-test":
      return loadTestCommand(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`shoal: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // `run` keeps the process alive through its sockets and sets the exit code itself.
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`shoal: ${err.message}\n`);
    process.exitCode = 2;
  },
);
