// Listening addresses as written in the configuration: "IPv4:port" or "[IPv6]:port".
// Only literal IPs are accepted: resolving a hostname at start-up would make the bound
// address depend on DNS, and "localhost" may resolve to either family.

import { isIPv4, isIPv6 } from "node:net";

export interface ListenAddress {
  host: string;
  port: number;
  family: 4 | 6;
}

/**
 * Parses "IPv4:port" or "[IPv6]:port" (port 0..65535; 0 asks the OS for a free port).
 * Throws a plain Error whose message says what is wrong and, where it can, how to write it.
 * `examplePort` is only used in those hints.
 */
export function parseAddress(s: string, examplePort = 6969): ListenAddress {
  const shown = JSON.stringify(s);
  if (s.trim() === "") throw new Error("the address is empty; write it as IPv4:port or [IPv6]:port");
  if (s !== s.trim()) throw new Error(`${shown} has spaces around it`);

  let host: string;
  let portText: string;
  let family: 4 | 6;
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    if (close < 0) throw new Error(`${shown} has "[" without a matching "]"`);
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest === "") throw new Error(`${shown} has no port; write it as "${s}:${examplePort}"`);
    if (!rest.startsWith(":")) throw new Error(`${shown} must have ":port" right after "]"`);
    portText = rest.slice(1);
    if (isIPv4(host)) {
      throw new Error(`${shown}: brackets are only for IPv6; write it as "${host}:${portText}"`);
    }
    if (!isIPv6(host)) throw new Error(`${shown}: "${host}" is not an IPv6 address`);
    family = 6;
  } else {
    if (isIPv4(s)) throw new Error(`${shown} has no port; write it as "${s}:${examplePort}"`);
    // "::1:6969" is itself a valid IPv6 address, so the port cannot be guessed off the end.
    if (isIPv6(s)) {
      throw new Error(`${shown} has no port; IPv6 addresses go in brackets, as in "[${s}]:${examplePort}"`);
    }
    const colon = s.lastIndexOf(":");
    if (colon < 0) throw new Error(`${shown} has no port; write it as IPv4:port or [IPv6]:port`);
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (isIPv6(host)) {
      throw new Error(`${shown}: an IPv6 address needs brackets; write it as "[${host}]:${portText}"`);
    }
    if (!isIPv4(host)) {
      throw new Error(
        `${shown}: "${host}" is not an IP address; hostnames are not accepted, write a literal ` +
          `IPv4 address or an IPv6 address in brackets`,
      );
    }
    family = 4;
  }

  if (portText === "") throw new Error(`${shown} has an empty port`);
  if (!/^[0-9]+$/.test(portText)) throw new Error(`${shown}: port "${portText}" is not a number`);
  const port = Number(portText);
  if (port > 65535) throw new Error(`${shown}: port ${portText} is out of range 0..65535`);
  return { host, port, family };
}
