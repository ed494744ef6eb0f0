import assert from "node:assert/strict";
import { test } from "node:test";
import { formatIp } from "../../src/core/address.ts";
import { parseCidr } from "../../src/core/cidr.ts";
import { clientFromHeader } from "../../src/server/http/client-address.ts";

const trusted = [parseCidr("127.0.0.1"), parseCidr("10.0.0.0/8")];

function client(kind: "x-forwarded-for" | "forwarded" | "x-real-ip", value: string): string | null {
  const out = new Uint8Array(16);
  const family = clientFromHeader(kind, value, trusted, out);
  if (family === 0) return null;
  return family === 4 ? formatIp(out, 12, 4) : formatIp(out, 0, 6);
}

test("X-Forwarded-For: the nearest hop that is not a trusted proxy is the client", () => {
  assert.equal(client("x-forwarded-for", "203.0.113.7"), "203.0.113.7");
  assert.equal(client("x-forwarded-for", "198.51.100.1, 203.0.113.7"), "203.0.113.7");
  assert.equal(client("x-forwarded-for", "203.0.113.7, 10.1.1.1"), "203.0.113.7", "a trusted hop is skipped");
  assert.equal(client("x-forwarded-for", "2001:db8::9"), "2001:db8::9");
  assert.equal(client("x-forwarded-for", "[2001:db8::9]:4711"), "2001:db8::9");
  assert.equal(client("x-forwarded-for", "203.0.113.7:4711"), "203.0.113.7");
});

test("X-Forwarded-For that names only trusted proxies, or garbage, gives no client", () => {
  assert.equal(client("x-forwarded-for", "10.0.0.1, 127.0.0.1"), null);
  assert.equal(client("x-forwarded-for", "not-an-ip"), null);
  assert.equal(client("x-forwarded-for", ""), null);
});

test("Forwarded (RFC 7239) reads the for= parameter, quoted or not", () => {
  assert.equal(client("forwarded", "for=203.0.113.7;proto=https"), "203.0.113.7");
  assert.equal(client("forwarded", 'for="[2001:db8::1]:4711", for=10.0.0.2'), "2001:db8::1");
  assert.equal(client("forwarded", "proto=http"), null);
});

test("X-Real-IP is a single address", () => {
  assert.equal(client("x-real-ip", " 203.0.113.7 "), "203.0.113.7");
  assert.equal(client("x-real-ip", "2001:db8::2"), "2001:db8::2");
  assert.equal(client("x-real-ip", "nonsense"), null);
});
