import { describe, expect, it } from "vitest";
import {
  binomialTwoSidedHalf,
  chiSquare1Survival,
  mcnemarTest,
  newcombePairedDifference,
  percentileSorted,
  wilsonInterval,
  Z_95,
} from "../../src/analytics/stats.js";

describe("Wilson score interval", () => {
  it("matches the published example 81/263 (Newcombe 1998, single proportion: 0.2553 to 0.3662)", () => {
    const w = wilsonInterval(81, 263);
    expect(w?.estimate).toBeCloseTo(81 / 263, 15);
    expect(w?.lower).toBeCloseTo(0.2553, 4);
    expect(w?.upper).toBeCloseTo(0.3662, 4);
  });

  it("follows the closed form: (x + z²/2 ± z sqrt(x(n-x)/n + z²/4)) / (n + z²)", () => {
    // 39 of 45: centre (39 + 1.92073) / 48.84146, half-width 1.95996 * sqrt(39*6/45 + 0.96037) / 48.84146.
    const z2 = Z_95 * Z_95;
    const centre = (39 + z2 / 2) / (45 + z2);
    const half = (Z_95 * Math.sqrt((39 * 6) / 45 + z2 / 4)) / (45 + z2);
    const w = wilsonInterval(39, 45);
    expect(w?.lower).toBeCloseTo(centre - half, 14);
    expect(w?.upper).toBeCloseTo(centre + half, 14);
    expect(w?.lower).toBeCloseTo(0.7382269817382293, 12);
    expect(w?.upper).toBeCloseTo(0.9374285125243192, 12);
  });

  it("stays inside [0, 1] at the extremes and is null without trials", () => {
    expect(wilsonInterval(0, 2)).toMatchObject({ lower: 0, estimate: 0 });
    expect(wilsonInterval(0, 2)?.upper).toBeCloseTo(0.6576197724933469, 12);
    expect(wilsonInterval(26, 26)).toMatchObject({ upper: 1, estimate: 1 });
    expect(wilsonInterval(26, 26)?.lower).toBeCloseTo(0.8712710781407846, 12);
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 2)).toThrow(RangeError);
  });
});

describe("Newcombe's paired difference interval (method 10)", () => {
  it("matches the published Cavo et al. example (Fagerland, Lydersen & Laake 2017: -0.1186 to -0.0046)", () => {
    // Before/after table [[59, 6], [16, 80]]: p1 = 65/161, p2 = 75/161.
    const d = newcombePairedDifference({ both: 59, onlyFirst: 6, onlySecond: 16, neither: 80 });
    expect(d?.estimate).toBeCloseTo(-10 / 161, 15);
    expect(d?.lower).toBeCloseTo(-0.1186, 4);
    expect(d?.upper).toBeCloseTo(-0.0046, 4);
    // A = 59*80 - 6*16 = 4624 > n/2: phi = (4624 - 80.5) / sqrt(65*96*75*86).
    expect(d?.phi).toBeCloseTo((4624 - 80.5) / Math.sqrt(65 * 96 * 75 * 86), 14);
  });

  it("uses phi = 0 when 0 <= A <= n/2 and when a margin is empty", () => {
    // both 20, onlyFirst 6, nothing else: the second margin (onlySecond + neither) is empty.
    const d = newcombePairedDifference({ both: 20, onlyFirst: 6, onlySecond: 0, neither: 0 });
    expect(d?.phi).toBe(0);
    expect(d?.estimate).toBeCloseTo(6 / 26, 15);
    expect(d?.lower).toBeCloseTo(0.05448906266207809, 12);
    expect(d?.upper).toBeCloseTo(0.42051554078943676, 12);
    // A = 1*1 - 1*1 = 0.
    expect(newcombePairedDifference({ both: 1, onlyFirst: 1, onlySecond: 1, neither: 1 })?.phi).toBe(0);
    expect(newcombePairedDifference({ both: 0, onlyFirst: 0, onlySecond: 0, neither: 0 })).toBeNull();
  });
});

describe("McNemar's test", () => {
  it("is exact below 25 discordant pairs: 2 P(X <= 3), X ~ Bin(12, 1/2) = 2 (1 + 12 + 66 + 220) / 4096", () => {
    const r = mcnemarTest(9, 3);
    expect(r.method).toBe("exact");
    expect(r.statistic).toBeNull();
    expect(r.p).toBeCloseTo(598 / 4096, 15);
    expect(mcnemarTest(3, 9).p).toBeCloseTo(598 / 4096, 15);
    expect(mcnemarTest(0, 0).p).toBe(1);
    expect(mcnemarTest(4, 4).p).toBe(1);
    // 24 discordant pairs is still exact: 2 P(X <= 6), X ~ Bin(24, 1/2).
    const tail = [1, 24, 276, 2024, 10626, 42504, 134596].reduce((a, b) => a + b, 0);
    expect(mcnemarTest(18, 6)).toMatchObject({ method: "exact" });
    expect(mcnemarTest(18, 6).p).toBeCloseTo((2 * tail) / 2 ** 24, 14);
  });

  it("uses chi-square with continuity correction from 25 discordant pairs: (|b - c| - 1)² / (b + c)", () => {
    const r = mcnemarTest(30, 12);
    expect(r.method).toBe("chi-square-cc");
    expect(r.statistic).toBeCloseTo(289 / 42, 14);
    // scipy.stats.chi2.sf(289/42, 1)
    expect(r.p).toBeCloseTo(0.008711912962379598, 12);
    expect(mcnemarTest(13, 12).statistic).toBe(0);
    expect(mcnemarTest(13, 12).p).toBe(1);
    expect(mcnemarTest(30, 12, "exact").method).toBe("exact");
  });

  it("chi-square and binomial tails are accurate far out", () => {
    expect(chiSquare1Survival(3.841458820694124)).toBeCloseTo(0.05, 14);
    // scipy.stats.chi2.sf(50, 1) = 1.537459794428033e-12
    expect(chiSquare1Survival(50) / 1.537459794428033e-12).toBeCloseTo(1, 10);
    expect(chiSquare1Survival(0.5)).toBeCloseTo(0.4795001221869535, 13);
    // 2 * scipy.stats.binom.cdf(900, 2000, 0.5); 0.5^2000 underflows without logs.
    expect(binomialTwoSidedHalf(2000, 900) / 8.45708953550381e-6).toBeCloseTo(1, 9);
  });
});

describe("percentiles", () => {
  it("takes the nearest rank, as percentile_disc does", () => {
    const v = Array.from({ length: 49 }, (_, i) => i + 1);
    expect(percentileSorted(v, 0.5)).toBe(25);
    expect(percentileSorted(v, 0.99)).toBe(49);
    expect(percentileSorted([7], 0.99)).toBe(7);
    expect(percentileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(percentileSorted([], 0.5)).toBeNull();
    expect(() => percentileSorted([1], 1.5)).toThrow(RangeError);
  });
});
