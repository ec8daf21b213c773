import { describe, expect, it } from "vitest";
import { FEATURE_COUNT, featureNames } from "../../src/model/features.js";
import { MODEL_KINDS, modelCardSchema } from "../../src/model/train/card.js";
import { groupedKFold } from "../../src/model/train/folds.js";
import { keptTrees, TrainingError, trainModels } from "../../src/model/train/train.js";
import { syntheticSamples } from "./synthetic.js";

describe("grouped k-fold", () => {
  it("never puts a repository in both train and test, and tests every sample once", () => {
    const groups = Array.from({ length: 500 }, (_, i) => `repo-${(i * 7919) % 13}${i % 5 === 0 ? "x" : ""}`);
    for (const k of [2, 3, 5]) {
      const folds = groupedKFold(groups, k, 42);
      expect(folds).toHaveLength(k);
      const tested = folds.flatMap((f) => f.test).sort((a, b) => a - b);
      expect(tested).toEqual(groups.map((_, i) => i));
      for (const f of folds) {
        const train = new Set(f.train.map((i) => groups[i]));
        const test = new Set(f.test.map((i) => groups[i]));
        for (const g of test) expect(train.has(g)).toBe(false);
        expect(f.train.length + f.test.length).toBe(groups.length);
        expect([...test].sort()).toEqual(f.testGroups);
      }
    }
  });

  it("needs as many repositories as folds", () => {
    expect(() => groupedKFold(["a", "a", "b"], 3)).toThrow(/at least 3 groups/);
  });
});

describe("training", () => {
  it("recovers a known signal on held-out repositories and beats the baselines", () => {
    const samples = syntheticSamples({ repositories: 10, perRepository: 150, signal: "linear" });
    const { card, onnx, best } = trainModels(samples, { now: new Date("2025-01-02T03:04:05Z"), gbt: { trees: 80 } });
    expect(modelCardSchema.parse(card)).toEqual(card);
    const pooled = card.heldOut.pooled;
    expect(pooled.model.auc).toBeGreaterThan(0.9);
    expect(pooled.model.logLoss).toBeLessThan((pooled.majority.logLoss as number) - 0.1);
    // One constant per fold: no ranking within a fold.
    for (const f of card.heldOut.folds) expect(f.metrics.majority.auc).toBe(0.5);
    expect(card.heldOut.folds).toHaveLength(5);
    expect(card.heldOut.folds.reduce((s, f) => s + f.samples, 0)).toBe(samples.length);
    expect(card.heldOut.folds.reduce((s, f) => s + f.repositories, 0)).toBe(10);
    expect(card.data).toMatchObject({ samples: 1500, repositories: 10 });
    expect(card.featureNames).toEqual(featureNames());
    expect(card.modelVersion).toMatch(/^v3-[0-9a-f]{8}$/);
    expect(card.selection.candidates.map((c) => c.kind).sort()).toEqual([
      "gradient-boosted-trees",
      "heuristic-boosted-trees",
      "logistic-regression",
    ]);
    // The chosen model has the lowest held-out log-loss.
    const lowest = Math.min(...card.selection.candidates.map((c) => c.heldOut.logLoss as number));
    expect(pooled.model.logLoss).toBe(lowest);
    expect(card.heldOut.calibrationBins.reduce((s, b) => s + b.count, 0)).toBe(samples.length);
    expect(onnx.length).toBeGreaterThan(100);
    // Calibrated: held-out expected calibration error is small.
    expect(pooled.model.ece).toBeLessThan(0.05);
    expect(best.explanation.weights).toHaveLength(FEATURE_COUNT);
    // Operating points, pooled and per fold, for each wanted precision; each reached point meets its precision.
    const points = [card.heldOut.operatingPoints, ...card.heldOut.folds.map((f) => f.operatingPoints)];
    for (const list of points) {
      expect(list?.map((o) => o.minPrecision)).toEqual([0.95, 0.97, 0.98, 0.99]);
      for (const o of list ?? []) {
        for (const p of [o.model, o.heuristic]) if (p) expect(p.precision).toBeGreaterThanOrEqual(o.minPrecision);
      }
    }
    // A model that learned the signal auto-applies a good share of candidates at 95% precision.
    expect(card.heldOut.operatingPoints?.[0]?.model?.approvalRate).toBeGreaterThan(0.2);
  });

  it("finds an interaction only trees can express", () => {
    const samples = syntheticSamples({ repositories: 8, perRepository: 150, signal: "interaction", seed: 3 });
    const { card } = trainModels(samples, {
      gbt: { trees: 80 },
      kinds: ["logistic-regression", "gradient-boosted-trees"],
    });
    const byKind = Object.fromEntries(card.selection.candidates.map((c) => [c.kind, c.heldOut]));
    expect(card.kind).toBe("gradient-boosted-trees");
    // Early stopping kept trees in every fold: the signal is there in every repository (noise keeps none, below).
    // How many depends on how much of it the heuristic's logit, one of the features, already carries.
    expect(card.trees).toBeGreaterThan(0);
    const perFold = card.selection.candidates.find((c) => c.kind === "gradient-boosted-trees")?.treesPerFold;
    expect(perFold).toHaveLength(5);
    for (const t of perFold ?? []) expect(t).toBeGreaterThan(0);
    expect(Math.max(...(perFold ?? []))).toBeGreaterThan(10);
    expect(byKind["gradient-boosted-trees"]?.logLoss).toBeLessThan(byKind["logistic-regression"]?.logLoss as number);
  });

  it("shows no skill over the majority baseline on pure noise", () => {
    const samples = syntheticSamples({ repositories: 10, perRepository: 150, signal: "none", seed: 5 });
    const { card } = trainModels(samples, { gbt: { trees: 80 } });
    const pooled = card.heldOut.pooled;
    expect(Math.abs((pooled.model.auc as number) - 0.5)).toBeLessThan(0.1);
    expect(pooled.model.logLoss).toBeGreaterThan((pooled.majority.logLoss as number) - 0.01);
    // Early stopping finds nothing worth a tree in noise: plain boosted trees keep none in most folds and a few at
    // most in any (of up to 80; the interaction signal above keeps trees in every fold, more than 10 in some).
    const perFold = card.selection.candidates.find((c) => c.kind === "gradient-boosted-trees")?.treesPerFold ?? [];
    expect(perFold).toHaveLength(5);
    expect(perFold.filter((t) => t === 0).length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...perFold)).toBeLessThanOrEqual(10);
  });

  it("keeps the fewest trees within one standard error of the best, the error taken between repositories", () => {
    // [why, losses, sizes, trees kept]: losses "10 10 | 9 9" is the summed loss of each repository after 0 trees,
    // then after 1 tree; sizes are the repositories' rows.
    const cases: [string, string, number[], number][] = [
      ["each tree helps every repository", "10 10 10 | 9 9 9 | 8 8 8", [100, 100, 100], 2],
      ["the 2nd tree helps one a lot and costs the others", "10 10 10 | 9 9 9 | 5 9.5 9.5", [100, 100, 100], 1],
      ["nothing helps", "10 10 | 10.5 10.5 | 11 11", [100, 100], 0],
      ["a tie keeps the fewer", "10 10 | 10 10", [100, 100], 0],
      ["one repository: no spread, the lowest wins", "10 | 9 | 9.5", [100], 1],
      // Repositories of 1,000 and 10 rows, each counting the same.
      ["0.01 a row gained in both", "300 3 | 290 2.9", [1000, 10], 1],
      ["0.01 a row gained in the large one alone", "300 3 | 290 3", [1000, 10], 0],
    ];
    for (const [why, table, sizes, kept] of cases) {
      const losses = table.split("|").map((stage) => Float64Array.from(stage.trim().split(/\s+/), Number));
      expect(keptTrees(losses, sizes), why).toBe(kept);
    }
    expect(() => keptTrees([Float64Array.from([1, 1])], [10])).toThrow(/1 repository sizes for 2 losses/);
  });

  it("a held-out fold's labels change none of its predictions (every choice made for it is made without them)", () => {
    const samples = syntheticSamples({ repositories: 8, perRepository: 80, signal: "interaction", seed: 21 });
    const fold = groupedKFold(
      samples.map((s) => s.repository),
      5,
      1,
    )[0];
    const held = new Set(fold?.test);
    // The held-out repositories' outcomes turned over: success becomes failure and failure success.
    const flipped = samples.map((s, i) => (held.has(i) ? { ...s, label: (1 - s.label) as 0 | 1 } : s));
    for (const kind of MODEL_KINDS) {
      const options = { kinds: [kind], gbt: { trees: 40 }, seed: 1 };
      const before = trainModels(samples, options).heldOut;
      const after = trainModels(flipped, options).heldOut;
      expect(held.size).toBeGreaterThan(0);
      for (const i of held) expect(after[i], `${kind}, sample ${i}`).toBe(before[i]);
      // The other folds' models trained on the flipped labels, so their predictions moved.
      expect(
        before.some((p, i) => !held.has(i) && p !== after[i]),
        kind,
      ).toBe(true);
    }
  });

  it("refuses data it cannot validate", () => {
    const samples = syntheticSamples({ repositories: 3, perRepository: 30 });
    expect(() => trainModels(samples.map((s) => ({ ...s, repository: "one/repo" })))).toThrow(TrainingError);
    expect(() => trainModels(samples.map((s) => ({ ...s, label: 1 as const })))).toThrow(/both successes and failures/);
    expect(() => trainModels(samples, { innerFolds: 1 })).toThrow(/innerFolds must be an integer >= 2, got 1/);
    expect(() => trainModels([{ ...(samples[0] as (typeof samples)[number]), features: [1] }, ...samples])).toThrow(
      new RegExp(`expected ${FEATURE_COUNT} features`),
    );
  });
});
