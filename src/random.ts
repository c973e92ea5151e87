/** A source of numbers in [0, 1): Math.random, or a seeded generator for repeatable runs. */
export type Random = () => number;

/**
 * mulberry32: a tiny, fast, well-distributed 32-bit generator; the same seed gives the same sequence. Used wherever a
 * run must repeat: the forecast's simulation, the OPS simulator, the bench's data set, seeded tests.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
