/**
 * Platt scaling: p = sigmoid(a * z + b) fitted on out-of-fold logits z, with Platt's smoothed targets
 * ((N+ + 1) / (N+ + 2) for successes, 1 / (N- + 2) for failures) so a small or one-sided fold cannot push the
 * calibrated scores to 0 or 1. Two parameters, so it fits in the exported graph as one Mul and one Add.
 *
 * The slope is constrained to a >= 0. A negative slope would turn a ranking upside down: logits that rank held-out
 * repositories worse than chance would come out ranking them better, a skill the model does not have. When the
 * best slope would be negative the fit keeps a = 0 (the calibrated score is the base rate, the same for every
 * candidate) and {@link hasSkill} says the model has none.
 */
import type { PlattCalibration } from "../onnx/export.js";
import { sigmoid, softplus } from "./matrix.js";

const IDENTITY_CALIBRATION: PlattCalibration = { a: 1, b: 0 };

export function fitPlatt(logits: ArrayLike<number>, labels: ArrayLike<number>): PlattCalibration {
  const n = logits.length;
  if (n === 0) return IDENTITY_CALIBRATION;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i] as number;
  const hi = (pos + 1) / (pos + 2);
  const lo = 1 / (n - pos + 2);
  const target = (i: number) => (labels[i] === 1 ? hi : lo);
  // A small ridge keeps the 2x2 system solvable when all logits are equal.
  const ridge = 1e-6;
  const loss = (a: number, b: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const z = a * (logits[i] as number) + b;
      const t = target(i);
      s += t * softplus(-z) + (1 - t) * softplus(z);
    }
    return s + 0.5 * ridge * (a * a + b * b);
  };
  let a = 1;
  let b = 0;
  let current = loss(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = ridge * a;
    let gb = ridge * b;
    let haa = ridge;
    let hab = 0;
    let hbb = ridge;
    for (let i = 0; i < n; i++) {
      const z = logits[i] as number;
      const p = sigmoid(a * z + b);
      const r = p - target(i);
      const w = Math.max(p * (1 - p), 1e-12);
      ga += r * z;
      gb += r;
      haa += w * z * z;
      hab += w * z;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    let t = 1;
    let na = a;
    let nb = b;
    let value = current;
    for (let tries = 0; tries < 30; tries++) {
      na = a - t * da;
      nb = b - t * db;
      value = loss(na, nb);
      if (value <= current) break;
      t /= 2;
    }
    const moved = Math.max(Math.abs(na - a), Math.abs(nb - b));
    a = na;
    b = nb;
    current = value;
    if (moved < 1e-10) break;
  }
  if (a < 0) {
    // The loss is convex, so with a >= 0 the optimum of a model that wants a < 0 lies at a = 0: the intercept
    // alone, the smoothed base rate's logit.
    let mean = 0;
    for (let i = 0; i < n; i++) mean += target(i);
    mean /= n;
    return { a: 0, b: Math.fround(Math.log(mean / (1 - mean))) };
  }
  return { a: Math.fround(a), b: Math.fround(b) };
}

/**
 * Whether a calibration keeps any of its model's ranking: false when the slope was held at 0 because the fitted
 * one would have been negative (or the logits carried nothing), so every candidate gets the same score.
 */
export function hasSkill(c: PlattCalibration): boolean {
  return c.a > 0;
}

export function applyPlatt(c: PlattCalibration, logit: number): number {
  return sigmoid(c.a * logit + c.b);
}

/**
 * The Platt calibration of these logits and the log-loss of the labels under it, summed per group: `loss[g]` is
 * the summed loss of the rows with `groupOf[i] === g`, for g below `groups`.
 */
export function calibratedLogLoss(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  groupOf: ArrayLike<number>,
  groups: number,
): { calibration: PlattCalibration; loss: Float64Array } {
  const calibration = fitPlatt(logits, labels);
  const loss = new Float64Array(groups);
  for (let i = 0; i < logits.length; i++) {
    const z = calibration.a * (logits[i] as number) + calibration.b;
    const g = groupOf[i] as number;
    loss[g] = (loss[g] as number) + (labels[i] === 1 ? softplus(-z) : softplus(z));
  }
  return { calibration, loss };
}
