// Picking distinct members of an array at random without a scratch set: walk it from a random
// start with a random stride coprime to its length. Every member is equally likely to come
// first, the walk visits each once, and the cost is O(picks).

/** A random stride in [1, n) coprime to n (n >= 2). */
export function coprimeStride(n: number): number {
  let stride = 1 + Math.floor(Math.random() * (n - 1));
  while (gcd(stride, n) !== 1) stride = stride === n - 1 ? 1 : stride + 1;
  return stride;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}
