import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  findHeadEnd,
  HeadError,
  headErrorMessage,
  headErrorStatus,
  headersObject,
  Method,
  parseRequestHead,
  RequestHead,
} from "../../../src/protocol/http/request-head.ts";

const bytes = (s: string) => Buffer.from(s, "latin1");

/** Parses a whole head given as text; returns the code and the head. */
function parse(text: string, maxHeaders = 32): { code: number; head: RequestHead; buf: Buffer } {
  const buf = bytes(text);
  const head = new RequestHead();
  const code = parseRequestHead(buf, 0, buf.length, head, maxHeaders);
  return { code, head, buf };
}

function ok(text: string, maxHeaders = 32): { head: RequestHead; buf: Buffer } {
  const r = parse(text, maxHeaders);
  assert.equal(r.code, HeadError.None, `${headErrorMessage(r.code)} for ${JSON.stringify(text)}`);
  return r;
}

function fails(text: string, code: number, maxHeaders = 32): void {
  const r = parse(text, maxHeaders);
  assert.equal(
    r.code,
    code,
    `expected ${headErrorMessage(code)}, got ${headErrorMessage(r.code)} for ${JSON.stringify(text)}`,
  );
}

const GET = "GET /announce HTTP/1.1\r\n";

describe("findHeadEnd", () => {
  test("CRLF CRLF, bare LF LF and the mixed forms", () => {
    for (const [text, end] of [
      ["GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27],
      ["GET / HTTP/1.1\nHost: a\n\n", 24],
      ["GET / HTTP/1.1\r\nHost: a\n\r\n", 26],
      ["GET / HTTP/1.1\r\nHost: a\r\n\n", 26],
      ["GET / HTTP/1.1\r\n\r\n", 18],
    ] as const) {
      const buf = bytes(`${text}body`);
      assert.equal(findHeadEnd(buf, 0, buf.length), end, JSON.stringify(text));
      assert.equal(end, text.length);
    }
  });

  test("no blank line yet", () => {
    for (const text of [
      "",
      "GET / HTTP/1.1\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\r",
      "a\r\rb\r\n\r",
      "a\r\n \r\n",
    ]) {
      const buf = bytes(text);
      assert.equal(findHeadEnd(buf, 0, buf.length), -1, JSON.stringify(text));
    }
  });

  test("respects from and to, and resumes from to - 3", () => {
    const buf = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
    assert.equal(findHeadEnd(buf, 0, 26), -1, "the final LF is outside");
    assert.equal(findHeadEnd(buf, 0, 27), 27);
    assert.equal(findHeadEnd(buf, 27, buf.length), buf.length);
    // bytes arrive in pieces: search each new piece from three bytes back
    let found = -1;
    let seen = 0;
    for (const to of [10, 24, 25, 26, 27]) {
      found = findHeadEnd(buf, Math.max(0, seen - 3), to);
      seen = to;
      if (found >= 0) break;
    }
    assert.equal(found, 27);
    assert.equal(findHeadEnd(buf, 0, 10_000), 27, "to past the end is clamped");
  });
});

describe("parseRequestHead: request line", () => {
  test("a typical tracker announce", () => {
    const text =
      "GET /announce?info_hash=%12%34&port=6881 HTTP/1.1\r\nHost: tracker.example:6969\r\nUser-Agent: qBittorrent/4.6\r\nAccept-Encoding: gzip\r\n\r\n";
    const { head, buf } = ok(text);
    assert.equal(head.method, Method.Get);
    assert.equal(head.methodText, "");
    assert.equal(
      buf.toString("latin1", head.targetStart, head.targetEnd),
      "/announce?info_hash=%12%34&port=6881",
    );
    assert.equal(buf.toString("latin1", head.pathStart, head.pathEnd), "/announce");
    assert.equal(buf.toString("latin1", head.queryStart, head.targetEnd), "info_hash=%12%34&port=6881");
    assert.equal(head.versionMinor, 1);
    assert.equal(head.keepAlive, true);
    assert.equal(head.upgradeWebSocket, false);
    assert.equal(head.contentLength, -1);
    assert.equal(head.chunked, false);
    assert.equal(head.hasHost, true);
    assert.equal(head.headerCount, 3);
    assert.equal(head.headEnd, text.length);
    assert.equal(head.xForwardedFor, "");
    assert.equal(head.forwarded, "");
    assert.equal(head.xRealIp, "");
  });

  test("no query: queryStart -1, pathEnd = targetEnd; an empty query after '?'", () => {
    let { head } = ok(`GET /scrape HTTP/1.1\r\n\r\n`);
    assert.equal(head.queryStart, -1);
    assert.equal(head.pathEnd, head.targetEnd);
    ({ head } = ok(`GET /scrape? HTTP/1.1\r\n\r\n`));
    assert.equal(head.pathEnd, 11);
    assert.equal(head.queryStart, 12);
    assert.equal(head.targetEnd, 12);
  });

  test("only the first '?' splits path and query", () => {
    const { head, buf } = ok("GET /a?b=?c HTTP/1.1\r\n\r\n");
    assert.equal(buf.toString("latin1", head.pathStart, head.pathEnd), "/a");
    assert.equal(buf.toString("latin1", head.queryStart, head.targetEnd), "b=?c");
  });

  test("methods: GET, HEAD, anything else with its text", () => {
    assert.equal(ok("HEAD / HTTP/1.1\r\n\r\n").head.method, Method.Head);
    const post = ok("POST / HTTP/1.1\r\n\r\n").head;
    assert.equal(post.method, Method.Other);
    assert.equal(post.methodText, "POST");
    const lower = ok("get / HTTP/1.1\r\n\r\n").head;
    assert.equal(lower.method, Method.Other, "methods are case-sensitive");
    assert.equal(lower.methodText, "get");
    assert.equal(ok("GETS / HTTP/1.1\r\n\r\n").head.method, Method.Other);
    assert.equal(ok("HEA / HTTP/1.1\r\n\r\n").head.method, Method.Other);
  });

  test("absolute form: the path starts after the authority", () => {
    let { head, buf } = ok("GET http://tracker.example:6969/announce?x=1 HTTP/1.1\r\n\r\n");
    assert.equal(buf.toString("latin1", head.pathStart, head.pathEnd), "/announce");
    assert.equal(buf.toString("latin1", head.queryStart, head.targetEnd), "x=1");
    ({ head, buf } = ok("GET http://tracker.example?x=1 HTTP/1.1\r\n\r\n"));
    assert.equal(head.pathStart, head.pathEnd);
    ({ head } = ok("OPTIONS * HTTP/1.1\r\n\r\n"));
    assert.equal(head.pathStart, head.pathEnd);
    assert.equal(head.targetEnd - head.targetStart, 1);
  });

  test("raw bytes 0x80-0xff in the target are accepted (clients sending raw info hashes)", () => {
    const buf = Buffer.concat([
      bytes("GET /announce?info_hash="),
      Buffer.from([0x80, 0xff, 0xc3]),
      bytes(" HTTP/1.1\r\n\r\n"),
    ]);
    const head = new RequestHead();
    assert.equal(parseRequestHead(buf, 0, buf.length, head, 8), HeadError.None);
    assert.deepEqual([...buf.subarray(head.targetEnd - 3, head.targetEnd)], [0x80, 0xff, 0xc3]);
  });

  test("versions: 1.0, 1.1, later 1.x as 1.1, others refused", () => {
    assert.equal(ok("GET / HTTP/1.0\r\n\r\n").head.versionMinor, 0);
    assert.equal(ok("GET / HTTP/1.1\r\n\r\n").head.versionMinor, 1);
    assert.equal(ok("GET / HTTP/1.9\r\n\r\n").head.versionMinor, 1);
    for (const v of [
      "HTTP/2.0",
      "HTTP/0.9",
      "HTTP/3.0",
      "http/1.1",
      "HTTP/1.x",
      "HTTP/1,1",
      "HTTPS/1.1",
      "HTTP/11",
      "HTTP/",
    ]) {
      fails(`GET / ${v}\r\n\r\n`, HeadError.BadVersion);
    }
  });

  test("malformed request lines", () => {
    for (const line of [
      "GET  / HTTP/1.1", // two spaces
      "GET /  HTTP/1.1",
      "GET\t/ HTTP/1.1",
      " GET / HTTP/1.1",
      "GET / HTTP/1.1 ", // trailing space
      "GET /", // HTTP/0.9
      "GET / HTTP/1.10",
      "GET /a\u0001b HTTP/1.1", // control character in the target
      "GET /a\u007fb HTTP/1.1",
      "G(T / HTTP/1.1", // not a token
      "/ HTTP/1.1",
      "GET",
      "",
    ]) {
      const r = parse(`${line}\r\nHost: a\r\n\r\n`);
      assert.ok(
        r.code === HeadError.BadRequestLine || r.code === HeadError.BadVersion,
        `${JSON.stringify(line)}: ${headErrorMessage(r.code)}`,
      );
    }
    fails("GET / HTTP/1.1\rHost: a\r\n\r\n", HeadError.BadRequestLine); // bare CR
    fails("GET /a HTTP/1.1", HeadError.BadRequestLine); // no line end
    fails("GET /a HTTP/1.", HeadError.BadVersion); // cut short
    fails("GET /a\r\n\r\n", HeadError.BadRequestLine);
  });

  test("empty lines before the request line are skipped", () => {
    const { head, buf } = ok("\r\n\nGET /x HTTP/1.1\r\n\r\n");
    assert.equal(buf.toString("latin1", head.targetStart, head.targetEnd), "/x");
  });

  test("a head in the middle of a buffer (pipelining) and nothing read past `end`", () => {
    const first = "GET /a HTTP/1.1\r\nX-Real-IP: 1.1.1.1\r\n\r\n";
    const second = "GET /b HTTP/1.0\r\n\r\n";
    const buf = bytes(`${first}${second}GET /c`);
    const head = new RequestHead();
    const end1 = findHeadEnd(buf, 0, buf.length);
    assert.equal(parseRequestHead(buf, 0, end1, head, 8), HeadError.None);
    assert.equal(head.xRealIp, "1.1.1.1");
    const end2 = findHeadEnd(buf, end1, buf.length);
    assert.equal(parseRequestHead(buf, end1, end2, head, 8), HeadError.None);
    assert.equal(buf.toString("latin1", head.targetStart, head.targetEnd), "/b");
    assert.equal(head.versionMinor, 0);
    assert.equal(head.xRealIp, "", "fields of the previous parse are overwritten");
    assert.equal(head.headEnd, end2);
    // a head cut before its blank line fails even if the buffer goes on
    assert.equal(parseRequestHead(buf, 0, end1 - 2, head, 8), HeadError.BadHeader);
    // the version's CR at `end` is not read
    const cut = bytes("GET / HTTP/1.1\r\n\r\n");
    assert.equal(parseRequestHead(cut, 0, 14, head, 8), HeadError.BadRequestLine);
  });
});

describe("parseRequestHead: header lines", () => {
  test("bare LF line endings throughout", () => {
    const { head } = ok("GET /a HTTP/1.1\nHost: a\nConnection: close\nContent-Length: 3\n\n");
    assert.equal(head.keepAlive, false);
    assert.equal(head.contentLength, 3);
    assert.equal(head.headerCount, 3);
  });

  test("values: surrounding spaces and tabs trimmed, inner ones kept, obs-text allowed", () => {
    const { head } = ok(
      `${GET}X-Forwarded-For: \t 1.2.3.4 ,\t5.6.7.8 \t \r\nX-Real-IP:9.9.9.9\r\nForwarded: for="\u00e9"\r\n\r\n`,
    );
    assert.equal(head.xForwardedFor, "1.2.3.4 ,\t5.6.7.8");
    assert.equal(head.xRealIp, "9.9.9.9");
    assert.equal(head.forwarded, 'for="\u00e9"');
  });

  test("rare headers: names case-insensitive, repeats joined with ', ', empty values kept", () => {
    const { head } = ok(
      `${GET}x-forwarded-for: 1.1.1.1\r\nX-FORWARDED-FOR: 2.2.2.2\r\nforwarded: for=1.1.1.1\r\nFORWARDED: for=2.2.2.2\r\nX-Real-Ip: 3.3.3.3\r\nx-real-ip: 4.4.4.4\r\nX-Forwarded-Foo: x\r\n\r\n`,
    );
    assert.equal(head.xForwardedFor, "1.1.1.1, 2.2.2.2");
    assert.equal(head.forwarded, "for=1.1.1.1, for=2.2.2.2");
    assert.equal(head.xRealIp, "3.3.3.3, 4.4.4.4");
    assert.equal(ok(`${GET}X-Real-IP:\r\n\r\n`).head.xRealIp, "");
  });

  test("malformed header lines", () => {
    for (const line of [
      "NoColon",
      "Host : a", // whitespace before the colon
      "Host\t: a",
      ": empty-name",
      " Host: a", // obs-fold / leading whitespace
      "Bad\u0001Name: a",
      "Bad Name: a",
      "X: a\u0000b", // NUL
      "X: a\u0001b",
      "X: a\u007fb", // DEL
      "X: a\rb", // bare CR inside a value
      "X: a\r", // bare CR at the end (no LF follows directly)
    ]) {
      fails(`${GET}Host: a\r\n${line}\r\n\r\n`, HeadError.BadHeader);
    }
    fails(`${GET}Host: a\r\n  folded\r\n\r\n`, HeadError.BadHeader); // obs-fold
    fails(`${GET}Host: a\r\n\tfolded\r\n\r\n`, HeadError.BadHeader);
    fails(`${GET}Host: a\r\n\r`, HeadError.BadHeader); // CR without LF at the end
    fails(`${GET}Host: a\r\n`, HeadError.BadHeader); // no blank line
  });

  test("header limit: maxHeaders lines pass, one more is refused", () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: ${i}\r\n`).join("");
    assert.equal(ok(`${GET}${lines(5)}\r\n`, 5).head.headerCount, 5);
    fails(`${GET}${lines(6)}\r\n`, HeadError.TooManyHeaders, 5);
    fails(`${GET}${lines(1)}\r\n`, HeadError.TooManyHeaders, 0);
    assert.equal(ok(`${GET}\r\n`, 0).head.headerCount, 0);
  });

  test("Host: at most one", () => {
    assert.equal(ok(`${GET}\r\n`).head.hasHost, false);
    assert.equal(ok(`${GET}HOST:\r\n\r\n`).head.hasHost, true);
    fails(`${GET}Host: a\r\nhost: a\r\n\r\n`, HeadError.DuplicateHost);
  });
});

describe("parseRequestHead: keep-alive", () => {
  const cases: [version: string, connection: string | null, keepAlive: boolean][] = [
    ["1.1", null, true],
    ["1.1", "close", false],
    ["1.1", "Close", false],
    ["1.1", "keep-alive", true],
    ["1.1", "keep-alive, close", false],
    ["1.1", "foo,  CLOSE ,bar", false],
    ["1.1", "closed", true],
    ["1.0", null, false],
    ["1.0", "keep-alive", true],
    ["1.0", "Keep-Alive", true],
    ["1.0", "Upgrade,Keep-Alive", true],
    ["1.0", "keep-alive, close", false],
    ["1.0", "close", false],
    ["1.0", "keep-alives", false],
  ];
  for (const [version, connection, keepAlive] of cases) {
    test(`HTTP/${version} with ${connection === null ? "no Connection" : `Connection: ${connection}`}: ${keepAlive}`, () => {
      const header = connection === null ? "" : `Connection: ${connection}\r\n`;
      assert.equal(ok(`GET / HTTP/${version}\r\n${header}\r\n`).head.keepAlive, keepAlive);
    });
  }

  test("tokens from several Connection headers add up", () => {
    assert.equal(
      ok("GET / HTTP/1.0\r\nConnection: foo\r\nConnection: keep-alive\r\n\r\n").head.keepAlive,
      true,
    );
    assert.equal(ok("GET / HTTP/1.1\r\nConnection: foo\r\nConnection: close\r\n\r\n").head.keepAlive, false);
  });
});

describe("parseRequestHead: WebSocket upgrade", () => {
  const upgrade = (headers: string) =>
    ok(`GET /ws HTTP/1.1\r\nHost: a\r\n${headers}\r\n`).head.upgradeWebSocket;

  test("Upgrade: websocket with the upgrade token in Connection", () => {
    assert.equal(upgrade("Upgrade: websocket\r\nConnection: Upgrade\r\n"), true);
    assert.equal(upgrade("upgrade: WebSocket\r\nconnection: keep-alive, UPGRADE\r\n"), true);
    assert.equal(upgrade("Connection: upgrade\r\nUpgrade: foo/2, websocket\r\n"), true);
    assert.equal(upgrade("Connection: upgrade\r\nUpgrade: websocket/13\r\n"), true);
  });

  test("either half alone, or another protocol, is not an upgrade", () => {
    assert.equal(upgrade("Upgrade: websocket\r\n"), false);
    assert.equal(upgrade("Upgrade: websocket\r\nConnection: keep-alive\r\n"), false);
    assert.equal(upgrade("Connection: Upgrade\r\n"), false);
    assert.equal(upgrade("Upgrade: h2c\r\nConnection: Upgrade\r\n"), false);
    assert.equal(upgrade("Upgrade: websockets\r\nConnection: Upgrade\r\n"), false);
    assert.equal(upgrade("Upgrade: websocket\r\nConnection: Upgrades\r\n"), false);
    assert.equal(upgrade("X-Upgrade: websocket\r\nConnection: Upgrade\r\n"), false);
  });
});

describe("parseRequestHead: message framing (smuggling rules)", () => {
  test("Content-Length: digits only", () => {
    assert.equal(ok(`${GET}Content-Length: 0\r\n\r\n`).head.contentLength, 0);
    assert.equal(ok(`${GET}content-length:  1234 \r\n\r\n`).head.contentLength, 1234);
    assert.equal(ok(`${GET}Content-Length: 999999999999999\r\n\r\n`).head.contentLength, 999999999999999);
    for (const v of [
      "",
      "abc",
      "-1",
      "+5",
      "1 2",
      "1,1",
      "5, 5",
      "0x10",
      "1e3",
      "1.0",
      "9999999999999999",
      "\u00b9",
    ]) {
      fails(`${GET}Content-Length: ${v}\r\n\r\n`, HeadError.BadContentLength);
    }
  });

  test("Content-Length twice is refused, equal or not", () => {
    fails(`${GET}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, HeadError.DuplicateContentLength);
    fails(`${GET}Content-Length: 5\r\ncontent-length: 5\r\n\r\n`, HeadError.DuplicateContentLength);
  });

  test("Transfer-Encoding: chunked last", () => {
    let { head } = ok(`${GET}Transfer-Encoding: chunked\r\n\r\n`);
    assert.equal(head.chunked, true);
    assert.equal(head.contentLength, -1);
    ({ head } = ok(`${GET}Transfer-Encoding: gzip, Chunked\r\n\r\n`));
    assert.equal(head.chunked, true);
    ({ head } = ok(`${GET}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked ; foo=bar\r\n\r\n`));
    assert.equal(head.chunked, true);
  });

  test("Transfer-Encoding whose final coding is not chunked, or in HTTP/1.0, is refused", () => {
    fails(`${GET}Transfer-Encoding: gzip\r\n\r\n`, HeadError.BadTransferEncoding);
    fails(`${GET}Transfer-Encoding: chunked, gzip\r\n\r\n`, HeadError.BadTransferEncoding);
    fails(
      `${GET}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n`,
      HeadError.BadTransferEncoding,
    );
    fails(`${GET}Transfer-Encoding:\r\n\r\n`, HeadError.BadTransferEncoding);
    fails(`${GET}Transfer-Encoding: xchunked\r\n\r\n`, HeadError.BadTransferEncoding);
    fails("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HeadError.BadTransferEncoding);
  });

  test("Content-Length together with Transfer-Encoding is refused, in either order", () => {
    fails(`${GET}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`, HeadError.LengthConflict);
    fails(`${GET}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n`, HeadError.LengthConflict);
    fails(`${GET}Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n`, HeadError.LengthConflict);
  });

  test("look-alike header names do not count", () => {
    const { head } = ok(`${GET}Content-Lengths: x\r\nX-Content-Length: x\r\nTransfer-Encodings: x\r\n\r\n`);
    assert.equal(head.contentLength, -1);
    assert.equal(head.chunked, false);
  });
});

describe("head errors", () => {
  test("status and message for every code", () => {
    const expected: [number, number, string][] = [
      [HeadError.None, 400, "ok"],
      [HeadError.BadRequestLine, 400, "malformed request line"],
      [HeadError.BadVersion, 505, "unsupported HTTP version"],
      [HeadError.BadHeader, 400, "malformed header line"],
      [HeadError.TooManyHeaders, 431, "too many header lines"],
      [HeadError.DuplicateContentLength, 400, "repeated Content-Length"],
      [HeadError.BadContentLength, 400, "invalid Content-Length"],
      [HeadError.LengthConflict, 400, "both Content-Length and Transfer-Encoding"],
      [HeadError.BadTransferEncoding, 400, "unsupported Transfer-Encoding"],
      [HeadError.DuplicateHost, 400, "repeated Host"],
    ];
    assert.equal(expected.length, Object.keys(HeadError).length);
    for (const [code, status, message] of expected) {
      if (code !== HeadError.None) assert.equal(headErrorStatus(code), status);
      assert.equal(headErrorMessage(code), message);
    }
  });
});

describe("headersObject", () => {
  test("lowercase names, trimmed values, repeats joined, no prototype", () => {
    const text =
      "\r\nGET /ws HTTP/1.1\r\nHost: tracker\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAccept: a\r\naccept:  b \r\nCookie: x=1\r\nCookie: y=2\r\n__proto__: p\r\n\r\nbody: no\r\n";
    const buf = bytes(text);
    const end = findHeadEnd(buf, 0, buf.length);
    const h = headersObject(buf, 0, end);
    assert.equal(Object.getPrototypeOf(h), null);
    assert.deepEqual(Object.entries(h), [
      ["host", "tracker"],
      ["upgrade", "websocket"],
      ["connection", "Upgrade"],
      ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="],
      ["sec-websocket-version", "13"],
      ["accept", "a, b"],
      ["cookie", "x=1; y=2"],
      ["__proto__", "p"],
    ]);
  });

  test("bare LF lines", () => {
    const buf = bytes("GET / HTTP/1.1\nA: 1\nB: 2\n\n");
    assert.deepEqual({ ...headersObject(buf, 0, buf.length) }, { a: "1", b: "2" });
  });
});

describe("parseRequestHead on arbitrary bytes", () => {
  const codes = new Set<number>(Object.values(HeadError));

  function check(buf: Uint8Array, start: number, end: number, head: RequestHead, max: number): void {
    const code = parseRequestHead(buf, start, end, head, max);
    assert.ok(codes.has(code));
    if (code === HeadError.None) {
      assert.ok(head.targetStart >= start && head.targetStart < head.targetEnd && head.targetEnd < end);
      assert.ok(
        head.pathStart >= head.targetStart &&
          head.pathStart <= head.pathEnd &&
          head.pathEnd <= head.targetEnd,
      );
      assert.ok(
        head.queryStart === -1 || (head.queryStart === head.pathEnd + 1 && head.queryStart <= head.targetEnd),
      );
      assert.ok(head.headEnd <= end && head.headerCount <= max);
      headersObject(buf, start, end);
    }
  }

  test("never throws on random bytes", () => {
    const head = new RequestHead();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (b, max) => {
        check(b, 0, b.length, head, max);
        findHeadEnd(b, 0, b.length);
      }),
      { numRuns: 3000 },
    );
  });

  test("never throws on heads made of HTTP-ish pieces", () => {
    const piece = fc.constantFrom(
      "GET",
      "HEAD",
      " ",
      "/a?b",
      "HTTP/1.1",
      "HTTP/1.0",
      "\r\n",
      "\n",
      "\r",
      ":",
      "\t",
      "Host",
      "Content-Length",
      "Transfer-Encoding",
      "chunked",
      "Connection",
      "close",
      "keep-alive",
      "Upgrade",
      "websocket",
      "X-Forwarded-For",
      "12",
      ",",
      "\u0000",
      "\u00ff",
    );
    const head = new RequestHead();
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.nat(6), (pieces, max) => {
        const buf = bytes(`GET / HTTP/1.1\r\n${pieces.join("")}\r\n\r\n`);
        check(buf, 0, buf.length, head, max);
      }),
      { numRuns: 3000 },
    );
  });
});
