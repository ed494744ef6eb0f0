import { isIP, SocketAddress } from "node:net";
import fc from "fast-check";
import { parseIp, formatIp } from "../../src/core/address.ts";
const out = new Uint8Array(16);
const tok = fc.constantFrom("0","1","00","01","ff","FFFF","abcd","12345",":","::",".","1.2.3.4","255","0.0.0.0","ffff","", "7", "0:0");
let n = 0, d = 0;
fc.assert(fc.property(fc.array(tok, {maxLength: 16}), (ts) => {
  const s = ts.join("");
  const a = parseIp(s, out);
  if (a === 0) return true;
  n++;
  const norm = new URL(`http://[${a === 4 && !s.includes(":") ? "::ffff:" + s : s}]/`).hostname.slice(1, -1);
  const mine = formatIp(out, 0, 6);
  if (norm !== mine) { d++; if (d < 10) console.log(s, norm, mine); }
  return true;
}), { numRuns: 300000, seed: 2 });
console.log(n, d);
