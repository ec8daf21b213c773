import { describe, expect, it } from "vitest";
import { computeFeatures, FEATURE_COUNT } from "../../src/model/features.js";
import {
  evaluateHeuristicForm,
  heuristicForm,
  heuristicLogit,
  heuristicScore,
  heuristicTerms,
  topThree,
} from "../../src/model/heuristic.js";
import { predictionFor } from "../../src/model/prediction.js";
import { DEFAULT_THRESHOLDS, effectiveThresholds, ThresholdError, tierFor } from "../../src/model/tiers.js";
import { seededRandom } from "../../src/model/train/random.js";
import { candidate, facts, history, patch, recipe } from "./fixtures.js";

const score = (...args: Parameters<typeof computeFeatures>) => heuristicScore(computeFeatures(...args));

describe("heuristic", () => {
  it("trusts a small safe fix with a good record, and less an unsafe or failing one", () => {
    const good = score({
      candidate: candidate(),
      facts: facts(),
      history: history({ crowdSuccesses: 480, crowdRuns: 500 }),
    });
    expect(good.trust).toBeGreaterThanOrEqual(0.85);
    expect(good.reason).toMatch(/^heuristic 0\.\d\d: success rate 0\.\d\d/);
    const unsafe = score({
      candidate: candidate({ recipe: recipe({ safety: "unsafe" }) }),
      facts: facts(),
      history: history(),
    });
    expect(unsafe.trust).toBeLessThan(good.trust);
    expect(unsafe.reason).toContain("unsafe");
    const failing = score({
      candidate: candidate(),
      facts: facts(),
      history: history({ crowdSuccesses: 480, crowdRuns: 500, repoRuns: 3, repoConsecutiveFailures: 3 }),
    });
    expect(failing.trust).toBeLessThan(0.65);
    expect(failing.reason).toContain("consecutive failures");
  });

  it("penalises large changes, exported API and risky compiler options", () => {
    const base = { candidate: candidate(), facts: facts({ compilerOptions: {}, strict: false }), history: history() };
    const plain = score(base).trust;
    const big = score({
      ...base,
      candidate: candidate({
        files: Array.from({ length: 10 }, (_, i) => patch(`src/f${i}.ts`, "export let a = 1;", "export const a = 1;")),
        linesAdded: 200,
        linesRemoved: 200,
      }),
    }).trust;
    const risky = score({
      ...base,
      facts: facts({
        compilerOptions: { noPropertyAccessFromIndexSignature: true, emitDecoratorMetadata: true },
        strict: false,
      }),
    }).trust;
    expect(big).toBeLessThan(plain);
    expect(risky).toBeLessThan(plain);
  });

  it("is a function of the vector alone, with confidence in [0, 1]", () => {
    const v = computeFeatures({
      candidate: candidate(),
      facts: facts(),
      history: history({ crowdRuns: 50, crowdSuccesses: 45 }),
    });
    expect(heuristicScore([...v])).toEqual(heuristicScore(v));
    const s = heuristicScore(v);
    expect(s.confidence).toBeGreaterThanOrEqual(0);
    expect(s.confidence).toBeLessThanOrEqual(1);
    const { base, terms } = heuristicTerms(v);
    expect(1 / (1 + Math.exp(-terms.reduce((a, t) => a + t.value, base)))).toBeCloseTo(s.trust, 12);
  });

  it("has a graph form (what heuristic-boosted models compute) that gives the same logit", () => {
    const form = heuristicForm(FEATURE_COUNT);
    const random = seededRandom(7);
    // Random vectors in [0, 1] hit every term, including rates past the clamps and both sides of each max.
    const vectors = [
      ...Array.from({ length: 500 }, () => Array.from({ length: FEATURE_COUNT }, () => random())),
      new Array<number>(FEATURE_COUNT).fill(0),
      new Array<number>(FEATURE_COUNT).fill(1),
      [...computeFeatures({ candidate: candidate(), facts: facts(), history: history({ crowdRuns: 3 }) })],
    ];
    for (const v of vectors) {
      const z = heuristicLogit(v);
      expect(evaluateHeuristicForm(form, v)).toBeCloseTo(z, 10);
      expect(1 / (1 + Math.exp(-z))).toBeCloseTo(heuristicScore(v).trust, 12);
    }
    // Every feature the heuristic reads appears in the form; the others have no weight.
    expect(form.linear.filter((w) => w !== 0).length).toBe(8);
  });
});

describe("tiers", () => {
  it("maps trust to tiers at the default thresholds", () => {
    expect(tierFor(0.85)).toBe("auto-apply");
    expect(tierFor(0.8499)).toBe("review-suggested");
    expect(tierFor(0.65)).toBe("review-suggested");
    expect(tierFor(0.6499)).toBe("manual-only");
    expect(tierFor(Number.NaN)).toBe("manual-only");
    expect(tierFor(0.7, { autoApply: 0.7, review: 0.5 })).toBe("auto-apply");
  });

  it("lets a repository only make thresholds stricter", () => {
    expect(effectiveThresholds(DEFAULT_THRESHOLDS, { autoApply: 0.5, review: 0.1 })).toEqual(DEFAULT_THRESHOLDS);
    expect(effectiveThresholds(DEFAULT_THRESHOLDS, { autoApply: 0.95 })).toEqual({ autoApply: 0.95, review: 0.65 });
    expect(effectiveThresholds(DEFAULT_THRESHOLDS, { review: 0.9 })).toEqual({ autoApply: 0.9, review: 0.9 });
    expect(effectiveThresholds(DEFAULT_THRESHOLDS, null)).toEqual(DEFAULT_THRESHOLDS);
    expect(() => effectiveThresholds({ autoApply: 0.5, review: 0.6 })).toThrow(ThresholdError);
  });
});

describe("reason lines", () => {
  it("names the three largest contributions above the threshold, largest first", () => {
    expect(topThree([0.1, -0.5, 0.001, 0.3, -0.2])).toEqual([1, 3, 4]);
    expect(topThree([0.2, 0.2, 0.2, 0.2])).toEqual([0, 1, 2]);
    expect(topThree([0.001, 0, -0.004])).toEqual([]);
    expect(topThree([0, 0.01])).toEqual([1]);
  });
});

describe("predictionFor", () => {
  const v = computeFeatures({ candidate: candidate(), facts: facts(), history: history() });
  const heuristic = heuristicScore(v);
  it("takes the model's score when it decided", () => {
    const p = predictionFor(
      {
        ml: [{ trust: 0.9, confidence: 0.7, reason: "model 0.90" }],
        heuristic: [heuristic],
        usedML: true,
        fallbackCause: null,
        modelVersion: "m",
        latencyMs: 0.2,
      },
      0,
      v,
      DEFAULT_THRESHOLDS,
    );
    expect(p).toMatchObject({
      trust: 0.9,
      mlTrust: 0.9,
      heuristicTrust: heuristic.trust,
      tier: "auto-apply",
      usedML: true,
    });
  });
  it("takes the heuristic's when the model fell back", () => {
    const p = predictionFor(
      { ml: null, heuristic: [heuristic], usedML: false, fallbackCause: "nan", modelVersion: "m", latencyMs: 0.2 },
      0,
      v,
      DEFAULT_THRESHOLDS,
    );
    expect(p).toMatchObject({
      trust: heuristic.trust,
      mlTrust: null,
      usedML: false,
      fallbackCause: "nan",
      reason: heuristic.reason,
    });
    expect(() =>
      predictionFor(
        { ml: null, heuristic: [], usedML: false, fallbackCause: "nan", modelVersion: null, latencyMs: 0 },
        0,
        v,
        DEFAULT_THRESHOLDS,
      ),
    ).toThrow(RangeError);
  });
});
