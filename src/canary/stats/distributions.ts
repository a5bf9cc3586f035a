// The distributions the canary tests need, in double precision: normal cdf and quantile, log-gamma,
// binomial and hypergeometric probabilities. Pure functions, no dependencies.

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Upper tail of the standard normal for z ≥ 0: Hart's (1968) rational function below 3 (West 2005), a continued fraction above; ~1e-14 relative. */
function upperTail(z: number): number {
  if (z > 38) return 0;
  const e = Math.exp((-z * z) / 2);
  if (z < 3) {
    let num = 3.52624965998911e-2 * z + 0.700383064443688;
    num = num * z + 6.37396220353165;
    num = num * z + 33.912866078383;
    num = num * z + 112.079291497871;
    num = num * z + 221.213596169931;
    num = num * z + 220.206867912376;
    let den = 8.83883476483184e-2 * z + 1.75566716318264;
    den = den * z + 16.064177579207;
    den = den * z + 86.7807322029461;
    den = den * z + 296.564248779674;
    den = den * z + 637.333633378831;
    den = den * z + 793.826512519948;
    den = den * z + 440.413735824752;
    return (e * num) / den;
  }
  return e / millsDenominator(z) / SQRT_2PI;
}

/** Laplace's continued fraction z + 1/(z + 2/(z + 3/…)) = φ(z)/(1 − Φ(z)), backwards from 60 terms (z ≥ 3). */
function millsDenominator(z: number): number {
  let cf = z;
  for (let k = 60; k >= 1; k--) cf = z + k / cf;
  return cf;
}

/** Φ(x), the standard normal cdf. */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return x >= 0 ? 1 - upperTail(x) : upperTail(-x);
}

/** 1 − Φ(x) without cancellation. */
export function normalSf(x: number): number {
  return normalCdf(-x);
}

/** log Φ(x), finite far into the lower tail (the continued fraction below −3). */
export function logNormalCdf(x: number): number {
  if (x >= -3) return Math.log(normalCdf(x));
  return (-x * x) / 2 - Math.log(millsDenominator(-x) * SQRT_2PI);
}

export function normalPdf(x: number): number {
  return Math.exp((-x * x) / 2) / SQRT_2PI;
}

/** Φ⁻¹(p): Acklam's rational approximation, polished by one Halley step (≈ 1e-15 relative). */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    if (p > 1 - low) x = -x;
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  // Halley: the error of the cdf at x, relative to the density, corrected to third order.
  const err = p < 0.5 ? normalCdf(x) - p : 1 - p - normalSf(x);
  const u = err * SQRT_2PI * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0 (Lanczos, g = 7; reflection below 0.5). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** log of n choose k. */
export function logChoose(n: number, k: number): number {
  if (k < 0 || k > n) return -Infinity;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

export function binomialLogPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return -Infinity;
  if (p === 0) return k === 0 ? 0 : -Infinity;
  if (p === 1) return k === n ? 0 : -Infinity;
  return logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** P(X ≤ k) for X ~ Binomial(n, p), by summing the pmf (n up to a few thousand). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let sum = 0;
  for (let i = 0; i <= k; i++) sum += Math.exp(binomialLogPmf(i, n, p));
  return Math.min(1, sum);
}

/**
 * P(X = k) where X counts the marked items in a draw of `draws` from `total` items of which
 * `marked` are marked (the hypergeometric distribution, Fisher's exact test's null).
 */
export function hypergeometricLogPmf(k: number, total: number, marked: number, draws: number): number {
  if (k < Math.max(0, draws - (total - marked)) || k > Math.min(marked, draws)) return -Infinity;
  return logChoose(marked, k) + logChoose(total - marked, draws - k) - logChoose(total, draws);
}
