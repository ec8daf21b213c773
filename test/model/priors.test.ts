import { describe, expect, it } from "vitest";
import { FEATURE_COUNT, featureIndex } from "../../src/model/features.js";
import {
  FALLBACK_RATE,
  leaveOneRepositoryOutPriors,
  PRIOR_WEIGHT,
  type PriorSample,
  priorOf,
  recipePriorsOf,
} from "../../src/model/priors.js";
import { rowOf, toMatrix } from "../../src/model/train/matrix.js";
import { trainModels, withPriors } from "../../src/model/train/train.js";
import { syntheticSamples } from "./synthetic.js";

/** Three repositories, two recipes; acme/a fails "r1" often. */
function samples(): PriorSample[] {
  const out: PriorSample[] = [];
  const add = (repository: string, recipeId: string, successes: number, failures: number) => {
    for (let i = 0; i < successes; i++) out.push({ repository, recipeId, label: 1 });
    for (let i = 0; i < failures; i++) out.push({ repository, recipeId, label: 0 });
  };
  add("acme/a", "r1", 2, 8);
  add("acme/a", "r2", 10, 0);
  add("acme/b", "r1", 9, 1);
  add("acme/c", "r1", 5, 5);
  add("acme/c", "r2", 4, 1);
  return out;
}

describe("recipe priors", () => {
  it("count every outcome per recipe, recipes in sorted order", () => {
    const p = recipePriorsOf([...samples(), { repository: "acme/d", label: 1 }]);
    expect(p.global).toEqual({ successes: 31, runs: 46 });
    expect(p.recipes).toEqual({ r1: { successes: 16, runs: 30 }, r2: { successes: 14, runs: 15 } });
    expect(Object.keys(recipePriorsOf([...samples()].reverse()).recipes)).toEqual(["r1", "r2"]);
  });

  it("a row's prior is learned from other repositories only (leave one repository out)", () => {
    const fit = samples();
    const [a] = leaveOneRepositoryOutPriors(fit, [{ repository: "acme/a", recipeId: "r1" }]);
    // Without acme/a: r1 has 14 successes in 20 runs; the global rate is 18 / 25.
    expect(a?.runs).toBe(20);
    expect(a?.successRate).toBeCloseTo((14 + PRIOR_WEIGHT * (18 / 25)) / (20 + PRIOR_WEIGHT), 12);
    // A repository the fit rows do not hold gets everything.
    const [fresh] = leaveOneRepositoryOutPriors(fit, [{ repository: "acme/new", recipeId: "r1" }]);
    expect(fresh?.runs).toBe(30);
  });

  it("flipping one repository's outcomes leaves its own prior features unchanged, and moves the others'", () => {
    const fit = samples();
    const flipped = fit.map((s) => (s.repository === "acme/a" ? { ...s, label: (1 - s.label) as 0 | 1 } : s));
    const before = leaveOneRepositoryOutPriors(fit, fit);
    const after = leaveOneRepositoryOutPriors(flipped, flipped);
    fit.forEach((s, i) => {
      if (s.repository === "acme/a") expect(after[i]).toEqual(before[i]);
      else expect(after[i]?.successRate).not.toBeCloseTo(before[i]?.successRate as number, 6);
    });
  });

  it("in training too: flipping a repository's outcomes leaves its own rows' prior features unchanged", () => {
    const base = syntheticSamples({ repositories: 4, perRepository: 30, seed: 5 }).map((s, i) => ({
      ...s,
      recipeId: `r${i % 3}`,
    }));
    const flipped = base.map((s) => (s.repository === "owner/repo-1" ? { ...s, label: (1 - s.label) as 0 | 1 } : s));
    const x = toMatrix(
      base.map((s) => s.features),
      FEATURE_COUNT,
    );
    const all = base.map((_, i) => i);
    const before = withPriors(x, base, all, all);
    const after = withPriors(x, flipped, all, all);
    const columns = [featureIndex("recipe.prior.logit"), featureIndex("recipe.prior.runs")];
    let othersMoved = 0;
    base.forEach((s, i) => {
      const a = columns.map((c) => rowOf(before, i)[c]);
      const b = columns.map((c) => rowOf(after, i)[c]);
      if (s.repository === "owner/repo-1") expect(b).toEqual(a);
      else if (a[0] !== b[0]) othersMoved++;
    });
    // The other repositories' rows did learn from it.
    expect(othersMoved).toBe(base.filter((s) => s.repository !== "owner/repo-1").length);
    // The shipped priors are the counts of every sample.
    const trained = trainModels(base, { kinds: ["logistic-regression"], learningCurve: [], resamples: 10 });
    expect(trained.card.recipePriors).toEqual(recipePriorsOf(base));
  });

  it("an unknown recipe falls back to the global rate, and no priors to the fallback rate", () => {
    const p = recipePriorsOf(samples());
    expect(priorOf(p, "never-seen").successRate).toBeCloseTo(30 / 45, 12);
    expect(priorOf(p, "never-seen").runs).toBe(0);
    expect(priorOf(p, undefined).successRate).toBeCloseTo(30 / 45, 12);
    expect(priorOf(null, "r1")).toEqual({ successRate: FALLBACK_RATE, runs: 0 });
    expect(priorOf(p, "r2").successRate).toBeCloseTo((14 + PRIOR_WEIGHT * (30 / 45)) / (15 + PRIOR_WEIGHT), 12);
  });
});
