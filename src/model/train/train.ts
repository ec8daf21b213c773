/**
 * Training: grouped k-fold by repository, logistic regression, boosted trees and boosted trees that correct the
 * heuristic, Platt calibration, choice by held-out log-loss, ONNX export and the model card.
 *
 * Held-out predictions are honest at every step: each fold's model never saw the fold's repositories, and every
 * choice made for it (its calibration, how many trees to keep) is made on grouped folds inside its own training
 * repositories, so the fold's labels touch none of them. The final model is fitted the same way on all samples.
 */
import { createHash } from "node:crypto";
import { FEATURE_SCHEMA_VERSION, featureNames, validateFeatureVector, writePriorFeatures } from "../features.js";
import { type HeuristicForm, heuristicForm, heuristicLogit } from "../heuristic.js";
import { auc, calibrationBins, comparedOperatingPoints, evaluate, logLoss } from "../metrics.js";
import {
  type LinearExplanation,
  logisticRegressionModel,
  type PlattCalibration,
  treeEnsembleModel,
} from "../onnx/export.js";
import { leaveOneRepositoryOutPriors, type PriorSample, type RecipePriors, recipePriorsOf } from "../priors.js";
import { DEFAULT_THRESHOLDS, type TierThresholds } from "../tiers.js";
import { applyPlatt, calibratedLogLoss, fitPlatt, hasSkill } from "./calibration.js";
import { type LearningPoint, MODEL_KINDS, type ModelCard, type ModelKind } from "./card.js";
import { chooseThresholds, DEFAULT_RESAMPLES, type HeldOutPredictions, heldOutStatistics } from "./evaluation.js";
import { type Fold, groupedKFold } from "./folds.js";
import { gateFromCard } from "./gate.js";
import {
  baseRateLogit,
  DEFAULT_GBT_OPTIONS,
  fitGbt,
  forEachStage,
  type GbtModel,
  type GbtOptions,
  gbtLogit,
} from "./gbt.js";
import {
  DEFAULT_LOGISTIC_OPTIONS,
  fitLogistic,
  type LogisticModel,
  type LogisticOptions,
  logisticLogit,
} from "./logistic.js";
import { type Matrix, rowOf, solveSpd, toMatrix } from "./matrix.js";
import { seededRandom, shuffle } from "./random.js";

export interface TrainingSample {
  features: number[];
  label: 0 | 1;
  /** The group for cross-validation: "owner/name". */
  repository: string;
  /** The heuristic's score stored with the prediction, evaluated on the same held-out samples as the model. */
  heuristicTrust: number;
  /** The recipe: its prior (recipe.prior.*) is learned from other repositories' samples of it. */
  recipeId?: string;
}

export interface TrainOptions {
  seed?: number;
  /** Number of folds; default min(5, repositories). */
  folds?: number;
  /**
   * Folds inside each training set (grouped by repository) on which a model's calibration is fitted and boosted
   * trees' number is chosen; default 3 (fewer when the training set has fewer repositories).
   */
  innerFolds?: number;
  kinds?: readonly ModelKind[];
  logistic?: Partial<LogisticOptions>;
  gbt?: Partial<GbtOptions>;
  thresholds?: TierThresholds;
  /** The auto-apply precision the thresholds chosen on training folds aim at; default 0.98. */
  targetPrecision?: number;
  /** Repository resamples for the intervals; default 1000. */
  resamples?: number;
  /** Shares of each fold's training repositories for the learning curve; default 25/50/75/100%, [] for none. */
  learningCurve?: readonly number[];
  now?: Date;
}

const DEFAULT_TARGET_PRECISION = 0.98;
const DEFAULT_LEARNING_CURVE: readonly number[] = [0.25, 0.5, 0.75, 1];

const DEFAULT_INNER_FOLDS = 3;

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
  /** The chosen kind's held-out probability of each sample (from the fold that held it out), in sample order. */
  heldOut: number[];
}

export class TrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingError";
  }
}

/**
 * A model's version: its feature schema and the first 8 hex digits of the SHA-256 of its ONNX file written
 * without a version, so two different models never share a version and the same training reproduces it.
 */
function contentVersion(unversioned: Uint8Array): string {
  return `v${FEATURE_SCHEMA_VERSION}-${createHash("sha256").update(unversioned).digest("hex").slice(0, 8)}`;
}

/** A model of one kind before calibration. */
interface Raw {
  logit(row: ArrayLike<number>): number;
  logistic?: LogisticModel;
  gbt?: GbtModel;
  /** Set for heuristic-boosted trees: the logit the trees correct, as the exported graph computes it. */
  heuristic?: HeuristicForm;
}

interface Fitted extends Raw {
  calibration: PlattCalibration;
  /** Calibrated out-of-fold probabilities of the rows it was fitted on (from its inner folds). */
  trainOof: Float64Array;
}

function calibrated(c: PlattCalibration, logits: ArrayLike<number>): Float64Array {
  return Float64Array.from(logits, (z) => applyPlatt(c, z));
}

/** The heuristic's logit of each row: where heuristic-boosted trees start. */
function heuristicOffsets(x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) out[i] = heuristicLogit(rowOf(x, i));
  return out;
}

/** Fits one kind on these rows, uncalibrated; boosted kinds with `trees` trees (default: the options' count). */
function fitRaw(
  kind: ModelKind,
  x: Matrix,
  y: ArrayLike<number>,
  o: ResolvedOptions,
  offset?: ArrayLike<number>,
  trees = o.gbt.trees,
): Raw {
  if (kind === "logistic-regression") {
    const m = fitLogistic(x, y, o.logistic);
    return { logit: (row) => logisticLogit(m, row), logistic: m };
  }
  const m = fitGbt(x, y, { ...o.gbt, trees }, offset);
  if (kind === "heuristic-boosted-trees") {
    return {
      logit: (row) => heuristicLogit(row) + gbtLogit(m, row),
      gbt: m,
      heuristic: heuristicForm(x.cols),
    };
  }
  return { logit: (row) => gbtLogit(m, row), gbt: m };
}

/** The values of these rows, in their order. */
const pick = <T>(rows: readonly number[], values: ArrayLike<T>): T[] => rows.map((i) => values[i] as T);

/**
 * Early stopping's choice from each stage's out-of-fold loss summed per repository (`losses[t][g]`, the
 * repository holding `sizes[g]` rows): the fewest trees whose mean loss a row is within one standard error of the
 * lowest. Each repository counts the same, as the next, unseen repository will: its loss a row is one
 * observation, and the error of a stage's difference from the lowest is the standard error of the mean of those
 * differences over repositories. A correction that helps only some repositories, however large, is not kept
 * (the one-standard-error rule, clustered by repository).
 */
export function keptTrees(losses: readonly Float64Array[], sizes: readonly number[]): number {
  const g = sizes.length;
  // Each repository's mean loss a row: every repository counts the same, as the next (unseen) one will.
  const perRow = losses.map((l) => {
    if (l.length !== g) throw new RangeError(`early stopping: ${g} repository sizes for ${l.length} losses`);
    return Array.from(l, (v, j) => v / Math.max(1, sizes[j] as number));
  });
  const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  let best = 0;
  for (let t = 1; t < perRow.length; t++) if (mean(perRow[t] as number[]) < mean(perRow[best] as number[])) best = t;
  const lowest = perRow[best] as number[];
  for (let t = 0; t < best; t++) {
    const d = (perRow[t] as number[]).map((v, j) => v - (lowest[j] as number));
    const m = mean(d);
    const se = g > 1 ? Math.sqrt(d.reduce((a, v) => a + (v - m) ** 2, 0) / (g - 1) / g) : 0;
    if (m <= se) return t;
  }
  return best;
}

/**
 * Fits a kind and its calibration. Grouped folds inside the rows (each repository on one side only) give
 * out-of-fold logits for every row; the Platt calibration is fitted on those, so it sees logits of the kind the
 * model gives repositories it never saw. For boosted trees they also choose how many trees to keep (early
 * stopping, {@link keptTrees}), 0 meaning the heuristic (or the base rate) alone. Every inner model starts from the
 * same logits (the heuristic's, or the base rate of all these rows), so a stage's out-of-fold logits do not carry
 * each inner fold's own base rate for the calibration to pick up. Each inner fold learns its recipe priors from its
 * own training rows, as the outer fold does (see {@link withPriors}): a repository's prior left out of its own
 * outcomes moves against them, and a pattern fitted to that must not be validated by rows priored the same way.
 * With fewer than 2 repositories every tree is kept and the calibration is fitted on the training logits.
 */
function fitKind(
  kind: ModelKind,
  x: Matrix,
  y: ArrayLike<number>,
  groups: readonly string[],
  o: ResolvedOptions,
  /** The rows' recipes, repositories and labels: each inner fold's recipe priors are learned from its own rows. */
  priors: readonly PriorSample[],
): Fitted {
  const offset = kind === "heuristic-boosted-trees" ? heuristicOffsets(x) : undefined;
  const k = Math.min(o.innerFolds, new Set(groups).size);
  if (k < 2) {
    const raw = fitRaw(kind, x, y, o, offset);
    const logits = Array.from({ length: x.rows }, (_, i) => raw.logit(rowOf(x, i)));
    const calibration = fitPlatt(logits, y);
    return { ...raw, calibration, trainOof: calibrated(calibration, logits) };
  }
  const inner = groupedKFold(groups, k, o.gbt.seed);
  if (kind === "logistic-regression") {
    const oof = new Float64Array(x.rows);
    for (const fold of inner) {
      const m = fitRaw(kind, withPriors(x, priors, fold.train, fold.train), pick(fold.train, y), o);
      const test = withPriors(x, priors, fold.train, fold.test);
      fold.test.forEach((i, j) => {
        oof[i] = m.logit(rowOf(test, j));
      });
    }
    const calibration = fitPlatt(oof, y);
    return { ...fitRaw(kind, x, y, o), calibration, trainOof: calibrated(calibration, oof) };
  }
  const start = offset ?? new Float64Array(x.rows).fill(baseRateLogit(y));
  // stages[t][i]: row i's out-of-fold logit after t trees.
  const stages = Array.from({ length: o.gbt.trees + 1 }, () => new Float64Array(x.rows));
  for (const fold of inner) {
    const m = fitGbt(
      withPriors(x, priors, fold.train, fold.train),
      pick(fold.train, y),
      o.gbt,
      pick(fold.train, start),
    );
    forEachStage(m, withPriors(x, priors, fold.train, fold.test), pick(fold.test, start), (t, logits) => {
      const stage = stages[t] as Float64Array;
      fold.test.forEach((row, j) => {
        stage[row] = logits[j] as number;
      });
    });
  }
  const names = [...new Set(groups)];
  const groupOf = Int32Array.from(groups, (g) => names.indexOf(g));
  const sizes = new Array<number>(names.length).fill(0);
  for (const g of groupOf) sizes[g] = (sizes[g] as number) + 1;
  const scored = stages.map((logits) => calibratedLogLoss(logits, y, groupOf, names.length));
  const trees = keptTrees(
    scored.map((s) => s.loss),
    sizes,
  );
  const calibration = (scored[trees] as (typeof scored)[number]).calibration;
  return {
    ...fitRaw(kind, x, y, o, offset, trees),
    calibration,
    trainOof: calibrated(calibration, stages[trees] as Float64Array),
  };
}

function subset(x: Matrix, rows: readonly number[]): Matrix {
  const data = new Float64Array(rows.length * x.cols);
  rows.forEach((r, i) => {
    data.set(rowOf(x, r), i * x.cols);
  });
  return { rows: rows.length, cols: x.cols, data };
}

/**
 * The rows `targets` of `x`, with their recipe priors (recipe.prior.*) learned from the rows `fit`, each target's
 * own repository left out: held-out rows get priors from the training repositories alone, training rows from the
 * other training repositories, as a repository the shipped model never saw gets them from all of its data.
 */
export function withPriors(
  x: Matrix,
  samples: readonly PriorSample[],
  fit: readonly number[],
  targets: readonly number[],
): Matrix {
  const m = subset(x, targets);
  const priors = leaveOneRepositoryOutPriors(pick(fit, samples), pick(targets, samples));
  priors.forEach((prior, i) => {
    writePriorFeatures(m.data, i * m.cols, prior);
  });
  return m;
}

/** Rows 0..n-1. */
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

interface ResolvedOptions {
  logistic: LogisticOptions;
  gbt: GbtOptions;
  innerFolds: number;
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
  const resolved: ResolvedOptions = {
    logistic: { ...DEFAULT_LOGISTIC_OPTIONS, ...options.logistic },
    gbt: { ...DEFAULT_GBT_OPTIONS, seed, ...options.gbt },
    innerFolds: options.innerFolds ?? DEFAULT_INNER_FOLDS,
  };
  if (!Number.isInteger(resolved.innerFolds) || resolved.innerFolds < 2) {
    throw new TrainingError(`innerFolds must be an integer >= 2, got ${resolved.innerFolds}`);
  }
  const kinds = options.kinds?.length ? [...new Set(options.kinds)] : [...MODEL_KINDS];
  const x = toMatrix(
    samples.map((s) => s.features),
    names.length,
  );
  const groups = samples.map((s) => s.repository);
  const folds = groupedKFold(groups, k, seed);
  const heuristic = samples.map((s) => Math.min(1, Math.max(0, s.heuristicTrust)));

  // Majority baseline: each fold predicts its training folds' success rate (the majority class at 0.5).
  const majority = new Array<number>(samples.length).fill(0);
  for (const fold of folds) {
    const rate = fold.train.reduce((s, i) => s + (labels[i] as number), 0) / Math.max(1, fold.train.length);
    for (const i of fold.test) majority[i] = rate;
  }

  // Each fold's rows with their recipe priors from the fold's training repositories only.
  const framed = folds.map((fold) => ({
    train: withPriors(x, samples, fold.train, fold.train),
    test: withPriors(x, samples, fold.train, fold.test),
  }));
  const candidates = kinds.map((kind) => {
    const oofProb = new Array<number>(samples.length).fill(0);
    const treesPerFold: number[] = [];
    const skill: boolean[] = [];
    const trainOof: Float64Array[] = [];
    for (const fold of folds) {
      const frame = framed[fold.index] as (typeof framed)[number];
      const model = fitKind(
        kind,
        frame.train,
        pick(fold.train, labels),
        pick(fold.train, groups),
        resolved,
        pick(fold.train, samples),
      );
      if (model.gbt) treesPerFold.push(model.gbt.trees.length);
      skill.push(hasSkill(model.calibration));
      trainOof.push(model.trainOof);
      fold.test.forEach((i, j) => {
        oofProb[i] = applyPlatt(model.calibration, model.logit(rowOf(frame.test, j)));
      });
    }
    return { kind, oofProb, treesPerFold, skill, trainOof, pooled: evaluate(labels, oofProb, thresholds) };
  });
  const chosen = candidates.reduce((best, c) =>
    (c.pooled.logLoss ?? Number.POSITIVE_INFINITY) < (best.pooled.logLoss ?? Number.POSITIVE_INFINITY) ? c : best,
  );

  const all = range(samples.length);
  const xAll = withPriors(x, samples, all, all);
  const recipePriors: RecipePriors = recipePriorsOf(samples);
  const final = fitKind(chosen.kind, xAll, labels, groups, resolved, samples);
  const { calibration } = final;
  let explanation: LinearExplanation;
  if (final.logistic) {
    const m = final.logistic;
    explanation = {
      means: m.means.map(round6),
      weights: m.weights.map((w, j) => round6((calibration.a * w) / (m.scales[j] as number))),
    };
  } else {
    const calibrated = new Float64Array(samples.length);
    for (let i = 0; i < samples.length; i++)
      calibrated[i] = calibration.a * final.logit(rowOf(xAll, i)) + calibration.b;
    explanation = surrogate(xAll, calibrated);
  }
  const held: HeldOutPredictions = { labels, model: chosen.oofProb, heuristic, majority, groups, folds };
  const statistics = heldOutStatistics(held, thresholds, { resamples: options.resamples ?? DEFAULT_RESAMPLES, seed });
  const chosenThresholds = chooseThresholds(
    held,
    chosen.trainOof.map((p) => Array.from(p)),
    options.targetPrecision ?? DEFAULT_TARGET_PRECISION,
  );
  const learningCurve = (options.learningCurve ?? DEFAULT_LEARNING_CURVE).map((fraction): LearningPoint => {
    if (!(fraction > 0 && fraction <= 1))
      throw new TrainingError(`learning curve fraction ${fraction} is not in (0, 1]`);
    const random = seededRandom(seed + Math.round(fraction * 1000));
    let repositoriesUsed = 0;
    const perFold = folds.map((fold) => {
      const trainGroups = [...new Set(pick(fold.train, groups))].sort();
      const kept = new Set(
        shuffle(trainGroups, random).slice(0, Math.max(2, Math.round(fraction * trainGroups.length))),
      );
      repositoriesUsed += kept.size;
      const y = pick(fold.test, labels);
      const h = pick(fold.test, heuristic);
      let p: number[];
      if (kept.size === trainGroups.length) p = pick(fold.test, chosen.oofProb);
      else {
        const rows = fold.train.filter((i) => kept.has(groups[i] as string));
        const m = fitKind(
          chosen.kind,
          withPriors(x, samples, rows, rows),
          pick(rows, labels),
          pick(rows, groups),
          resolved,
          pick(rows, samples),
        );
        const test = withPriors(x, samples, rows, fold.test);
        p = fold.test.map((_, j) => applyPlatt(m.calibration, m.logit(rowOf(test, j))));
      }
      return {
        model: { auc: auc(y, p), logLoss: logLoss(y, p) },
        heuristic: { auc: auc(y, h), logLoss: logLoss(y, h) },
      };
    });
    const meanOf = (get: (f: (typeof perFold)[number]) => number | null): number | null => {
      const v = perFold.map(get).filter((z): z is number => z !== null);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
    };
    return {
      fraction,
      repositories: repositoriesUsed / folds.length,
      model: { auc: meanOf((f) => f.model.auc), logLoss: meanOf((f) => f.model.logLoss) },
      heuristic: { auc: meanOf((f) => f.heuristic.auc), logLoss: meanOf((f) => f.heuristic.logLoss) },
    };
  });

  const operatingPoints = (rows: readonly number[]) =>
    comparedOperatingPoints(pick(rows, labels), pick(rows, chosen.oofProb), pick(rows, heuristic));
  const compare = (rows: readonly number[]) => {
    const y = pick(rows, labels);
    return {
      model: evaluate(y, pick(rows, chosen.oofProb), thresholds),
      heuristic: evaluate(y, pick(rows, heuristic), thresholds),
      majority: evaluate(y, pick(rows, majority), thresholds),
    };
  };
  const card: ModelCard = {
    modelVersion: "",
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
      candidates: candidates.map((c) => ({
        kind: c.kind,
        heldOut: c.pooled,
        ...(c.treesPerFold.length ? { treesPerFold: c.treesPerFold } : {}),
      })),
    },
    heldOut: {
      method: `grouped ${k}-fold cross-validation by repository; each fold's model calibrated (Platt) on out-of-fold logits of grouped ${resolved.innerFolds}-fold cross-validation inside its training set (fewer folds when it holds fewer repositories; with one, on its training logits), where boosted trees also choose how many of up to ${resolved.gbt.trees} trees to keep; the calibration slope is held at >= 0 (a fold that wants a negative one has no skill and says so); intervals resample each fold's repositories ${options.resamples ?? DEFAULT_RESAMPLES} times`,
      folds: folds.map((fold: Fold) => ({
        fold: fold.index,
        repositories: fold.testGroups.length,
        samples: fold.test.length,
        metrics: compare(fold.test),
        operatingPoints: operatingPoints(fold.test),
        skill: chosen.skill[fold.index] as boolean,
      })),
      pooled: compare(all),
      calibrationBins: calibrationBins(labels, chosen.oofProb),
      operatingPoints: operatingPoints(all),
      comparison: statistics.comparison,
      chosenThresholds,
      validation: statistics.validation,
      learningCurve,
    },
    ...(final.gbt ? { trees: final.gbt.trees.length } : {}),
    recipePriors,
    calibration: { method: "platt", a: calibration.a, b: calibration.b, skill: hasSkill(calibration) },
    thresholds: { ...thresholds },
    params: {
      folds: k,
      innerFolds: resolved.innerFolds,
      seed,
      logisticRegression: { ...resolved.logistic },
      gradientBoostedTrees: { ...resolved.gbt },
    },
  };
  const gate = gateFromCard(card);
  card.gate = gate;
  const exportWith = (modelVersion: string): Uint8Array => {
    const metadata = {
      featureSchemaVersion: FEATURE_SCHEMA_VERSION,
      modelVersion,
      kind: chosen.kind,
      featureNames: names,
      explanation,
      gate,
      recipePriors,
    };
    return final.logistic
      ? logisticRegressionModel({ ...final.logistic, calibration, metadata })
      : treeEnsembleModel({
          ...(final.gbt as GbtModel),
          calibration,
          metadata,
          ...(final.heuristic ? { heuristic: final.heuristic } : {}),
        });
  };
  const modelVersion = contentVersion(exportWith(""));
  card.modelVersion = modelVersion;
  const onnx = exportWith(modelVersion);
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
  return { best, card, onnx, heldOut: chosen.oofProb };
}
