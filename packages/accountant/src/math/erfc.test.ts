import { describe, expect, it } from 'vitest';
import { erf, erfc, erfcx, logErfc, logNormCdf, normCdf } from './erfc';

// [x, erfc(x), log erfc(x)] computed with mpmath at 40 significant digits (an independent,
// arbitrary-precision implementation), rounded to 20 digits.
const REFERENCE: [number, number, number][] = [
  [-6, 1.9999999999999999785, 0.69314718055994529866],
  [-2, 1.9953222650189527342, 0.69080557364658765676],
  [-0.5, 1.5204998778130465377, 0.41903914777555958036],
  [-1e-3, 1.0011283787909692364, 0.0011277426501148765306],
  [0, 1.0, 0.0],
  [1e-10, 9.9999999988716208329e-1, -1.1283791671591745511e-10],
  [0.25, 7.2367360983176306701e-1, -0.32341480339361941803],
  [0.4999, 4.795880048386134194e-1, -0.73482786690340911597],
  [0.5, 4.7950012218695346232e-1, -0.73501112983708440303],
  [0.75, 2.888443663464848684e-1, -1.2418672606788870402],
  [1, 1.5729920705028513066e-1, -1.8496055099332482486],
  [1.5, 3.3894853524689272933e-2, -3.3844920895515527203],
  [2, 4.6777349810472658379e-3, -5.3649412646166375745],
  [3, 2.2090496998585441373e-5, -10.720363041981112568],
  [4.5, 1.9661604415428874763e-10, -22.349768303435940757],
  [6, 2.1519736712498913117e-17, -38.377561173223388366],
  [8, 1.122429717298292708e-29, -66.65947197080516149],
  [10, 2.088487583762544757e-45, -102.87988902484488857],
  [15, 7.2129941724512066666e-100, -228.28262515380638614],
  [20, 5.3958656116079009289e-176, -403.56934333410423496],
  [26, 5.6631924088561428465e-296, -679.83119976319423026],
  [30, 0, -903.97411711064387808],
  [100, 0, -10005.177585122664333],
  [1e4, 0, -100000009.7827053199],
];

describe('erfc', () => {
  it('matches 40-digit mpmath values to 3e-15 relative (erfc) and 1e-15 relative (log erfc)', () => {
    for (const [x, want, wantLog] of REFERENCE) {
      if (want > 0) expect(Math.abs(erfc(x) - want) / want, `erfc(${x})`).toBeLessThan(3e-15);
      else expect(erfc(x)).toBe(0);
      const logTol = Math.max(1e-15 * Math.abs(wantLog), 1e-25);
      expect(Math.abs(logErfc(x) - wantLog), `logErfc(${x})`).toBeLessThanOrEqual(logTol);
    }
  });

  it('is consistent with erf, erfcx and the normal CDF', () => {
    for (const x of [-3, -0.7, -0.2, 0, 0.1, 0.6, 2.2, 5]) {
      expect(erf(x) + erfc(x)).toBeCloseTo(1, 15);
      expect(erf(-x)).toBeCloseTo(-erf(x), 15);
      expect(normCdf(x) + normCdf(-x)).toBeCloseTo(1, 15);
      expect(Math.exp(logNormCdf(x))).toBeCloseTo(normCdf(x), 15);
    }
    for (const x of [0, 0.3, 1, 4, 25]) {
      expect(erfcx(x) / (Math.exp(x * x) * erfc(x))).toBeCloseTo(1, 13);
    }
    // erfcx(x) → 1/(x√π) for large x (A&S 7.1.23), relative error ~1/(2x²).
    expect(erfcx(1e6) * 1e6 * Math.sqrt(Math.PI)).toBeCloseTo(1, 11);
  });

  it('Φ(-8.5) keeps full relative precision in the tail (mpmath: 9.4795348222033184e-18)', () => {
    expect(Math.abs(normCdf(-8.5) / 9.4795348222033184e-18 - 1)).toBeLessThan(1e-14);
  });

  it('propagates NaN', () => {
    expect(erfc(NaN)).toBeNaN();
    expect(logErfc(NaN)).toBeNaN();
  });
});
