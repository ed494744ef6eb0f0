import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseAddress } from "../../src/config/schema.ts";

function problem(s: string, examplePort?: number): string {
  try {
    parseAddress(s, examplePort);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`${JSON.stringify(s)} was accepted`);
}

describe("parseAddress", () => {
  test("IPv4 with port", () => {
    assert.deepEqual(parseAddress("0.0.0.0:6969"), { host: "0.0.0.0", port: 6969, family: 4 });
    assert.deepEqual(parseAddress("192.168.1.20:80"), { host: "192.168.1.20", port: 80, family: 4 });
  });

  test("IPv6 in brackets with port", () => {
    assert.deepEqual(parseAddress("[::]:6969"), { host: "::", port: 6969, family: 6 });
    assert.deepEqual(parseAddress("[2001:db8::1]:443"), { host: "2001:db8::1", port: 443, family: 6 });
    assert.deepEqual(parseAddress("[::ffff:10.0.0.1]:1"), { host: "::ffff:10.0.0.1", port: 1, family: 6 });
  });

  test("port bounds: 0 picks a free port, 65535 is the last", () => {
    assert.equal(parseAddress("127.0.0.1:0").port, 0);
    assert.equal(parseAddress("[::1]:65535").port, 65535);
  });

  test("missing port says how to write it", () => {
    assert.equal(problem("0.0.0.0"), '"0.0.0.0" has no port; write it as "0.0.0.0:6969"');
    assert.equal(problem("127.0.0.1", 7070), '"127.0.0.1" has no port; write it as "127.0.0.1:7070"');
    assert.equal(problem("::"), '"::" has no port; IPv6 addresses go in brackets, as in "[::]:6969"');
    assert.equal(
      problem("::1:6969"),
      '"::1:6969" has no port; IPv6 addresses go in brackets, as in "[::1:6969]:6969"',
    );
    assert.equal(problem("[::1]"), '"[::1]" has no port; write it as "[::1]:6969"');
  });

  test("port out of range or not a number", () => {
    assert.equal(problem("0.0.0.0:65536"), '"0.0.0.0:65536": port 65536 is out of range 0..65535');
    assert.equal(problem("[::]:99999"), '"[::]:99999": port 99999 is out of range 0..65535');
    assert.equal(problem("0.0.0.0:http"), '"0.0.0.0:http": port "http" is not a number');
    assert.equal(problem("0.0.0.0:-1"), '"0.0.0.0:-1": port "-1" is not a number');
    assert.equal(problem("0.0.0.0:"), '"0.0.0.0:" has an empty port');
  });

  test("hostnames are refused", () => {
    assert.equal(
      problem("localhost:6969"),
      '"localhost:6969": "localhost" is not an IP address; hostnames are not accepted, ' +
        "write a literal IPv4 address or an IPv6 address in brackets",
    );
    assert.match(problem("tracker.example.com:80"), /"tracker\.example\.com" is not an IP address/);
  });

  test("IPv6 without brackets, IPv4 in brackets, broken brackets", () => {
    assert.equal(
      problem("::ffff:1.2.3.4:80"),
      '"::ffff:1.2.3.4:80": an IPv6 address needs brackets; write it as "[::ffff:1.2.3.4]:80"',
    );
    assert.equal(
      problem("[1.2.3.4]:80"),
      '"[1.2.3.4]:80": brackets are only for IPv6; write it as "1.2.3.4:80"',
    );
    assert.equal(problem("[::1:80"), '"[::1:80" has "[" without a matching "]"');
    assert.equal(problem("[::1]80"), '"[::1]80" must have ":port" right after "]"');
    assert.equal(problem("[nope]:80"), '"[nope]:80": "nope" is not an IPv6 address');
  });

  test("empty or padded", () => {
    assert.equal(problem(""), "the address is empty; write it as IPv4:port or [IPv6]:port");
    assert.equal(problem(" 0.0.0.0:1"), '" 0.0.0.0:1" has spaces around it');
  });
});
