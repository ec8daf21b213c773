/**
 * The tables of the accuracy report, defined once: their columns, rows and cell formatting (intervals included).
 * ACCURACY_REPORT.md (report-markdown.ts) and report.html (report-html.ts) render the same models, so that both
 * show the same rows with the same figures.
 */
import type { CalibrationBin, OperatingPoint } from "../model/metrics.js";
import type { AcceptanceRow } from "./acceptance.js";
import { int, ms, num, pct, pctInterval, points, pointsInterval } from "./format.js";
import type { AccuracyReport, GroupRow, ScoreEvaluation, ValidationRow } from "./report.js";
import type { Interval } from "./stats.js";

export interface TableModel {
  head: string[];
  rows: string[][];
  /** Shown instead of the table when it has no rows. */
  empty?: string;
}

/** A share and its 95% interval: "85.0% (80.1-89.2%)". */
const withCi = (v: number | null, i: Interval | null): string => (v === null ? "n/a" : `${pct(v)} (${pctInterval(i)})`);

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

function validationInterval(r: ValidationRow): string {
  if (!r.interval) return "-";
  return r.unit === "points" ? pointsInterval(r.interval) : pctInterval(r.interval);
}

const VALIDATION_HEAD = ["target", "value", "95% interval", "verdict", "basis"];

/** Validation rows; the verdict is the fourth cell (the HTML report colours it). */
export function validationTable(r: AccuracyReport): TableModel {
  return {
    head: VALIDATION_HEAD,
    rows: r.validation.map((v) => [v.target, validationValue(v), validationInterval(v), v.verdict, v.basis]),
  };
}

/** Model, heuristic and majority baseline on the same samples. */
export function scoreTable(r: AccuracyReport): TableModel {
  const cols: ScoreEvaluation[] = [r.ml, r.heuristic, r.majority];
  const row = (label: string, f: (e: ScoreEvaluation) => string) => [label, ...cols.map(f)];
  return {
    head: ["metric", "model", "heuristic", `majority baseline (always ${r.majority.predicts ?? "n/a"})`],
    rows: [
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
    ],
  };
}

export function pairedTableModel(r: AccuracyReport): TableModel {
  return {
    head: ["", "heuristic right", "heuristic wrong"],
    rows: [
      ["model right", int(r.paired.both), int(r.paired.onlyFirst)],
      ["model wrong", int(r.paired.onlySecond), int(r.paired.neither)],
    ],
  };
}

const OPERATING_POINT_HEAD = [
  "precision at least",
  "model: threshold",
  "model: auto-applied",
  "model: failures auto-applied",
  "heuristic: threshold",
  "heuristic: auto-applied",
  "heuristic: failures auto-applied",
];

/** One row per wanted precision: where each score's threshold would sit, and what it would auto-apply. */
function operatingPointRows(r: AccuracyReport): string[][] {
  const cells = (o: OperatingPoint | null) =>
    o ? [num(o.threshold), pct(o.approvalRate), pct(o.failuresApproved)] : ["never reached", "-", "-"];
  return r.operatingPoints.map((o) => [pct(o.minPrecision), ...cells(o.model), ...cells(o.heuristic)]);
}

export function operatingPointTable(r: AccuracyReport): TableModel {
  return { head: OPERATING_POINT_HEAD, rows: operatingPointRows(r) };
}

/** Project types and recipes: samples, success rate, both accuracies with intervals, their difference. */
export function groupTable(rows: readonly GroupRow[], first = "group"): TableModel {
  return {
    head: [
      first,
      "samples",
      "success rate",
      "model accuracy (95% CI)",
      "heuristic accuracy (95% CI)",
      "difference, points (95% CI)",
      "model FPR",
      "model auto-approval",
    ],
    rows: rows.map((g) => [
      g.group,
      int(g.samples),
      pct(g.successRate),
      withCi(g.mlAccuracy, g.mlAccuracyInterval),
      withCi(g.heuristicAccuracy, g.heuristicAccuracyInterval),
      `${points(g.improvementPoints)} (${pointsInterval(g.improvementInterval)})`,
      pct(g.mlFalsePositiveRate),
      pct(g.mlAutoApprovalRate),
    ]),
    empty: "No samples.",
  };
}

export function samplesTable(r: AccuracyReport): TableModel {
  return {
    head: ["stage", "predictions"],
    rows: [
      ["stored predictions", int(r.funnel.predictions)],
      ["with an outcome", int(r.funnel.withOutcome)],
      ["outcome verified (not a verification error)", int(r.funnel.verified)],
      ["verified and scored by the model (the samples)", int(r.funnel.verifiedScoredByModel)],
    ],
  };
}

export function overTimeTable(r: AccuracyReport): TableModel {
  return {
    head: [`${r.overTime.granularity} starting (UTC)`, "samples", "model accuracy", "heuristic accuracy"],
    rows: r.overTime.buckets.map((b) => [b.start, int(b.samples), pct(b.mlAccuracy), pct(b.heuristicAccuracy)]),
    empty: "No samples.",
  };
}

export function calibrationTable(r: AccuracyReport): TableModel {
  const h = r.calibration.heuristic;
  return {
    head: [
      "trust bin",
      "model: samples",
      "model: mean trust",
      "model: observed",
      "heuristic: samples",
      "heuristic: mean trust",
      "heuristic: observed",
    ],
    rows: r.calibration.ml.map((b, i) => {
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
  };
}

export const ACCEPTANCE_INTRO =
  "What maintainers did with verified fixes: the fixes a check run showed, the Apply presses, the pull requests opened (Apply or auto-apply) and what became of them. Accepted: merged and not reverted since, over the pull requests answered (merged, closed unmerged or reverted). Only repositories that consent to data collection are counted.";

/** The maintainers' answers, one row per tier the fix was shown in, then all tiers. */
export function acceptanceTable(rows: readonly AcceptanceRow[]): TableModel {
  return {
    head: [
      "tier",
      "verified fixes shown",
      "Apply presses",
      "pull requests",
      "open",
      "merged",
      "closed unmerged",
      "reverted",
      "accepted (95% CI)",
    ],
    rows: rows.map((a) => [
      a.tier,
      int(a.verifiedFixes),
      int(a.applyClicks),
      int(a.pullRequests),
      int(a.open),
      int(a.merged),
      int(a.closedUnmerged),
      int(a.reverted),
      withCi(a.acceptance, a.acceptanceInterval),
    ]),
    empty: "No fixes shown or applied yet.",
  };
}
