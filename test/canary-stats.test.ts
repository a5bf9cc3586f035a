// The statistics of canary analysis against reference values computed independently: every number
// below comes from test/fixtures/canary-stats-reference.py (SciPy 1.17 / NumPy 2.4), which computes
// it with SciPy's own implementations, brute force over all pairwise differences, the closed forms of
// the papers, or numerical optimisation and integration; the comment on each block names which.
import { describe, expect, it } from 'vitest';
import { binomialCdf, hypergeometricLogPmf, logGamma, logNormalCdf, normalCdf, normalQuantile } from '../src/canary/stats/distributions.js';
import { fisherExact } from '../src/canary/stats/fisher.js';
import { restrictedMle, scoreTest, twoProportionTest } from '../src/canary/stats/proportions.js';
import { exactUDistribution, mannWhitneyNormal, mannWhitneyTest, toWeighted, uStatistic } from '../src/canary/stats/mann-whitney.js';
import { hodgesLehmann, shiftInterval } from '../src/canary/stats/hodges-lehmann.js';
import { mcnemarExact } from '../src/canary/stats/mcnemar.js';
import { logNormalMixture, pairedMixtureEvidence, rankEvidence, ratioEvidence, ratioMixtureEvidence, ratioScoreEvidence } from '../src/canary/sequential.js';

/** Relative closeness: |got − want| ≤ tol · max(1, |want|). */
function close(got: number, want: number, tol = 1e-9): void {
  expect(Math.abs(got - want), `got ${got}, want ${want}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
}

const counts = (events: number, total: number) => ({ events, total });
const pairs = (baselineOnly: number, canaryOnly: number, concordant: number) => ({ baselineOnly, canaryOnly, bothGood: concordant, bothBad: 0 });

describe('distributions', () => {
  it('normal cdf, log cdf and quantile (scipy.stats.norm.cdf / logcdf / ppf)', () => {
    for (const [x, p] of [
      [-8.5, 9.47953482220325e-18],
      [-5, 2.866515718791933e-07],
      [-1.96, 0.024997895148220435],
      [-0.3, 0.3820885778110474],
      [0, 0.5],
      [1, 0.8413447460685429],
      [3, 0.9986501019683699],
      [6, 0.9999999990134123],
    ]) close(normalCdf(x) / p, 1, 1e-13); // relative, far into the tail
    for (const [x, l] of [
      [-40, -804.6084420137539],
      [-100, -5005.524208694205],
    ]) close(logNormalCdf(x), l, 1e-12);
    for (const [p, x] of [
      [1e-10, -6.361340902404056],
      [0.001, -3.090232306167813],
      [0.025, -1.9599639845400545],
      [0.3, -0.5244005127080409],
      [0.5, 0.0],
      [0.975, 1.959963984540054],
      [0.999999, 4.753424308817087],
    ]) close(normalQuantile(p), x, 1e-12);
  });

  it('log-gamma (math.lgamma), binomial cdf (scipy.stats.binom.cdf), hypergeometric pmf (scipy.stats.hypergeom.pmf)', () => {
    for (const [x, l] of [
      [0.001, 6.907178885383854],
      [0.5, 0.5723649429247004],
      [1, 0.0],
      [10, 12.801827480081467],
      [1000.5, 5908.674175848678],
      [123456.7, 1323900.9753909183],
    ]) close(logGamma(x), l, 1e-13);
    close(binomialCdf(3, 20, 0.3), 0.10708680450373087, 1e-12);
    close(binomialCdf(480, 500, 0.95), 0.8727654760909439, 1e-10);
    // 2 marked among 12 drawn from 20 of which 7 are marked.
    close(Math.exp(hypergeometricLogPmf(2, 20, 7, 12)), 0.047678018575851404, 1e-12);
  });
});

describe("Fisher's exact test (scipy.stats.fisher_exact)", () => {
  it('less, greater and two-sided on tiny tables, a zero cell and a perfect split', () => {
    // [[3,1],[1,3]] is Fisher's lady tasting tea: one-sided p = 17/70. [[45,5],[50,0]]: the second
    // row (a baseline) has no failures at all.
    for (const [[[a, b], [c, d]], less, greater, two] of [
      [[[3,1],[1,3]], 0.9857142857142858, 0.24285714285714283, 0.48571428571428565],
      [[[0,10],[5,5]], 0.016253869969040248, 1.0, 0.032507739938080496],
      [[[19,1],[12,8]], 0.9993857493857494, 0.009828009828009828, 0.019656019656019656],
      [[[45,5],[50,0]], 0.028142247214412164, 1.0, 0.05628449442882433],
      [[[7,0],[0,7]], 1.0, 0.0002913752913752914, 0.0005827505827505828],
    ] as [number[][], number, number, number][]) {
      close(fisherExact(a, b, c, d, 'less'), less, 1e-10);
      close(fisherExact(a, b, c, d, 'greater'), greater, 1e-10);
      close(fisherExact(a, b, c, d, 'two-sided'), two, 1e-10);
    }
  });
});

describe('two proportions, one look', () => {
  // Farrington & Manning (1990), closed-form restricted estimate (the cubic's trigonometric root).
  const cases = [
    { canary: counts(180, 200), baseline: counts(450, 500), d0: -0.05, pb: 0.9106718047625582, z: 1.810980253297323, less: 0.9649280457901247, greater: 0.035071954209875265 },
    { canary: counts(160, 200), baseline: counts(900, 1000), d0: -0.02, pb: 0.8881682593016205, z: -3.0870179042947314, less: 0.0010108770949735703, greater: 0.9989891229050264 },
    { canary: counts(30, 300), baseline: counts(20, 1000), d0: 0.01, pb: 0.03322842528798393, z: 5.3689119045066915, less: 0.9999999603934507, greater: 3.9606549256806894e-08 },
  ];
  it('Farrington–Manning restricted estimate and score test', () => {
    for (const c of cases) {
      const m = restrictedMle(c.baseline, c.canary, c.d0);
      close(m.pb, c.pb, 1e-12);
      close(m.pc, c.pb + c.d0, 1e-12);
      const less = scoreTest(c.baseline, c.canary, c.d0, 'less');
      close(less.z, c.z, 1e-9);
      close(less.pValue, c.less, 1e-9);
      close(scoreTest(c.baseline, c.canary, c.d0, 'greater').pValue, c.greater, 1e-9);
    }
  });

  it("picks Fisher's exact test for small counts without a margin, the score test otherwise", () => {
    // Canary 0 of 10 good against a baseline 5 of 10: fisher_exact([[0,10],[5,5]], 'less').
    expect(twoProportionTest(counts(5, 10), counts(0, 10), 0, 'less')).toEqual({ test: 'fisher', pValue: expect.closeTo(0.016253869969040248, 12) });
    expect(twoProportionTest(counts(900, 1000), counts(160, 200), -0.02, 'less').test).toBe('score');
  });
});

const CASES: Record<string, { canary: number[]; baseline: number[] }> = {
  tiny: { canary: [4, 5], baseline: [1, 2, 3] },
  small: { canary: [1.1, 2.4, 3.9, 5.2, 7.7, 8.0], baseline: [0.5, 1.0, 2.0, 2.5, 3.0, 3.3, 4.1] },
  ties: { canary: [1, 2, 2, 3, 3, 3, 4, 5], baseline: [1, 1, 2, 2, 2, 3, 4] },
  // numpy.linspace(10, 60, 40) and numpy.linspace(0, 50, 35)
  overlap: { canary: Array.from({ length: 40 }, (_, i) => 10 + (50 * i) / 39), baseline: Array.from({ length: 35 }, (_, i) => (50 * i) / 34) },
};
const weighted = (name: string) => ({ b: toWeighted(CASES[name].baseline), c: toWeighted(CASES[name].canary) });

describe('Mann–Whitney U (scipy.stats.mannwhitneyu, canary first)', () => {
  // [case, U, asymptotic greater, asymptotic less, exact greater, exact less]; exact only without ties.
  const expected: [string, number, number, number, number | null, number | null][] = [
    ['tiny', 6.0, 0.07445733658938286, 0.978345928594604, 0.1, 1.0],
    ['small', 32.0, 0.06680720126885807, 0.9497937530069486, 0.06876456876456877, 0.9493006993006993],
    ['ties', 38.0, 0.1280898130710228, 0.8952588121418348, null, null],
    ['overlap', 946.0, 0.004564544623811302, 0.9955750881460719, null, null],
  ];
  it('U, the normal approximation with continuity and tie correction, and the exact distribution', () => {
    for (const [name, u, greater, less, exactGreater, exactLess] of expected) {
      const { b, c } = weighted(name);
      const s = uStatistic(b, c);
      expect(s.u).toBe(u);
      close(mannWhitneyNormal(s, 'greater').pValue, greater, 1e-10);
      close(mannWhitneyNormal(s, 'less').pValue, less, 1e-10);
      if (exactGreater !== null) {
        expect(mannWhitneyTest(s, 'greater')).toEqual({ test: 'mann-whitney-exact', pValue: expect.closeTo(exactGreater, 12) });
        close(mannWhitneyTest(s, 'less').pValue, exactLess!, 1e-12);
      } else expect(mannWhitneyTest(s, 'greater').test).toBe('mann-whitney-normal');
    }
  });

  it('a histogram (values with counts) gives the same U as the raw values', () => {
    const raw = uStatistic(toWeighted([1, 1, 2, 2, 2, 3, 4]), toWeighted([5, 3, 3, 2, 1, 4, 3, 2]));
    const hist = uStatistic(toWeighted([4, 2, 3, 1], [1, 3, 1, 2]), toWeighted([3, 1, 2, 4, 5], [3, 1, 2, 1, 1]));
    expect(hist).toEqual(raw);
  });

  it('exact null distribution sums to 1 and is symmetric (C(5,2) = 10 arrangements for m = 2, n = 3)', () => {
    const pmf = exactUDistribution(2, 3);
    expect(Array.from(pmf, (p) => Math.round(p * 10))).toEqual([1, 1, 2, 2, 2, 1, 1]);
  });

  it('all-equal data: no evidence either way', () => {
    const s = uStatistic(toWeighted([7, 7, 7, 7]), toWeighted([7, 7, 7]));
    expect(s.u).toBe(6);
    expect(mannWhitneyNormal(s, 'greater').pValue).toBe(1);
    expect(mannWhitneyNormal(s, 'less').pValue).toBe(1);
  });
});

describe('Hodges–Lehmann shift and interval (brute force over all pairwise differences)', () => {
  // numpy.median of all canary − baseline differences; the 95% interval is where the normal-approximation
  // rank test (no continuity correction) stops rejecting, found by evaluating it between every pair of
  // adjacent differences. null: the test never rejects (tiny samples), the bound is infinite.
  const expected: [string, number, number | null, number | null][] = [
    ['tiny', 2.5, null, null],
    ['small', 2.0500000000000003, -0.6000000000000001, 5.2],
    ['ties', 1.0, -1.0, 2.0],
    ['overlap', 10.0, 2.6847662141779765, 17.31523378582202],
  ];
  it('estimate and interval', () => {
    for (const [name, estimate, lo, hi] of expected) {
      const { b, c } = weighted(name);
      close(hodgesLehmann(b, c), estimate, 1e-12);
      const [l, h] = shiftInterval(b, c, 0.025);
      if (lo === null) expect(l).toBe(-Infinity);
      else close(l, lo, 1e-8);
      if (hi === null) expect(h).toBe(Infinity);
      else close(h, hi, 1e-8);
    }
  });

  it('all-equal data: shift 0, interval [0, 0]', () => {
    const b = toWeighted([7, 7, 7, 7, 7, 7]);
    const c = toWeighted([7, 7, 7, 7, 7]);
    expect(hodgesLehmann(b, c)).toBe(0);
    const [l, h] = shiftInterval(b, c, 0.025);
    close(l, 0, 1e-9);
    close(h, 0, 1e-9);
  });
});

describe("McNemar's exact test (scipy.stats.binomtest on the discordant pairs)", () => {
  it('25 baseline-only against 9 canary-only pairs; 3 against 0', () => {
    const p = pairs(25, 9, 100);
    close(mcnemarExact(p, 'less'), 0.004520592745393515, 1e-12);
    close(mcnemarExact(p, 'greater'), 0.99853247217834, 1e-12);
    close(mcnemarExact(p, 'two-sided'), 0.00904118549078703, 1e-12);
    close(mcnemarExact(pairs(3, 0, 10)), 0.25, 1e-12);
    expect(mcnemarExact(pairs(0, 0, 10))).toBe(1);
  });
});

describe('anytime-valid tests', () => {
  // Exact part: min(1, best likelihood under H0 / Beta(½,½) mixture likelihood), the restricted
  // maximum by scipy.optimize.minimize_scalar and the bounds by scipy.optimize.brentq on the profile.
  const ratioCases: [string, number, number, number, number, number, 'above' | 'below', number, number, number][] = [
    ['bad canary', 900, 1000, 160, 200, -0.02, 'below', 1.0, -0.2579844125661911, 0.02155978285534173],
    ['equal', 450, 500, 90, 100, -0.02, 'below', 1.0, -0.19502256699401885, 0.1190290287055445],
    ['zero-failure baseline', 400, 400, 190, 200, -0.01, 'below', 0.5163581650032932, -0.15570694676850075, -0.00025389616014145385],
    ['errors up', 5, 1000, 12, 200, 0.01, 'above', 0.760146014010149, 0.0018798067541247584, 0.16709466004382728],
    ['tiny', 3, 4, 0, 3, 0.0, 'below', 0.6875549182009919, -0.9998778655784918, 0.5350512686611766],
  ];
  it('two proportions, exact part: p-value and 99% confidence sequence (tiny counts, a baseline without failures)', () => {
    for (const [, eb, nb, ec, nc, d0, side, p, lo, hi] of ratioCases) {
      const e = ratioMixtureEvidence(counts(eb, nb), counts(ec, nc))!;
      close(e.p(d0, side), p, 1e-9);
      const [l, h] = e.sequence(0.01);
      close(l, lo, 1e-6);
      close(h, hi, 1e-6);
    }
  });

  it('normal mixture: closed form against numerical integration over the half-normal prior (scipy.integrate.quad)', () => {
    for (const [s, info, rho, logE] of [
      [30, 400, 50, 0.5126200290099606],
      [-5, 100, 20, -1.2254590339409324],
      [80, 2400, 300, 0.7158971875991756],
    ]) close(logNormalMixture(s, info, rho), logE, 1e-10);
  });

  it('two proportions, score part: the mixture at the Farrington–Manning score and information', () => {
    close(ratioScoreEvidence(counts(900, 1000), counts(160, 200), 100)!.p(-0.02, 'below'), 0.022962962099402472, 1e-8);
    close(ratioScoreEvidence(counts(4500, 5000), counts(850, 1000), 100)!.p(-0.02, 'below'), 0.1375681350614736, 1e-8);
  });

  it('two proportions: the score part joins only with 10 in every cell; the parts share alpha', () => {
    const b = counts(900, 1000);
    const c = counts(160, 200);
    const both = 2 * Math.min(ratioMixtureEvidence(b, c)!.p(-0.02, 'below'), ratioScoreEvidence(b, c, 100)!.p(-0.02, 'below'));
    close(ratioEvidence(b, c, 100)!.p(-0.02, 'below'), Math.min(1, both), 1e-12);
    // A baseline without failures: exact part only, at half the alpha.
    const z = counts(400, 400);
    const y = counts(150, 200);
    close(ratioEvidence(z, y, 100)!.p(-0.01, 'below'), Math.min(1, 2 * ratioMixtureEvidence(z, y)!.p(-0.01, 'below')), 1e-12);
  });

  it('mirrored pairs, exact part (Dirichlet(½,½,½) mixture, restricted maximum by minimize_scalar)', () => {
    close(pairedMixtureEvidence(pairs(40, 10, 350))!.p(-0.02, 'below'), 1.0, 1e-9);
    close(pairedMixtureEvidence(pairs(12, 10, 378))!.p(0, 'below'), 1.0, 1e-9);
    // 60 baseline-only pairs against 5: strong evidence the canary is worse than by 2 points.
    expect(pairedMixtureEvidence(pairs(60, 5, 335))!.p(-0.02, 'below')).toBeLessThan(1e-6);
  });

  it('latency: rank score of log latencies shifted by d0 (scipy.stats.rankdata), through the mixture', () => {
    // Canary 900, 907, … (60 values) against baseline 800, 805, … (80 values), ms.
    const slow = Array.from({ length: 60 }, (_, i) => 900 + 7 * i);
    const fast = Array.from({ length: 80 }, (_, i) => 800 + 5 * i);
    const e = rankEvidence(toWeighted(fast, undefined, Math.log), toWeighted(slow, undefined, Math.log), 50)!;
    close(e.p(Math.log(1.05), 'above'), 0.06495912540269898, 1e-9);
    close(e.p(0, 'above'), 9.723651628024707e-05, 1e-9);
    expect(e.p(0, 'below')).toBe(1);
  });
});
