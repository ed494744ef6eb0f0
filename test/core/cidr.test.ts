import assert from "node:assert/strict";
import { test } from "node:test";
import { parseIp } from "../../src/core/address.ts";
import { anyCidrContains, cidrContains, parseCidr } from "../../src/core/cidr.ts";

function ip(text: string): Uint8Array {
  const out = new Uint8Array(16);
  assert.notEqual(parseIp(text, out), 0, text);
  return out;
}

test("an IPv4 /8 contains its addresses and nothing else", () => {
  const c = parseCidr("10.0.0.0/8");
  assert.equal(c.bits, 104);
  assert.ok(cidrContains(c, ip("10.255.1.2")));
  assert.ok(!cidrContains(c, ip("11.0.0.1")));
  assert.ok(!cidrContains(c, ip("::a00:1")), "an IPv6 address is not in an IPv4 range");
});

test("a range with host bits set is normalised to its network", () => {
  const c = parseCidr("192.168.7.9/20");
  assert.ok(cidrContains(c, ip("192.168.0.1")));
  assert.ok(cidrContains(c, ip("192.168.15.255")));
  assert.ok(!cidrContains(c, ip("192.168.16.0")));
});

test("a single address is a /32 or /128", () => {
  assert.ok(cidrContains(parseCidr("127.0.0.1"), ip("127.0.0.1")));
  assert.ok(!cidrContains(parseCidr("127.0.0.1"), ip("127.0.0.2")));
  assert.ok(cidrContains(parseCidr("::1"), ip("::1")));
  assert.ok(!cidrContains(parseCidr("::1"), ip("::2")));
});

test("IPv6 prefixes at odd lengths", () => {
  const c = parseCidr("2001:db8::/33");
  assert.ok(cidrContains(c, ip("2001:db8:7fff::1")));
  assert.ok(!cidrContains(c, ip("2001:db8:8000::1")));
  assert.ok(anyCidrContains([parseCidr("10.0.0.0/8"), c], ip("2001:db8::5")));
  assert.ok(!anyCidrContains([], ip("2001:db8::5")));
});

test("/0 contains every address of its family", () => {
  assert.ok(cidrContains(parseCidr("0.0.0.0/0"), ip("203.0.113.9")));
  assert.ok(cidrContains(parseCidr("::/0"), ip("2001:db8::1")));
});

test("bad ranges say what is wrong", () => {
  assert.throws(() => parseCidr("10.0.0.0/33"), /"\/33" is not a prefix length between 0 and 32/);
  assert.throws(() => parseCidr("::/129"), /between 0 and 128/);
  assert.throws(() => parseCidr("example.org/8"), /"example.org" is not an IP address/);
  assert.throws(() => parseCidr("10.0.0.0/"), /is not a prefix length/);
});
