import { describe, expect, it } from "vitest";
import { applyPlatt, fitPlatt, hasSkill } from "../../src/model/train/calibration.js";
import { trainModels } from "../../src/model/train/train.js";
import { syntheticSamples } from "./synthetic.js";

describe("Platt calibration", () => {
  it("fits a positive slope to logits that rank the labels", () => {
    const logits = [-2, -1, -0.5, 0, 0.5, 1, 2, 3];
    const labels = [0, 0, 1, 0, 1, 1, 1, 1];
    const c = fitPlatt(logits, labels);
    expect(c.a).toBeGreaterThan(0);
    expect(hasSkill(c)).toBe(true);
  });

  it("refuses a negative slope: logits that rank the labels upside down get none, and no skill", () => {
    // Failures have the high logits: the unconstrained fit would turn the ranking around with a < 0.
    const logits = [-2, -1, -0.5, 0, 0.5, 1, 2, 3];
    const labels = [1, 1, 1, 1, 0, 1, 0, 0];
    const c = fitPlatt(logits, labels);
    expect(c.a).toBe(0);
    expect(hasSkill(c)).toBe(false);
    // Every candidate gets the same score: the smoothed base rate, (5 + 1) / (5 + 2) and 1 / (3 + 2) averaged.
    const scores = logits.map((z) => applyPlatt(c, z));
    expect(new Set(scores).size).toBe(1);
    expect(scores[0]).toBeCloseTo((5 * (6 / 7) + 3 * (1 / 5)) / 8, 5);
  });

  it("a fold whose calibration wants a negative slope says it has no skill in the card", () => {
    // Pure noise: some folds' out-of-fold logits rank their labels the wrong way round.
    const data = syntheticSamples({ repositories: 6, perRepository: 60, signal: "none", seed: 4 });
    const { card } = trainModels(data, { kinds: ["logistic-regression"], learningCurve: [], resamples: 50 });
    const lacking = card.heldOut.folds.filter((f) => f.skill === false);
    expect(lacking.length).toBeGreaterThan(0);
    // Such a fold scores every held-out candidate the same: its ranking is chance, never turned upside down.
    for (const f of lacking) expect(f.metrics.model.auc).toBe(0.5);
    expect(card.calibration.skill).toBe(card.calibration.a > 0);
  });
});
