/**
 * Training: grouped k-fold by repository, logistic regression, boosted trees and boosted trees that correct the
 * heuristic, Platt calibration, choice by held-out log-loss, ONNX export and the model card.
 *
 * Held-out predictions are honest at every step: each fold's model never saw the fold's repositories, and each
 * fold's calibration is fitted on the other folds' out-of-fold logits, so the fold's labels touch neither. The
 * final model is fitted on all samples and calibrated on all out-of-fold logits.
 */
import { FEATURE_SCHEMA_VERSION, featureNames, validateFeatureVector } from "../features.js";
import { type HeuristicForm, heuristicForm, heuristicLogit } from "../heuristic.js";
import { calibrationBins, evaluate } from "../metrics.js";
import {
  type LinearExplanation,
  logisticRegressionModel,
  type PlattCalibration,
  treeEnsembleModel,
} from "../onnx/export.js";
import { DEFAULT_THRESHOLDS, type TierThresholds } from "../tiers.js";
import { applyPlatt, fitPlatt } from "./calibration.js";
import { MODEL_KINDS, type ModelCard, type ModelKind } from "./card.js";
import { type Fold, groupedKFold } from "./folds.js";
import { DEFAULT_GBT_OPTIONS, fitGbt, type GbtModel, type GbtOptions, gbtLogit } from "./gbt.js";
import {
  DEFAULT_LOGISTIC_OPTIONS,
  fitLogistic,
  type LogisticModel,
  type LogisticOptions,
  logisticLogit,
} from "./logistic.js";
import { type Matrix, rowOf, solveSpd, toMatrix } from "./matrix.js";

export interface TrainingSample {
  features: number[];
  label: 0 | 1;
  /** The group for cross-validation: "owner/name". */
  repository: string;
  /** The heuristic's score stored with the prediction, evaluated on the same held-out samples as the model. */
  heuristicTrust: number;
}

export interface TrainOptions {
  modelVersion?: string;
  seed?: number;
  /** Number of folds; default min(5, repositories). */
  folds?: number;
  kinds?: readonly ModelKind[];
  logistic?: Partial<LogisticOptions>;
  gbt?: Partial<GbtOptions>;
  thresholds?: TierThresholds;
  now?: Date;
}

export interface TrainedModel {
  kind: ModelKind;
  modelVersion: string;
  /** The uncalibrated logit. */
  logit(features: readonly number[]): number;
  /** The calibrated probability: what the exported graph computes. */
  predict(features: readonly number[]): number;
  calibration: PlattCalibration;
  explanation: LinearExplanation;
  logistic?: LogisticModel;
  gbt?: GbtModel;
}

export interface TrainResult {
  best: TrainedModel;
  card: ModelCard;
  onnx: Uint8Array;
}

export class TrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingError";
  }
}

export function defaultModelVersion(now: Date): string {
  const iso = now.toISOString();
  return `v${FEATURE_SCHEMA_VERSION}-${iso.slice(0, 10).replace(/-/g, "")}-${iso.slice(11, 19).replace(/:/g, "")}`;
}

interface Fitted {
  logit(row: ArrayLike<number>): number;
  logistic?: LogisticModel;
  gbt?: GbtModel;
  /** Set for heuristic-boosted trees: the logit the trees correct, as the exported graph computes it. */
  heuristic?: HeuristicForm;
}

/** The heuristic's logit of each row: where heuristic-boosted trees start. */
function heuristicOffsets(x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) out[i] = heuristicLogit(rowOf(x, i));
  return out;
}

function fitKind(kind: ModelKind, x: Matrix, y: ArrayLike<number>, o: ResolvedOptions): Fitted {
  if (kind === "logistic-regression") {
    const m = fitLogistic(x, y, o.logistic);
    return { logit: (row) => logisticLogit(m, row), logistic: m };
  }
  if (kind === "heuristic-boosted-trees") {
    const m = fitGbt(x, y, o.gbt, heuristicOffsets(x));
    return {
      logit: (row) => heuristicLogit(row) + gbtLogit(m, row),
      gbt: m,
      heuristic: heuristicForm(x.cols),
    };
  }
  const m = fitGbt(x, y, o.gbt);
  return { logit: (row) => gbtLogit(m, row), gbt: m };
}

function subset(x: Matrix, rows: readonly number[]): Matrix {
  const data = new Float64Array(rows.length * x.cols);
  rows.forEach((r, i) => {
    data.set(rowOf(x, r), i * x.cols);
  });
  return { rows: rows.length, cols: x.cols, data };
}

interface ResolvedOptions {
  logistic: LogisticOptions;
  gbt: GbtOptions;
}

/**
 * The explanation of a non-linear model: a ridge regression of its calibrated logit on the raw features, so
 * that the reason line costs one dot product at inference.
 */
function surrogate(x: Matrix, logits: Float64Array): LinearExplanation {
  const n = x.rows;
  const f = x.cols;
  const means = new Array<number>(f).fill(0);
  let zMean = 0;
  for (let i = 0; i < n; i++) {
    zMean += logits[i] as number;
    for (let j = 0; j < f; j++) means[j] = (means[j] as number) + (x.data[i * f + j] as number);
  }
  zMean /= Math.max(1, n);
  for (let j = 0; j < f; j++) means[j] = (means[j] as number) / Math.max(1, n);
  const a = new Float64Array(f * f);
  const b = new Float64Array(f);
  for (let i = 0; i < n; i++) {
    const dz = (logits[i] as number) - zMean;
    for (let j = 0; j < f; j++) {
      const xj = (x.data[i * f + j] as number) - (means[j] as number);
      b[j] = (b[j] as number) + xj * dz;
      for (let k = 0; k <= j; k++)
        a[j * f + k] = (a[j * f + k] as number) + xj * ((x.data[i * f + k] as number) - (means[k] as number));
    }
  }
  // The ridge keeps constant and collinear one-hot columns from making the system singular.
  const ridge = 1e-3 * Math.max(1, n);
  for (let j = 0; j < f; j++) {
    a[j * f + j] = (a[j * f + j] as number) + ridge;
    for (let k = 0; k < j; k++) a[k * f + j] = a[j * f + k] as number;
  }
  const w = solveSpd(a, b, f);
  return { means: means.map(round6), weights: Array.from(w, round6) };
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

function checkSamples(samples: readonly TrainingSample[]): void {
  samples.forEach((s, i) => {
    const problems = validateFeatureVector(s.features).filter((p) => p.kind !== "out-of-range");
    if (problems.length) throw new TrainingError(`sample ${i} (${s.repository}): ${problems[0]?.message}`);
    if (s.label !== 0 && s.label !== 1) throw new TrainingError(`sample ${i} (${s.repository}): label must be 0 or 1`);
    if (!Number.isFinite(s.heuristicTrust)) {
      throw new TrainingError(`sample ${i} (${s.repository}): heuristicTrust is not a finite number`);
    }
  });
}

export function trainModels(samples: readonly TrainingSample[], options: TrainOptions = {}): TrainResult {
  checkSamples(samples);
  const names = featureNames();
  const repositories = new Set(samples.map((s) => s.repository));
  if (repositories.size < 2) {
    throw new TrainingError(`training needs samples from at least 2 repositories, got ${repositories.size}`);
  }
  const labels = samples.map((s) => s.label);
  const positives = labels.reduce<number>((a, b) => a + b, 0);
  if (positives === 0 || positives === samples.length) {
    throw new TrainingError(`training needs both successes and failures, got ${positives} of ${samples.length}`);
  }
  const seed = options.seed ?? 1;
  const k = options.folds ?? Math.min(5, repositories.size);
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const now = options.now ?? new Date();
  const modelVersion = options.modelVersion ?? defaultModelVersion(now);
  const resolved: ResolvedOptions = {
    logistic: { ...DEFAULT_LOGISTIC_OPTIONS, ...options.logistic },
    gbt: { ...DEFAULT_GBT_OPTIONS, seed, ...options.gbt },
  };
  const kinds = options.kinds?.length ? [...new Set(options.kinds)] : [...MODEL_KINDS];
  const x = toMatrix(
    samples.map((s) => s.features),
    names.length,
  );
  const folds = groupedKFold(
    samples.map((s) => s.repository),
    k,
    seed,
  );
  const heuristic = samples.map((s) => Math.min(1, Math.max(0, s.heuristicTrust)));

  // Majority baseline: each fold predicts its training folds' success rate (the majority class at 0.5).
  const majority = new Array<number>(samples.length).fill(0);
  for (const fold of folds) {
    const rate = fold.train.reduce((s, i) => s + (labels[i] as number), 0) / Math.max(1, fold.train.length);
    for (const i of fold.test) majority[i] = rate;
  }

  const candidates = kinds.map((kind) => {
    const oofLogit = new Float64Array(samples.length);
    for (const fold of folds) {
      const model = fitKind(
        kind,
        subset(x, fold.train),
        fold.train.map((i) => labels[i] as number),
        resolved,
      );
      for (const i of fold.test) oofLogit[i] = model.logit(rowOf(x, i));
    }
    const oofProb = new Array<number>(samples.length).fill(0);
    for (const fold of folds) {
      const cal = fitPlatt(
        fold.train.map((i) => oofLogit[i] as number),
        fold.train.map((i) => labels[i] as number),
      );
      for (const i of fold.test) oofProb[i] = applyPlatt(cal, oofLogit[i] as number);
    }
    return { kind, oofLogit, oofProb, pooled: evaluate(labels, oofProb, thresholds) };
  });
  const chosen = candidates.reduce((best, c) =>
    (c.pooled.logLoss ?? Number.POSITIVE_INFINITY) < (best.pooled.logLoss ?? Number.POSITIVE_INFINITY) ? c : best,
  );

  const final = fitKind(chosen.kind, x, labels, resolved);
  const calibration = fitPlatt(chosen.oofLogit, labels);
  let explanation: LinearExplanation;
  if (final.logistic) {
    const m = final.logistic;
    explanation = {
      means: m.means.map(round6),
      weights: m.weights.map((w, j) => round6((calibration.a * w) / (m.scales[j] as number))),
    };
  } else {
    const calibrated = new Float64Array(samples.length);
    for (let i = 0; i < samples.length; i++) calibrated[i] = calibration.a * final.logit(rowOf(x, i)) + calibration.b;
    explanation = surrogate(x, calibrated);
  }
  const metadata = {
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
    modelVersion,
    kind: chosen.kind,
    featureNames: names,
    explanation,
  };
  const onnx = final.logistic
    ? logisticRegressionModel({ ...final.logistic, calibration, metadata })
    : treeEnsembleModel({
        ...(final.gbt as GbtModel),
        calibration,
        metadata,
        ...(final.heuristic ? { heuristic: final.heuristic } : {}),
      });

  const compare = (rows: readonly number[]) => {
    const y = rows.map((i) => labels[i] as number);
    const pick = (p: readonly number[]) => rows.map((i) => p[i] as number);
    return {
      model: evaluate(y, pick(chosen.oofProb), thresholds),
      heuristic: evaluate(y, pick(heuristic), thresholds),
      majority: evaluate(y, pick(majority), thresholds),
    };
  };
  const all = samples.map((_, i) => i);
  const card: ModelCard = {
    modelVersion,
    kind: chosen.kind,
    createdAt: now.toISOString(),
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
    featureNames: [...names],
    data: {
      samples: samples.length,
      repositories: repositories.size,
      positives,
      negatives: samples.length - positives,
      positiveRate: positives / samples.length,
    },
    selection: {
      metric: "logLoss",
      candidates: candidates.map((c) => ({ kind: c.kind, heldOut: c.pooled })),
    },
    heldOut: {
      method: `grouped ${k}-fold cross-validation by repository; Platt calibration of each fold fitted on the other folds' out-of-fold logits`,
      folds: folds.map((fold: Fold) => ({
        fold: fold.index,
        repositories: fold.testGroups.length,
        samples: fold.test.length,
        metrics: compare(fold.test),
      })),
      pooled: compare(all),
      calibrationBins: calibrationBins(labels, chosen.oofProb),
    },
    calibration: { method: "platt", a: calibration.a, b: calibration.b },
    thresholds: { ...thresholds },
    params: {
      folds: k,
      seed,
      logisticRegression: { ...resolved.logistic },
      gradientBoostedTrees: { ...resolved.gbt },
    },
  };
  const best: TrainedModel = {
    kind: chosen.kind,
    modelVersion,
    logit: (v) => final.logit(v),
    predict: (v) => applyPlatt(calibration, final.logit(v)),
    calibration,
    explanation,
    ...(final.logistic ? { logistic: final.logistic } : {}),
    ...(final.gbt ? { gbt: final.gbt } : {}),
  };
  return { best, card, onnx };
}
