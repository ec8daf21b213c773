import { describe, expect, it } from "vitest";
import {
  accuracy,
  auc,
  balancedAccuracy,
  brier,
  calibrationBins,
  confusion,
  evaluate,
  expectedCalibrationError,
  logLoss,
  operatingPoint,
} from "../../src/model/metrics.js";

describe("metrics", () => {
  it("AUC counts ties as one half", () => {
    // Pairs (pos, neg): (0.8,0.2) win, (0.8,0.5) win, (0.5,0.2) win, (0.5,0.5) tie -> 3.5 / 4.
    expect(auc([1, 1, 0, 0], [0.8, 0.5, 0.5, 0.2])).toBeCloseTo(0.875, 12);
    expect(auc([1, 0, 1, 0], [0.3, 0.3, 0.3, 0.3])).toBe(0.5);
    expect(auc([1, 0], [0.1, 0.9])).toBe(0);
    expect(auc([1, 1], [0.1, 0.9])).toBeNull();
  });

  it("log-loss and Brier", () => {
    expect(logLoss([1, 0], [0.8, 0.4])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12);
    // Clipped: a certain mistake is large but finite.
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log(1e-15), 6);
    expect(brier([1, 0, 1], [0.8, 0.4, 1])).toBeCloseTo((0.04 + 0.16 + 0) / 3, 12);
    expect(logLoss([], [])).toBeNull();
  });

  it("ECE over equal-width bins", () => {
    // Bin [0.2,0.3): two at 0.2/0.25, one success -> |0.225 - 0.5| * 2; bin [0.9,1]: 0.9 and 1.0, both successes.
    const y = [1, 0, 1, 1];
    const p = [0.2, 0.25, 0.9, 1];
    const bins = calibrationBins(y, p);
    expect(bins).toHaveLength(10);
    expect(bins[2]).toMatchObject({ count: 2, observedRate: 0.5 });
    expect(bins[2]?.meanPredicted).toBeCloseTo(0.225, 12);
    expect(bins[9]).toMatchObject({ count: 2, observedRate: 1 });
    expect(bins[0]).toMatchObject({ count: 0, meanPredicted: null });
    expect(expectedCalibrationError(y, p)).toBeCloseTo((2 * 0.275 + 2 * 0.05) / 4, 12);
  });

  it("confusion, accuracy and balanced accuracy at a threshold", () => {
    const y = [1, 1, 1, 0, 0];
    const p = [0.9, 0.6, 0.3, 0.7, 0.1];
    expect(confusion(y, p, 0.5)).toEqual({ tp: 2, fn: 1, fp: 1, tn: 1 });
    expect(accuracy(y, p)).toBeCloseTo(3 / 5, 12);
    expect(balancedAccuracy(y, p)).toBeCloseTo((2 / 3 + 1 / 2) / 2, 12);
    expect(balancedAccuracy([1, 1], [0.9, 0.2])).toBeNull();
  });

  it("tier metrics: false-positive rate at review, precision and rate of auto-apply", () => {
    const y = [1, 1, 0, 0, 0];
    const p = [0.9, 0.7, 0.86, 0.66, 0.1];
    const m = evaluate(y, p);
    expect(m.falsePositiveRate).toBeCloseTo(2 / 3, 12);
    expect(m.autoApplyPrecision).toBeCloseTo(1 / 2, 12);
    expect(m.autoApprovalRate).toBeCloseTo(2 / 5, 12);
    expect(evaluate([1], [0.5]).autoApplyPrecision).toBeNull();
    expect(() => evaluate([1], [])).toThrow(RangeError);
  });

  it("operating point: the most approvals whose precision reaches the wanted rate, ties taken together", () => {
    const labels = [1, 1, 0, 1, 0];
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5];
    expect(operatingPoint(labels, scores, 1)).toEqual({
      threshold: 0.8,
      approvalRate: 2 / 5,
      precision: 1,
      failuresApproved: 0,
    });
    // 0.6 takes 4 candidates with 3 successes (0.75); 0.5 would take both failures (0.6).
    expect(operatingPoint(labels, scores, 0.75)).toEqual({
      threshold: 0.6,
      approvalRate: 4 / 5,
      precision: 0.75,
      failuresApproved: 1 / 2,
    });
    expect(operatingPoint(labels, scores, 0)?.approvalRate).toBe(1);
    // The top score is shared by a success and a failure: no threshold is without the failure.
    expect(operatingPoint([1, 0, 1], [0.9, 0.9, 0.5], 1)).toBeNull();
    expect(operatingPoint([1, 1], [0.2, 0.3], 1)).toMatchObject({ threshold: 0.2, failuresApproved: 0 });
    expect(() => operatingPoint([1], [], 0.9)).toThrow(RangeError);
    expect(() => operatingPoint([1, 0], [Number.NaN, 0.5], 0.9)).toThrow(/score 0 is NaN, not a finite number/);
    expect(operatingPoint([], [], 0.9)).toBeNull();
  });
});
