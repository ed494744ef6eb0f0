// The client address behind a reverse proxy: the socket's address unless the socket's peer is in
// trusted_proxies, and then the address proxy_header names (X-Forwarded-For, Forwarded or
// X-Real-IP), taking the nearest hop that is not itself a trusted proxy so a client cannot
// choose its address. Where a peer was placed is read from the compact answer a later peer gets.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  announce,
  announcePath,
  type GetOptions,
  httpGet,
  randomHash,
  randomPeerId,
} from "../helpers/http-client.ts";
import { type HttpEndpoint, type HttpShoal, startHttpShoal } from "../helpers/http-process.ts";
import { compactPeer } from "../helpers/udp-client.ts";

const TEST_TIMEOUT = 60_000;
const MAX_NUMWANT = 50;

let nextPort = 40_000 + Math.floor(Math.random() * 20_000);

/** A source address the tracker does not trust in any of these configurations. */
const UNTRUSTED = "127.0.0.9";

async function startWith(http: Record<string, string | boolean | string[]>): Promise<HttpShoal> {
  return startHttpShoal({
    sections: { http, tracker: { default_numwant: MAX_NUMWANT, max_numwant: MAX_NUMWANT } },
  });
}

/**
 * Announces a fresh peer on a fresh torrent through `via` (source address and headers), then
 * returns where an observer of `family` sees it, as "ip port" hex of the compact peer; also the
 * announced port.
 */
async function placedAt(
  t: HttpShoal,
  via: { endpoint: HttpEndpoint; localAddress?: string; headers?: Record<string, string>; extra?: string },
  family: 4 | 6,
): Promise<{ seen: string[]; port: number }> {
  const hash = randomHash();
  const port = nextPort++;
  const o: GetOptions = { localAddress: via.localAddress, headers: via.headers };
  await announce(via.endpoint, { infoHash: hash, peerId: randomPeerId(), port, extra: via.extra }, o);
  const observer = family === 6 ? t.http6 : t.http4;
  const a = await announce(
    observer,
    { infoHash: hash, peerId: randomPeerId(), port: nextPort++, numwant: MAX_NUMWANT },
    { localAddress: family === 4 ? UNTRUSTED : undefined },
  );
  const bytes = family === 6 ? a.peers6 : a.peers;
  assert.ok(bytes !== undefined, `no ${family === 6 ? "peers6" : "peers"} in the observer's answer`);
  const size = family === 6 ? 18 : 6;
  const seen: string[] = [];
  for (let o2 = 0; o2 < bytes.length; o2 += size) seen.push(bytes.subarray(o2, o2 + size).toString("hex"));
  return { seen: seen.sort(), port };
}

function at(ip: string, port: number): string[] {
  return [compactPeer(ip, port).toString("hex")];
}

describe("X-Forwarded-For from trusted proxies", { timeout: TEST_TIMEOUT }, () => {
  let t: HttpShoal;

  before(async () => {
    t = await startWith({ trusted_proxies: ["127.0.0.1/32", "::1/128"], proxy_header: "x-forwarded-for" });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  test("X-Forwarded-For from a trusted proxy places the peer at the forwarded address", async () => {
    const r = await placedAt(t, { endpoint: t.http4, headers: { "X-Forwarded-For": "10.1.2.3" } }, 4);
    assert.deepEqual(r.seen, at("10.1.2.3", r.port));
  });

  test("X-Forwarded-For from a source outside trusted_proxies is ignored", async () => {
    const r = await placedAt(
      t,
      { endpoint: t.http4, localAddress: "127.0.0.2", headers: { "X-Forwarded-For": "10.9.9.9" } },
      4,
    );
    assert.deepEqual(r.seen, at("127.0.0.2", r.port));
  });

  test("a spoofed left-most X-Forwarded-For entry is not believed: the right-most untrusted hop is the client", async () => {
    const r = await placedAt(
      t,
      { endpoint: t.http4, headers: { "X-Forwarded-For": "6.6.6.6, 10.1.2.4" } },
      4,
    );
    assert.deepEqual(r.seen, at("10.1.2.4", r.port));
  });

  test("trusted proxies in the X-Forwarded-For chain are skipped to reach the client", async () => {
    const r = await placedAt(
      t,
      { endpoint: t.http4, headers: { "X-Forwarded-For": "6.6.6.6, 10.1.2.5, 127.0.0.1, ::1" } },
      4,
    );
    assert.deepEqual(r.seen, at("10.1.2.5", r.port));
  });

  test("two X-Forwarded-For header lines read as one list, the last line nearest", async () => {
    // node:http writes an array value as repeated header lines.
    const hash = randomHash();
    const port = nextPort++;
    const path = announcePath({ infoHash: hash, peerId: randomPeerId(), port });
    const r = await httpGet(t.http4, path, { headers: { "X-Forwarded-For": ["6.6.6.6", "10.1.2.6"] } });
    assert.equal(r.status, 200);
    const a = await announce(
      t.http4,
      { infoHash: hash, peerId: randomPeerId(), port: nextPort++ },
      { localAddress: UNTRUSTED },
    );
    assert.deepEqual(a.peers?.toString("hex"), at("10.1.2.6", port)[0]);
  });

  test("an X-Forwarded-For entry with a port is read without it", async () => {
    const r = await placedAt(t, { endpoint: t.http4, headers: { "X-Forwarded-For": "10.1.2.7:5555" } }, 4);
    assert.deepEqual(r.seen, at("10.1.2.7", r.port));
  });

  test("an X-Forwarded-For that holds no address leaves the socket's address", async () => {
    const r = await placedAt(t, { endpoint: t.http4, headers: { "X-Forwarded-For": "unknown" } }, 4);
    assert.deepEqual(r.seen, at("127.0.0.1", r.port));
  });

  test("a trusted proxy that sends no X-Forwarded-For is itself the client", async () => {
    const r = await placedAt(t, { endpoint: t.http4 }, 4);
    assert.deepEqual(r.seen, at("127.0.0.1", r.port));
  });

  test("an IPv6 client behind an IPv4 proxy joins the IPv6 peers", async () => {
    const r = await placedAt(t, { endpoint: t.http4, headers: { "X-Forwarded-For": "2001:db8::7" } }, 6);
    assert.deepEqual(r.seen, at("2001:db8::7", r.port));
  });

  test("an IPv4 client behind an IPv6 proxy joins the IPv4 peers", async () => {
    const r = await placedAt(t, { endpoint: t.http6, headers: { "X-Forwarded-For": "10.1.2.8" } }, 4);
    assert.deepEqual(r.seen, at("10.1.2.8", r.port));
  });

  test("an IPv6 client behind an IPv6 proxy, with a bracketed address and port", async () => {
    const r = await placedAt(
      t,
      { endpoint: t.http6, headers: { "X-Forwarded-For": "[2001:db8::8]:443" } },
      6,
    );
    assert.deepEqual(r.seen, at("2001:db8::8", r.port));
  });

  test("Forwarded and X-Real-IP are ignored while proxy_header is x-forwarded-for", async () => {
    const r = await placedAt(
      t,
      { endpoint: t.http4, headers: { Forwarded: "for=10.1.2.9", "X-Real-IP": "10.1.2.10" } },
      4,
    );
    assert.deepEqual(r.seen, at("127.0.0.1", r.port));
  });

  test("the ip parameter is ignored while allow_ip_param is off", async () => {
    const r = await placedAt(t, { endpoint: t.http4, localAddress: "127.0.0.3", extra: "&ip=10.1.2.11" }, 4);
    assert.deepEqual(r.seen, at("127.0.0.3", r.port));
  });
});

describe("Forwarded (RFC 7239) from trusted proxies", { timeout: TEST_TIMEOUT }, () => {
  let t: HttpShoal;

  before(async () => {
    t = await startWith({ trusted_proxies: ["127.0.0.1/32"], proxy_header: "forwarded" });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  test("Forwarded for= from a trusted proxy places the peer at that address", async () => {
    const r = await placedAt(
      t,
      { endpoint: t.http4, headers: { Forwarded: "for=10.2.3.4;proto=http;by=127.0.0.1" } },
      4,
    );
    assert.deepEqual(r.seen, at("10.2.3.4", r.port));
  });

  test("a spoofed first Forwarded element is not believed; a quoted address with a port is read", async () => {
    const r = await placedAt(
      t,
      { endpoint: t.http4, headers: { Forwarded: 'for=6.6.6.6, for="10.2.3.5:8080";proto=https' } },
      4,
    );
    assert.deepEqual(r.seen, at("10.2.3.5", r.port));
  });

  test("Forwarded with a quoted, bracketed IPv6 address joins the IPv6 peers", async () => {
    const r = await placedAt(t, { endpoint: t.http4, headers: { Forwarded: 'for="[2001:db8::9]:443"' } }, 6);
    assert.deepEqual(r.seen, at("2001:db8::9", r.port));
  });

  test("the Forwarded parameter name is case-insensitive", async () => {
    const r = await placedAt(t, { endpoint: t.http4, headers: { Forwarded: "proto=http;For=10.2.3.7" } }, 4);
    assert.deepEqual(r.seen, at("10.2.3.7", r.port));
  });

  test("Forwarded from a source outside trusted_proxies is ignored", async () => {
    const r = await placedAt(
      t,
      { endpoint: t.http4, localAddress: "127.0.0.2", headers: { Forwarded: "for=10.2.3.8" } },
      4,
    );
    assert.deepEqual(r.seen, at("127.0.0.2", r.port));
  });

  test("X-Forwarded-For is ignored while proxy_header is forwarded", async () => {
    const r = await placedAt(t, { endpoint: t.http4, headers: { "X-Forwarded-For": "10.2.3.6" } }, 4);
    assert.deepEqual(r.seen, at("127.0.0.1", r.port));
  });

  test("an IPv6 socket peer is not trusted when only 127.0.0.1/32 is listed", async () => {
    const r = await placedAt(t, { endpoint: t.http6, headers: { Forwarded: "for=10.2.3.9" } }, 6);
    assert.deepEqual(r.seen, at("::1", r.port));
  });
});

describe("X-Real-IP from trusted proxies, with allow_ip_param on", { timeout: TEST_TIMEOUT }, () => {
  let t: HttpShoal;

  before(async () => {
    t = await startWith({
      trusted_proxies: ["127.0.0.0/30"],
      proxy_header: "x-real-ip",
      allow_ip_param: true,
    });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  test("X-Real-IP from a trusted proxy places the peer at that address", async () => {
    const r = await placedAt(t, { endpoint: t.http4, headers: { "X-Real-IP": "10.3.4.5" } }, 4);
    assert.deepEqual(r.seen, at("10.3.4.5", r.port));
  });

  test("every address of a trusted CIDR is trusted", async () => {
    const r = await placedAt(
      t,
      { endpoint: t.http4, localAddress: "127.0.0.2", headers: { "X-Real-IP": "10.3.4.6" } },
      4,
    );
    assert.deepEqual(r.seen, at("10.3.4.6", r.port));
  });

  test("X-Real-IP from a source outside the trusted CIDR is ignored", async () => {
    const r = await placedAt(
      t,
      { endpoint: t.http4, localAddress: "127.0.0.5", headers: { "X-Real-IP": "10.3.4.7" } },
      4,
    );
    assert.deepEqual(r.seen, at("127.0.0.5", r.port));
  });

  test("X-Forwarded-For is ignored while proxy_header is x-real-ip", async () => {
    const r = await placedAt(t, { endpoint: t.http4, headers: { "X-Forwarded-For": "10.3.4.8" } }, 4);
    assert.deepEqual(r.seen, at("127.0.0.1", r.port));
  });

  test("with allow_ip_param on, the announce's ip parameter places the peer", async () => {
    const r = await placedAt(t, { endpoint: t.http4, localAddress: "127.0.0.6", extra: "&ip=10.3.4.9" }, 4);
    assert.deepEqual(r.seen, at("10.3.4.9", r.port));
  });
});
