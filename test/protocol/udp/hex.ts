/** Bytes from a hex literal; whitespace and "|" separators are ignored. */
export function hex(s: string): Buffer {
  const clean = s.replace(/[\s|]+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex literal: ${s}`);
  return Buffer.from(clean, "hex");
}

/** A 20-byte value whose bytes are all `b`. */
export function filled20(b: number): Uint8Array {
  return new Uint8Array(20).fill(b);
}
