/** ACCURACY_REPORT.md: the accuracy report as Markdown, every figure from {@link AccuracyReport}. */
import { int, ms, num, pct, points, pointsInterval, pValue } from "./format.js";
import type { AccuracyReport } from "./report.js";
import {
  ACCEPTANCE_INTRO,
  acceptanceTable,
  calibrationTable,
  groupTable,
  operatingPointTable,
  overTimeTable,
  pairedTableModel,
  samplesTable,
  scoreTable,
  type TableModel,
  validationTable,
} from "./report-tables.js";

/** "falsePositiveRate" -> "false positive rate". */
export const definitionLabel = (key: string): string => key.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A table model as Markdown lines (its `empty` text when it has no rows). */
function mdTable(t: TableModel): string[] {
  if (t.rows.length === 0 && t.empty !== undefined) return [t.empty];
  return [
    `| ${t.head.map(cell).join(" | ")} |`,
    `| ${t.head.map(() => "---").join(" | ")} |`,
    ...t.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
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
    ...mdTable(validationTable(r)),
    "",
    `A verdict is "met" when the whole 95% interval satisfies the target, "not met" when none of it does, and "inconclusive" when the interval straddles the target. Figures without an interval are judged on their value.`,
    "",
    "## Model and heuristic on the same samples",
    "",
    `${int(r.samples)} samples from ${int(r.repositories)} repositories, ${pct(r.successRate)} of which succeeded. Each score is judged on every one of them.`,
    "",
    ...mdTable(scoreTable(r)),
    "",
    `**Difference in accuracy (model minus heuristic):** ${points(r.improvementPoints)} points, 95% interval ${pointsInterval(r.improvementInterval)} (Newcombe's paired score interval).`,
    "",
    m
      ? `**McNemar's test:** the model alone was right on ${m.b} samples, the heuristic alone on ${m.c}; ${m.method === "exact" ? "exact two-sided binomial test" : `chi-square with continuity correction ${num(m.statistic, 3)} (1 df)`}, p = ${pValue(m.p)}.`
      : "**McNemar's test:** no samples.",
    "",
    ...mdTable(pairedTableModel(r)),
    "",
    "## Operating points",
    "",
    "Where the auto-apply threshold would have to sit for each precision, whatever threshold is configured: model and heuristic compared at equal precision.",
    "",
    ...mdTable(operatingPointTable(r)),
    "",
    "## The samples",
    "",
    ...mdTable(samplesTable(r)),
    "",
    "## By project type",
    "",
    r.consistency.statement,
    "",
    "### Size",
    "",
    ...mdTable(groupTable(r.byProjectType.sizeBand, "size")),
    "",
    "### Tests",
    "",
    ...mdTable(groupTable(r.byProjectType.hasTests, "tests")),
    "",
    "### Framework",
    "",
    ...mdTable(groupTable(r.byProjectType.framework, "framework")),
    "",
    "## Per recipe",
    "",
    ...mdTable(groupTable(r.perRecipe, "recipe")),
    "",
    "## Maintainers' answers",
    "",
    ACCEPTANCE_INTRO,
    "",
    ...mdTable(acceptanceTable(r.acceptance)),
    "",
    "## Latency and throughput",
    "",
    `Prediction latency over ${int(r.latency.samples)} predictions on which a model ran: p50 ${ms(r.latency.p50Ms)}, p99 ${ms(r.latency.p99Ms)}, max ${ms(r.latency.maxMs)}.`,
    "",
    `Verified executions: ${int(r.throughput.peakPerHour)} in the busiest hour${r.throughput.peakHour ? ` (${r.throughput.peakHour})` : ""}, ${r.throughput.meanPerActiveHour === null ? "n/a" : r.throughput.meanPerActiveHour.toFixed(1)} per active hour over ${int(r.throughput.activeHours)} active hours.`,
    "",
    "## Accuracy over time",
    "",
    ...mdTable(overTimeTable(r)),
    "",
    "## Calibration",
    "",
    ...mdTable(calibrationTable(r)),
    "",
    "## Definitions and methods",
    "",
    ...Object.entries(r.definitions).map(([k, v]) => `- **${definitionLabel(k)}**: ${v}.`),
    `- **too small to conclude**: fewer than ${r.minSamples} samples, whatever the intervals say.`,
    "",
  ];
  return lines.join("\n");
}
