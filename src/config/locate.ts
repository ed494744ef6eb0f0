// Finds the line where a key is written. smol-toml reports positions only for syntax errors,
// so this re-reads the source with a deliberately small scanner: it understands `[table]` and
// `[[array]]` headers, `key = ` lines (bare, quoted and dotted keys) and skips multi-line
// strings. It is only used to point at a line in an error message, never to read values, so
// being approximate costs at most a missing line number.

/**
 * 1-based line that defines `path` (e.g. ["udp", "ban_window"]): a `ban_window =` line under
 * `[udp]`, a top-level `udp.ban_window =`, or a `[udp.ban_window]` header. A section path
 * (["udp"]) matches its first header or dotted key. Failing that, a line assigning a parent
 * (`udp = { ban_window = 0 }`). Undefined when nothing matches.
 */
export function locate(source: string, path: readonly string[]): number | undefined {
  const lines = source.split(/\r\n|\n|\r/);
  let table: string[] = [];
  let inString: '"""' | "'''" | undefined;
  let parentLine: number | undefined;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (inString) {
      if (line.includes(inString)) inString = undefined;
      continue;
    }
    const text = line.trimStart();
    let defined: string[] | undefined;
    let isAssignment = false;
    if (text.startsWith("[")) {
      const header = readHeader(text);
      if (header) {
        table = header;
        defined = header;
      }
    } else {
      const key = readKey(text, 0);
      if (key && text[key.end] === "=") {
        defined = [...table, ...key.path];
        isAssignment = true;
      }
    }
    if (defined) {
      if (startsWith(defined, path)) return i + 1;
      if (isAssignment && parentLine === undefined && startsWith(path, defined)) parentLine = i + 1;
    }
    inString = opensMultilineString(line);
  }
  return parentLine;
}

function startsWith(whole: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= whole.length && prefix.every((p, i) => whole[i] === p);
}

function readHeader(text: string): string[] | undefined {
  const double = text.startsWith("[[");
  const key = readKey(text, double ? 2 : 1);
  if (!key) return undefined;
  const close = double ? "]]" : "]";
  return text.startsWith(close, key.end) ? key.path : undefined;
}

/** Reads `a . "b" . 'c'` from `pos`; `end` is the first non-blank index after it. */
function readKey(text: string, pos: number): { path: string[]; end: number } | undefined {
  const path: string[] = [];
  let i = skipBlanks(text, pos);
  for (;;) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      const close = findQuoteEnd(text, i);
      if (close < 0) return undefined;
      const raw = text.slice(i + 1, close);
      path.push(ch === '"' ? decodeBasicKey(raw) : raw);
      i = close + 1;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i));
      if (!m) return undefined;
      path.push(m[0]);
      i += m[0].length;
    }
    i = skipBlanks(text, i);
    if (text[i] !== ".") return { path, end: i };
    i = skipBlanks(text, i + 1);
  }
}

function findQuoteEnd(text: string, open: number): number {
  const q = text[open];
  for (let i = open + 1; i < text.length; i++) {
    if (q === '"' && text[i] === "\\") i++;
    else if (text[i] === q) return i;
  }
  return -1;
}

function decodeBasicKey(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

function skipBlanks(text: string, i: number): number {
  while (text[i] === " " || text[i] === "\t") i++;
  return i;
}

/** The delimiter of a multi-line string left open at the end of `line`, if any. */
function opensMultilineString(line: string): '"""' | "'''" | undefined {
  for (const delim of ['"""', "'''"] as const) {
    if (line.split(delim).length % 2 === 0) return delim;
  }
  return undefined;
}
