// Address ranges ("10.0.0.0/8", "2001:db8::/32", or a single address) matched against the
// 16-byte canonical form used everywhere in shoal (IPv4 as ::ffff:a.b.c.d).

import { parseIp } from "./address.ts";

export interface Cidr {
  /** 16 bytes, the bits past `bits` zeroed. */
  readonly prefix: Uint8Array;
  /** Prefix length over the 16-byte form (an IPv4 /8 is 104 here). */
  readonly bits: number;
  readonly text: string;
}

/** Parses a CIDR or a single address; throws an Error saying what is wrong. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const prefix = new Uint8Array(16);
  const family = parseIp(addrText, prefix);
  if (family === 0) throw new Error(`"${addrText}" is not an IP address`);
  const max = family === 4 && addrText.indexOf(":") < 0 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
      throw new Error(`"/${lenText}" is not a prefix length between 0 and ${max}`);
    }
    len = Number(lenText);
  }
  const bits = max === 32 ? 96 + len : len;
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    prefix[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return { prefix, bits, text };
}

export function cidrContains(c: Cidr, addr: Uint8Array): boolean {
  const whole = c.bits >> 3;
  for (let i = 0; i < whole; i++) if (addr[i] !== c.prefix[i]) return false;
  const rest = c.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[whole] & mask) === c.prefix[whole];
}

export function anyCidrContains(list: readonly Cidr[], addr: Uint8Array): boolean {
  for (let i = 0; i < list.length; i++) if (cidrContains(list[i], addr)) return true;
  return false;
}
