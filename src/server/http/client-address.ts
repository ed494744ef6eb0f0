// Which address a request comes from. The socket's address, unless the socket's peer is a
// reverse proxy the operator trusts: then the proxy's header says who the client is.

import { parseIp } from "../../core/address.ts";
import { anyCidrContains, type Cidr } from "../../core/cidr.ts";

export type ProxyHeader = "x-forwarded-for" | "forwarded" | "x-real-ip";

/**
 * Picks the client from a trusted proxy's header value and writes it to `out` (16 bytes).
 * X-Forwarded-For and Forwarded list hops left to right; the nearest hop not itself a trusted
 * proxy is the client, so a client cannot choose its address by sending the header itself.
 * Returns the family, or 0 when the header holds no usable address.
 */
export function clientFromHeader(
  kind: ProxyHeader,
  value: string,
  trusted: readonly Cidr[],
  out: Uint8Array,
): 0 | 4 | 6 {
  if (kind === "x-real-ip") return parseIp(stripPort(value.trim()), out);
  const hops = value.split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const text = kind === "forwarded" ? forwardedFor(hops[i]) : stripPort(hops[i].trim());
    if (text === "") return 0;
    const family = parseIp(text, out);
    if (family === 0) return 0;
    if (!anyCidrContains(trusted, out)) return family;
  }
  return 0;
}

/** The `for=` parameter of one Forwarded element (RFC 7239), without quotes, brackets or port. */
function forwardedFor(element: string): string {
  for (const pair of element.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
    let v = pair.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    return stripPort(v);
  }
  return "";
}

/** "1.2.3.4:5678" -> "1.2.3.4", "[::1]:80" -> "::1", "::1" stays. */
function stripPort(v: string): string {
  if (v.startsWith("[")) {
    const close = v.indexOf("]");
    return close < 0 ? "" : v.slice(1, close);
  }
  const colon = v.indexOf(":");
  if (colon >= 0 && v.indexOf(":", colon + 1) < 0) return v.slice(0, colon);
  return v;
}
