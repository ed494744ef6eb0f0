// The programs the end-to-end tests drive, and the Debian packages they come from. A missing one
// fails the test with the package to install: CI installs them, so a skip would hide a broken CI.

import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

export interface Tool {
  /** Program name looked up on PATH, or an absolute path. */
  readonly program: string;
  /** The Debian package that provides it. */
  readonly debianPackage: string;
  /** Extra check beyond "the program exists": returns an error message or null. */
  readonly check?: (path: string) => string | null;
}

/**
 * Debian's python3-libtorrent is built for Debian's own /usr/bin/python3, which is not
 * necessarily the python3 first on PATH (pyenv, a virtualenv): always use that one.
 */
export const DEBIAN_PYTHON = "/usr/bin/python3";

export const TOOLS = {
  mktorrent: { program: "mktorrent", debianPackage: "mktorrent" },
  transmission: { program: "transmission-cli", debianPackage: "transmission-cli" },
  aria2: { program: "aria2c", debianPackage: "aria2" },
  libtorrent: {
    program: DEBIAN_PYTHON,
    debianPackage: "python3-libtorrent",
    check: (python: string) => {
      const r = spawnSync(python, ["-c", "import libtorrent; print(libtorrent.__version__)"], {
        encoding: "utf8",
        timeout: 20_000,
      });
      return r.status === 0 ? null : `${python} cannot import libtorrent: ${(r.stderr ?? "").trim()}`;
    },
  },
} satisfies Record<string, Tool>;

const found = new Map<Tool, string>();

function onPath(program: string): string | null {
  const candidates = isAbsolute(program)
    ? [program]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter((d) => d !== "")
        .map((d) => join(d, program));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not there; next
    }
  }
  return null;
}

/** The absolute path of `tool`'s program; throws, naming the Debian package, when it is missing. */
export function requireTool(tool: Tool): string {
  const known = found.get(tool);
  if (known !== undefined) return known;
  const install = `CI must install the Debian package "${tool.debianPackage}" (apt-get install ${tool.debianPackage})`;
  const path = onPath(tool.program);
  if (path === null) throw new Error(`${tool.program} is not installed: ${install}`);
  const problem = tool.check?.(path) ?? null;
  if (problem !== null) throw new Error(`${problem}: ${install}`);
  found.set(tool, path);
  return path;
}
