/**
 * Metrics of probabilistic predictions against 0/1 outcomes. Used by training (model cards) and by the accuracy
 * report, so both speak of the same numbers. A metric that is undefined on the data (AUC with one class, precision
 * with no predicted positives) is null, never NaN: cards are JSON.
 */
import { DEFAULT_THRESHOLDS, type TierThresholds } from "./tiers.js";

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

function check(labels: readonly number[], probs: readonly number[]): void {
  if (labels.length !== probs.length) {
    throw new RangeError(`metrics: ${labels.length} labels but ${probs.length} predictions`);
  }
}

/** Counts at a threshold: predicted positive when p >= threshold. */
export function confusion(labels: readonly number[], probs: readonly number[], threshold: number): Confusion {
  check(labels, probs);
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const positive = (probs[i] as number) >= threshold;
    if (labels[i] === 1) positive ? c.tp++ : c.fn++;
    else positive ? c.fp++ : c.tn++;
  }
  return c;
}

export function accuracy(labels: readonly number[], probs: readonly number[], threshold = 0.5): number | null {
  if (labels.length === 0) return null;
  const c = confusion(labels, probs, threshold);
  return (c.tp + c.tn) / labels.length;
}

/** Mean of the true-positive and true-negative rates; null unless both classes occur. */
export function balancedAccuracy(labels: readonly number[], probs: readonly number[], threshold = 0.5): number | null {
  const c = confusion(labels, probs, threshold);
  if (c.tp + c.fn === 0 || c.tn + c.fp === 0) return null;
  return (c.tp / (c.tp + c.fn) + c.tn / (c.tn + c.fp)) / 2;
}

/** Area under the ROC curve by the rank-sum statistic; tied scores count one half. Null unless both classes occur. */
export function auc(labels: readonly number[], scores: readonly number[]): number | null {
  check(labels, scores);
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    // Ranks are 1-based; a tie group shares the mean of its ranks.
    const meanRank = (i + 1 + j + 1) / 2;
    for (let k = i; k <= j; k++) {
      if (labels[order[k] as number] === 1) {
        positives++;
        rankSum += meanRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Probabilities are clipped so that one confident mistake gives a large, finite loss. */
const LOG_LOSS_EPSILON = 1e-15;

export function logLoss(labels: readonly number[], probs: readonly number[]): number | null {
  check(labels, probs);
  if (labels.length === 0) return null;
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, probs[i] as number));
    s -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return s / labels.length;
}

export function brier(labels: readonly number[], probs: readonly number[]): number | null {
  check(labels, probs);
  if (labels.length === 0) return null;
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += ((probs[i] as number) - (labels[i] as number)) ** 2;
  return s / labels.length;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Null for an empty bin. */
  meanPredicted: number | null;
  observedRate: number | null;
}

/** Equal-width bins over [0, 1]; a prediction of exactly 1 falls in the last bin. */
export function calibrationBins(labels: readonly number[], probs: readonly number[], bins = 10): CalibrationBin[] {
  check(labels, probs);
  const sums = Array.from({ length: bins }, () => ({ count: 0, p: 0, y: 0 }));
  for (let i = 0; i < labels.length; i++) {
    const p = probs[i] as number;
    const b = sums[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))] as { count: number; p: number; y: number };
    b.count++;
    b.p += p;
    b.y += labels[i] as number;
  }
  return sums.map((s, i) => ({
    lower: i / bins,
    upper: (i + 1) / bins,
    count: s.count,
    meanPredicted: s.count ? s.p / s.count : null,
    observedRate: s.count ? s.y / s.count : null,
  }));
}

/** Expected calibration error: the count-weighted mean gap between predicted and observed rate per bin. */
export function expectedCalibrationError(
  labels: readonly number[],
  probs: readonly number[],
  bins = 10,
): number | null {
  if (labels.length === 0) return null;
  let s = 0;
  for (const b of calibrationBins(labels, probs, bins)) {
    if (b.count) s += b.count * Math.abs((b.meanPredicted as number) - (b.observedRate as number));
  }
  return s / labels.length;
}

export interface MetricSet {
  samples: number;
  positives: number;
  accuracy: number | null;
  balancedAccuracy: number | null;
  auc: number | null;
  logLoss: number | null;
  brier: number | null;
  ece: number | null;
  /** Failures scored at or above the review threshold (not manual-only), over all failures. */
  falsePositiveRate: number | null;
  /** Share of successes among candidates scored at or above the auto-apply threshold. */
  autoApplyPrecision: number | null;
  /** Share of candidates scored at or above the auto-apply threshold. */
  autoApprovalRate: number | null;
}

export function evaluate(
  labels: readonly number[],
  probs: readonly number[],
  thresholds: TierThresholds = DEFAULT_THRESHOLDS,
): MetricSet {
  check(labels, probs);
  const n = labels.length;
  const review = confusion(labels, probs, thresholds.review);
  const auto = confusion(labels, probs, thresholds.autoApply);
  const failures = review.fp + review.tn;
  const autoPositives = auto.tp + auto.fp;
  return {
    samples: n,
    positives: review.tp + review.fn,
    accuracy: accuracy(labels, probs),
    balancedAccuracy: balancedAccuracy(labels, probs),
    auc: auc(labels, probs),
    logLoss: logLoss(labels, probs),
    brier: brier(labels, probs),
    ece: expectedCalibrationError(labels, probs),
    falsePositiveRate: failures ? review.fp / failures : null,
    autoApplyPrecision: autoPositives ? auto.tp / autoPositives : null,
    autoApprovalRate: n ? autoPositives / n : null,
  };
}

/** Where to set the auto-apply threshold for a wanted precision, and what it gives. */
export interface OperatingPoint {
  /** The lowest threshold whose candidates (trust >= threshold) succeed at least at the wanted rate. */
  threshold: number;
  /** Share of all candidates at or above it: what would be applied automatically. */
  approvalRate: number;
  /** Share of successes among them. */
  precision: number;
  /** Share of all failures at or above it: failures that would be applied automatically. */
  failuresApproved: number;
}

/**
 * The operating point with the most approvals whose precision is at least `minPrecision`: a way to compare two
 * scores (a model and the heuristic) on the same samples that does not depend on either being calibrated to the
 * configured thresholds. Null when no threshold reaches that precision (or there are no samples).
 */
export function operatingPoint(
  labels: readonly number[],
  scores: readonly number[],
  minPrecision: number,
): OperatingPoint | null {
  check(labels, scores);
  scores.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new RangeError(`operating point: score ${i} is ${v}, not a finite number`);
  });
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const failures = labels.reduce<number>((s, y) => s + (y === 1 ? 0 : 1), 0);
  let best: OperatingPoint | null = null;
  let approved = 0;
  let successes = 0;
  let i = 0;
  while (i < n) {
    const threshold = scores[order[i] as number] as number;
    // A threshold takes every candidate with that score: ties go in together.
    while (i < n && scores[order[i] as number] === threshold) {
      approved++;
      successes += labels[order[i] as number] === 1 ? 1 : 0;
      i++;
    }
    const precision = successes / approved;
    if (precision >= minPrecision) {
      best = {
        threshold,
        approvalRate: approved / n,
        precision,
        failuresApproved: failures ? (approved - successes) / failures : 0,
      };
    }
  }
  return best;
}

/** The auto-apply precisions model cards and the accuracy report give operating points for. */
const OPERATING_PRECISIONS: readonly number[] = [0.95, 0.97, 0.98, 0.99];

export interface ComparedOperatingPoint {
  minPrecision: number;
  model: OperatingPoint | null;
  heuristic: OperatingPoint | null;
}

/** The model's and the heuristic's operating points on the same samples, for each wanted precision. */
export function comparedOperatingPoints(
  labels: readonly number[],
  model: readonly number[],
  heuristic: readonly number[],
  precisions: readonly number[] = OPERATING_PRECISIONS,
): ComparedOperatingPoint[] {
  return precisions.map((minPrecision) => ({
    minPrecision,
    model: operatingPoint(labels, model, minPrecision),
    heuristic: operatingPoint(labels, heuristic, minPrecision),
  }));
}
