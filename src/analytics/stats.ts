/**
 * Statistics the accuracy report needs beyond the point metrics of `src/model/metrics.ts`: intervals for
 * proportions, an interval for the difference of two paired proportions, McNemar's test and percentiles.
 *
 * Methods, chosen so that a sceptical reader can look each one up:
 * - a single proportion: the Wilson score interval without continuity correction (Wilson 1927), which keeps its
 *   coverage near the nominal level at accuracies close to 1 where the Wald interval collapses;
 * - the difference of two proportions measured on the same samples: Newcombe's hybrid score interval for paired
 *   data (Newcombe 1998, Statistics in Medicine 17:2635, method 10), built from the two Wilson intervals and the
 *   correlation of the paired outcomes (with Newcombe's adjustment of that correlation);
 * - McNemar's test on the discordant pairs: the exact two-sided binomial test when there are fewer than 25
 *   discordant pairs, the chi-square test with continuity correction (1 degree of freedom) otherwise.
 */

/** The 97.5th percentile of the standard normal distribution: two-sided 95% intervals. */
export const Z_95 = 1.959963984540054;

export interface Interval {
  lower: number;
  upper: number;
}

export interface ProportionEstimate extends Interval {
  successes: number;
  trials: number;
  /** successes / trials. */
  estimate: number;
}

/** Wilson score interval of successes / trials; null when there are no trials. */
export function wilsonInterval(successes: number, trials: number, z = Z_95): ProportionEstimate | null {
  checkCount(successes, "successes");
  checkCount(trials, "trials");
  if (successes > trials) throw new RangeError(`wilsonInterval: ${successes} successes in ${trials} trials`);
  if (trials === 0) return null;
  const z2 = z * z;
  const denominator = trials + z2;
  const center = (successes + z2 / 2) / denominator;
  const half = (z * Math.sqrt((successes * (trials - successes)) / trials + z2 / 4)) / denominator;
  return {
    successes,
    trials,
    estimate: successes / trials,
    // Clamped against rounding: at 0 or n successes the bound is 0 or 1 exactly in exact arithmetic.
    lower: Math.max(0, center - half),
    upper: Math.min(1, center + half),
  };
}

/**
 * A paired 2x2 table of two classifiers judged on the same samples: `both` right, `onlyFirst` right,
 * `onlySecond` right, `neither` right.
 */
export interface PairedTable {
  both: number;
  onlyFirst: number;
  onlySecond: number;
  neither: number;
}

export interface PairedDifference extends Interval {
  /** First minus second proportion. */
  estimate: number;
  first: ProportionEstimate;
  second: ProportionEstimate;
  /** The correlation used by the interval, after Newcombe's adjustment. */
  phi: number;
}

/**
 * Newcombe's hybrid score interval (method 10) for p1 - p2 where p1 = (both + onlyFirst) / n and
 * p2 = (both + onlySecond) / n. Null when the table is empty.
 *
 * With A = both * neither - onlyFirst * onlySecond and the four margins' product M, the correlation is
 * (A - n/2) / sqrt(M) when A > n/2, 0 when 0 <= A <= n/2, A / sqrt(M) when A < 0, and 0 when a margin is empty.
 */
export function newcombePairedDifference(t: PairedTable, z = Z_95): PairedDifference | null {
  for (const [k, v] of Object.entries(t)) checkCount(v, k);
  const n = t.both + t.onlyFirst + t.onlySecond + t.neither;
  if (n === 0) return null;
  const first = wilsonInterval(t.both + t.onlyFirst, n, z) as ProportionEstimate;
  const second = wilsonInterval(t.both + t.onlySecond, n, z) as ProportionEstimate;
  const rows = [t.both + t.onlyFirst, t.onlySecond + t.neither];
  const cols = [t.both + t.onlySecond, t.onlyFirst + t.neither];
  let phi = 0;
  if (rows.every((m) => m > 0) && cols.every((m) => m > 0)) {
    const margins = Math.sqrt((rows[0] as number) * (rows[1] as number) * (cols[0] as number) * (cols[1] as number));
    const a = t.both * t.neither - t.onlyFirst * t.onlySecond;
    if (a > n / 2) phi = (a - n / 2) / margins;
    else if (a < 0) phi = a / margins;
  }
  const p1 = first.estimate;
  const p2 = second.estimate;
  const d = p1 - p2;
  const dl1 = p1 - first.lower;
  const du1 = first.upper - p1;
  const dl2 = p2 - second.lower;
  const du2 = second.upper - p2;
  const lower = d - Math.sqrt(Math.max(0, dl1 * dl1 - 2 * phi * dl1 * du2 + du2 * du2));
  const upper = d + Math.sqrt(Math.max(0, du1 * du1 - 2 * phi * du1 * dl2 + dl2 * dl2));
  return { estimate: d, lower: Math.max(-1, lower), upper: Math.min(1, upper), first, second, phi };
}

export type McNemarMethod = "exact" | "chi-square-cc";

export interface McNemarResult {
  /** Pairs the first classifier got right and the second wrong. */
  b: number;
  /** Pairs the second classifier got right and the first wrong. */
  c: number;
  method: McNemarMethod;
  /** The chi-square statistic with continuity correction; null for the exact test. */
  statistic: number | null;
  /** Two-sided p-value. */
  p: number;
}

/** Below this many discordant pairs the chi-square approximation is poor, and the exact test is cheap. */
const MCNEMAR_EXACT_BELOW = 25;

/**
 * McNemar's test of equal accuracy from the discordant pairs b and c. `method: "auto"` uses the exact binomial test
 * when b + c < {@link MCNEMAR_EXACT_BELOW}, otherwise chi-square with continuity correction.
 */
export function mcnemarTest(b: number, c: number, method: "auto" | McNemarMethod = "auto"): McNemarResult {
  checkCount(b, "b");
  checkCount(c, "c");
  const n = b + c;
  const chosen: McNemarMethod = method === "auto" ? (n < MCNEMAR_EXACT_BELOW ? "exact" : "chi-square-cc") : method;
  if (chosen === "exact") return { b, c, method: chosen, statistic: null, p: binomialTwoSidedHalf(n, Math.min(b, c)) };
  if (n === 0) return { b, c, method: chosen, statistic: 0, p: 1 };
  // The correction never pushes the statistic below zero (b = c gives 0, not 1 / n).
  const statistic = Math.max(0, Math.abs(b - c) - 1) ** 2 / n;
  return { b, c, method: chosen, statistic, p: chiSquare1Survival(statistic) };
}

/** Two-sided exact p-value of k or fewer successes in n trials of probability 1/2: min(1, 2 P(X <= k)). */
export function binomialTwoSidedHalf(n: number, k: number): number {
  if (n === 0) return 1;
  // Log space: 0.5^n underflows beyond n = 1074.
  let logC = 0;
  const logHalfN = -n * Math.LN2;
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logC + logHalfN);
  }
  return Math.min(1, 2 * tail);
}

/** P(X > x) for X chi-square with one degree of freedom: erfc(sqrt(x / 2)) = Q(1/2, x/2). */
export function chiSquare1Survival(x: number): number {
  if (!(x >= 0)) throw new RangeError(`chiSquare1Survival: ${x} is not a statistic`);
  if (x === 0) return 1;
  return regularizedGammaQ(0.5, x / 2);
}

/** ln Γ(1/2) = ln √π, exactly what Q(1/2, ·) needs; other shapes use the Lanczos approximation. */
function lnGamma(a: number): number {
  if (a === 0.5) return 0.5 * Math.log(Math.PI);
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  let x = c[0] as number;
  const z = a - 1;
  for (let i = 1; i < g + 2; i++) x += (c[i] as number) / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

/**
 * Regularized upper incomplete gamma Q(a, x): the series for x < a + 1, the continued fraction (modified Lentz)
 * otherwise, each to double precision.
 */
function regularizedGammaQ(a: number, x: number): number {
  const eps = 1e-16;
  const tiny = 1e-300;
  const front = Math.exp(-x + a * Math.log(x) - lnGamma(a));
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * eps) break;
    }
    return Math.max(0, 1 - sum * front);
  }
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < eps) break;
  }
  return Math.min(1, front * h);
}

/**
 * Nearest-rank percentile of values sorted ascending: the smallest value with at least q of the values at or
 * below it (what Postgres' percentile_disc returns). Null for no values.
 */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile: q must be in [0, 1], got ${q}`);
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] as number;
}

function checkCount(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}
