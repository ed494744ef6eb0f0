// The WebTorrent tracker's JSON messages as pure functions: every branch of parseWsMessage (what
// is accepted, and the exact failure reason and context of what is not) and the reply builders,
// byte for byte.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  announceReply,
  answerMessage,
  failureReply,
  isBinary20,
  offerMessage,
  parseWsMessage,
  scrapeReply,
  type WsAnnounce,
  WsEvent,
  type WsRequest,
} from "../../../src/protocol/ws/messages.ts";

/** 20 characters: the byte values start..start+19 as a binary string. */
function id(start: number): string {
  let s = "";
  for (let i = 0; i < 20; i++) s += String.fromCharCode((start + i) & 0xff);
  return s;
}

const HASH = id(0xe0); // bytes 0xe0..0xf3: every character above U+007F
const PEER = id(0x00); // bytes 0x00..0x13: every character a control character
const OTHER = id(0x41); // "ABCDEFGHIJKLMNOPQRST"
const OFFER_ID = id(0x61);
const MAX = 3;

function parse(message: unknown, maxOffers = MAX): WsRequest {
  return parseWsMessage(typeof message === "string" ? message : JSON.stringify(message), maxOffers);
}

function announce(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { action: "announce", info_hash: HASH, peer_id: PEER, ...fields };
}

function parsedAnnounce(message: unknown, maxOffers = MAX): WsAnnounce {
  const r = parse(message, maxOffers);
  if (r.action !== "announce") assert.fail(`expected an announce, got ${JSON.stringify(r)}`);
  return r;
}

function offer(n: number): { offer: { type: string; sdp: string }; offer_id: string } {
  return { offer: { type: "offer", sdp: `sdp-${n}` }, offer_id: id(0x61 + n) };
}

describe("isBinary20", () => {
  test("20 characters U+0000..U+00FF are a binary id", () => {
    assert.equal(isBinary20(HASH), true);
    assert.equal(isBinary20(PEER), true);
    assert.equal(isBinary20("\u00ff".repeat(20)), true);
  });

  test("19 or 21 characters, a character above U+00FF, or a non-string are not", () => {
    assert.equal(isBinary20("a".repeat(19)), false);
    assert.equal(isBinary20("a".repeat(21)), false);
    assert.equal(isBinary20(`${"a".repeat(19)}\u0100`), false);
    assert.equal(isBinary20(`\u20ac${"a".repeat(19)}`), false);
    assert.equal(isBinary20(12345678), false);
    assert.equal(isBinary20(null), false);
    assert.equal(isBinary20(undefined), false);
    assert.equal(isBinary20([..."a".repeat(20)]), false);
  });
});

describe("parseWsMessage: what is not a request", () => {
  test('text that is not JSON fails with "invalid JSON" and no context', () => {
    for (const text of ["", "{", "{'action':'announce'}", "announce", '{"a":1}x']) {
      assert.deepEqual(parse(text), {
        action: "error",
        reason: "invalid JSON",
        requestAction: null,
        infoHash: null,
      });
    }
  });

  test("JSON that is not an object (number, string, null, array, boolean) fails", () => {
    for (const text of ["1", '"announce"', "null", "[]", '[{"action":"announce"}]', "true"]) {
      assert.deepEqual(parse(text), {
        action: "error",
        reason: "a message must be a JSON object",
        requestAction: null,
        infoHash: null,
      });
    }
  });

  test("an object with a missing or unknown action fails naming the two actions", () => {
    for (const m of [{}, { action: "connect" }, { action: "ANNOUNCE" }, { action: 1 }, { info_hash: HASH }]) {
      assert.deepEqual(parse(m), {
        action: "error",
        reason: 'action must be "announce" or "scrape"',
        requestAction: null,
        infoHash: null,
      });
    }
  });
});

describe("parseWsMessage: announce", () => {
  test("a full announce is read field by field", () => {
    const r = parse(
      announce({
        numwant: 5,
        uploaded: 10,
        downloaded: 20,
        left: 30,
        event: "started",
        offers: [offer(0), offer(1)],
      }),
    );
    assert.deepEqual(r, {
      action: "announce",
      infoHash: HASH,
      peerId: PEER,
      numWant: 5,
      left: 30,
      event: WsEvent.Started,
      offers: [
        { offer: { type: "offer", sdp: "sdp-0" }, offerId: id(0x61) },
        { offer: { type: "offer", sdp: "sdp-1" }, offerId: id(0x62) },
      ],
      offersDropped: 0,
      answer: null,
      toPeerId: null,
      offerId: null,
    });
  });

  test("a bare announce: numwant -1 (not said), left null, no event, no offers, no answer", () => {
    assert.deepEqual(parse(announce()), {
      action: "announce",
      infoHash: HASH,
      peerId: PEER,
      numWant: -1,
      left: null,
      event: WsEvent.None,
      offers: [],
      offersDropped: 0,
      answer: null,
      toPeerId: null,
      offerId: null,
    });
  });

  test("null numwant, left, event, offers and answer count as absent", () => {
    const r = parsedAnnounce(
      announce({ numwant: null, left: null, event: null, offers: null, answer: null }),
    );
    assert.equal(r.numWant, -1);
    assert.equal(r.left, null);
    assert.equal(r.event, WsEvent.None);
    assert.deepEqual(r.offers, []);
    assert.equal(r.answer, null);
  });

  test("left 0 and numwant 0 are kept as 0", () => {
    const r = parsedAnnounce(announce({ left: 0, numwant: 0 }));
    assert.equal(r.left, 0);
    assert.equal(r.numWant, 0);
  });

  test("every event name maps to its event; update and the empty string are no event", () => {
    const cases: [string, number][] = [
      ["started", WsEvent.Started],
      ["stopped", WsEvent.Stopped],
      ["completed", WsEvent.Completed],
      ["update", WsEvent.None],
      ["", WsEvent.None],
    ];
    for (const [name, event] of cases)
      assert.equal(parsedAnnounce(announce({ event: name })).event, event, name);
  });

  test('an unknown or non-string event fails with "invalid event" and the info hash', () => {
    for (const event of ["paused", "Started", " started", 1, true, ["started"], {}]) {
      assert.deepEqual(parse(announce({ event })), {
        action: "error",
        reason: "invalid event",
        requestAction: "announce",
        infoHash: HASH,
      });
    }
  });

  test('an event named after an Object.prototype key (toString, constructor, __proto__) fails as "invalid event"', () => {
    for (const event of ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"]) {
      assert.deepEqual(
        parse(announce({ event })),
        { action: "error", reason: "invalid event", requestAction: "announce", infoHash: HASH },
        `event "${event}"`,
      );
    }
  });

  test('a missing info_hash fails with "missing info_hash" and no info hash', () => {
    const { info_hash: _, ...m } = announce();
    assert.deepEqual(parse(m), {
      action: "error",
      reason: "missing info_hash",
      requestAction: "announce",
      infoHash: null,
    });
  });

  test("an info_hash that is short, long, not a string, or has a character above U+00FF fails", () => {
    for (const h of ["a".repeat(19), "a".repeat(21), "", 7, null, [HASH], `${HASH.slice(0, 19)}\u0100`]) {
      assert.deepEqual(parse(announce({ info_hash: h })), {
        action: "error",
        reason: "info_hash must be a 20-byte binary string",
        requestAction: "announce",
        infoHash: null,
      });
    }
  });

  test('a missing peer_id fails with "missing peer_id" and carries the info hash', () => {
    const { peer_id: _, ...m } = announce();
    assert.deepEqual(parse(m), {
      action: "error",
      reason: "missing peer_id",
      requestAction: "announce",
      infoHash: HASH,
    });
  });

  test("a peer_id that is short, long, not a string or not binary fails with the info hash", () => {
    for (const p of ["x".repeat(19), "x".repeat(21), 20, null, { id: PEER }, `\u4e2d${PEER.slice(1)}`]) {
      assert.deepEqual(parse(announce({ peer_id: p })), {
        action: "error",
        reason: "peer_id must be a 20-byte binary string",
        requestAction: "announce",
        infoHash: HASH,
      });
    }
  });

  test("a negative, infinite or non-numeric numwant fails", () => {
    for (const numwant of [-1, "5", true, [5]]) {
      assert.deepEqual(parse(announce({ numwant })), {
        action: "error",
        reason: "numwant must be a non-negative number",
        requestAction: "announce",
        infoHash: HASH,
      });
    }
    // 1e400 is valid JSON that parses to Infinity.
    const text = JSON.stringify(announce({ numwant: 1 })).replace('"numwant":1', '"numwant":1e400');
    assert.equal((parse(text) as { reason?: string }).reason, "numwant must be a non-negative number");
  });

  test("a negative or non-numeric left fails", () => {
    for (const left of [-5, "0", false, {}]) {
      assert.deepEqual(parse(announce({ left })), {
        action: "error",
        reason: "left must be a non-negative number",
        requestAction: "announce",
        infoHash: HASH,
      });
    }
  });

  test('offers that are not a list fail with "offers must be a list"', () => {
    for (const offers of [offer(0), "offers", 3, true]) {
      assert.deepEqual(parse(announce({ offers })), {
        action: "error",
        reason: "offers must be a list",
        requestAction: "announce",
        infoHash: HASH,
      });
    }
  });

  test("an offer entry without a proper offer {type: 'offer', sdp} or 20-byte offer_id fails", () => {
    const bad: unknown[] = [
      null,
      "offer",
      [],
      { offer_id: OFFER_ID },
      { offer: null, offer_id: OFFER_ID },
      { offer: "v=0", offer_id: OFFER_ID },
      { offer: { sdp: "v=0" }, offer_id: OFFER_ID },
      { offer: { type: "answer", sdp: "v=0" }, offer_id: OFFER_ID },
      { offer: { type: "offer" }, offer_id: OFFER_ID },
      { offer: { type: "offer", sdp: 5 }, offer_id: OFFER_ID },
      { offer: { type: "offer", sdp: "v=0" } },
      { offer: { type: "offer", sdp: "v=0" }, offer_id: "short" },
      { offer: { type: "offer", sdp: "v=0" }, offer_id: `\u0100${OFFER_ID.slice(1)}` },
    ];
    for (const entry of bad) {
      assert.deepEqual(
        parse(announce({ offers: [offer(0), entry] })),
        {
          action: "error",
          reason: "each offer needs an offer {type: 'offer', sdp} and a 20-byte offer_id",
          requestAction: "announce",
          infoHash: HASH,
        },
        JSON.stringify(entry),
      );
    }
  });

  test("only the SDP type and text of an offer are kept; other fields are left behind", () => {
    const r = parsedAnnounce(
      announce({
        offers: [{ offer: { type: "offer", sdp: "v=0", extra: "x" }, offer_id: OFFER_ID, more: 1 }],
      }),
    );
    assert.deepEqual(r.offers, [{ offer: { type: "offer", sdp: "v=0" }, offerId: OFFER_ID }]);
  });

  test("offers beyond the limit are counted as dropped, and the first ones are kept in order", () => {
    const r = parsedAnnounce(announce({ offers: [0, 1, 2, 3, 4].map(offer) }), 3);
    assert.deepEqual(
      r.offers.map((o) => o.offer.sdp),
      ["sdp-0", "sdp-1", "sdp-2"],
    );
    assert.equal(r.offersDropped, 2);
  });

  test("with a limit of 0 every offer is dropped", () => {
    const r = parsedAnnounce(announce({ offers: [offer(0), offer(1)] }), 0);
    assert.deepEqual(r.offers, []);
    assert.equal(r.offersDropped, 2);
  });

  test("an empty offers list is no offers", () => {
    const r = parsedAnnounce(announce({ offers: [] }));
    assert.deepEqual(r.offers, []);
    assert.equal(r.offersDropped, 0);
  });

  test("an answer is read with its to_peer_id and offer_id", () => {
    const r = parse({
      action: "announce",
      info_hash: HASH,
      peer_id: PEER,
      to_peer_id: OTHER,
      answer: { type: "answer", sdp: "v=0 answer" },
      offer_id: OFFER_ID,
    });
    assert.deepEqual(r, {
      action: "announce",
      infoHash: HASH,
      peerId: PEER,
      numWant: -1,
      left: null,
      event: WsEvent.None,
      offers: [],
      offersDropped: 0,
      answer: { type: "answer", sdp: "v=0 answer" },
      toPeerId: OTHER,
      offerId: OFFER_ID,
    });
  });

  test("an answer that is not {type: 'answer', sdp} fails", () => {
    for (const answer of ["v=0", 1, { type: "offer", sdp: "v=0" }, { type: "answer" }, { sdp: "v=0" }, []]) {
      assert.deepEqual(parse(announce({ answer, to_peer_id: OTHER, offer_id: OFFER_ID })), {
        action: "error",
        reason: "answer must be {type: 'answer', sdp}",
        requestAction: "announce",
        infoHash: HASH,
      });
    }
  });

  test("an answer without a 20-byte to_peer_id fails", () => {
    for (const to of [undefined, null, "short", 5, `\u0101${OTHER.slice(1)}`]) {
      const m = announce({ answer: { type: "answer", sdp: "v=0" }, offer_id: OFFER_ID });
      if (to !== undefined) m.to_peer_id = to;
      assert.deepEqual(parse(m), {
        action: "error",
        reason: "an answer needs a 20-byte to_peer_id",
        requestAction: "announce",
        infoHash: HASH,
      });
    }
  });

  test("an answer without a 20-byte offer_id fails", () => {
    for (const offerId of [undefined, null, "short", 5]) {
      const m = announce({ answer: { type: "answer", sdp: "v=0" }, to_peer_id: OTHER });
      if (offerId !== undefined) m.offer_id = offerId;
      assert.deepEqual(parse(m), {
        action: "error",
        reason: "an answer needs a 20-byte offer_id",
        requestAction: "announce",
        infoHash: HASH,
      });
    }
  });

  test("to_peer_id and offer_id without an answer are ignored", () => {
    const r = parsedAnnounce(announce({ to_peer_id: OTHER, offer_id: OFFER_ID }));
    assert.equal(r.answer, null);
    assert.equal(r.toPeerId, null);
    assert.equal(r.offerId, null);
  });

  test("the first problem in field order is the one reported", () => {
    // info_hash before peer_id before numwant before left before event before offers before answer
    const all = { info_hash: "x", peer_id: "y", numwant: -1, left: -1, event: "bad", offers: 1, answer: 1 };
    const order = [
      "info_hash must be a 20-byte binary string",
      "peer_id must be a 20-byte binary string",
      "numwant must be a non-negative number",
      "left must be a non-negative number",
      "invalid event",
      "offers must be a list",
      "answer must be {type: 'answer', sdp}",
    ];
    const fixed: Record<string, unknown> = {
      info_hash: HASH,
      peer_id: PEER,
      numwant: 1,
      left: 1,
      event: "",
      offers: [],
      answer: null,
    };
    const keys = Object.keys(all) as (keyof typeof all)[];
    keys.forEach((_, i) => {
      const m: Record<string, unknown> = { action: "announce" };
      keys.forEach((k, j) => {
        m[k] = j < i ? fixed[k] : all[k];
      });
      assert.equal((parse(m) as { reason?: string }).reason, order[i], `fields fixed up to ${keys[i]}`);
    });
  });
});

describe("parseWsMessage: scrape", () => {
  test("one info_hash as a string is a scrape of that hash", () => {
    assert.deepEqual(parse({ action: "scrape", info_hash: HASH }), { action: "scrape", infoHashes: [HASH] });
  });

  test("a list of info hashes is kept in order, duplicates included", () => {
    assert.deepEqual(parse({ action: "scrape", info_hash: [HASH, OTHER, HASH] }), {
      action: "scrape",
      infoHashes: [HASH, OTHER, HASH],
    });
  });

  test("no info_hash, null or an empty list is a scrape naming no hash", () => {
    for (const m of [
      { action: "scrape" },
      { action: "scrape", info_hash: null },
      { action: "scrape", info_hash: [] },
    ]) {
      assert.deepEqual(parse(m), { action: "scrape", infoHashes: [] });
    }
  });

  test("a hash that is not a 20-byte binary string fails with the scrape context and no hash", () => {
    for (const h of ["short", 5, [HASH, "short"], [HASH, null], `${HASH.slice(1)}\u0100`, {}]) {
      assert.deepEqual(parse({ action: "scrape", info_hash: h }), {
        action: "error",
        reason: "each info_hash must be a 20-byte binary string",
        requestAction: "scrape",
        infoHash: null,
      });
    }
  });
});

describe("parseWsMessage never throws", () => {
  test("on any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        const r = parseWsMessage(text, MAX);
        assert.ok(["announce", "scrape", "error"].includes(r.action));
      }),
      { numRuns: 500 },
    );
  });

  test("on any JSON value, in an announce field or as the whole message", () => {
    const fields = [
      "info_hash",
      "peer_id",
      "numwant",
      "left",
      "event",
      "offers",
      "answer",
      "to_peer_id",
      "offer_id",
    ];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), fc.jsonValue(), (field, v, whole) => {
        const r = parse(announce({ [field]: v }));
        assert.ok(["announce", "error"].includes(r.action));
        const w = parseWsMessage(JSON.stringify(whole), MAX);
        assert.ok(["announce", "scrape", "error"].includes(w.action));
      }),
      { numRuns: 500 },
    );
  });

  test("a well-formed announce with random binary ids round-trips through JSON", () => {
    const binId = fc
      .uint8Array({ minLength: 20, maxLength: 20 })
      .map((b) => Buffer.from(b).toString("latin1"));
    fc.assert(
      fc.property(binId, binId, fc.nat(100), fc.nat(10), (h, p, numwant, n) => {
        const offers = Array.from({ length: n }, (_, i) => ({
          offer: { type: "offer", sdp: `s${i}` },
          offer_id: h,
        }));
        const r = parsedAnnounce(announce({ info_hash: h, peer_id: p, numwant, offers }), 4);
        assert.equal(r.infoHash, h);
        assert.equal(r.peerId, p);
        assert.equal(r.numWant, numwant);
        assert.equal(r.offers.length, Math.min(n, 4));
        assert.equal(r.offersDropped, Math.max(0, n - 4));
      }),
      { numRuns: 300 },
    );
  });
});

describe("reply builders", () => {
  test("announce reply: action, interval, info_hash, complete, incomplete in that order", () => {
    assert.equal(
      announceReply(OTHER, 120, 3, 4, null),
      '{"action":"announce","interval":120,"info_hash":"ABCDEFGHIJKLMNOPQRST","complete":3,"incomplete":4}',
    );
  });

  test('announce reply with a warning ends with "warning message"', () => {
    assert.equal(
      announceReply(OTHER, 60, 0, 1, "only the first 10 offers of an announce are relayed"),
      '{"action":"announce","interval":60,"info_hash":"ABCDEFGHIJKLMNOPQRST","complete":0,"incomplete":1,' +
        '"warning message":"only the first 10 offers of an announce are relayed"}',
    );
  });

  test("offer message: the sender's peer id, the offer and its offer_id", () => {
    assert.equal(
      offerMessage(OTHER, id(0x30), { type: "offer", sdp: "v=0\r\n" }, id(0x61)),
      '{"action":"announce","info_hash":"ABCDEFGHIJKLMNOPQRST","peer_id":"0123456789:;<=>?@ABC",' +
        '"offer":{"type":"offer","sdp":"v=0\\r\\n"},"offer_id":"abcdefghijklmnopqrst"}',
    );
  });

  test("answer message: the answerer's peer id, the answer and the offer_id it answers", () => {
    assert.equal(
      answerMessage(OTHER, id(0x30), { type: "answer", sdp: "v=0" }, id(0x61)),
      '{"action":"announce","info_hash":"ABCDEFGHIJKLMNOPQRST","peer_id":"0123456789:;<=>?@ABC",' +
        '"answer":{"type":"answer","sdp":"v=0"},"offer_id":"abcdefghijklmnopqrst"}',
    );
  });

  test("scrape reply: one entry per hash with complete, downloaded, incomplete", () => {
    assert.equal(
      scrapeReply([
        { infoHash: OTHER, complete: 1, downloaded: 2, incomplete: 3 },
        { infoHash: id(0x61), complete: 0, downloaded: 0, incomplete: 0 },
      ]),
      '{"action":"scrape","files":{"ABCDEFGHIJKLMNOPQRST":{"complete":1,"downloaded":2,"incomplete":3},' +
        '"abcdefghijklmnopqrst":{"complete":0,"downloaded":0,"incomplete":0}}}',
    );
    assert.equal(scrapeReply([]), '{"action":"scrape","files":{}}');
  });

  test("failure reply: the reason alone, or with the action and info hash when known", () => {
    assert.equal(failureReply("invalid JSON", null, null), '{"failure reason":"invalid JSON"}');
    assert.equal(
      failureReply("missing info_hash", "announce", null),
      '{"failure reason":"missing info_hash","action":"announce"}',
    );
    assert.equal(
      failureReply("info hash not allowed", "announce", OTHER),
      '{"failure reason":"info hash not allowed","action":"announce","info_hash":"ABCDEFGHIJKLMNOPQRST"}',
    );
    assert.equal(
      failureReply("each info_hash must be a 20-byte binary string", "scrape", null),
      '{"failure reason":"each info_hash must be a 20-byte binary string","action":"scrape"}',
    );
  });

  test("binary ids with control characters and characters above U+007F survive JSON and UTF-8", () => {
    const text = announceReply(PEER, 1, 0, 0, null);
    assert.ok(text.includes('"info_hash":"\\u0000\\u0001'), text);
    const wire = Buffer.from(text, "utf8");
    const back = JSON.parse(wire.toString("utf8")) as { info_hash: string };
    assert.equal(back.info_hash, PEER);

    const high = offerMessage(HASH, HASH, { type: "offer", sdp: "" }, HASH);
    // U+00E0..U+00F3 are two bytes each in UTF-8.
    assert.ok(Buffer.byteLength(high, "utf8") > high.length);
    const parsed = JSON.parse(Buffer.from(high, "utf8").toString("utf8")) as Record<string, string>;
    assert.equal(parsed.info_hash, HASH);
    assert.equal(parsed.peer_id, HASH);
    assert.equal(parsed.offer_id, HASH);
  });

  test("a parsed announce's ids go back out unchanged in the messages built from them", () => {
    const r = parsedAnnounce(JSON.parse(JSON.stringify(announce({ offers: [offer(0)] }))));
    const out = JSON.parse(
      offerMessage(r.infoHash, r.peerId, r.offers[0].offer, r.offers[0].offerId),
    ) as Record<string, unknown>;
    assert.deepEqual(out, {
      action: "announce",
      info_hash: HASH,
      peer_id: PEER,
      offer: { type: "offer", sdp: "sdp-0" },
      offer_id: id(0x61),
    });
  });
});
