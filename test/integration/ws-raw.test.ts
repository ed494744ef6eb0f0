// The WebTorrent tracker spoken to directly with the `ws` package, against running trackers:
// every error path and its failure reason, the access list, how offers are spread (limit,
// numwant, never back to the sender, seeders), answers relayed only where shoal sent the offer,
// what a closed or stopped peer leaves behind, WebSocket and HTTP swarms kept apart, and the
// limits that protect the tracker (message size, swarms per socket, sockets per address, bad
// messages, slow readers, dead and idle sockets, offer lifetime).
//
// That a message did NOT come is shown with round trips (WsClient.sync), not with sleeps: once
// the sender's and then the receiver's scrape are answered, anything relayed would be there.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { announce as httpAnnounce, scrape as httpScrape, randomPeerId } from "../helpers/http-client.ts";
import type { AfterHook } from "../helpers/udp-client.ts";
import {
  ANSWER_TIMEOUT_MS,
  answerMessage,
  closedWithin,
  eventually,
  hexOf,
  makeOffers,
  randomId,
  startWsShoal,
  UpgradeRefused,
  WsClient,
  type WsMessage,
  type WsShoal,
} from "../helpers/ws-client.ts";

const TEST_TIMEOUT = 60_000;
const INTERVAL = 123;
const MAX_OFFERS = 3;
const MAX_SCRAPE_HASHES = 4;

/** Opens a socket that is closed when `owner` finishes. */
function open(t: WsShoal, owner: AfterHook, family: 4 | 6 = 4, path = "/announce"): Promise<WsClient> {
  return WsClient.open(t.url(family, path), { owner });
}

/** Waits until every client has seen everything the tracker did for earlier messages. */
async function settle(sender: WsClient, ...receivers: WsClient[]): Promise<void> {
  await sender.sync();
  for (const r of receivers) await r.sync();
}

function offersIn(c: WsClient): WsMessage[] {
  return c.relayed().filter((m) => m.offer !== undefined);
}

function answersIn(c: WsClient): WsMessage[] {
  return c.relayed().filter((m) => m.answer !== undefined);
}

interface Joined {
  client: WsClient;
  peerId: string;
}

/** `n` peers of `infoHash`, each on its own socket, announced without offers. */
async function joinPeers(
  t: WsShoal,
  owner: AfterHook,
  infoHash: string,
  n: number,
  left = 1000,
): Promise<Joined[]> {
  const out: Joined[] = [];
  for (let i = 0; i < n; i++) {
    const client = await open(t, owner);
    const peerId = randomId();
    await client.announce({ infoHash, peerId, left });
    out.push({ client, peerId });
  }
  return out;
}

describe("WebSocket tracker: messages and relays", { timeout: TEST_TIMEOUT }, () => {
  let t: WsShoal;

  before(async () => {
    t = await startWsShoal(
      { announce_interval: INTERVAL, max_offers_per_announce: MAX_OFFERS, max_sockets_per_ip: 10_000 },
      { sections: { http: { max_scrape_hashes: MAX_SCRAPE_HASHES } } },
    );
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  describe("bad messages get a failure reason and the socket stays usable", () => {
    const H = randomId();
    const P = randomId();
    const cases: [string, unknown, WsMessage][] = [
      ["text that is not JSON", "{not json", { "failure reason": "invalid JSON" }],
      ["JSON that is not an object", "[1,2,3]", { "failure reason": "a message must be a JSON object" }],
      ["a number", "42", { "failure reason": "a message must be a JSON object" }],
      [
        "an unknown action",
        { action: "connect", info_hash: H },
        { "failure reason": 'action must be "announce" or "scrape"' },
      ],
      [
        "an announce without info_hash",
        { action: "announce", peer_id: P },
        { "failure reason": "missing info_hash", action: "announce" },
      ],
      [
        "an announce with a 19-character info_hash",
        { action: "announce", info_hash: H.slice(1), peer_id: P },
        { "failure reason": "info_hash must be a 20-byte binary string", action: "announce" },
      ],
      [
        "an announce with an info_hash in hex",
        { action: "announce", info_hash: hexOf(H), peer_id: P },
        { "failure reason": "info_hash must be a 20-byte binary string", action: "announce" },
      ],
      [
        "an announce without peer_id",
        { action: "announce", info_hash: H },
        { "failure reason": "missing peer_id", action: "announce", info_hash: H },
      ],
      [
        "an announce with a peer_id holding a character above U+00FF",
        { action: "announce", info_hash: H, peer_id: `\u20ac${P.slice(1)}` },
        { "failure reason": "peer_id must be a 20-byte binary string", action: "announce", info_hash: H },
      ],
      [
        "an announce with a negative numwant",
        { action: "announce", info_hash: H, peer_id: P, numwant: -3 },
        { "failure reason": "numwant must be a non-negative number", action: "announce", info_hash: H },
      ],
      [
        "an announce with left as text",
        { action: "announce", info_hash: H, peer_id: P, left: "100" },
        { "failure reason": "left must be a non-negative number", action: "announce", info_hash: H },
      ],
      [
        "an announce with an unknown event",
        { action: "announce", info_hash: H, peer_id: P, event: "paused" },
        { "failure reason": "invalid event", action: "announce", info_hash: H },
      ],
      [
        "offers that are an object, not a list",
        { action: "announce", info_hash: H, peer_id: P, offers: { offer: { type: "offer", sdp: "v=0" } } },
        { "failure reason": "offers must be a list", action: "announce", info_hash: H },
      ],
      [
        "an offer without offer_id",
        { action: "announce", info_hash: H, peer_id: P, offers: [{ offer: { type: "offer", sdp: "v=0" } }] },
        {
          "failure reason": "each offer needs an offer {type: 'offer', sdp} and a 20-byte offer_id",
          action: "announce",
          info_hash: H,
        },
      ],
      [
        "an offer whose SDP type is answer",
        {
          action: "announce",
          info_hash: H,
          peer_id: P,
          offers: [{ offer: { type: "answer", sdp: "v=0" }, offer_id: randomId() }],
        },
        {
          "failure reason": "each offer needs an offer {type: 'offer', sdp} and a 20-byte offer_id",
          action: "announce",
          info_hash: H,
        },
      ],
      [
        "an answer without to_peer_id",
        {
          action: "announce",
          info_hash: H,
          peer_id: P,
          answer: { type: "answer", sdp: "v=0" },
          offer_id: randomId(),
        },
        { "failure reason": "an answer needs a 20-byte to_peer_id", action: "announce", info_hash: H },
      ],
      [
        "an answer without offer_id",
        {
          action: "announce",
          info_hash: H,
          peer_id: P,
          answer: { type: "answer", sdp: "v=0" },
          to_peer_id: P,
        },
        { "failure reason": "an answer needs a 20-byte offer_id", action: "announce", info_hash: H },
      ],
      [
        "an answer that is not {type: 'answer', sdp}",
        { action: "announce", info_hash: H, peer_id: P, answer: "v=0", to_peer_id: P, offer_id: randomId() },
        { "failure reason": "answer must be {type: 'answer', sdp}", action: "announce", info_hash: H },
      ],
      [
        "a scrape with a short info_hash",
        { action: "scrape", info_hash: [H, "short"] },
        { "failure reason": "each info_hash must be a 20-byte binary string", action: "scrape" },
      ],
      [
        "a scrape naming no info_hash",
        { action: "scrape" },
        { "failure reason": "a scrape must name at least one info_hash", action: "scrape" },
      ],
      [
        `a scrape of ${MAX_SCRAPE_HASHES + 1} info hashes`,
        { action: "scrape", info_hash: Array.from({ length: MAX_SCRAPE_HASHES + 1 }, randomId) },
        { "failure reason": `too many info hashes (at most ${MAX_SCRAPE_HASHES})`, action: "scrape" },
      ],
    ];

    for (const [name, message, expected] of cases) {
      test(`${name} fails with "${expected["failure reason"]}"`, async (tc) => {
        const c = await open(t, tc);
        const reply = await c.failure(message);
        assert.deepEqual(reply, expected);
        // The socket is still open and serves the next request.
        const ok = await c.announce({ infoHash: randomId(), peerId: randomId() });
        assert.equal(ok.action, "announce");
        assert.equal(c.isClosed, false);
      });
    }

    test('a binary frame fails with "messages must be JSON text"', async (tc) => {
      const c = await open(t, tc);
      c.sendBinary(Buffer.from(JSON.stringify({ action: "scrape", info_hash: H })));
      const reply = await c.next((m) => m["failure reason"] !== undefined);
      assert.deepEqual(reply, { "failure reason": "messages must be JSON text" });
      assert.deepEqual(Object.keys(await c.scrape(H)), [H]);
    });

    test(`a scrape of ${MAX_SCRAPE_HASHES} info hashes is answered for each`, async (tc) => {
      const c = await open(t, tc);
      const hashes = Array.from({ length: MAX_SCRAPE_HASHES }, randomId);
      const files = await c.scrape(hashes);
      assert.deepEqual(Object.keys(files).sort(), [...hashes].sort());
    });
  });

  describe("announce and scrape", () => {
    test("an announce is answered with the interval, the info hash and the counts including the announcer", async (tc) => {
      const c = await open(t, tc);
      const H = randomId();
      const reply = await c.announce({ infoHash: H, peerId: randomId(), left: 10, event: "started" });
      assert.deepEqual(reply, {
        action: "announce",
        interval: INTERVAL,
        info_hash: H,
        complete: 0,
        incomplete: 1,
      });
      const seeder = await c.announce({ infoHash: H, peerId: randomId(), left: 0 });
      assert.deepEqual(seeder, {
        action: "announce",
        interval: INTERVAL,
        info_hash: H,
        complete: 1,
        incomplete: 1,
      });
    });

    test("info hashes and peer ids with every byte value survive the trip (control characters, U+0080..U+00FF)", async (tc) => {
      const c = await open(t, tc);
      const d = await open(t, tc);
      for (let start = 0; start < 256; start += 20) {
        const H = Buffer.from(Array.from({ length: 20 }, (_, i) => (start + i) & 0xff)).toString("latin1");
        const P = Buffer.from(Array.from({ length: 20 }, (_, i) => (start + 128 + i) & 0xff)).toString(
          "latin1",
        );
        await d.announce({ infoHash: H, peerId: randomId() });
        const reply = await c.announce({ infoHash: H, peerId: P, offers: makeOffers(1) });
        assert.equal(reply.info_hash, H);
        const offer = await d.next((m) => m.offer !== undefined);
        assert.equal(offer.info_hash, H);
        assert.equal(offer.peer_id, P);
      }
    });

    test("a scrape answers complete, downloaded and incomplete per hash, zeros for an unknown one", async (tc) => {
      const c = await open(t, tc);
      const H = randomId();
      const unknown = randomId();
      await c.announce({ infoHash: H, peerId: randomId(), left: 5 });
      await c.announce({ infoHash: H, peerId: randomId(), left: 0 });
      const done = randomId();
      await c.announce({ infoHash: H, peerId: done, left: 5 });
      await c.announce({ infoHash: H, peerId: done, left: 0, event: "completed" });
      assert.deepEqual(await c.scrape([H, unknown]), {
        [H]: { complete: 2, downloaded: 1, incomplete: 1 },
        [unknown]: { complete: 0, downloaded: 0, incomplete: 0 },
      });
      assert.deepEqual(await c.scrape(H), { [H]: { complete: 2, downloaded: 1, incomplete: 1 } });
    });

    test("the tracker answers on / and /announce, over IPv4 and IPv6", async (tc) => {
      for (const family of [4, 6] as const) {
        for (const path of ["/", "/announce"]) {
          const c = await open(t, tc, family, path);
          const H = randomId();
          const reply = await c.announce({ infoHash: H, peerId: randomId() });
          assert.equal(reply.incomplete, 1, `IPv${family} ${path}`);
        }
      }
    });

    test("an upgrade on /scrape is refused with 400 and one on another path with 404", async () => {
      for (const [path, status] of [
        ["/scrape", 400],
        ["/other", 404],
      ] as const) {
        await assert.rejects(WsClient.open(t.url(4, path)), (err: unknown) => {
          assert.ok(err instanceof UpgradeRefused, String(err));
          assert.equal(err.status, status, path);
          return true;
        });
      }
    });

    test("a peer id another socket holds in the swarm cannot be announced from a second socket", async (tc) => {
      const owner = await open(t, tc);
      const thief = await open(t, tc);
      const H = randomId();
      const P = randomId();
      await owner.announce({ infoHash: H, peerId: P, left: 10 });
      const reply = await thief.failure({
        action: "announce",
        info_hash: H,
        peer_id: P,
        left: 0,
        offers: makeOffers(1),
      });
      assert.deepEqual(reply, {
        "failure reason": "peer_id is in use by another connection in this swarm",
        action: "announce",
        info_hash: H,
      });
      await settle(thief, owner);
      assert.deepEqual(owner.relayed(), [], "the thief's offer went nowhere");
      // Nor can the other socket stop it.
      await thief.announce({ infoHash: H, peerId: P, event: "stopped" });
      assert.deepEqual(await owner.scrape(H), { [H]: { complete: 0, downloaded: 0, incomplete: 1 } });
    });
  });

  describe("offers", () => {
    test("an offer reaches another peer of the swarm as {action, info_hash, peer_id: sender, offer, offer_id}", async (tc) => {
      const H = randomId();
      const [b] = await joinPeers(t, tc, H, 1);
      const a = await open(t, tc);
      const A = randomId();
      const offers = makeOffers(1);
      await a.announce({ infoHash: H, peerId: A, offers });
      const got = await b.client.next((m) => m.offer !== undefined);
      assert.deepEqual(got, {
        action: "announce",
        info_hash: H,
        peer_id: A,
        offer: offers[0].offer,
        offer_id: offers[0].offer_id,
      });
    });

    test("a lone peer's offers go nowhere, not back to itself", async (tc) => {
      const a = await open(t, tc);
      const H = randomId();
      await a.announce({ infoHash: H, peerId: randomId(), offers: makeOffers(MAX_OFFERS) });
      await a.sync();
      assert.deepEqual(offersIn(a), []);
    });

    test("with fewer other peers than offers each other peer gets one offer, the sender none", async (tc) => {
      const H = randomId();
      const others = await joinPeers(t, tc, H, 2);
      const a = await open(t, tc);
      const offers = makeOffers(MAX_OFFERS);
      const A = randomId();
      await a.announce({ infoHash: H, peerId: A, offers });
      await settle(a, ...others.map((o) => o.client));
      assert.deepEqual(offersIn(a), []);
      const ids = new Set<unknown>();
      for (const o of others) {
        const got = offersIn(o.client);
        assert.equal(got.length, 1);
        assert.equal(got[0].peer_id, A);
        ids.add(got[0].offer_id);
      }
      assert.equal(ids.size, 2, "two different offers");
    });

    test(`more than ${MAX_OFFERS} offers: the first ${MAX_OFFERS} go to ${MAX_OFFERS} different peers, with a warning`, async (tc) => {
      const H = randomId();
      const others = await joinPeers(t, tc, H, 6);
      const a = await open(t, tc);
      const offers = makeOffers(MAX_OFFERS + 2);
      const reply = await a.announce({ infoHash: H, peerId: randomId(), offers, numwant: 10 });
      assert.deepEqual(reply, {
        action: "announce",
        interval: INTERVAL,
        info_hash: H,
        complete: 0,
        incomplete: 7,
        "warning message": `only the first ${MAX_OFFERS} offers of an announce are relayed`,
      });
      await settle(a, ...others.map((o) => o.client));
      const perPeer = others.map((o) => offersIn(o.client));
      assert.ok(
        perPeer.every((l) => l.length <= 1),
        "no peer gets two",
      );
      const relayed = perPeer.flat().map((m) => m.offer_id);
      assert.deepEqual(
        relayed.map((id) => hexOf(id as string)).sort(),
        offers
          .slice(0, MAX_OFFERS)
          .map((o) => hexOf(o.offer_id))
          .sort(),
      );
    });

    test("numwant limits how many offers are relayed; numwant 0 relays none", async (tc) => {
      const H = randomId();
      const others = await joinPeers(t, tc, H, 5);
      const clients = others.map((o) => o.client);
      const a = await open(t, tc);
      const A = randomId();
      await a.announce({ infoHash: H, peerId: A, offers: makeOffers(MAX_OFFERS), numwant: 1 });
      await settle(a, ...clients);
      assert.equal(clients.flatMap(offersIn).length, 1);
      for (const c of clients) c.received.length = 0;

      const reply = await a.announce({ infoHash: H, peerId: A, offers: makeOffers(MAX_OFFERS), numwant: 0 });
      assert.equal(reply["warning message"], undefined);
      await settle(a, ...clients);
      assert.equal(clients.flatMap(offersIn).length, 0);

      await a.announce({ infoHash: H, peerId: A, offers: makeOffers(MAX_OFFERS), numwant: 2 });
      await settle(a, ...clients);
      assert.equal(clients.flatMap(offersIn).length, 2);
    });

    test("a seeder's offers go to leechers only while there are leechers", async (tc) => {
      const H = randomId();
      const seeders = await joinPeers(t, tc, H, 3, 0);
      const [leecher] = await joinPeers(t, tc, H, 1, 10);
      const a = await open(t, tc);
      await a.announce({ infoHash: H, peerId: randomId(), left: 0, offers: makeOffers(MAX_OFFERS) });
      await settle(a, leecher.client, ...seeders.map((s) => s.client));
      assert.equal(offersIn(leecher.client).length, 1);
      for (const s of seeders) assert.deepEqual(offersIn(s.client), []);
    });

    test("a message naming a to_peer_id with an offer is not delivered to that peer (no unsolicited messages)", async (tc) => {
      const H = randomId();
      const [victim] = await joinPeers(t, tc, H, 1);
      const c = await open(t, tc);
      const C = randomId();
      await c.announce({ infoHash: H, peerId: C, numwant: 0 });
      // An "offer" aimed at one peer: shoal has no such thing; it is an announce without offers.
      c.send({
        action: "announce",
        info_hash: H,
        peer_id: C,
        to_peer_id: victim.peerId,
        offer: { type: "offer", sdp: "v=0 aimed" },
        offer_id: randomId(),
      });
      // An answer to an offer the victim never made.
      c.send(answerMessage(H, C, victim.peerId, randomId()));
      // An answer claiming to come from the victim itself.
      c.send(answerMessage(H, victim.peerId, victim.peerId, randomId()));
      await settle(c, victim.client);
      assert.deepEqual(victim.client.relayed(), []);
    });
  });

  describe("answers", () => {
    /** A offers to B alone (the swarm is A and B); returns what B got. */
    async function offerAtoB(tc: AfterHook) {
      const H = randomId();
      const b = await open(t, tc);
      const B = randomId();
      await b.announce({ infoHash: H, peerId: B });
      const a = await open(t, tc);
      const A = randomId();
      await a.announce({ infoHash: H, peerId: A, offers: makeOffers(1) });
      const offer = await b.next((m) => m.offer !== undefined);
      return { H, a, A, b, B, offerId: offer.offer_id as string };
    }

    test("an answer goes to the offerer alone, as {action, info_hash, peer_id: answerer, answer, offer_id}", async (tc) => {
      const { H, a, A, b, B, offerId } = await offerAtoB(tc);
      const bystander = await open(t, tc);
      await bystander.announce({ infoHash: H, peerId: randomId(), numwant: 0 });
      b.send(answerMessage(H, B, A, offerId, "v=0 the answer"));
      const got = await a.next((m) => m.answer !== undefined);
      assert.deepEqual(got, {
        action: "announce",
        info_hash: H,
        peer_id: B,
        answer: { type: "answer", sdp: "v=0 the answer" },
        offer_id: offerId,
      });
      await settle(b, bystander, a, b);
      assert.deepEqual(answersIn(bystander), []);
      assert.deepEqual(answersIn(b), []);
      assert.deepEqual(answersIn(a), []);
    });

    test("an answer-only message gets no announce reply of its own", async (tc) => {
      const { H, a, A, b, B, offerId } = await offerAtoB(tc);
      b.send(answerMessage(H, B, A, offerId));
      await a.next((m) => m.answer !== undefined);
      await b.sync();
      assert.deepEqual(
        b.received.filter((m) => m.action === "announce"),
        [],
      );
    });

    test("a second answer to the same offer is dropped", async (tc) => {
      const { H, a, A, b, B, offerId } = await offerAtoB(tc);
      b.send(answerMessage(H, B, A, offerId, "v=0 first"));
      b.send(answerMessage(H, B, A, offerId, "v=0 second"));
      await settle(b, a);
      const got = answersIn(a);
      assert.equal(got.length, 1);
      assert.deepEqual(got[0].answer, { type: "answer", sdp: "v=0 first" });
    });

    test("an answer with an unknown offer_id, or another offer's, is dropped", async (tc) => {
      const { H, a, A, b, B, offerId } = await offerAtoB(tc);
      b.send(answerMessage(H, B, A, randomId()));
      // An offer id A made but shoal did not send to B (A had nobody else, so it went nowhere).
      const other = makeOffers(1);
      await a.announce({ infoHash: randomId(), peerId: A, offers: other });
      b.send(answerMessage(H, B, A, other[0].offer_id));
      await settle(b, a);
      assert.deepEqual(answersIn(a), []);
      // The real one still goes through: nothing above used it up.
      b.send(answerMessage(H, B, A, offerId));
      await a.next((m) => m.answer !== undefined);
    });

    test("an answer naming the wrong to_peer_id, info hash or answerer is dropped", async (tc) => {
      const { H, a, A, b, B, offerId } = await offerAtoB(tc);
      const C = randomId();
      await b.announce({ infoHash: H, peerId: C, numwant: 0 }); // B's socket holds a second peer id
      b.send(answerMessage(H, B, randomId(), offerId)); // wrong offerer
      b.send(answerMessage(H, C, A, offerId)); // the right socket, but not the peer that got the offer
      const H2 = randomId();
      await b.announce({ infoHash: H2, peerId: B, numwant: 0 });
      b.send(answerMessage(H2, B, A, offerId)); // another swarm
      await settle(b, a);
      assert.deepEqual(answersIn(a), []);
      b.send(answerMessage(H, B, A, offerId));
      const got = await a.next((m) => m.answer !== undefined);
      assert.equal(got.peer_id, B);
    });

    test("an answer from a peer that was not sent the offer is dropped, even with the right offer_id", async (tc) => {
      const { H, a, A, b, B, offerId } = await offerAtoB(tc);
      const c = await open(t, tc);
      const C = randomId();
      await c.announce({ infoHash: H, peerId: C, numwant: 0 });
      c.send(answerMessage(H, C, A, offerId));
      // Even when it claims to be the peer that got the offer.
      c.send(answerMessage(H, B, A, offerId));
      await settle(c, a);
      assert.deepEqual(answersIn(a), []);
      b.send(answerMessage(H, B, A, offerId));
      const got = await a.next((m) => m.answer !== undefined);
      assert.equal(got.peer_id, B);
    });

    test("an answer from a peer that is no longer in the swarm is dropped", async (tc) => {
      const { H, a, A, b, B, offerId } = await offerAtoB(tc);
      await b.announce({ infoHash: H, peerId: B, event: "stopped" });
      b.send(answerMessage(H, B, A, offerId));
      await settle(b, a);
      assert.deepEqual(answersIn(a), []);
    });

    test("an answer to an offerer that stopped is dropped: nothing reaches its still open socket", async (tc) => {
      const { H, a, A, b, B, offerId } = await offerAtoB(tc);
      const reply = await a.announce({ infoHash: H, peerId: A, event: "stopped" });
      assert.equal(reply.incomplete, 1, "B is left");
      b.send(answerMessage(H, B, A, offerId));
      await settle(b, a);
      assert.deepEqual(answersIn(a), []);
      assert.equal(b.isClosed, false);
    });

    test("an answer to an offerer whose socket closed is dropped and the answerer's socket stays fine", async (tc) => {
      const { H, a, A, b, B, offerId } = await offerAtoB(tc);
      a.close();
      await closedWithin(a);
      await eventually(
        async () => (await b.scrape(H))[H].incomplete === 1,
        "the closed offerer left the swarm",
      );
      b.send(answerMessage(H, B, A, offerId));
      await b.sync();
      assert.equal(b.isClosed, false);
      assert.deepEqual(b.relayed(), []);
    });

    test("two peers on one socket: an offer from one reaches the other over that socket, and the answer comes back", async (tc) => {
      const s = await open(t, tc);
      const H = randomId();
      const P1 = randomId();
      const P2 = randomId();
      await s.announce({ infoHash: H, peerId: P1 });
      const offers = makeOffers(1);
      const reply = await s.announce({ infoHash: H, peerId: P2, offers });
      assert.equal(reply.incomplete, 2);
      const offer = await s.next((m) => m.offer !== undefined);
      assert.equal(offer.peer_id, P2);
      assert.equal(offer.offer_id, offers[0].offer_id);
      s.send(answerMessage(H, P1, P2, offers[0].offer_id));
      const answer = await s.next((m) => m.answer !== undefined);
      assert.equal(answer.peer_id, P1);
      assert.equal(answer.offer_id, offers[0].offer_id);
    });
  });

  describe("leaving", () => {
    test("event stopped removes the peer: counts drop and its socket gets no more offers", async (tc) => {
      const H = randomId();
      const [b] = await joinPeers(t, tc, H, 1);
      const a = await open(t, tc);
      const A = randomId();
      await a.announce({ infoHash: H, peerId: A, left: 0 });
      const stopped = await a.announce({ infoHash: H, peerId: A, event: "stopped" });
      assert.deepEqual(stopped, {
        action: "announce",
        interval: INTERVAL,
        info_hash: H,
        complete: 0,
        incomplete: 1,
      });
      assert.deepEqual(await b.client.scrape(H), { [H]: { complete: 0, downloaded: 0, incomplete: 1 } });
      await b.client.announce({ infoHash: H, peerId: b.peerId, offers: makeOffers(MAX_OFFERS) });
      await settle(b.client, a);
      assert.deepEqual(offersIn(a), []);
    });

    test("a stopped announce from a peer that never joined is answered with the counts and changes nothing", async (tc) => {
      const H = randomId();
      const [b] = await joinPeers(t, tc, H, 1);
      const a = await open(t, tc);
      const reply = await a.announce({ infoHash: H, peerId: randomId(), event: "stopped" });
      assert.deepEqual(reply, {
        action: "announce",
        interval: INTERVAL,
        info_hash: H,
        complete: 0,
        incomplete: 1,
      });
      assert.equal((await b.client.scrape(H))[H].incomplete, 1);
    });

    test("a closed socket leaves every swarm it was in, for each of its peer ids", async (tc) => {
      const H1 = randomId();
      const H2 = randomId();
      const watcher = await open(t, tc);
      await watcher.announce({ infoHash: H1, peerId: randomId() });
      const s = await open(t, tc);
      await s.announce({ infoHash: H1, peerId: randomId(), left: 0 });
      await s.announce({ infoHash: H1, peerId: randomId() });
      await s.announce({ infoHash: H2, peerId: randomId() });
      assert.deepEqual(await watcher.scrape([H1, H2]), {
        [H1]: { complete: 1, downloaded: 0, incomplete: 2 },
        [H2]: { complete: 0, downloaded: 0, incomplete: 1 },
      });
      s.close();
      await closedWithin(s);
      await eventually(async () => {
        const f = await watcher.scrape([H1, H2]);
        return f[H1].complete === 0 && f[H1].incomplete === 1 && f[H2].incomplete === 0;
      }, "the closed socket's peers left");
      // Offers now go to the peers still there only.
      const c = await open(t, tc);
      await c.announce({ infoHash: H1, peerId: randomId() });
      await watcher.announce({ infoHash: H1, peerId: randomId(), offers: makeOffers(MAX_OFFERS) });
      await settle(watcher, c);
      assert.equal(offersIn(c).length, 1);
    });

    test("a terminated socket (no close frame) leaves its swarms too", async (tc) => {
      const H = randomId();
      const watcher = await open(t, tc);
      await watcher.announce({ infoHash: H, peerId: randomId() });
      const s = await open(t, tc, 6);
      await s.announce({ infoHash: H, peerId: randomId() });
      s.terminate();
      await eventually(
        async () => (await watcher.scrape(H))[H].incomplete === 1,
        "the terminated socket's peer left",
      );
    });
  });

  describe("WebSocket and HTTP swarms are kept apart", () => {
    test("an HTTP announce on the same info hash sees no WebSocket peer, and a WebSocket scrape no HTTP peer", async (tc) => {
      const hash = Buffer.from(randomId(), "latin1");
      const H = hash.toString("latin1");
      const w = await open(t, tc);
      await w.announce({ infoHash: H, peerId: randomId(), left: 0 });
      for (const e of [t.http4, t.http6]) {
        const r = await httpAnnounce(e, { infoHash: hash, peerId: randomPeerId(), port: 6881, left: 100 });
        assert.equal(r.complete, 0, `IPv${e.family}: the WebSocket seeder is not counted`);
        assert.equal((r.peers ?? Buffer.alloc(0)).length, 0, `IPv${e.family}: no peers`);
        assert.equal((r.peers6 ?? Buffer.alloc(0)).length, 0);
      }
      const figures = (await httpScrape(t.http4, [hash])).get(hash.toString("hex"));
      assert.ok(figures !== undefined);
      assert.equal(figures.complete, 0);
      assert.deepEqual(await w.scrape(H), { [H]: { complete: 1, downloaded: 0, incomplete: 0 } });
      // A WebSocket leecher is offered to nobody but WebSocket peers: its offer reaches w.
      const l = await open(t, tc);
      await l.announce({ infoHash: H, peerId: randomId(), offers: makeOffers(MAX_OFFERS) });
      await settle(l, w);
      assert.equal(offersIn(w).length, 1);
    });
  });

  describe("frames", () => {
    test("a text frame that is not valid UTF-8 closes the socket with 1007", async (tc) => {
      const c = await open(t, tc);
      c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      assert.equal((await closedWithin(c)).code, 1007);
    });
  });

  describe("upgrade", () => {
    test("a frame that arrives in the same read as the upgrade request is served, not lost", async () => {
      const e = t.http4;
      const H = "0123456789abcdefghij";
      const payload = Buffer.from(JSON.stringify({ action: "scrape", info_hash: H }));
      assert.ok(payload.length < 126);
      const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
      const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
      const head =
        `GET /announce HTTP/1.1\r\nHost: ${e.host}:${e.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
      const socket = net.connect(e.port, e.host);
      try {
        await once(socket, "connect");
        socket.write(Buffer.concat([Buffer.from(head, "latin1"), frame]));
        let got = Buffer.alloc(0);
        const expected = `{"action":"scrape","files":{"${H}":{"complete":0,"downloaded":0,"incomplete":0}}}`;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no scrape reply; got ${JSON.stringify(got.toString("latin1"))}`)),
            ANSWER_TIMEOUT_MS,
          );
          socket.on("data", (chunk: Buffer) => {
            got = Buffer.concat([got, chunk]);
            const end = got.indexOf("\r\n\r\n");
            if (end >= 0 && got.length >= end + 4 + 2 + expected.length) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
        const end = got.indexOf("\r\n\r\n");
        assert.match(got.subarray(0, end).toString("latin1"), /^HTTP\/1\.1 101 /);
        const reply = got.subarray(end + 4);
        assert.equal(reply[0], 0x81, "one unmasked text frame");
        assert.equal(reply[1], expected.length);
        assert.equal(reply.subarray(2).toString("utf8"), expected);
      } finally {
        socket.destroy();
      }
    });

    test("with [ws] enabled = false an upgrade is refused with 400 and HTTP announces still work", async (tc) => {
      const off = await startWsShoal({ enabled: false }, { owner: tc });
      await assert.rejects(WsClient.open(off.url(4)), (err: unknown) => {
        assert.ok(err instanceof UpgradeRefused, String(err));
        assert.equal(err.status, 400);
        return true;
      });
      const r = await httpAnnounce(off.http4, {
        infoHash: randomBytes(20),
        peerId: randomPeerId(),
        port: 6881,
      });
      assert.equal(r.incomplete, 1);
    });
  });

  describe("message size", () => {
    test("a message larger than max_message_size closes the socket with 1009; others carry on", async (tc) => {
      const big = await open(t, tc);
      const other = await open(t, tc);
      big.send({ action: "scrape", info_hash: randomId(), pad: "x".repeat(70_000) });
      const closed = await closedWithin(big);
      assert.equal(closed.code, 1009);
      const H = randomId();
      assert.deepEqual(await other.scrape(H), { [H]: { complete: 0, downloaded: 0, incomplete: 0 } });
    });
  });
});

describe("WebSocket tracker: access list", { timeout: TEST_TIMEOUT }, () => {
  let t: WsShoal;
  const allowed = randomId();
  const refused = randomId();

  before(async () => {
    t = await startWsShoal(
      {},
      {
        files: { "allow.txt": `# ws test\n${hexOf(allowed)}\n` },
        sections: (dir) => ({ access_list: { mode: "allow", path: join(dir, "allow.txt") } }),
      },
    );
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  test('an announce for an info hash the allow list does not hold fails with "info hash not allowed"', async (tc) => {
    for (const family of [4, 6] as const) {
      const c = await open(t, tc, family);
      const reply = await c.failure({
        action: "announce",
        info_hash: refused,
        peer_id: randomId(),
        offers: makeOffers(1),
      });
      assert.deepEqual(reply, {
        "failure reason": "info hash not allowed",
        action: "announce",
        info_hash: refused,
      });
      assert.deepEqual(await c.scrape(refused), { [refused]: { complete: 0, downloaded: 0, incomplete: 0 } });
    }
  });

  test("a refused announce puts nobody in the swarm and relays none of its offers", async (tc) => {
    const a = await open(t, tc);
    const b = await open(t, tc);
    await b.failure({ action: "announce", info_hash: refused, peer_id: randomId() });
    await a.failure({ action: "announce", info_hash: refused, peer_id: randomId(), offers: makeOffers(1) });
    await settle(a, b);
    assert.deepEqual(b.relayed(), []);
  });

  test("a listed info hash is served", async (tc) => {
    const a = await open(t, tc);
    const b = await open(t, tc);
    await b.announce({ infoHash: allowed, peerId: randomId() });
    const reply = await a.announce({ infoHash: allowed, peerId: randomId(), offers: makeOffers(1) });
    assert.equal(reply.incomplete, 2);
    await b.next((m) => m.offer !== undefined);
    assert.equal((await a.scrape(allowed))[allowed].incomplete, 2);
  });
});

describe("WebSocket tracker: per-socket limits", { timeout: TEST_TIMEOUT }, () => {
  const MAX_SWARMS = 2;
  const MAX_BAD = 3;
  const MAX_MESSAGE = 4096;
  let t: WsShoal;

  before(async () => {
    t = await startWsShoal({
      max_swarms_per_socket: MAX_SWARMS,
      max_bad_messages: MAX_BAD,
      max_message_size: MAX_MESSAGE,
    });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  test(`a socket in ${MAX_SWARMS} swarms cannot join another until it leaves one`, async (tc) => {
    const c = await open(t, tc);
    const P = randomId();
    const [H1, H2, H3] = [randomId(), randomId(), randomId()];
    await c.announce({ infoHash: H1, peerId: P });
    await c.announce({ infoHash: H2, peerId: P });
    const refused = await c.failure({ action: "announce", info_hash: H3, peer_id: P, left: 1 });
    assert.deepEqual(refused, {
      "failure reason": `too many torrents on one connection (at most ${MAX_SWARMS})`,
      action: "announce",
      info_hash: H3,
    });
    assert.equal((await c.scrape(H3))[H3].incomplete, 0);
    // Announcing again in a swarm it is in is fine.
    await c.announce({ infoHash: H1, peerId: P });
    await c.announce({ infoHash: H1, peerId: P, event: "stopped" });
    const ok = await c.announce({ infoHash: H3, peerId: P });
    assert.equal(ok.incomplete, 1);
    // Another socket has its own allowance.
    const d = await open(t, tc);
    await d.announce({ infoHash: H1, peerId: randomId() });
    await d.announce({ infoHash: H2, peerId: randomId() });
  });

  test("two peer ids of one socket in the same torrent count as one torrent against max_swarms_per_socket", async (tc) => {
    // A page with several bittorrent-tracker clients for one torrent shares one socket.
    const c = await open(t, tc);
    const [H1, H2] = [randomId(), randomId()];
    await c.announce({ infoHash: H1, peerId: randomId() });
    await c.announce({ infoHash: H1, peerId: randomId() });
    const reply = await c.request({ action: "announce", info_hash: H2, peer_id: randomId(), left: 1 });
    assert.equal(
      reply["failure reason"],
      undefined,
      `the socket is in one torrent only: ${JSON.stringify(reply)}`,
    );
    assert.equal(reply.incomplete, 1);
  });

  test(`the ${MAX_BAD}th bad message gets its failure reason and then a close with 1008`, async (tc) => {
    const c = await open(t, tc);
    for (let i = 1; i < MAX_BAD; i++)
      assert.deepEqual(await c.failure("nope"), { "failure reason": "invalid JSON" });
    assert.equal(c.isClosed, false);
    assert.deepEqual(await c.failure("nope"), { "failure reason": "invalid JSON" });
    const closed = await closedWithin(c);
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, "too many bad messages");
  });

  test("good messages in between do not reset the count of bad ones", async (tc) => {
    const c = await open(t, tc);
    const H = randomId();
    for (let i = 0; i < MAX_BAD; i++) {
      await c.failure({ action: "announce", info_hash: H });
      if (i < MAX_BAD - 1) await c.announce({ infoHash: H, peerId: randomId() });
    }
    assert.equal((await closedWithin(c)).code, 1008);
  });

  test("a socket closed for bad messages leaves its swarms", async (tc) => {
    const watcher = await open(t, tc);
    const H = randomId();
    await watcher.announce({ infoHash: H, peerId: randomId() });
    const c = await open(t, tc);
    await c.announce({ infoHash: H, peerId: randomId() });
    for (let i = 0; i < MAX_BAD; i++) c.sendText("{");
    await closedWithin(c);
    await eventually(
      async () => (await watcher.scrape(H))[H].incomplete === 1,
      "the closed socket's peer left",
    );
  });

  test(`a message of exactly ${MAX_MESSAGE} bytes is served; one byte more closes with 1009`, async (tc) => {
    const H = randomId();
    const sized = (n: number) => {
      const base = JSON.stringify({ action: "scrape", info_hash: H, pad: "" });
      const text = JSON.stringify({
        action: "scrape",
        info_hash: H,
        pad: "x".repeat(n - Buffer.byteLength(base)),
      });
      assert.equal(Buffer.byteLength(text), n);
      return text;
    };
    const c = await open(t, tc);
    c.sendText(sized(MAX_MESSAGE));
    const reply = await c.next((m) => m.action === "scrape");
    assert.deepEqual(reply.files, { [H]: { complete: 0, downloaded: 0, incomplete: 0 } });
    c.sendText(sized(MAX_MESSAGE + 1));
    assert.equal((await closedWithin(c)).code, 1009);
  });
});

describe("WebSocket tracker: sockets per address", { timeout: TEST_TIMEOUT }, () => {
  const MAX_SOCKETS = 2;
  let t: WsShoal;

  before(async () => {
    t = await startWsShoal({ max_sockets_per_ip: MAX_SOCKETS });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  test(`the upgrade of socket ${MAX_SOCKETS + 1} from one address is refused with 429; a close makes room`, async (tc) => {
    for (const family of [4, 6] as const) {
      const held: WsClient[] = [];
      for (let i = 0; i < MAX_SOCKETS; i++) held.push(await open(t, tc, family));
      await assert.rejects(open(t, tc, family), (err: unknown) => {
        assert.ok(err instanceof UpgradeRefused, String(err));
        assert.equal(err.status, 429);
        return true;
      });
      // The held sockets still work.
      for (const c of held) await c.sync();
      held[0].close();
      await closedWithin(held[0]);
      let again: WsClient | undefined;
      await eventually(async () => {
        try {
          again = await open(t, tc, family);
          return true;
        } catch (err) {
          if (err instanceof UpgradeRefused && err.status === 429) return false;
          throw err;
        }
      }, `IPv${family}: a socket is accepted again after one closed`);
      await again!.sync();
      // Leave this family's slots free for nothing else: close them all.
      for (const c of [...held.slice(1), again!]) {
        c.close();
        await closedWithin(c);
      }
    }
  });
});

describe("WebSocket tracker: shutdown", { timeout: TEST_TIMEOUT }, () => {
  test("on SIGTERM open sockets are closed with 1001 and shoal exits 0", async (tc) => {
    const t = await startWsShoal({}, { owner: tc });
    const c4 = await open(t, tc, 4);
    const c6 = await open(t, tc, 6);
    await c4.announce({ infoHash: randomId(), peerId: randomId() });
    await c6.sync();
    const code = await t.shoal.stop("SIGTERM");
    assert.equal(code, 0);
    for (const c of [c4, c6]) {
      const closed = await closedWithin(c);
      assert.equal(closed.code, 1001, `${c.url}: ${JSON.stringify(closed)}`);
    }
  });
});

describe("WebSocket tracker: slow readers", { timeout: 120_000 }, () => {
  let t: WsShoal;

  before(async () => {
    t = await startWsShoal({ max_buffered_bytes: 16_384, max_message_size: 1_048_576 });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  test("a socket that stops reading while offers pile up is disconnected; the others keep working", async (tc) => {
    const H = randomId();
    const slow = await open(t, tc);
    await slow.announce({ infoHash: H, peerId: randomId() });
    const flooder = await open(t, tc);
    const F = randomId();
    await flooder.announce({ infoHash: H, peerId: F });

    // Bystanders in another swarm.
    const Y = randomId();
    const [b1, b2] = [await open(t, tc), await open(t, tc)];
    const B1 = randomId();
    await b1.announce({ infoHash: Y, peerId: B1 });
    await b2.announce({ infoHash: Y, peerId: randomId() });

    const raw = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();

    // Each announce relays one ~200 KB offer to the paused reader. Once the kernel buffers are
    // full, shoal's own queue passes max_buffered_bytes and it drops the reader; the flood is
    // bounded so that a tracker that never drops fails instead of eating the machine.
    const MAX_ROUNDS = 1000;
    let dropped = false;
    for (let round = 0; round < MAX_ROUNDS && !dropped; round++) {
      await flooder.announce({ infoHash: H, peerId: F, offers: makeOffers(1, 200_000), numwant: 1 });
      if (round % 5 === 4) dropped = (await flooder.scrape(H))[H].incomplete === 1;
    }
    assert.ok(dropped, `the paused reader was still in the swarm after ${MAX_ROUNDS} offers`);

    // The flooder, the bystanders and newcomers are served.
    assert.equal(flooder.isClosed, false);
    const offers = makeOffers(1);
    await b1.announce({ infoHash: Y, peerId: B1, offers });
    const got = await b2.next((m) => m.offer !== undefined);
    assert.equal(got.offer_id, offers[0].offer_id);
    const n = await open(t, tc);
    await n.announce({ infoHash: H, peerId: randomId() });
    await flooder.announce({ infoHash: H, peerId: F, offers: makeOffers(1), numwant: 1 });
    const toNewcomer = await n.next((m) => m.offer !== undefined);
    assert.equal(toNewcomer.peer_id, F);

    // Once it reads again, the slow reader finds its socket closed.
    raw.resume();
    const closed = await closedWithin(slow, 30_000);
    assert.equal(closed.code, 1006, "terminated, no close frame");
  });
});

describe("WebSocket tracker: timers", { timeout: 120_000, concurrency: true }, () => {
  test("a socket that does not answer pings is dropped; one that does stays", async (tc) => {
    const t = await startWsShoal({ ping_interval: 1 }, { owner: tc });
    const H = randomId();
    const live = await open(t, tc);
    await live.announce({ infoHash: H, peerId: randomId() });
    const dead = await WsClient.open(t.url(4), { owner: tc, autoPong: false });
    await dead.announce({ infoHash: H, peerId: randomId() });
    const closed = await closedWithin(dead, 30_000);
    assert.equal(closed.code, 1006, "terminated, no close frame");
    assert.equal(live.isClosed, false);
    await eventually(async () => (await live.scrape(H))[H].incomplete === 1, "the dead socket's peer left");
    // Several more ping rounds later the live one is still there.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(live.isClosed, false);
    await live.sync();
  });

  test("a silent socket is closed with 1000 after idle_timeout; a talking one outlives the HTTP idle timeout", async (tc) => {
    const IDLE = 10;
    const t = await startWsShoal(
      { idle_timeout: IDLE },
      { owner: tc, sections: { http: { idle_timeout: 1, header_timeout: 1 } } },
    );
    const H = randomId();
    const silent = await open(t, tc);
    await silent.announce({ infoHash: H, peerId: randomId() });
    const lastWord = Date.now();
    const talker = await open(t, tc, 6);
    await talker.announce({ infoHash: H, peerId: randomId() });
    const chatter = setInterval(() => talker.send({ action: "scrape", info_hash: H }), 1_000);
    tc.after(() => clearInterval(chatter));
    const closed = await closedWithin(silent, (IDLE + 20) * 1000);
    clearInterval(chatter);
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, "idle");
    assert.ok(Date.now() - lastWord >= (IDLE - 3) * 1000, "not closed long before idle_timeout");
    assert.equal(talker.isClosed, false);
    await eventually(async () => (await talker.scrape(H))[H].incomplete === 1, "the idle socket's peer left");
  });

  test("an answer after offer_ttl is dropped; one within it is relayed", async (tc) => {
    const TTL = 5;
    const t = await startWsShoal({ offer_ttl: TTL }, { owner: tc });
    const H = randomId();
    const b = await open(t, tc);
    const B = randomId();
    await b.announce({ infoHash: H, peerId: B });
    const a = await open(t, tc);
    const A = randomId();
    await a.announce({ infoHash: H, peerId: A, offers: makeOffers(1) });
    const late = await b.next((m) => m.offer !== undefined);
    // The tracker's clock counts whole seconds and ticks once a second: wait TTL + 3 s.
    await new Promise((r) => setTimeout(r, (TTL + 3) * 1000));
    b.send(answerMessage(H, B, A, late.offer_id as string));
    await settle(b, a);
    assert.deepEqual(answersIn(a), []);

    await a.announce({ infoHash: H, peerId: A, offers: makeOffers(1) });
    const fresh = await b.next((m) => m.offer !== undefined);
    b.send(answerMessage(H, B, A, fresh.offer_id as string));
    const got = await a.next((m) => m.answer !== undefined, ANSWER_TIMEOUT_MS);
    assert.equal(got.offer_id, fresh.offer_id);
  });
});
