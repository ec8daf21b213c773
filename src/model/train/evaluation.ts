/**
 * Held-out figures with their uncertainty. Every headline figure comes from grouped folds by repository, both as
 * the mean of the folds' figures (within a fold one model ranks the candidates, as the shipped model ranks a
 * repository's) and pooled over folds. Intervals are percentile bootstraps that resample repositories, not rows:
 * rows of one repository are alike, and the next installation is a new repository. Each fold's repositories are
 * resampled within the fold, so a draw keeps the folds' models and calibrations; model and heuristic are scored on
 * the same draw, which makes their differences paired.
 */
import { auc, logLoss } from "../metrics.js";
import type { TierThresholds } from "../tiers.js";
import type { ChosenThresholds, Comparison, Interval, ValidationRow } from "./card.js";
import type { Fold } from "./folds.js";
import { seededRandom } from "./random.js";

export const DEFAULT_RESAMPLES = 1000;

/** Held-out predictions of every sample (each from the fold that held it out) and what they are compared with. */
export interface HeldOutPredictions {
  labels: readonly number[];
  model: readonly number[];
  heuristic: readonly number[];
  /** Each fold's training success rate, for its held-out samples. */
  majority: readonly number[];
  /** Each sample's repository. */
  groups: readonly string[];
  folds: readonly Fold[];
}

type Scores = "model" | "heuristic" | "majority";
const SCORES: readonly Scores[] = ["model", "heuristic", "majority"];

/** The 2.5th and 97.5th percentiles of the defined values (null when none is). */
function percentileInterval(value: number | null, draws: readonly (number | null)[]): Interval {
  const v = draws.filter((d): d is number => d !== null && Number.isFinite(d)).sort((a, b) => a - b);
  if (v.length === 0) return { value, low: null, high: null };
  const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.floor(q * (v.length - 1) + 0.5)))] as number;
  return { value, low: at(0.025), high: at(0.975) };
}

const mean = (values: readonly (number | null)[]): number | null => {
  const v = values.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

const pick = (rows: readonly number[], values: readonly number[]): number[] => rows.map((i) => values[i] as number);

interface Ranking {
  model: { auc: number | null; logLoss: number | null };
  heuristic: { auc: number | null; logLoss: number | null };
}

function ranking(h: HeldOutPredictions, rows: readonly number[]): Ranking {
  const y = pick(rows, h.labels);
  const m = pick(rows, h.model);
  const r = pick(rows, h.heuristic);
  return { model: { auc: auc(y, m), logLoss: logLoss(y, m) }, heuristic: { auc: auc(y, r), logLoss: logLoss(y, r) } };
}

interface View {
  modelAuc: number | null;
  modelLogLoss: number | null;
  heuristicAuc: number | null;
  heuristicLogLoss: number | null;
}

function viewOf(rankings: readonly Ranking[]): View {
  return {
    modelAuc: mean(rankings.map((x) => x.model.auc)),
    modelLogLoss: mean(rankings.map((x) => x.model.logLoss)),
    heuristicAuc: mean(rankings.map((x) => x.heuristic.auc)),
    heuristicLogLoss: mean(rankings.map((x) => x.heuristic.logLoss)),
  };
}

const diff = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a - b);

/** The figures of the validation table, at the thresholds, for one score. */
interface Decisions {
  accuracy: number | null;
  falsePositiveRate: number | null;
  autoApprovalRate: number | null;
  autoApplyPrecision: number | null;
}

function decisions(
  labels: readonly number[],
  scores: readonly number[],
  rows: readonly number[],
  t: TierThresholds,
): Decisions {
  let correct = 0;
  let approved = 0;
  let approvedSuccesses = 0;
  let failures = 0;
  let failuresApproved = 0;
  for (const i of rows) {
    const y = labels[i] as number;
    const p = scores[i] as number;
    if ((p >= 0.5 ? 1 : 0) === y) correct++;
    if (p >= t.autoApply) {
      approved++;
      approvedSuccesses += y;
    }
    if (y === 0) {
      failures++;
      if (p >= t.autoApply) failuresApproved++;
    }
  }
  const n = rows.length;
  return {
    accuracy: n ? correct / n : null,
    falsePositiveRate: failures ? failuresApproved / failures : null,
    autoApprovalRate: n ? approved / n : null,
    autoApplyPrecision: approved ? approvedSuccesses / approved : null,
  };
}

/** Rows of each repository. */
function rowsByGroup(groups: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const rows = out.get(g) ?? [];
    rows.push(i);
    out.set(g, rows);
  });
  return out;
}

export interface HeldOutStatistics {
  comparison: Comparison;
  validation: ValidationRow[];
}

/**
 * The model against the heuristic (mean per fold and pooled) and the validation table at `thresholds`, each
 * figure with its 95% interval from `resamples` draws of repositories.
 */
export function heldOutStatistics(
  h: HeldOutPredictions,
  thresholds: TierThresholds,
  options: { resamples?: number; seed?: number } = {},
): HeldOutStatistics {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const random = seededRandom((options.seed ?? 1) * 7919 + 17);
  const byGroup = rowsByGroup(h.groups);
  const foldRows = (groups: readonly string[]): number[] => groups.flatMap((g) => byGroup.get(g) ?? []);

  const measure = (perFold: readonly (readonly number[])[]) => {
    const all = perFold.flat();
    const folds = viewOf(perFold.map((rows) => ranking(h, rows)));
    const pooled = viewOf([ranking(h, all)]);
    const table = Object.fromEntries(SCORES.map((s) => [s, decisions(h.labels, h[s], all, thresholds)])) as Record<
      Scores,
      Decisions
    >;
    return { folds, pooled, table };
  };
  const actual = measure(h.folds.map((f) => foldRows(f.testGroups)));
  const draws: ReturnType<typeof measure>[] = [];
  for (let b = 0; b < resamples; b++) {
    const perFold = h.folds.map((f) => {
      const n = f.testGroups.length;
      const picked: string[] = [];
      for (let j = 0; j < n; j++) picked.push(f.testGroups[Math.floor(random() * n)] as string);
      return foldRows(picked);
    });
    draws.push(measure(perFold));
  }

  const interval = (get: (m: ReturnType<typeof measure>) => number | null): Interval =>
    percentileInterval(get(actual), draws.map(get));
  const view = (which: "folds" | "pooled") => ({
    model: { auc: interval((m) => m[which].modelAuc), logLoss: interval((m) => m[which].modelLogLoss) },
    heuristic: { auc: interval((m) => m[which].heuristicAuc), logLoss: interval((m) => m[which].heuristicLogLoss) },
    improvement: {
      auc: interval((m) => diff(m[which].modelAuc, m[which].heuristicAuc)),
      logLoss: interval((m) => diff(m[which].heuristicLogLoss, m[which].modelLogLoss)),
    },
  });
  const row = (metric: string, get: (d: Decisions) => number | null, scale = 1): ValidationRow => {
    const cell = (s: Scores) => {
      const v = interval((m) => {
        const x = get(m.table[s]);
        return x === null ? null : x * scale;
      });
      return v;
    };
    return { metric, model: cell("model"), heuristic: cell("heuristic"), majority: cell("majority") };
  };
  const gain = (s: Scores): Interval =>
    interval((m) => {
      const d = diff(m.table[s].accuracy, m.table.heuristic.accuracy);
      return d === null ? null : d * 100;
    });
  return {
    comparison: { resamples, meanPerFold: view("folds"), pooled: view("pooled") },
    validation: [
      row("accuracy (trust >= 0.5 predicts success)", (d) => d.accuracy),
      {
        metric: "accuracy gain over the heuristic (points, paired)",
        model: gain("model"),
        heuristic: gain("heuristic"),
        majority: gain("majority"),
      },
      row("false-positive rate (failures auto-applied)", (d) => d.falsePositiveRate),
      row("auto-approval rate", (d) => d.autoApprovalRate),
      row("auto-apply precision", (d) => d.autoApplyPrecision),
    ],
  };
}

/** The lowest score whose candidates (score >= it) succeed at least at `minPrecision`; null when none does. */
function thresholdFor(labels: readonly number[], scores: readonly number[], minPrecision: number): number | null {
  const order = Array.from(scores.keys()).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let best: number | null = null;
  let approved = 0;
  let successes = 0;
  let i = 0;
  while (i < order.length) {
    const t = scores[order[i] as number] as number;
    while (i < order.length && scores[order[i] as number] === t) {
      approved++;
      successes += labels[order[i] as number] as number;
      i++;
    }
    if (successes / approved >= minPrecision) best = t;
  }
  return best;
}

/**
 * Auto-apply thresholds chosen on each fold's training repositories (for the model, on their out-of-fold
 * predictions from the fold's inner cross-validation, as the fold never saw them either; for the heuristic, on
 * its scores there) and what they realised on the fold's held-out repositories, pooled.
 */
export function chooseThresholds(
  h: HeldOutPredictions,
  /** Per fold: the model's out-of-fold probabilities of its training rows, in `fold.train` order. */
  trainingPredictions: readonly (readonly number[])[],
  minPrecision: number,
): ChosenThresholds {
  const approved = { model: [] as boolean[], heuristic: [] as boolean[] };
  const rows: number[] = [];
  const folds = h.folds.map((fold, f) => {
    const y = pick(fold.train, h.labels);
    const model = thresholdFor(y, trainingPredictions[f] ?? [], minPrecision);
    const heuristic = thresholdFor(y, pick(fold.train, h.heuristic), minPrecision);
    for (const i of fold.test) {
      rows.push(i);
      approved.model.push(model !== null && (h.model[i] as number) >= model);
      approved.heuristic.push(heuristic !== null && (h.heuristic[i] as number) >= heuristic);
    }
    return { fold: fold.index, model, heuristic };
  });
  const realised = (who: "model" | "heuristic") => {
    let n = 0;
    let ok = 0;
    let failures = 0;
    let failuresIn = 0;
    rows.forEach((i, j) => {
      const y = h.labels[i] as number;
      const a = approved[who][j] as boolean;
      if (y === 0) failures++;
      if (!a) return;
      n++;
      ok += y;
      if (y === 0) failuresIn++;
    });
    return {
      approvalRate: rows.length ? n / rows.length : null,
      precision: n ? ok / n : null,
      failuresApproved: failures ? failuresIn / failures : null,
    };
  };
  return { minPrecision, folds, realised: { model: realised("model"), heuristic: realised("heuristic") } };
}
