/** ACCURACY_REPORT.md: the accuracy report as Markdown, every figure from {@link AccuracyReport}. */
import type { CalibrationBin, OperatingPoint } from "../model/metrics.js";
import { int, ms, num, pct, pctInterval, points, pointsInterval, pValue } from "./format.js";
import type { AccuracyReport, GroupRow, ScoreEvaluation, ValidationRow } from "./report.js";

/** "falsePositiveRate" -> "false positive rate". */
export const definitionLabel = (key: string): string => key.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function mdTable(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.map(cell).join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
}

export function validationValue(r: ValidationRow): string {
  switch (r.unit) {
    case "share":
      return pct(r.value);
    case "points":
      return points(r.value);
    case "ms":
      return ms(r.value);
    case "per hour":
      return int(r.value);
  }
}

export function validationInterval(r: ValidationRow): string {
  if (!r.interval) return "-";
  return r.unit === "points" ? pointsInterval(r.interval) : pctInterval(r.interval);
}

const withCi = (v: number | null, i: { lower: number; upper: number } | null): string =>
  v === null ? "n/a" : `${pct(v)} (${pctInterval(i)})`;

function scoreRows(r: AccuracyReport): string[][] {
  const cols: ScoreEvaluation[] = [r.ml, r.heuristic, r.majority];
  const row = (label: string, f: (e: ScoreEvaluation) => string) => [label, ...cols.map(f)];
  return [
    row("accuracy", (e) => withCi(e.accuracy, e.intervals.accuracy)),
    row("false-positive rate", (e) => withCi(e.falsePositiveRate, e.intervals.falsePositiveRate)),
    row("auto-approval rate", (e) => withCi(e.autoApprovalRate, e.intervals.autoApprovalRate)),
    row("auto-apply precision", (e) => withCi(e.autoApplyPrecision, e.intervals.autoApplyPrecision)),
    row("AUC", (e) => num(e.auc)),
    row("Brier score", (e) => num(e.brier)),
    row("log-loss", (e) => num(e.logLoss)),
    row("expected calibration error", (e) => num(e.ece)),
    row(
      "confusion at review (tp / fp / tn / fn)",
      (e) => `${e.confusion.tp} / ${e.confusion.fp} / ${e.confusion.tn} / ${e.confusion.fn}`,
    ),
  ];
}

export const OPERATING_POINT_HEAD = [
  "precision at least",
  "model: threshold",
  "model: auto-applied",
  "model: failures auto-applied",
  "heuristic: threshold",
  "heuristic: auto-applied",
  "heuristic: failures auto-applied",
];

/** One row per wanted precision: where each score's threshold would sit, and what it would auto-apply. */
export function operatingPointRows(r: AccuracyReport): string[][] {
  const cells = (o: OperatingPoint | null) =>
    o ? [num(o.threshold), pct(o.approvalRate), pct(o.failuresApproved)] : ["never reached", "-", "-"];
  return r.operatingPoints.map((o) => [pct(o.minPrecision), ...cells(o.model), ...cells(o.heuristic)]);
}

function groupTable(rows: readonly GroupRow[], first = "group"): string[] {
  if (rows.length === 0) return ["No samples."];
  return mdTable(
    [
      first,
      "samples",
      "success rate",
      "model accuracy (95% CI)",
      "heuristic accuracy (95% CI)",
      "difference, points (95% CI)",
      "model FPR",
      "model auto-approval",
    ],
    rows.map((g) => [
      g.group,
      int(g.samples),
      pct(g.successRate),
      withCi(g.mlAccuracy, g.mlAccuracyInterval),
      withCi(g.heuristicAccuracy, g.heuristicAccuracyInterval),
      `${points(g.improvementPoints)} (${pointsInterval(g.improvementInterval)})`,
      pct(g.mlFalsePositiveRate),
      pct(g.mlAutoApprovalRate),
    ]),
  );
}

function calibrationTable(ml: readonly CalibrationBin[], h: readonly CalibrationBin[]): string[] {
  return mdTable(
    [
      "trust bin",
      "model: samples",
      "model: mean trust",
      "model: observed",
      "heuristic: samples",
      "heuristic: mean trust",
      "heuristic: observed",
    ],
    ml.map((b, i) => {
      const hb = h[i] as CalibrationBin;
      return [
        `${b.lower.toFixed(1)}-${b.upper.toFixed(1)}`,
        int(b.count),
        num(b.meanPredicted),
        pct(b.observedRate),
        int(hb.count),
        num(hb.meanPredicted),
        pct(hb.observedRate),
      ];
    }),
  );
}

export function renderReportMarkdown(r: AccuracyReport): string {
  const range =
    r.range.since || r.range.until
      ? `predictions made ${r.range.since ? `from ${r.range.since}` : ""}${r.range.since && r.range.until ? " " : ""}${r.range.until ? `before ${r.range.until}` : ""}`
      : "all stored predictions";
  const m = r.mcnemar;
  const lines: string[] = [
    "# ODAVL Autopilot: accuracy report",
    "",
    `Generated ${r.generatedAt} from ${range}. Tier thresholds: review ${r.thresholds.review}, auto-apply ${r.thresholds.autoApply}.`,
    "",
    "## Conclusion",
    "",
    r.statement,
    "",
    "## Validation against the targets",
    "",
    ...mdTable(
      ["target", "value", "95% interval", "verdict", "basis"],
      r.validation.map((v) => [v.target, validationValue(v), validationInterval(v), v.verdict, v.basis]),
    ),
    "",
    `A verdict is "met" when the whole 95% interval satisfies the target, "not met" when none of it does, and "inconclusive" when the interval straddles the target. Figures without an interval are judged on their value.`,
    "",
    "## Model and heuristic on the same samples",
    "",
    `${int(r.samples)} samples from ${int(r.repositories)} repositories, ${pct(r.successRate)} of which succeeded. Each score is judged on every one of them.`,
    "",
    ...mdTable(
      ["metric", "model", "heuristic", `majority baseline (always ${r.majority.predicts ?? "n/a"})`],
      scoreRows(r),
    ),
    "",
    `**Difference in accuracy (model minus heuristic):** ${points(r.improvementPoints)} points, 95% interval ${pointsInterval(r.improvementInterval)} (Newcombe's paired score interval).`,
    "",
    m
      ? `**McNemar's test:** the model alone was right on ${m.b} samples, the heuristic alone on ${m.c}; ${m.method === "exact" ? "exact two-sided binomial test" : `chi-square with continuity correction ${num(m.statistic, 3)} (1 df)`}, p = ${pValue(m.p)}.`
      : "**McNemar's test:** no samples.",
    "",
    ...mdTable(
      ["", "heuristic right", "heuristic wrong"],
      [
        ["model right", int(r.paired.both), int(r.paired.onlyFirst)],
        ["model wrong", int(r.paired.onlySecond), int(r.paired.neither)],
      ],
    ),
    "",
    "## Operating points",
    "",
    "Where the auto-apply threshold would have to sit for each precision, whatever threshold is configured: model and heuristic compared at equal precision.",
    "",
    ...mdTable(OPERATING_POINT_HEAD, operatingPointRows(r)),
    "",
    "## The samples",
    "",
    ...mdTable(
      ["stage", "predictions"],
      [
        ["stored predictions", int(r.funnel.predictions)],
        ["with an outcome", int(r.funnel.withOutcome)],
        ["outcome verified (not a verification error)", int(r.funnel.verified)],
        ["verified and scored by the model (the samples)", int(r.funnel.verifiedScoredByModel)],
      ],
    ),
    "",
    "## By project type",
    "",
    r.consistency.statement,
    "",
    "### Size",
    "",
    ...groupTable(r.byProjectType.sizeBand, "size"),
    "",
    "### Tests",
    "",
    ...groupTable(r.byProjectType.hasTests, "tests"),
    "",
    "### Framework",
    "",
    ...groupTable(r.byProjectType.framework, "framework"),
    "",
    "## Per recipe",
    "",
    ...groupTable(r.perRecipe, "recipe"),
    "",
    "## Latency and throughput",
    "",
    `Prediction latency over ${int(r.latency.samples)} predictions on which a model ran: p50 ${ms(r.latency.p50Ms)}, p99 ${ms(r.latency.p99Ms)}, max ${ms(r.latency.maxMs)}.`,
    "",
    `Verified executions: ${int(r.throughput.peakPerHour)} in the busiest hour${r.throughput.peakHour ? ` (${r.throughput.peakHour})` : ""}, ${r.throughput.meanPerActiveHour === null ? "n/a" : r.throughput.meanPerActiveHour.toFixed(1)} per active hour over ${int(r.throughput.activeHours)} active hours.`,
    "",
    "## Accuracy over time",
    "",
    ...(r.overTime.buckets.length
      ? mdTable(
          [`${r.overTime.granularity} starting (UTC)`, "samples", "model accuracy", "heuristic accuracy"],
          r.overTime.buckets.map((b) => [b.start, int(b.samples), pct(b.mlAccuracy), pct(b.heuristicAccuracy)]),
        )
      : ["No samples."]),
    "",
    "## Calibration",
    "",
    ...calibrationTable(r.calibration.ml, r.calibration.heuristic),
    "",
    "## Definitions and methods",
    "",
    ...Object.entries(r.definitions).map(([k, v]) => `- **${definitionLabel(k)}**: ${v}.`),
    `- **too small to conclude**: fewer than ${r.minSamples} samples, whatever the intervals say.`,
    "",
  ];
  return lines.join("\n");
}
