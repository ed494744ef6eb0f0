import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { AnnounceEvent } from "../../../src/core/announce.ts";
import {
  AnnounceQuery,
  parseAnnounceQuery,
  parseScrapeQuery,
  percentDecode,
  QueryError,
  queryErrorMessage,
} from "../../../src/protocol/http/query.ts";

const bytes = (s: string) => Buffer.from(s, "latin1");

/** %XX for every byte, uppercase or lowercase hex. */
function pct(b: Uint8Array, lower = false): string {
  let s = "";
  for (const x of b) {
    const h = x.toString(16).padStart(2, "0");
    s += `%${lower ? h : h.toUpperCase()}`;
  }
  return s;
}

const HASH = Uint8Array.from({ length: 20 }, (_, i) => 0xf0 - i * 7);
const HASH_Q = pct(HASH);
const PEER = bytes("-qB4650-abcdefghijkl");
const REQUIRED = `info_hash=${HASH_Q}&peer_id=-qB4650-abcdefghijkl&port=6881`;

function announce(
  query: string | Uint8Array,
  q = new AnnounceQuery(),
): { code: number; q: AnnounceQuery; buf: Buffer } {
  // surround the query with other bytes: the parser must stay within start..end
  const inner = typeof query === "string" ? bytes(query) : Buffer.from(query);
  const buf = Buffer.concat([bytes("GET /announce?"), inner, bytes(" HTTP/1.1\r\n")]);
  const code = parseAnnounceQuery(buf, 14, 14 + inner.length, q);
  return { code, q, buf };
}

function announceOk(query: string, q = new AnnounceQuery()): AnnounceQuery {
  const r = announce(query, q);
  assert.equal(r.code, QueryError.None, `${queryErrorMessage(r.code, r.q.detail)} for ${query}`);
  return r.q;
}

function announceFails(query: string, code: number, message: string, q = new AnnounceQuery()): void {
  const r = announce(query, q);
  assert.equal(r.code, code, `${query}: got "${queryErrorMessage(r.code, r.q.detail)}"`);
  assert.equal(queryErrorMessage(r.code, r.q.detail), message);
}

describe("parseAnnounceQuery: a typical announce", () => {
  test("all the usual parameters", () => {
    const q = announceOk(
      `${REQUIRED}&uploaded=1024&downloaded=2048&left=4096&corrupt=0&key=A1b2%2B&event=started&numwant=80&compact=1&no_peer_id=1&supportcrypto=1&trackerid=t%20id`,
    );
    assert.deepEqual(bytes(q.infoHash), Buffer.from(HASH));
    assert.equal(q.infoHash.length, 20);
    assert.deepEqual(Buffer.from(q.peerId), PEER);
    assert.equal(q.port, 6881);
    assert.equal(q.uploaded, 1024);
    assert.equal(q.downloaded, 2048);
    assert.equal(q.left, 4096);
    assert.equal(q.leftIsZero, false);
    assert.equal(q.event, AnnounceEvent.Started);
    assert.equal(q.numWant, 80);
    assert.equal(q.compact, true);
    assert.equal(q.noPeerId, true);
    assert.equal(q.hasUploaded && q.hasDownloaded && q.hasLeft && q.hasEvent && q.hasNumWant, true);
    assert.equal(q.hasCompact && q.hasNoPeerId && q.hasInfoHash && q.hasPeerId && q.hasPort, true);
  });

  test("raw offsets of key and trackerid, still encoded", () => {
    const { q, buf } = announce(`${REQUIRED}&key=A1b2%2B&trackerid=t%20id`);
    assert.equal(buf.toString("latin1", q.keyStart, q.keyEnd), "A1b2%2B");
    assert.equal(buf.toString("latin1", q.trackerIdStart, q.trackerIdEnd), "t%20id");
    const out = new Uint8Array(16);
    const n = percentDecode(buf, q.trackerIdStart, q.trackerIdEnd, out, 0, 16);
    assert.equal(Buffer.from(out.subarray(0, n)).toString("latin1"), "t id");
  });

  test("defaults when optional parameters are absent", () => {
    const q = announceOk(REQUIRED);
    assert.equal(q.uploaded, 0);
    assert.equal(q.downloaded, 0);
    assert.equal(q.left, -1);
    assert.equal(q.leftIsZero, false);
    assert.equal(q.event, AnnounceEvent.None);
    assert.equal(q.compact, true);
    assert.equal(q.noPeerId, false);
    assert.equal(q.numWant, -1);
    assert.equal(q.keyStart, -1);
    assert.equal(q.trackerIdStart, -1);
    assert.equal(q.ipStart, -1);
    assert.equal(q.ipParam, "");
    assert.equal(q.hasUploaded || q.hasDownloaded || q.hasLeft || q.hasEvent || q.hasNumWant, false);
  });

  test("a reused query object forgets the previous announce", () => {
    const q = new AnnounceQuery();
    announceOk(
      `${REQUIRED}&left=0&event=stopped&compact=0&no_peer_id=1&numwant=5&key=k&trackerid=t&ip=1.2.3.4`,
      q,
    );
    assert.equal(q.leftIsZero, true);
    announceOk(REQUIRED, q);
    assert.equal(q.left, -1);
    assert.equal(q.leftIsZero, false);
    assert.equal(q.event, AnnounceEvent.None);
    assert.equal(q.compact, true);
    assert.equal(q.noPeerId, false);
    assert.equal(q.numWant, -1);
    assert.equal(q.keyStart, -1);
    assert.equal(q.trackerIdStart, -1);
    assert.equal(q.ipStart, -1);
  });

  test("parameters in any order; empty segments and unknown parameters ignored", () => {
    const q = announceOk(`&&port=1&foo&bar=%ZZ&=x&peer_id=-qB4650-abcdefghijkl&&info_hash=${HASH_Q}&`);
    assert.equal(q.port, 1);
    assert.deepEqual(bytes(q.infoHash), Buffer.from(HASH));
  });

  test("parameter names are case-sensitive and not decoded", () => {
    announceFails(
      `INFO_HASH=${HASH_Q}&peer_id=-qB4650-abcdefghijkl&port=1`,
      QueryError.MissingInfoHash,
      "missing info_hash",
    );
    announceFails(
      `info%5Fhash=${HASH_Q}&peer_id=-qB4650-abcdefghijkl&port=1`,
      QueryError.MissingInfoHash,
      "missing info_hash",
    );
  });

  test("the first occurrence of a parameter counts, later ones are ignored unchecked", () => {
    const other = pct(new Uint8Array(20).fill(7));
    let q = announceOk(`${REQUIRED}&info_hash=${other}&info_hash=%zz&port=99999&port=7&left=0&left=x`);
    assert.deepEqual(bytes(q.infoHash), Buffer.from(HASH));
    assert.equal(q.port, 6881);
    assert.equal(q.leftIsZero, true);
    q = announceOk(`info_hash=${other}&${REQUIRED}`);
    assert.deepEqual(bytes(q.infoHash), Buffer.alloc(20, 7));
  });
});

describe("parseAnnounceQuery: binary info_hash and peer_id", () => {
  test("every byte value 0..255 as %XX, %xx and mixed case", () => {
    const q = new AnnounceQuery();
    for (let b = 0; b < 256; b++) {
      const hash = Uint8Array.from({ length: 20 }, (_, i) => (b + i * 13) & 0xff);
      hash[0] = b;
      hash[19] = b;
      const peer = Uint8Array.from({ length: 20 }, (_, i) => (b * 7 + i) & 0xff);
      peer[10] = b;
      const h = b.toString(16).padStart(2, "0");
      const mixed = `%${h[0].toUpperCase()}${h[1]}`;
      for (const [hashText, peerText] of [
        [pct(hash), pct(peer)],
        [pct(hash, true), pct(peer, true)],
        [
          `${mixed}${pct(hash.subarray(1))}`,
          `${pct(peer.subarray(0, 10), true)}${mixed}${pct(peer.subarray(11))}`,
        ],
      ]) {
        announceOk(`info_hash=${hashText}&peer_id=${peerText}&port=1`, q);
        assert.deepEqual(bytes(q.infoHash), Buffer.from(hash), `byte ${b}: ${hashText}`);
        assert.deepEqual(Buffer.from(q.peerId), Buffer.from(peer), `byte ${b}: ${peerText}`);
      }
    }
  });

  test("every byte value 0..255 unescaped, where the query syntax allows it", () => {
    const q = new AnnounceQuery();
    for (let b = 0; b < 256; b++) {
      if (b === 0x26 || b === 0x25 || b === 0x2b) continue; // '&' ends the value, '%' escapes, '+' is a space
      const raw = new Uint8Array(20).fill(b);
      const query = Buffer.concat([bytes("info_hash="), raw, bytes("&peer_id="), raw, bytes("&port=1")]);
      const r = announce(query, q);
      assert.equal(r.code, QueryError.None, `byte ${b}`);
      assert.deepEqual(bytes(q.infoHash), Buffer.from(raw), `byte ${b}`);
      assert.deepEqual(Buffer.from(q.peerId), Buffer.from(raw), `byte ${b}`);
    }
  });

  test("'+' is 0x20, '=' inside a value is a plain byte, escapes and raw bytes mix", () => {
    const q = announceOk(`info_hash=+a=%3d%3D%2b%25${"x".repeat(13)}&peer_id=${"+".repeat(20)}&port=1`);
    assert.deepEqual(bytes(q.infoHash), bytes(`\u0020a===+%${"x".repeat(13)}`));
    assert.deepEqual(Buffer.from(q.peerId), Buffer.alloc(20, 0x20));
  });

  test("the info hash is a 20-character latin1 string, never UTF-8 decoded", () => {
    const q = announceOk(`info_hash=${"%C3%A9".repeat(10)}&peer_id=${"%E2%82%AC".repeat(6)}ab&port=1`);
    assert.equal(q.infoHash, "\u00c3\u00a9".repeat(10));
    assert.deepEqual(Buffer.from(q.peerId), Buffer.concat([Buffer.from("€".repeat(6)), bytes("ab")]));
  });
});

describe("parseAnnounceQuery: every error, with its failure reason", () => {
  const peer = "peer_id=-qB4650-abcdefghijkl";
  const hash = `info_hash=${HASH_Q}`;

  test("missing info_hash, peer_id, port (checked in that order after the query)", () => {
    announceFails("", QueryError.MissingInfoHash, "missing info_hash");
    announceFails(`${peer}&port=1`, QueryError.MissingInfoHash, "missing info_hash");
    announceFails(`port=1&${hash}`, QueryError.MissingPeerId, "missing peer_id");
    announceFails(`${hash}&${peer}`, QueryError.MissingPort, "missing port");
    announceFails(`${hash}&${peer}&port`, QueryError.BadPort, "invalid port");
  });

  test("info_hash of the wrong length reports the decoded length", () => {
    announceFails(
      `info_hash=${pct(HASH.subarray(0, 19))}&${peer}&port=1`,
      QueryError.BadInfoHash,
      "info_hash must be 20 bytes, got 19",
    );
    announceFails(
      `info_hash=${HASH_Q}%00&${peer}&port=1`,
      QueryError.BadInfoHash,
      "info_hash must be 20 bytes, got 21",
    );
    announceFails(`info_hash=&${peer}&port=1`, QueryError.BadInfoHash, "info_hash must be 20 bytes, got 0");
    announceFails(`info_hash&${peer}&port=1`, QueryError.BadInfoHash, "info_hash must be 20 bytes, got 0");
    // 40 hex digits (a common client bug) are 40 bytes
    announceFails(
      `info_hash=${"ab".repeat(20)}&${peer}&port=1`,
      QueryError.BadInfoHash,
      "info_hash must be 20 bytes, got 40",
    );
    announceFails(
      `info_hash=${"%41".repeat(1000)}&${peer}&port=1`,
      QueryError.BadInfoHash,
      "info_hash must be 20 bytes, got 1000",
    );
  });

  test("peer_id of the wrong length", () => {
    announceFails(
      `${hash}&peer_id=${"a".repeat(19)}&port=1`,
      QueryError.BadPeerId,
      "peer_id must be 20 bytes",
    );
    announceFails(
      `${hash}&peer_id=${"%61".repeat(21)}&port=1`,
      QueryError.BadPeerId,
      "peer_id must be 20 bytes",
    );
    announceFails(`${hash}&peer_id=&port=1`, QueryError.BadPeerId, "peer_id must be 20 bytes");
  });

  test("port: 1..65535 in decimal", () => {
    assert.equal(announceOk(`${hash}&${peer}&port=1`).port, 1);
    assert.equal(announceOk(`${hash}&${peer}&port=65535`).port, 65535);
    assert.equal(announceOk(`${hash}&${peer}&port=006881`).port, 6881);
    assert.equal(announceOk(`${hash}&${peer}&port=%36%38%38%31`).port, 6881);
    for (const v of [
      "0",
      "65536",
      "99999999999999999999999",
      "",
      "abc",
      "-1",
      "+1",
      "1.5",
      "68 81",
      "6881a",
      "0x1ae1",
    ]) {
      announceFails(`${hash}&${peer}&port=${v}`, QueryError.BadPort, "invalid port");
    }
  });

  test("uploaded, downloaded, left: non-negative decimal up to 2^64", () => {
    const q = announceOk(`${REQUIRED}&uploaded=18446744073709551615&downloaded=9007199254740993&left=0`);
    assert.equal(q.uploaded, 2 ** 64);
    assert.equal(q.downloaded, 9007199254740992, "read into a double");
    assert.equal(q.left, 0);
    assert.equal(q.leftIsZero, true);
    assert.equal(announceOk(`${REQUIRED}&left=000`).leftIsZero, true);
    assert.equal(announceOk(`${REQUIRED}&left=%30`).leftIsZero, true);
    for (const v of ["", "-1", "+1", "1.5", "1e5", "abc", " 1", "99999999999999999999999"]) {
      announceFails(`${REQUIRED}&uploaded=${v}`, QueryError.BadUploaded, "invalid uploaded");
      announceFails(`${REQUIRED}&downloaded=${v}`, QueryError.BadDownloaded, "invalid downloaded");
      announceFails(`${REQUIRED}&left=${v}`, QueryError.BadLeft, "invalid left");
    }
  });

  test("event", () => {
    for (const [v, e] of [
      ["started", AnnounceEvent.Started],
      ["completed", AnnounceEvent.Completed],
      ["stopped", AnnounceEvent.Stopped],
      ["", AnnounceEvent.None],
      ["empty", AnnounceEvent.None],
      ["paused", AnnounceEvent.None],
      ["%73tarted", AnnounceEvent.Started],
    ] as const) {
      assert.equal(announceOk(`${REQUIRED}&event=${v}`).event, e, v);
    }
    for (const v of ["Started", "start", "startedx", "stopped ", "none", "0", "2", "completedcompleted"]) {
      announceFails(`${REQUIRED}&event=${v}`, QueryError.BadEvent, "invalid event");
    }
  });

  test("numwant", () => {
    assert.equal(announceOk(`${REQUIRED}&numwant=0`).numWant, 0);
    assert.equal(announceOk(`${REQUIRED}&numwant=200`).numWant, 200);
    assert.equal(announceOk(`${REQUIRED}&numwant=-1`).numWant, -1);
    assert.equal(announceOk(`${REQUIRED}&numwant=-50`).numWant, -1);
    assert.equal(announceOk(`${REQUIRED}&numwant=99999999999`).numWant, 0x7fffffff);
    for (const v of ["", "-", "abc", "1.5", "+5", "--1", "5x"]) {
      announceFails(`${REQUIRED}&numwant=${v}`, QueryError.BadNumWant, "invalid numwant");
    }
  });

  test("compact and no_peer_id", () => {
    assert.equal(announceOk(`${REQUIRED}&compact=0`).compact, false);
    assert.equal(announceOk(`${REQUIRED}&compact=%30`).compact, false);
    assert.equal(announceOk(`${REQUIRED}&compact=1`).compact, true);
    assert.equal(announceOk(`${REQUIRED}&compact=00`).compact, true);
    assert.equal(announceOk(`${REQUIRED}&compact`).compact, true);
    assert.equal(announceOk(`${REQUIRED}&no_peer_id=1`).noPeerId, true);
    assert.equal(announceOk(`${REQUIRED}&no_peer_id`).noPeerId, true);
    assert.equal(announceOk(`${REQUIRED}&no_peer_id=0`).noPeerId, false);
  });

  test("malformed percent-encoding in any parameter that is read", () => {
    const bad = ["%", "%4", "%G0", "%0G", "%%41", "%4%41", "%-1", "% 41"];
    for (const b of bad) {
      const message = "malformed percent-encoding";
      const code = QueryError.BadPercentEncoding;
      announceFails(`info_hash=${pct(HASH.subarray(0, 19))}${b}&${peer}&port=1`, code, message);
      announceFails(`info_hash=${b}${pct(HASH.subarray(0, 19))}&${peer}&port=1`, code, message);
      announceFails(`${hash}&peer_id=${"a".repeat(19)}${b}&port=1`, code, message);
      for (const name of [
        "port",
        "uploaded",
        "downloaded",
        "left",
        "numwant",
        "event",
        "compact",
        "no_peer_id",
      ]) {
        const query = name === "port" ? `${hash}&${peer}&port=1${b}` : `${REQUIRED}&${name}=1${b}`;
        announceFails(query, code, message);
      }
    }
  });

  test("a bad escape at the very end of the query", () => {
    const { code } = announce(`${REQUIRED}&left=%3`);
    assert.equal(code, QueryError.BadPercentEncoding);
  });

  test("errors are reported in query order before missing parameters", () => {
    announceFails(`port=0&info_hash=%zz`, QueryError.BadPort, "invalid port");
    announceFails(`info_hash=%zz&port=0`, QueryError.BadPercentEncoding, "malformed percent-encoding");
    announceFails(`event=x`, QueryError.BadEvent, "invalid event");
  });
});

describe("parseAnnounceQuery: the ip parameter", () => {
  test("offsets always, the decoded text only when the operator accepts it", () => {
    let r = announce(`${REQUIRED}&ip=2001%3Adb8%3A%3A1`);
    assert.equal(r.code, QueryError.None);
    assert.equal(r.buf.toString("latin1", r.q.ipStart, r.q.ipEnd), "2001%3Adb8%3A%3A1");
    assert.equal(r.q.ipParam, "");
    const q = new AnnounceQuery();
    q.acceptIpParam = true;
    r = announce(`${REQUIRED}&ip=2001%3Adb8%3A%3A1`, q);
    assert.equal(r.code, QueryError.None);
    assert.equal(q.ipParam, "2001:db8::1");
    announceOk(`${REQUIRED}&ip=${"1".repeat(65)}`, q);
    assert.equal(q.ipParam, "", "longer than 64 bytes is dropped");
    announceOk(`${REQUIRED}&ip=${"1".repeat(64)}`, q);
    assert.equal(q.ipParam, "1".repeat(64));
    announceFails(`${REQUIRED}&ip=1.2.3.4%`, QueryError.BadPercentEncoding, "malformed percent-encoding", q);
    // not decoded, so not checked, when not accepted
    announceOk(`${REQUIRED}&ip=1.2.3.4%`);
  });
});

describe("queryErrorMessage", () => {
  test("every code has its text", () => {
    const expected: [number, string][] = [
      [QueryError.None, "ok"],
      [QueryError.MissingInfoHash, "missing info_hash"],
      [QueryError.BadInfoHash, "info_hash must be 20 bytes"],
      [QueryError.MissingPeerId, "missing peer_id"],
      [QueryError.BadPeerId, "peer_id must be 20 bytes"],
      [QueryError.MissingPort, "missing port"],
      [QueryError.BadPort, "invalid port"],
      [QueryError.BadUploaded, "invalid uploaded"],
      [QueryError.BadDownloaded, "invalid downloaded"],
      [QueryError.BadLeft, "invalid left"],
      [QueryError.BadEvent, "invalid event"],
      [QueryError.BadNumWant, "invalid numwant"],
      [QueryError.BadPercentEncoding, "malformed percent-encoding"],
      [QueryError.TooManyInfoHashes, "too many info_hash values"],
    ];
    assert.equal(expected.length, Object.keys(QueryError).length);
    for (const [code, text] of expected) {
      assert.equal(queryErrorMessage(code), text);
      assert.equal(queryErrorMessage(-code), text, "negated scrape codes");
    }
    assert.equal(queryErrorMessage(QueryError.BadInfoHash, 19), "info_hash must be 20 bytes, got 19");
    assert.equal(
      queryErrorMessage(-QueryError.TooManyInfoHashes, 74),
      "too many info_hash values, at most 74",
    );
    assert.equal(queryErrorMessage(999), "malformed request");
    // the failed query itself can be passed for the detail, or null when there is none
    const { code, q } = announce(`info_hash=%00&peer_id=${"a".repeat(20)}&port=1`);
    assert.equal(queryErrorMessage(code, q), "info_hash must be 20 bytes, got 1");
    assert.equal(queryErrorMessage(code, null), "info_hash must be 20 bytes");
  });
});

describe("parseScrapeQuery", () => {
  const h = (b: number) => new Uint8Array(20).fill(b);
  const scrape = (query: string, max = 10) => {
    const buf = bytes(`/scrape?${query} `);
    const hashes: string[] = [];
    const n = parseScrapeQuery(buf, 8, buf.length - 1, hashes, max);
    return { n, hashes: hashes.slice(0, Math.max(0, n)).map((s) => bytes(s)) };
  };

  test("no info_hash: 0, a full scrape", () => {
    assert.deepEqual(scrape(""), { n: 0, hashes: [] });
    assert.deepEqual(scrape("foo=bar&x"), { n: 0, hashes: [] });
  });

  test("hashes in query order, repeats kept, other parameters ignored", () => {
    const r = scrape(`info_hash=${pct(h(2))}&foo=%zz&info_hash=${pct(h(1), true)}&info_hash=${pct(h(2))}`);
    assert.equal(r.n, 3);
    assert.deepEqual(
      r.hashes,
      [h(2), h(1), h(2)].map((x) => Buffer.from(x)),
    );
  });

  test("every byte value 0..255", () => {
    const all = Uint8Array.from({ length: 260 }, (_, i) => i & 0xff);
    const parts: string[] = [];
    for (let i = 0; i < 13; i++)
      parts.push(`info_hash=${pct(all.subarray(i * 20, i * 20 + 20), i % 2 === 1)}`);
    const r = scrape(parts.join("&"), 13);
    assert.equal(r.n, 13);
    assert.deepEqual(Buffer.concat(r.hashes), Buffer.from(all));
  });

  test("max hashes pass, one more is an error", () => {
    const q = (n: number) => Array.from({ length: n }, (_, i) => `info_hash=${pct(h(i))}`).join("&");
    assert.equal(scrape(q(3), 3).n, 3);
    assert.equal(scrape(q(4), 3).n, -QueryError.TooManyInfoHashes);
    assert.equal(scrape(q(1), 0).n, -QueryError.TooManyInfoHashes);
  });

  test("a hash that is not 20 bytes, bad percent-encoding", () => {
    assert.equal(
      scrape(`info_hash=${pct(h(1))}&info_hash=${pct(h(1).subarray(1))}`).n,
      -QueryError.BadInfoHash,
    );
    assert.equal(scrape("info_hash").n, -QueryError.BadInfoHash);
    assert.equal(scrape(`info_hash=${pct(h(1).subarray(1))}%g1`).n, -QueryError.BadPercentEncoding);
    assert.equal(queryErrorMessage(scrape("info_hash=%").n), "malformed percent-encoding");
  });
});

describe("query properties", () => {
  /** Encodes each byte at random as %XX, %xx, or itself where that is unambiguous. */
  const encoded = fc.uint8Array({ minLength: 20, maxLength: 20 }).chain((b) =>
    fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 20, maxLength: 20 }).map((modes) => {
      const parts: Buffer[] = [];
      b.forEach((x, i) => {
        const raw = x !== 0x26 && x !== 0x25 && x !== 0x2b;
        if (modes[i] === 2 && raw) parts.push(Buffer.from([x]));
        else parts.push(bytes(pct(Uint8Array.of(x), modes[i] === 1)));
      });
      return { b, text: Buffer.concat(parts) };
    }),
  );

  test("any 20 bytes, however encoded, decode back exactly", () => {
    const q = new AnnounceQuery();
    fc.assert(
      fc.property(encoded, encoded, fc.integer({ min: 1, max: 65535 }), (hash, peer, port) => {
        const query = Buffer.concat([
          bytes("info_hash="),
          hash.text,
          bytes("&peer_id="),
          peer.text,
          bytes(`&port=${port}`),
        ]);
        const r = announce(query, q);
        assert.equal(r.code, QueryError.None);
        assert.deepEqual(bytes(q.infoHash), Buffer.from(hash.b));
        assert.deepEqual(Buffer.from(q.peerId), Buffer.from(peer.b));
        assert.equal(q.port, port);
        const hashes: string[] = [];
        const sq = Buffer.concat([bytes("info_hash="), hash.text]);
        assert.equal(parseScrapeQuery(sq, 0, sq.length, hashes, 1), 1);
        assert.equal(hashes[0], q.infoHash);
      }),
      { numRuns: 1000 },
    );
  });

  test("never throws on arbitrary bytes, and returns a known code", () => {
    const codes = new Set<number>(Object.values(QueryError));
    const q = new AnnounceQuery();
    q.acceptIpParam = true;
    const piece = fc.oneof(
      fc.constantFrom(
        "info_hash=",
        "peer_id=",
        "port=",
        "left=",
        "event=",
        "numwant=",
        "ip=",
        "&",
        "=",
        "%",
        "%4",
        "%41",
        "+",
        "1",
      ),
      fc.uint8Array({ maxLength: 4 }).map((b) => Buffer.from(b).toString("latin1")),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const buf = bytes(pieces.join(""));
        const code = parseAnnounceQuery(buf, 0, buf.length, q);
        assert.ok(codes.has(code));
        if (code === QueryError.None) assert.equal(q.infoHash.length, 20);
        const hashes: string[] = [];
        const n = parseScrapeQuery(buf, 0, buf.length, hashes, 5);
        assert.ok(n <= 5 && (n >= 0 || codes.has(-n)));
      }),
      { numRuns: 3000 },
    );
  });
});
