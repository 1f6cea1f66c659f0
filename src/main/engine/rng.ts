/**
 * Seeded generator for the augmentation pipeline. Every random choice of a view (masks, crops, jitter,
 * frame picks) is drawn from here, so a (seed, step) pair reproduces a batch bit for bit on any machine.
 * Training never stores a generator's state: it derives one per (seed, step) (train/data-source.ts), and
 * a checkpoint records only the seed and the step.
 *
 * Generator: xoshiro128** (Blackman & Vigna), 4 × 32-bit words, seeded through splitmix32.
 */

const TWO_POW_26 = 67108864
const TWO_POW_53 = 9007199254740992
const TWO_POW_32 = 4294967296

function splitmix32(x: number): number {
  let t = (x + 0x9e3779b9) | 0
  t = Math.imul(t ^ (t >>> 16), 0x21f0aaad)
  t = Math.imul(t ^ (t >>> 15), 0x735a2d97)
  return (t ^ (t >>> 15)) >>> 0
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

export class Rng {
  private readonly s = new Uint32Array(4)

  /** Any safe integer seeds the generator (negative and > 2³² included: both 32-bit halves are mixed in). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`Rng seed must be a safe integer, got ${seed}`)
    const lo = ((seed % TWO_POW_32) + TWO_POW_32) % TWO_POW_32
    const hi = ((Math.floor(seed / TWO_POW_32) % TWO_POW_32) + TWO_POW_32) % TWO_POW_32
    let x = lo ^ splitmix32(hi)
    for (let k = 0; k < 4; k++) {
      x = (x + 0x9e3779b9) | 0
      this.s[k] = splitmix32(x)
    }
    // xoshiro's only fixed point is the all-zero state
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1
  }

  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO_POW_32)) {
      throw new Error('Rng state must be four unsigned 32-bit integers')
    }
    if (state.every((w) => w === 0)) throw new Error('Rng state must not be all zero')
    const rng = new Rng(0)
    rng.s.set(state)
    return rng
  }

  /** four unsigned 32-bit words; JSON-safe */
  getState(): number[] {
    return Array.from(this.s)
  }

  nextUint32(): number {
    const s = this.s
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0
    const t = s[1] << 9
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 11)
    return result
  }

  /** uniform in [lo, hi) with 53 random bits */
  uniform(lo = 0, hi = 1): number {
    const u = ((this.nextUint32() >>> 5) * TWO_POW_26 + (this.nextUint32() >>> 6)) / TWO_POW_53
    return lo + (hi - lo) * u
  }

  /** integer in [lo, hi), like numpy's randint */
  randint(lo: number, hi: number): number {
    if (!(hi > lo)) throw new Error(`randint needs hi > lo, got [${lo}, ${hi})`)
    return lo + Math.floor(this.uniform() * (hi - lo))
  }

  /** standard normal (Box–Muller; no cached spare, so the state stays four words) */
  normal(): number {
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()))
    return r * Math.cos(2 * Math.PI * this.uniform())
  }

  /** uniformly random permutation of 0 … n−1 (Fisher–Yates) */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i)
    for (let i = n - 1; i > 0; i--) {
      const j = this.randint(0, i + 1)
      const tmp = p[i]
      p[i] = p[j]
      p[j] = tmp
    }
    return p
  }
}
