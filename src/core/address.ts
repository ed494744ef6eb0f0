// IP address text <-> bytes, by hand: dgram hands us strings, and the hot path cannot afford
// node:net's allocation-heavy helpers for every datagram.

/**
 * Writes the address into `out` (16 bytes, IPv4 as the mapped form ::ffff:a.b.c.d) and returns
 * 4 or 6, the family the address really belongs to, or 0 when the text is not an IP address.
 */
export function parseIp(text: string, out: Uint8Array): 0 | 4 | 6 {
  if (text.indexOf(":") < 0) {
    if (!parseIpv4(text, 0, text.length, out, 12)) return 0;
    out.fill(0, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    return 4;
  }
  if (!parseIpv6(text, out)) return 0;
  return isMappedIpv4(out) ? 4 : 6;
}

export function isMappedIpv4(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

function parseIpv4(s: string, from: number, to: number, out: Uint8Array, at: number): boolean {
  let part = 0;
  let digits = 0;
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return false;
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // no leading zeros: they read as octal elsewhere
      value = value * 10 + (c - 48);
      if (value > 255 || ++digits > 3) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[at + 3] = value;
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function parseIpv6(s: string, out: Uint8Array): boolean {
  let end = s.length;
  const zone = s.indexOf("%");
  if (zone >= 0) end = zone;
  let words = 0; // 16-bit groups written so far
  let gap = -1; // group index where "::" stands
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === end) {
      out.fill(0);
      return true;
    }
  }
  while (i < end) {
    if (words === 8) return false;
    // An embedded IPv4 tail (::ffff:1.2.3.4) takes the last two groups.
    let j = i;
    let sawDot = false;
    while (j < end && s.charCodeAt(j) !== 58) {
      if (s.charCodeAt(j) === 46) sawDot = true;
      j++;
    }
    if (sawDot) {
      if (j !== end || words > 6 || !parseIpv4(s, i, end, out, words * 2)) return false;
      words += 2;
      break;
    }
    let value = 0;
    const len = j - i;
    if (len === 0 || len > 4) return false;
    for (let k = i; k < j; k++) {
      const h = hexValue(s.charCodeAt(k));
      if (h < 0) return false;
      value = (value << 4) | h;
    }
    out[words * 2] = value >> 8;
    out[words * 2 + 1] = value & 0xff;
    words++;
    if (j === end) break;
    // j is at a colon
    if (s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false;
      gap = words;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === end) return false; // trailing single colon
    }
  }
  if (gap < 0) return words === 8;
  if (words === 8) return false;
  // Shift the groups after the gap to the end and zero the middle.
  const tail = (words - gap) * 2;
  out.copyWithin(16 - tail, gap * 2, words * 2);
  out.fill(0, gap * 2, 16 - tail);
  return true;
}

/**
 * Formats 4 bytes (IPv4) or 16 bytes (IPv6) starting at `o`, the way Node's `net` prints
 * addresses: lowercase hex without leading zeros, the longest run (the first of equal ones) of
 * two or more zero groups written as "::", and dotted IPv4 for IPv4-mapped (::ffff:a.b.c.d) and
 * IPv4-compatible (::a.b.c.d) addresses.
 */
export function formatIp(buf: Uint8Array, o: number, family: 4 | 6): string {
  if (family === 4) return `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`;
  const w: number[] = new Array(8);
  for (let i = 0; i < 8; i++) w[i] = (buf[o + 2 * i] << 8) | buf[o + 2 * i + 1];
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
    return `${bestLen === 5 ? "::ffff:" : "::"}${formatIp(buf, o + 12, 4)}`;
  }
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += "::";
      i += bestLen - 1;
      continue;
    }
    if (s !== "" && !s.endsWith(":")) s += ":";
    s += w[i].toString(16);
  }
  return s;
}
