/**
 * In-place complex FFT on split real/imaginary arrays (Cooley & Tukey 1965), decimation in time:
 * bit-reverse the input, then merge sub-transforms. Two radix-2 merges are fused into one radix-4
 * pass (length m → 4m, using the twiddles W^k, W^{2k}, W^{3k} of the 4m-point transform), which
 * halves the passes over memory; a single radix-2 pass first when log2 n is odd.
 * Forward: X_k = Σ_j x_j e^{-2πijk/n}; inverse: x_j = (1/n) Σ_k X_k e^{+2πijk/n}.
 * Twiddle factors come from Math.cos/Math.sin of each angle (never by recurrence), so rounding
 * error grows like log n; the PRV accountant relies on this for its δ error budget.
 */

const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array }>();

/** cos and sin of 2πk/n for k < n. */
function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  let t = twiddleCache.get(n);
  if (t === undefined) {
    const cos = new Float64Array(n);
    const sin = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const angle = (2 * Math.PI * k) / n;
      cos[k] = Math.cos(angle);
      sin[k] = Math.sin(angle);
    }
    t = { cos, sin };
    if (twiddleCache.size >= 4) twiddleCache.clear(); // a handful of sizes per process at most
    twiddleCache.set(n, t);
  }
  return t;
}

/** True when n is a power of two >= 1. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** Smallest power of two >= n. */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function bitReverse(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let tmp = re[i];
      re[i] = re[j];
      re[j] = tmp;
      tmp = im[i];
      im[i] = im[j];
      im[j] = tmp;
    }
  }
}

/** Transforms (re, im) in place; their common length must be a power of two. */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n || !isPowerOfTwo(n)) {
    throw new RangeError(`fft needs two arrays of one power-of-two length, got ${re.length} and ${im.length}`);
  }
  if (n === 1) return;
  bitReverse(re, im);
  const { cos, sin } = twiddles(n);
  const sign = inverse ? 1 : -1;
  let m = 1; // length of the sub-transforms merged by the next pass
  if (Math.log2(n) % 2 === 1) {
    for (let a = 0; a < n; a += 2) {
      const br = re[a + 1];
      const bi = im[a + 1];
      re[a + 1] = re[a] - br;
      im[a + 1] = im[a] - bi;
      re[a] += br;
      im[a] += bi;
    }
    m = 2;
  }
  for (; m < n; m *= 4) {
    const len = 4 * m;
    const stride = n / len;
    // Block outer, k inner: each block of 4m points is merged while it is in cache (k outer would
    // sweep the whole array m times at stride 4m in the early passes).
    for (let block = 0; block < n; block += len) {
      for (let k = 0; k < m; k++) {
        const w = k * stride;
        const c1 = cos[w];
        const s1 = sign * sin[w];
        const c2 = cos[2 * w];
        const s2 = sign * sin[2 * w];
        const c3 = cos[3 * w];
        const s3 = sign * sin[3 * w];
        const a0 = block + k;
        const a1 = a0 + m;
        const a2 = a1 + m;
        const a3 = a2 + m;
        // In bit-reversed order the four quarter-transforms sit at a0, a2, a1, a3.
        const x0r = re[a0];
        const x0i = im[a0];
        const x1r = re[a2] * c1 - im[a2] * s1;
        const x1i = re[a2] * s1 + im[a2] * c1;
        const x2r = re[a1] * c2 - im[a1] * s2;
        const x2i = re[a1] * s2 + im[a1] * c2;
        const x3r = re[a3] * c3 - im[a3] * s3;
        const x3i = re[a3] * s3 + im[a3] * c3;
        const t0r = x0r + x2r;
        const t0i = x0i + x2i;
        const t1r = x0r - x2r;
        const t1i = x0i - x2i;
        const t2r = x1r + x3r;
        const t2i = x1i + x3i;
        // (x1 - x3) times ∓i (forward: -i).
        const ur = -sign * (x1i - x3i);
        const ui = sign * (x1r - x3r);
        re[a0] = t0r + t2r;
        im[a0] = t0i + t2i;
        re[a2] = t0r - t2r;
        im[a2] = t0i - t2i;
        re[a1] = t1r + ur;
        im[a1] = t1i + ui;
        re[a3] = t1r - ur;
        im[a3] = t1i - ui;
      }
    }
  }
  if (inverse) {
    const scale = 1 / n;
    for (let i = 0; i < n; i++) {
      re[i] *= scale;
      im[i] *= scale;
    }
  }
}
