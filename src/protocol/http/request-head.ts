/**
 * HTTP/1.x request heads (RFC 9112), parsed straight from the bytes a raw `net` socket delivers.
 *
 * Hot path: `findHeadEnd` and `parseRequestHead` allocate nothing (a string is made only for
 * the rare headers `X-Forwarded-For`, `Forwarded` and `X-Real-IP`, and for the text of an unusual
 * method). They never throw, whatever the bytes.
 *
 * What the parser enforces (the rules that keep requests from being smuggled past a proxy or
 * split differently by two parsers):
 *   - request line: `method SP request-target SP HTTP-version`, single spaces, a token method,
 *     no control characters or spaces in the target (bytes 0x80-0xff are allowed: some
 *     BitTorrent clients send raw info-hash bytes), version `HTTP/1.x` (other majors are
 *     `BadVersion`). Empty lines before the request line are skipped (RFC 9112 §2.2).
 *   - header lines: a token name directly followed by ':' (whitespace before the colon is
 *     rejected), no obs-fold (a line starting with SP or HTAB), no control characters other than
 *     HTAB in values, no bare CR anywhere. Lines end with CRLF or a bare LF.
 *   - Content-Length: digits only (at most 15), one header only (a repeated one is rejected even
 *     with the same value, as llhttp does). Transfer-Encoding: never together with
 *     Content-Length, never in HTTP/1.0, and its final coding must be `chunked`.
 *   - at most one Host header (RFC 9112 §3.2). A missing Host is accepted: tracker clients are
 *     not always careful, and nothing here routes by host.
 */

/** `RequestHead.method` values. */
export const Method = { Get: 1, Head: 2, Other: 3 } as const;
export type Method = (typeof Method)[keyof typeof Method];

/** Result of `parseRequestHead`. */
export const HeadError = {
  None: 0,
  /** Malformed request line (or no blank line within the given bytes). */
  BadRequestLine: 1,
  /** Not HTTP/1.x. */
  BadVersion: 2,
  /** Malformed header line: no colon, space before the colon, control characters, obs-fold. */
  BadHeader: 3,
  /** More header lines than `maxHeaders`. */
  TooManyHeaders: 4,
  /** Content-Length given more than once. */
  DuplicateContentLength: 5,
  /** Content-Length not a plain decimal number. */
  BadContentLength: 6,
  /** Both Content-Length and Transfer-Encoding. */
  LengthConflict: 7,
  /** Transfer-Encoding whose final coding is not chunked, or in an HTTP/1.0 request. */
  BadTransferEncoding: 8,
  /** Host given more than once. */
  DuplicateHost: 9,
} as const;
export type HeadError = (typeof HeadError)[keyof typeof HeadError];

/** The status code to answer a `HeadError` with (the connection is to be closed after it). */
export function headErrorStatus(code: number): 400 | 431 | 505 {
  if (code === HeadError.TooManyHeaders) return 431;
  if (code === HeadError.BadVersion) return 505;
  return 400;
}

/** Short text for logs and statistics. */
export function headErrorMessage(code: number): string {
  switch (code) {
    case HeadError.None:
      return "ok";
    case HeadError.BadRequestLine:
      return "malformed request line";
    case HeadError.BadVersion:
      return "unsupported HTTP version";
    case HeadError.BadHeader:
      return "malformed header line";
    case HeadError.TooManyHeaders:
      return "too many header lines";
    case HeadError.DuplicateContentLength:
      return "repeated Content-Length";
    case HeadError.BadContentLength:
      return "invalid Content-Length";
    case HeadError.LengthConflict:
      return "both Content-Length and Transfer-Encoding";
    case HeadError.BadTransferEncoding:
      return "unsupported Transfer-Encoding";
    case HeadError.DuplicateHost:
      return "repeated Host";
    default:
      return "malformed request head";
  }
}

/**
 * One parsed request head. A connection keeps one and lets `parseRequestHead` overwrite it.
 * Offsets index the buffer that was parsed; after an error the fields are unspecified.
 */
export class RequestHead {
  /** A `Method` value. */
  method: number = Method.Get;
  /** The method as sent, only when `method` is `Method.Other` ("" otherwise). */
  methodText = "";
  /** The request-target bytes are `buf[targetStart..targetEnd)`. */
  targetStart = 0;
  targetEnd = 0;
  /**
   * Start of the path: `targetStart` for the usual origin form ("/announce?..."), the first byte
   * after the authority for the absolute form ("http://host:port/announce?..."), which proxies
   * send and servers must accept. `pathStart === pathEnd` for "http://host?x" or "*".
   */
  pathStart = 0;
  /** Index of the first '?' in the target, or `targetEnd`. */
  pathEnd = 0;
  /** Index just after the first '?', or -1 when there is no query. The query ends at `targetEnd`. */
  queryStart = -1;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and any later 1.x). */
  versionMinor = 1;
  /** HTTP/1.1: true unless `Connection: close`; HTTP/1.0: only with `Connection: keep-alive`. */
  keepAlive = true;
  /** `Upgrade: websocket` together with the `upgrade` token in `Connection`. */
  upgradeWebSocket = false;
  /** Content-Length, or -1 when absent. */
  contentLength = -1;
  /** A Transfer-Encoding header is present (its final coding is then always chunked). */
  chunked = false;
  /** Values of these rare headers ("" when absent; repeated headers joined with ", "). */
  xForwardedFor = "";
  forwarded = "";
  xRealIp = "";
  /** A Host header is present. */
  hasHost = false;
  /** Number of header lines. */
  headerCount = 0;
  /** Index just past the blank line that ends the head (where a body would start). */
  headEnd = 0;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
const COMMA = 0x2c;
const SEMI = 0x3b;
const SLASH = 0x2f;
const QMARK = 0x3f;
/** Bytes past `to` that `findHeadEnd` lets a native search scan through. */
const FIND_NATIVE_SLACK = 2048;

/** tchar (RFC 9110 §5.6.2): what a method or a header name is made of. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

function lit(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

const N_HOST = lit("host");
const N_UPGRADE = lit("upgrade");
const N_FORWARDED = lit("forwarded");
const N_X_REAL_IP = lit("x-real-ip");
const N_CONNECTION = lit("connection");
const N_CONTENT_LENGTH = lit("content-length");
const N_X_FORWARDED_FOR = lit("x-forwarded-for");
const N_TRANSFER_ENCODING = lit("transfer-encoding");
const T_CLOSE = lit("close");
const T_KEEP_ALIVE = lit("keep-alive");
const T_UPGRADE = N_UPGRADE;
const T_WEBSOCKET = lit("websocket");
const T_CHUNKED = lit("chunked");
const HTTP_SLASH = lit("HTTP/");

/**
 * `buf[s..e)` equals the lowercase letters, digits and '-' of `name`, ignoring ASCII case. Only
 * for bytes already known to be tchar (where `| 0x20` maps only A-Z onto a-z).
 */
function equalsLower(buf: Uint8Array, s: number, e: number, name: Uint8Array): boolean {
  if (e - s !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((buf[s + i] | 0x20) !== name[i]) return false;
  return true;
}

/** Case-insensitive comparison of arbitrary bytes with a lowercase ASCII literal. */
function tokenEquals(buf: Uint8Array, s: number, e: number, token: Uint8Array): boolean {
  if (e - s !== token.length) return false;
  for (let i = 0; i < token.length; i++) {
    let c = buf[s + i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== token[i]) return false;
  }
  return true;
}

/** Bit flags for the tokens of a Connection header. */
const CONN_CLOSE = 1;
const CONN_KEEP_ALIVE = 2;
const CONN_UPGRADE = 4;

function connectionTokens(buf: Uint8Array, s: number, e: number): number {
  let flags = 0;
  let p = s;
  while (p < e) {
    while (p < e && (buf[p] === SP || buf[p] === HT || buf[p] === COMMA)) p++;
    const ts = p;
    while (p < e && buf[p] !== COMMA && buf[p] !== SP && buf[p] !== HT) p++;
    if (tokenEquals(buf, ts, p, T_CLOSE)) flags |= CONN_CLOSE;
    else if (tokenEquals(buf, ts, p, T_KEEP_ALIVE)) flags |= CONN_KEEP_ALIVE;
    else if (tokenEquals(buf, ts, p, T_UPGRADE)) flags |= CONN_UPGRADE;
  }
  return flags;
}

/** Whether an Upgrade header lists the websocket protocol (any version suffix "/x" ignored). */
function upgradeHasWebSocket(buf: Uint8Array, s: number, e: number): boolean {
  let p = s;
  while (p < e) {
    while (p < e && (buf[p] === SP || buf[p] === HT || buf[p] === COMMA)) p++;
    const ts = p;
    while (p < e && buf[p] !== COMMA && buf[p] !== SP && buf[p] !== HT && buf[p] !== SLASH) p++;
    if (tokenEquals(buf, ts, p, T_WEBSOCKET)) return true;
    while (p < e && buf[p] !== COMMA) p++;
  }
  return false;
}

/** Whether the last coding of a Transfer-Encoding value is "chunked" (parameters ignored). */
function finalCodingIsChunked(buf: Uint8Array, s: number, e: number): boolean {
  let ls = s; // start of the last list element
  for (let p = s; p < e; p++) if (buf[p] === COMMA) ls = p + 1;
  let le = ls;
  while (le < e && buf[le] !== SEMI) le++;
  while (ls < le && (buf[ls] === SP || buf[ls] === HT)) ls++;
  while (le > ls && (buf[le - 1] === SP || buf[le - 1] === HT)) le--;
  return tokenEquals(buf, ls, le, T_CHUNKED);
}

function latin1(buf: Uint8Array, s: number, e: number): string {
  if (Buffer.isBuffer(buf)) return buf.toString("latin1", s, e);
  return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString("latin1");
}

function joined(prev: string, next: string): string {
  return prev === "" ? next : `${prev}, ${next}`;
}

/**
 * Index just past the blank line ending a request head in `buf[from..to)`, or -1 when there is
 * none yet. A line ends with LF, optionally preceded by CR, so "\r\n\r\n", "\n\n", "\r\n\n" and
 * "\n\r\n" all end a head. To resume a search after more bytes arrived, pass as `from` the
 * previous `to` minus 3 (but not before the head's start).
 */
export function findHeadEnd(buf: Uint8Array, from: number, to: number): number {
  if (to > buf.length) to = buf.length;
  let i = from < 0 ? 0 : from;
  // indexOf (native, fast) cannot stop at `to`: use it only when little lies beyond.
  const native = buf.length - to <= FIND_NATIVE_SLACK;
  while (i < to) {
    if (native) {
      i = buf.indexOf(LF, i);
      if (i < 0 || i >= to) return -1;
    } else if (buf[i] !== LF) {
      i++;
      continue;
    }
    if (i + 1 < to) {
      const c = buf[i + 1];
      if (c === LF) return i + 2;
      if (c === CR && i + 2 < to && buf[i + 2] === LF) return i + 3;
    }
    i++;
  }
  return -1;
}

/**
 * Parses the request head in `buf[start..end)` (normally `end` is what `findHeadEnd` returned)
 * into `head`. Returns `HeadError.None` (0) or another `HeadError` code, after which the
 * connection should get `headErrorStatus(code)` and be closed. At most `maxHeaders` header lines
 * are accepted.
 */
export function parseRequestHead(
  buf: Uint8Array,
  start: number,
  end: number,
  head: RequestHead,
  maxHeaders: number,
): number {
  if (end > buf.length) end = buf.length;
  let p = start;
  // Empty lines before the request line are ignored.
  for (;;) {
    if (p < end && buf[p] === LF) p++;
    else if (p + 1 < end && buf[p] === CR && buf[p + 1] === LF) p += 2;
    else break;
  }

  // --- request line
  const ms = p;
  while (p < end && TCHAR[buf[p]] === 1) p++;
  const me = p;
  if (me === ms || p >= end || buf[p] !== SP) return HeadError.BadRequestLine;
  if (me - ms === 3 && buf[ms] === 0x47 && buf[ms + 1] === 0x45 && buf[ms + 2] === 0x54) {
    head.method = Method.Get;
    head.methodText = "";
  } else if (
    me - ms === 4 &&
    buf[ms] === 0x48 &&
    buf[ms + 1] === 0x45 &&
    buf[ms + 2] === 0x41 &&
    buf[ms + 3] === 0x44
  ) {
    head.method = Method.Head;
    head.methodText = "";
  } else {
    head.method = Method.Other;
    head.methodText = latin1(buf, ms, me);
  }
  p++;
  const ts = p;
  let q = -1;
  for (; p < end; p++) {
    const c = buf[p];
    if (c <= SP || c === 0x7f) break;
    if (c === QMARK && q < 0) q = p;
  }
  const te = p;
  if (te === ts || p >= end || buf[p] !== SP) return HeadError.BadRequestLine;
  head.targetStart = ts;
  head.targetEnd = te;
  head.pathEnd = q < 0 ? te : q;
  head.queryStart = q < 0 ? -1 : q + 1;
  head.pathStart = ts;
  if (buf[ts] !== SLASH) {
    // absolute form: scheme "://" authority, then the path
    let i = ts;
    while (i < head.pathEnd && buf[i] !== COLON) i++;
    if (i + 2 < head.pathEnd && buf[i + 1] === SLASH && buf[i + 2] === SLASH) {
      i += 3;
      while (i < head.pathEnd && buf[i] !== SLASH) i++;
      head.pathStart = i;
    } else {
      head.pathStart = head.pathEnd; // "*" or an authority form: no path
    }
  }
  p++;
  // HTTP-version: "HTTP/" DIGIT "." DIGIT, then the line end
  if (end - p < 8) return HeadError.BadVersion;
  for (let i = 0; i < 5; i++) if (buf[p + i] !== HTTP_SLASH[i]) return HeadError.BadVersion;
  const major = buf[p + 5] - 0x30;
  const minor = buf[p + 7] - 0x30;
  if (buf[p + 6] !== 0x2e || major < 0 || major > 9 || minor < 0 || minor > 9) return HeadError.BadVersion;
  if (major !== 1) return HeadError.BadVersion;
  head.versionMinor = minor === 0 ? 0 : 1;
  p += 8;
  if (p < end && buf[p] === CR) p++;
  if (p >= end || buf[p] !== LF) return HeadError.BadRequestLine;
  p++;

  // --- header lines
  let count = 0;
  let conn = 0;
  let upgradeWs = false;
  let hasHost = false;
  let contentLength = -1;
  let hasTe = false;
  let teChunked = false;
  let xff = "";
  let fwd = "";
  let xri = "";
  for (;;) {
    if (p >= end) return HeadError.BadHeader; // no blank line
    const first = buf[p];
    if (first === LF) {
      p++;
      break;
    }
    if (first === CR) {
      if (p + 1 < end && buf[p + 1] === LF) {
        p += 2;
        break;
      }
      return HeadError.BadHeader;
    }
    // name: tchar directly followed by ':' (also rejects obs-fold and space before the colon)
    const ns = p;
    while (p < end && TCHAR[buf[p]] === 1) p++;
    const ne = p;
    if (ne === ns || p >= end || buf[p] !== COLON) return HeadError.BadHeader;
    p++;
    while (p < end && (buf[p] === SP || buf[p] === HT)) p++;
    const vs = p;
    let ve = p;
    for (;;) {
      if (p >= end) return HeadError.BadHeader;
      const c = buf[p];
      if (c === LF) break;
      if (c === CR) {
        if (p + 1 < end && buf[p + 1] === LF) break;
        return HeadError.BadHeader;
      }
      if ((c < SP && c !== HT) || c === 0x7f) return HeadError.BadHeader;
      p++;
      if (c !== SP && c !== HT) ve = p;
    }
    p += buf[p] === CR ? 2 : 1;
    if (++count > maxHeaders) return HeadError.TooManyHeaders;

    switch (ne - ns) {
      case 4:
        if (equalsLower(buf, ns, ne, N_HOST)) {
          if (hasHost) return HeadError.DuplicateHost;
          hasHost = true;
        }
        break;
      case 7:
        if (equalsLower(buf, ns, ne, N_UPGRADE)) {
          if (upgradeHasWebSocket(buf, vs, ve)) upgradeWs = true;
        }
        break;
      case 9:
        if (equalsLower(buf, ns, ne, N_FORWARDED)) fwd = joined(fwd, latin1(buf, vs, ve));
        else if (equalsLower(buf, ns, ne, N_X_REAL_IP)) xri = joined(xri, latin1(buf, vs, ve));
        break;
      case 10:
        if (equalsLower(buf, ns, ne, N_CONNECTION)) conn |= connectionTokens(buf, vs, ve);
        break;
      case 14:
        if (equalsLower(buf, ns, ne, N_CONTENT_LENGTH)) {
          if (contentLength >= 0) return HeadError.DuplicateContentLength;
          const n = ve - vs;
          if (n === 0 || n > 15) return HeadError.BadContentLength;
          let v = 0;
          for (let i = vs; i < ve; i++) {
            const d = buf[i] - 0x30;
            if (d < 0 || d > 9) return HeadError.BadContentLength;
            v = v * 10 + d;
          }
          contentLength = v;
        }
        break;
      case 15:
        if (equalsLower(buf, ns, ne, N_X_FORWARDED_FOR)) xff = joined(xff, latin1(buf, vs, ve));
        break;
      case 17:
        if (equalsLower(buf, ns, ne, N_TRANSFER_ENCODING)) {
          hasTe = true;
          teChunked = finalCodingIsChunked(buf, vs, ve);
        }
        break;
    }
  }

  if (hasTe) {
    if (contentLength >= 0) return HeadError.LengthConflict;
    if (!teChunked || head.versionMinor === 0) return HeadError.BadTransferEncoding;
  }
  head.contentLength = contentLength;
  head.chunked = hasTe;
  head.keepAlive =
    head.versionMinor === 1
      ? (conn & CONN_CLOSE) === 0
      : (conn & (CONN_KEEP_ALIVE | CONN_CLOSE)) === CONN_KEEP_ALIVE;
  head.upgradeWebSocket = upgradeWs && (conn & CONN_UPGRADE) !== 0;
  head.hasHost = hasHost;
  head.xForwardedFor = xff;
  head.forwarded = fwd;
  head.xRealIp = xri;
  head.headerCount = count;
  head.headEnd = p;
  return HeadError.None;
}

/**
 * All header fields of the head in `buf[start..end)` (which `parseRequestHead` accepted) as an
 * object with lowercase names and latin1 values, for the rare paths such as handing a WebSocket
 * upgrade to the `ws` package. Repeated fields are joined with ", " (Cookie with "; "). The object
 * has no prototype, so a header named "__proto__" is just a key.
 */
export function headersObject(buf: Uint8Array, start: number, end: number): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (end > buf.length) end = buf.length;
  let p = start;
  for (;;) {
    if (p < end && buf[p] === LF) p++;
    else if (p + 1 < end && buf[p] === CR && buf[p + 1] === LF) p += 2;
    else break;
  }
  while (p < end && buf[p] !== LF) p++; // the request line
  p++;
  while (p < end) {
    let le = p;
    while (le < end && buf[le] !== LF) le++;
    let lineEnd = le;
    if (lineEnd > p && buf[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd === p) break; // blank line
    let colon = p;
    while (colon < lineEnd && buf[colon] !== COLON) colon++;
    if (colon < lineEnd) {
      const name = latin1(buf, p, colon).toLowerCase();
      let vs = colon + 1;
      let ve = lineEnd;
      while (vs < ve && (buf[vs] === SP || buf[vs] === HT)) vs++;
      while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
      const value = latin1(buf, vs, ve);
      const prev = out[name];
      out[name] = prev === undefined ? value : `${prev}${name === "cookie" ? "; " : ", "}${value}`;
    }
    p = le + 1;
  }
  return out;
}
