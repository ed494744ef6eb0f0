// Which info hashes the tracker serves: all (off), only those listed (allow), or all but those
// listed (deny). The list is a text file of 40-digit hex info hashes, one per line, '#' comments.

import { readFile } from "node:fs/promises";

export type AccessMode = "off" | "allow" | "deny";

export class AccessListError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  constructor(file: string, line: number | undefined, problem: string) {
    super(line === undefined ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
    this.name = "AccessListError";
    this.file = file;
    this.line = line;
  }
}

/** Parses the list text into a set of 20-character latin1 info hash strings. */
export function parseAccessList(text: string, file: string): Set<string> {
  const hashes = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    const hash = line.indexOf("#");
    if (hash >= 0) line = line.slice(0, hash);
    line = line.trim();
    if (line === "") continue;
    if (!/^[0-9a-fA-F]{40}$/.test(line)) {
      throw new AccessListError(
        file,
        i + 1,
        `expected a 40-digit hex info hash, got "${line.length > 60 ? `${line.slice(0, 60)}…` : line}"`,
      );
    }
    hashes.add(Buffer.from(line, "hex").toString("latin1"));
  }
  return hashes;
}

export async function readAccessList(file: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new AccessListError(file, undefined, `cannot read the access list: ${(err as Error).message}`);
  }
  return parseAccessList(text, file);
}

export class AccessList {
  readonly mode: AccessMode;
  private hashes: Set<string>;

  constructor(mode: AccessMode, hashes: Set<string> = new Set()) {
    this.mode = mode;
    this.hashes = hashes;
  }

  get size(): number {
    return this.hashes.size;
  }

  /** Replaces the list as a whole: a reload either fully takes effect or not at all. */
  replace(hashes: Set<string>): void {
    this.hashes = hashes;
  }

  allows(infoHash: string): boolean {
    if (this.mode === "off") return true;
    return this.hashes.has(infoHash) === (this.mode === "allow");
  }
}
