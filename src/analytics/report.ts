/**
 * The accuracy report: every figure computed from stored samples, model and heuristic judged on the same samples.
 * {@link computeReport} is pure (samples in, figures out) so that tests can check it against hand-computed values;
 * {@link buildReport} reads the database and calls it.
 */
import type { DbOrTx } from "../db/client.js";
import {
  auc,
  brier,
  type CalibrationBin,
  type ComparedOperatingPoint,
  calibrationBins,
  comparedOperatingPoints,
  confusion,
  expectedCalibrationError,
  logLoss,
} from "../model/metrics.js";
import { DEFAULT_THRESHOLDS, type TierThresholds } from "../model/tiers.js";
import {
  type AcceptanceCounts,
  type AcceptanceRow,
  acceptanceRows,
  EMPTY_ACCEPTANCE,
  loadAcceptance,
} from "./acceptance.js";
import {
  type EvaluationSamples,
  type LatencySummary,
  loadEvaluationSamples,
  loadFunnel,
  loadLatency,
  loadThroughput,
  type SampleFunnel,
  type ThroughputSummary,
  type TimeRange,
} from "./samples.js";
import {
  type Interval,
  type McNemarResult,
  mcnemarTest,
  newcombePairedDifference,
  type PairedTable,
  type ProportionEstimate,
  wilsonInterval,
} from "./stats.js";

/** The targets of the validation (the "Real data collection and the validation report" issue). */
export const TARGETS = {
  minAccuracy: 0.85,
  minImprovementPoints: 3,
  maxFalsePositiveRate: 0.05,
  autoApprovalRange: [0.4, 0.6] as const,
  maxLatencyP99Ms: 100,
  minExecutionsPerHour: 1000,
} as const;

export interface ReportOptions {
  thresholds?: TierThresholds;
  /** Below this many samples the report says plainly that it cannot conclude. */
  minSamples?: number;
  /** Groups (project types, recipes) smaller than this are shown but not used to judge consistency. */
  minGroupSamples?: number;
  range?: TimeRange;
  now?: Date;
}

export const DEFAULT_MIN_SAMPLES = 1000;
const DEFAULT_MIN_GROUP_SAMPLES = 30;

export interface ScoreEvaluation {
  /** Correct when (trust >= review threshold) equals the outcome. */
  accuracy: number | null;
  /** Failures scored at or above the review threshold, over all failures. */
  falsePositiveRate: number | null;
  /** Samples scored at or above the auto-apply threshold, over all samples. */
  autoApprovalRate: number | null;
  /** Successes among samples scored at or above the auto-apply threshold. */
  autoApplyPrecision: number | null;
  auc: number | null;
  brier: number | null;
  logLoss: number | null;
  ece: number | null;
  /** Counts at the review threshold. */
  confusion: { tp: number; fp: number; tn: number; fn: number };
  /** Samples at or above the auto-apply threshold, and the successes among them. */
  autoApplied: { samples: number; successes: number };
  /** Wilson 95% intervals of the four proportions above. */
  intervals: {
    accuracy: Interval | null;
    falsePositiveRate: Interval | null;
    autoApprovalRate: Interval | null;
    autoApplyPrecision: Interval | null;
  };
}

export interface GroupRow {
  group: string;
  samples: number;
  successRate: number | null;
  mlAccuracy: number | null;
  mlAccuracyInterval: Interval | null;
  heuristicAccuracy: number | null;
  heuristicAccuracyInterval: Interval | null;
  /** Model minus heuristic accuracy, in points, with Newcombe's paired interval. */
  improvementPoints: number | null;
  improvementInterval: Interval | null;
  mlFalsePositiveRate: number | null;
  mlAutoApprovalRate: number | null;
}

export interface TimeBucket {
  /** Start of the bucket, YYYY-MM-DD (UTC). */
  start: string;
  samples: number;
  mlAccuracy: number | null;
  heuristicAccuracy: number | null;
}

export interface HistogramBin {
  lower: number;
  upper: number;
  successes: number;
  failures: number;
}

export type Verdict = "met" | "not met" | "inconclusive" | "no data";

export interface ValidationRow {
  id: "accuracy" | "improvement" | "falsePositiveRate" | "autoApprovalRate" | "latencyP99" | "throughput";
  target: string;
  value: number | null;
  interval: Interval | null;
  unit: "share" | "points" | "ms" | "per hour";
  verdict: Verdict;
  basis: string;
}

export interface AccuracyReport {
  generatedAt: string;
  range: { since: string | null; until: string | null };
  thresholds: TierThresholds;
  definitions: Record<string, string>;
  funnel: SampleFunnel;
  /** Paired samples: scored by the model and by the heuristic, with a verified outcome. */
  samples: number;
  /** Repositories the samples come from. */
  repositories: number;
  successRate: number | null;
  ml: ScoreEvaluation;
  heuristic: ScoreEvaluation;
  majority: ScoreEvaluation & { predicts: "success" | "failure" | null };
  paired: PairedTable;
  /** Model minus heuristic accuracy, in percentage points. */
  improvementPoints: number | null;
  improvementInterval: Interval | null;
  mcnemar: McNemarResult | null;
  mcnemarP: number | null;
  /** The model's figures again at the top level, as the dashboard and scripts read them. */
  falsePositiveRate: number | null;
  autoApprovalRate: number | null;
  autoApplyPrecision: number | null;
  auc: number | null;
  latency: LatencySummary;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  throughput: ThroughputSummary;
  byProjectType: { sizeBand: GroupRow[]; hasTests: GroupRow[]; framework: GroupRow[] };
  consistency: { groupsJudged: number; groupsWhereModelWins: number; statement: string };
  perRecipe: GroupRow[];
  overTime: { granularity: "day" | "week"; buckets: TimeBucket[] };
  calibration: { ml: CalibrationBin[]; heuristic: CalibrationBin[] };
  /** Where the auto-apply threshold would have to sit for each wanted precision, model and heuristic. */
  operatingPoints: ComparedOperatingPoint[];
  histogram: HistogramBin[];
  validation: ValidationRow[];
  /** The maintainers' answers: how often verified fixes were accepted, by tier (src/analytics/acceptance.ts). */
  acceptance: AcceptanceRow[];
  minSamples: number;
  conclusive: boolean;
  statement: string;
}

const DEFINITIONS = {
  sample:
    "a stored prediction that the model scored (used_ml true, ml_trust present) and whose outcome was verified (outcomes.status = 'verified'); outcomes whose verification itself failed are left out",
  positive:
    "a score predicts success when it reaches the review threshold, i.e. its tier is not manual-only (trust >= review threshold)",
  thresholds:
    "tiers are recomputed from each score with the global thresholds (ML_CONFIDENCE_THRESHOLD, ML_AUTO_APPLY_THRESHOLD) rather than read from the stored tier, which may carry a repository's stricter thresholds, so that model and heuristic are judged alike",
  accuracy:
    "share of samples where the prediction (positive or not) equals the outcome (success or not); the model uses ml_trust, the heuristic heuristic_trust, on the same samples (paired)",
  falsePositiveRate: "failures predicted positive (tier not manual-only), over all failures",
  autoApprovalRate: "samples scored at or above the auto-apply threshold, over all samples",
  autoApplyPrecision: "successes among samples scored at or above the auto-apply threshold",
  auc: "area under the ROC curve of the raw score against the outcome (rank-sum, ties count one half)",
  operatingPoints:
    "for each wanted auto-apply precision, the lowest threshold at which the samples scored at or above it succeed at least that often (most auto-applied), with the share of all samples and of all failures at or above it; ties at the threshold go in together. It compares model and heuristic at equal precision, whatever thresholds are configured",
  majority:
    "always predict the majority outcome of the samples (success on a tie) with trust 1 (success) or 0 (failure)",
  proportionIntervals: "95% Wilson score intervals without continuity correction",
  differenceInterval:
    "95% Newcombe hybrid score interval for the difference of paired proportions (Newcombe 1998, method 10)",
  mcnemar:
    "McNemar's test on the discordant pairs: exact two-sided binomial test when there are fewer than 25, chi-square with continuity correction (1 df) otherwise",
  latency:
    "per-candidate prediction latency (batch latency / candidates) of predictions on which a model ran; nearest-rank percentiles",
  throughput: "verified executions recorded in the busiest clock hour (UTC)",
  acceptance:
    "a verified fix is accepted when its pull request was merged and no later push to the branch it went into reverted it; the rate is over the pull requests answered (merged, closed unmerged or reverted), by the tier the pull request showed, with a 95% Wilson interval. Stored only for repositories that consent to data collection",
  reverted:
    'a merged fix counts as reverted when a later push to its base branch carries a commit whose message starts with Revert "<the pull request\'s title>" (or Revert "<title> (#<number>)") or says "This reverts commit <sha>" of its merge commit or its own commit',
  verdict:
    "met when the whole 95% interval satisfies the target, not met when none of it does, inconclusive otherwise; figures without an interval are judged on their value",
  independence:
    "the intervals and McNemar's test treat samples as independent; candidates of one repository share its code and history, so with few repositories the true uncertainty is larger than shown, which is why results are also broken down by project type",
} as const;

/** Evaluates one score against the outcomes at the tier thresholds. */
function evaluateScores(labels: readonly number[], scores: readonly number[], t: TierThresholds): ScoreEvaluation {
  const review = confusion(labels, scores, t.review);
  const auto = confusion(labels, scores, t.autoApply);
  const n = labels.length;
  const acc = wilsonInterval(review.tp + review.tn, n);
  const fpr = wilsonInterval(review.fp, review.fp + review.tn);
  const approval = wilsonInterval(auto.tp + auto.fp, n);
  const precision = wilsonInterval(auto.tp, auto.tp + auto.fp);
  return {
    accuracy: acc?.estimate ?? null,
    falsePositiveRate: fpr?.estimate ?? null,
    autoApprovalRate: approval?.estimate ?? null,
    autoApplyPrecision: precision?.estimate ?? null,
    auc: auc(labels, scores),
    brier: brier(labels, scores),
    logLoss: logLoss(labels, scores),
    ece: expectedCalibrationError(labels, scores),
    confusion: review,
    autoApplied: { samples: auto.tp + auto.fp, successes: auto.tp },
    intervals: {
      accuracy: ivl(acc),
      falsePositiveRate: ivl(fpr),
      autoApprovalRate: ivl(approval),
      autoApplyPrecision: ivl(precision),
    },
  };
}

/** The paired 2x2 table of model (first) and heuristic (second) correctness. */
function pairedTable(
  labels: readonly number[],
  first: readonly number[],
  second: readonly number[],
  threshold: number,
): PairedTable {
  const t: PairedTable = { both: 0, onlyFirst: 0, onlySecond: 0, neither: 0 };
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] === 1;
    const a = (first[i] as number) >= threshold === y;
    const b = (second[i] as number) >= threshold === y;
    if (a && b) t.both++;
    else if (a) t.onlyFirst++;
    else if (b) t.onlySecond++;
    else t.neither++;
  }
  return t;
}

const ivl = (p: ProportionEstimate | null): Interval | null => (p ? { lower: p.lower, upper: p.upper } : null);

const share = (k: number, n: number): number | null => (n ? k / n : null);

function groupRow(group: string, idx: readonly number[], s: EvaluationSamples, t: TierThresholds): GroupRow {
  const labels = idx.map((i) => s.success[i] as number);
  const ml = idx.map((i) => s.mlTrust[i] as number);
  const h = idx.map((i) => s.heuristicTrust[i] as number);
  const table = pairedTable(labels, ml, h, t.review);
  const diff = newcombePairedDifference(table);
  const mlEval = evaluateScores(labels, ml, t);
  return {
    group,
    samples: idx.length,
    successRate: share(
      labels.reduce((a, b) => a + b, 0),
      labels.length,
    ),
    mlAccuracy: mlEval.accuracy,
    mlAccuracyInterval: mlEval.intervals.accuracy,
    heuristicAccuracy: h.length ? (table.both + table.onlySecond) / h.length : null,
    heuristicAccuracyInterval: ivl(wilsonInterval(table.both + table.onlySecond, h.length)),
    improvementPoints: diff ? diff.estimate * 100 : null,
    improvementInterval: diff ? { lower: diff.lower * 100, upper: diff.upper * 100 } : null,
    mlFalsePositiveRate: mlEval.falsePositiveRate,
    mlAutoApprovalRate: mlEval.autoApprovalRate,
  };
}

/** Indices of the samples per key, groups ordered by size (largest first), then name. */
function groupBy(s: EvaluationSamples, key: (i: number) => string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < s.size; i++) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return new Map([...m].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** Size bands by lines of TypeScript and JavaScript. */
const SIZE_BANDS = [
  { label: "small (< 10k lines)", below: 10_000 },
  { label: "medium (10k-100k lines)", below: 100_000 },
  { label: "large (>= 100k lines)", below: Number.POSITIVE_INFINITY },
] as const;

function sizeBand(linesOfCode: number | null): string {
  if (linesOfCode === null) return "unknown";
  return (SIZE_BANDS.find((b) => linesOfCode < b.below) ?? SIZE_BANDS[2]).label;
}

/** Frameworks beyond this many (by samples) are pooled as "other", so the table stays readable. */
const MAX_FRAMEWORKS = 8;

function byProjectType(s: EvaluationSamples, t: TierThresholds): AccuracyReport["byProjectType"] {
  const rows = (m: Map<string, number[]>) => [...m].map(([k, idx]) => groupRow(k, idx, s, t));
  const size = groupBy(s, (i) => sizeBand(s.linesOfCode[i] ?? null));
  const tests = groupBy(s, (i) => {
    const v = s.hasTests[i];
    return v === null || v === undefined ? "unknown" : v ? "has tests" : "no tests";
  });
  const fwCounts = groupBy(s, (i) => s.framework[i] ?? "unknown");
  const kept = new Set([...fwCounts.keys()].slice(0, MAX_FRAMEWORKS));
  const fw = groupBy(s, (i) => {
    const f = s.framework[i] ?? "unknown";
    return kept.has(f) ? f : "other";
  });
  const order = (m: Map<string, number[]>, labels: readonly string[]) =>
    new Map(labels.flatMap((l) => (m.has(l) ? [[l, m.get(l) as number[]] as const] : [])));
  return {
    sizeBand: rows(order(size, [...SIZE_BANDS.map((b) => b.label), "unknown"])),
    hasTests: rows(order(tests, ["has tests", "no tests", "unknown"])),
    framework: rows(fw),
  };
}

const DAY = 86_400_000;
/** Beyond this many days, accuracy over time is shown per week so that each point has enough samples. */
const DAILY_UP_TO_DAYS = 120;

function overTime(s: EvaluationSamples, t: TierThresholds): AccuracyReport["overTime"] {
  if (s.size === 0) return { granularity: "day", buckets: [] };
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const a of s.at) {
    if (a < min) min = a;
    if (a > max) max = a;
  }
  const granularity = (max - min) / DAY > DAILY_UP_TO_DAYS ? "week" : "day";
  const bucketStart = (ms: number): number => {
    const day = Math.floor(ms / DAY) * DAY;
    if (granularity === "day") return day;
    // ISO weeks start on Monday; 1970-01-01 was a Thursday.
    const weekday = (new Date(day).getUTCDay() + 6) % 7;
    return day - weekday * DAY;
  };
  const buckets = new Map<number, { n: number; ml: number; h: number }>();
  for (let i = 0; i < s.size; i++) {
    const k = bucketStart(s.at[i] as number);
    const b = buckets.get(k) ?? { n: 0, ml: 0, h: 0 };
    const y = s.success[i] === 1;
    b.n++;
    if ((s.mlTrust[i] as number) >= t.review === y) b.ml++;
    if ((s.heuristicTrust[i] as number) >= t.review === y) b.h++;
    buckets.set(k, b);
  }
  return {
    granularity,
    buckets: [...buckets]
      .sort((a, b) => a[0] - b[0])
      .map(([k, b]) => ({
        start: new Date(k).toISOString().slice(0, 10),
        samples: b.n,
        mlAccuracy: b.ml / b.n,
        heuristicAccuracy: b.h / b.n,
      })),
  };
}

const HISTOGRAM_BINS = 20;

function histogram(s: EvaluationSamples): HistogramBin[] {
  const bins: HistogramBin[] = Array.from({ length: HISTOGRAM_BINS }, (_, i) => ({
    lower: i / HISTOGRAM_BINS,
    upper: (i + 1) / HISTOGRAM_BINS,
    successes: 0,
    failures: 0,
  }));
  for (let i = 0; i < s.size; i++) {
    const p = s.mlTrust[i] as number;
    const b = bins[Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(p * HISTOGRAM_BINS)))] as HistogramBin;
    if (s.success[i] === 1) b.successes++;
    else b.failures++;
  }
  return bins;
}

function atLeast(value: number | null, interval: Interval | null, target: number): Verdict {
  if (value === null) return "no data";
  if (!interval) return value >= target ? "met" : "not met";
  if (interval.lower >= target) return "met";
  if (interval.upper < target) return "not met";
  return "inconclusive";
}

function below(value: number | null, interval: Interval | null, target: number): Verdict {
  if (value === null) return "no data";
  if (!interval) return value < target ? "met" : "not met";
  if (interval.upper < target) return "met";
  if (interval.lower >= target) return "not met";
  return "inconclusive";
}

function within(value: number | null, interval: Interval | null, [lo, hi]: readonly [number, number]): Verdict {
  if (value === null) return "no data";
  if (!interval) return value >= lo && value <= hi ? "met" : "not met";
  if (interval.lower >= lo && interval.upper <= hi) return "met";
  if (interval.upper < lo || interval.lower > hi) return "not met";
  return "inconclusive";
}

function validation(r: Omit<AccuracyReport, "validation" | "conclusive" | "statement">): ValidationRow[] {
  const { ml } = r;
  return [
    {
      id: "accuracy",
      target: `model accuracy >= ${TARGETS.minAccuracy * 100}%`,
      value: ml.accuracy,
      interval: ml.intervals.accuracy,
      unit: "share",
      verdict: atLeast(ml.accuracy, ml.intervals.accuracy, TARGETS.minAccuracy),
      basis: "Wilson 95% interval",
    },
    {
      id: "improvement",
      target: `model accuracy >= heuristic + ${TARGETS.minImprovementPoints} points`,
      value: r.improvementPoints,
      interval: r.improvementInterval,
      unit: "points",
      verdict: atLeast(r.improvementPoints, r.improvementInterval, TARGETS.minImprovementPoints),
      basis: "Newcombe 95% paired interval",
    },
    {
      id: "falsePositiveRate",
      target: `false-positive rate < ${TARGETS.maxFalsePositiveRate * 100}%`,
      value: ml.falsePositiveRate,
      interval: ml.intervals.falsePositiveRate,
      unit: "share",
      verdict: below(ml.falsePositiveRate, ml.intervals.falsePositiveRate, TARGETS.maxFalsePositiveRate),
      basis: "Wilson 95% interval over failures",
    },
    {
      id: "autoApprovalRate",
      target: `auto-approval rate between ${TARGETS.autoApprovalRange[0] * 100}% and ${TARGETS.autoApprovalRange[1] * 100}%`,
      value: ml.autoApprovalRate,
      interval: ml.intervals.autoApprovalRate,
      unit: "share",
      verdict: within(ml.autoApprovalRate, ml.intervals.autoApprovalRate, TARGETS.autoApprovalRange),
      basis: "Wilson 95% interval",
    },
    {
      id: "latencyP99",
      target: `prediction latency p99 < ${TARGETS.maxLatencyP99Ms} ms`,
      value: r.latency.p99Ms,
      interval: null,
      unit: "ms",
      verdict: below(r.latency.p99Ms, null, TARGETS.maxLatencyP99Ms),
      basis: `nearest-rank p99 of ${r.latency.samples} predictions`,
    },
    {
      id: "throughput",
      target: `pipeline takes >= ${TARGETS.minExecutionsPerHour} executions an hour`,
      value: r.throughput.activeHours ? r.throughput.peakPerHour : null,
      interval: null,
      unit: "per hour",
      verdict: atLeast(r.throughput.activeHours ? r.throughput.peakPerHour : null, null, TARGETS.minExecutionsPerHour),
      basis: r.throughput.peakHour ? `busiest hour ${r.throughput.peakHour}` : "no verified executions",
    },
  ];
}

export interface ReportInputs {
  samples: EvaluationSamples;
  funnel: SampleFunnel;
  latency: LatencySummary;
  throughput: ThroughputSummary;
  /** The maintainers' answers (none when absent). */
  acceptance?: AcceptanceCounts;
}

function computeReport(inputs: ReportInputs, options: ReportOptions = {}): AccuracyReport {
  const t = options.thresholds ?? DEFAULT_THRESHOLDS;
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
  const minGroup = options.minGroupSamples ?? DEFAULT_MIN_GROUP_SAMPLES;
  const s = inputs.samples;
  const labels = s.success;
  const n = s.size;
  const positives = labels.reduce((a, b) => a + b, 0);
  const ml = evaluateScores(labels, s.mlTrust, t);
  const heuristic = evaluateScores(labels, s.heuristicTrust, t);
  const predicts = n === 0 ? null : positives * 2 >= n ? "success" : "failure";
  const majority = {
    ...evaluateScores(labels, new Array<number>(n).fill(predicts === "success" ? 1 : 0), t),
    predicts,
  } as const;
  const paired = pairedTable(labels, s.mlTrust, s.heuristicTrust, t.review);
  const diff = newcombePairedDifference(paired);
  const mcnemar = n ? mcnemarTest(paired.onlyFirst, paired.onlySecond) : null;
  const types = byProjectType(s, t);
  const judged = [...types.sizeBand, ...types.hasTests, ...types.framework].filter((g) => g.samples >= minGroup);
  const wins = judged.filter((g) => (g.improvementPoints ?? 0) > 0).length;
  const consistency = {
    groupsJudged: judged.length,
    groupsWhereModelWins: wins,
    statement:
      judged.length === 0
        ? `No project-type group has ${minGroup} samples yet: consistency across project types cannot be judged.`
        : wins === judged.length
          ? `The model is more accurate than the heuristic in all ${judged.length} project-type groups with at least ${minGroup} samples.`
          : `The model is more accurate than the heuristic in ${wins} of ${judged.length} project-type groups with at least ${minGroup} samples: the advantage is not consistent across project types.`,
  };
  const base = {
    generatedAt: (options.now ?? new Date()).toISOString(),
    range: {
      since: options.range?.since?.toISOString() ?? null,
      until: options.range?.until?.toISOString() ?? null,
    },
    thresholds: { review: t.review, autoApply: t.autoApply },
    definitions: { ...DEFINITIONS },
    funnel: inputs.funnel,
    samples: n,
    repositories: new Set(s.repositoryId).size,
    successRate: share(positives, n),
    ml,
    heuristic,
    majority,
    paired,
    improvementPoints: diff ? diff.estimate * 100 : null,
    improvementInterval: diff ? { lower: diff.lower * 100, upper: diff.upper * 100 } : null,
    mcnemar,
    mcnemarP: mcnemar?.p ?? null,
    falsePositiveRate: ml.falsePositiveRate,
    autoApprovalRate: ml.autoApprovalRate,
    autoApplyPrecision: ml.autoApplyPrecision,
    auc: ml.auc,
    latency: inputs.latency,
    latencyP50Ms: inputs.latency.p50Ms,
    latencyP99Ms: inputs.latency.p99Ms,
    throughput: inputs.throughput,
    byProjectType: types,
    consistency,
    perRecipe: [...groupBy(s, (i) => s.recipeId[i] as string)].map(([k, idx]) => groupRow(k, idx, s, t)),
    overTime: overTime(s, t),
    calibration: { ml: calibrationBins(labels, s.mlTrust), heuristic: calibrationBins(labels, s.heuristicTrust) },
    operatingPoints: comparedOperatingPoints(labels, s.mlTrust, s.heuristicTrust),
    histogram: histogram(s),
    acceptance: acceptanceRows(inputs.acceptance ?? EMPTY_ACCEPTANCE),
    minSamples,
  };
  const rows = validation(base);
  const open = rows.filter((r) => r.verdict === "inconclusive" || r.verdict === "no data");
  const conclusive = n >= minSamples && open.length === 0;
  let statement: string;
  if (n === 0) {
    statement =
      "There are no samples yet (no model-scored prediction with a verified outcome): nothing can be concluded.";
  } else if (n < minSamples) {
    statement = `The sample is too small to conclude: ${n} samples (from ${base.repositories} repositories), fewer than the ${minSamples} this report requires before it draws conclusions. The figures below describe these samples only.`;
  } else if (open.length) {
    statement = `${n} samples from ${base.repositories} repositories. The evidence does not settle ${open.map((r) => r.target).join("; ")}: the 95% interval still includes the target's boundary, or there is no data.`;
  } else {
    statement = `${n} samples from ${base.repositories} repositories. Every target is settled by its 95% interval: ${rows.filter((r) => r.verdict === "met").length} of ${rows.length} met.`;
  }
  return { ...base, validation: rows, conclusive, statement };
}

export async function buildReport(db: DbOrTx, options: ReportOptions = {}): Promise<AccuracyReport> {
  const range = options.range ?? {};
  const [samples, funnel, latency, throughput, acceptance] = [
    await loadEvaluationSamples(db, range),
    await loadFunnel(db, range),
    await loadLatency(db, range),
    await loadThroughput(db, range),
    await loadAcceptance(db, range),
  ];
  return computeReport({ samples, funnel, latency, throughput, acceptance }, options);
}
