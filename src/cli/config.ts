import { ConfigError, loadConfigFile } from "../config/load.ts";
import { renderDefaultConfig } from "../config/render.ts";

export function configCommand(args: string[]): number {
  if (args.length === 0) {
    process.stdout.write(renderDefaultConfig());
    return 0;
  }
  if (args[0] === "check" && args.length === 2) {
    try {
      loadConfigFile(args[1]);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    process.stdout.write(`${args[1]}: valid\n`);
    return 0;
  }
  process.stderr.write("usage: shoal config | shoal config check FILE\n");
  return 2;
}
