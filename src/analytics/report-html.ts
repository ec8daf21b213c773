/**
 * report.html and the dashboard page: one self-contained document (inline CSS and SVG, no script, nothing fetched),
 * every figure from {@link AccuracyReport} and {@link Progress}.
 */
import {
  accuracyOverTimeChart,
  COLORS,
  calibrationChart,
  escapeHtml as e,
  progressBar,
  recipeChart,
  trustHistogramChart,
} from "./charts.js";
import { int, ms, num, pct, points, pointsInterval, pValue } from "./format.js";
import type { Progress, ProgressCount } from "./progress.js";
import { type AccuracyReport, TARGETS } from "./report.js";
import { definitionLabel } from "./report-markdown.js";
import {
  ACCEPTANCE_INTRO,
  acceptanceTable,
  groupTable,
  operatingPointTable,
  samplesTable,
  scoreTable,
  type TableModel,
  validationTable,
} from "./report-tables.js";

/** Recipes shown in the per-recipe chart (the table lists all). */
const CHART_RECIPES = 15;

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#111827;background:#f9fafb}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.2rem;margin:32px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
h3{font-size:1rem;margin:20px 0 6px}
p.meta{color:#4b5563;margin:0 0 16px}
.statement{padding:12px 16px;border-radius:6px;background:#eff6ff;border:1px solid #bfdbfe}
.statement.weak{background:#fffbeb;border-color:#fde68a}
table{border-collapse:collapse;margin:8px 0;font-size:.85rem;background:#fff}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f4f6}
.verdict-met{color:#166534;font-weight:600}.verdict-not-met{color:#991b1b;font-weight:600}
.verdict-inconclusive,.verdict-no-data{color:#92400e;font-weight:600}
figure{margin:12px 0;background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:8px;overflow-x:auto}
figcaption{font-size:.8rem;color:#4b5563;margin-top:4px}
.grid{display:flex;flex-wrap:wrap;gap:12px}
dl{font-size:.85rem}dt{font-weight:600}dd{margin:0 0 6px 16px;color:#374151}
`;

export interface PageOptions {
  title: string;
  body: string;
  /** Reload the page every this many seconds (the dashboard). */
  refreshSeconds?: number;
}

/**
 * The page forbids itself every external resource and every script (the meta CSP): a chart that ever tried to
 * load something would show up as a console error in the headless-browser test rather than go unnoticed.
 */
function htmlPage(o: PageOptions): string {
  const refresh = o.refreshSeconds ? `<meta http-equiv="refresh" content="${Math.round(o.refreshSeconds)}">` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
${refresh}<title>${e(o.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${o.body}
</main>
</body>
</html>
`;
}

/** Cells that start with a figure are right-aligned, so that columns of numbers line up. */
const NUMERIC = /^[-+]?\d/;

/** Markup that a table cell takes as it is (everything else is escaped). */
interface Raw {
  html: string;
}

function table(head: string[], rows: (string | Raw)[][]): string {
  const th = head.map((h) => `<th>${e(h)}</th>`).join("");
  const trs = rows
    .map(
      (r) =>
        `<tr>${r.map((c) => (typeof c === "string" ? `<td${NUMERIC.test(c) ? ' class="n"' : ""}>${e(c)}</td>` : `<td>${c.html}</td>`)).join("")}</tr>`,
    )
    .join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

/** A table model as HTML (its `empty` text when it has no rows); `raw` turns chosen cells into markup. */
function modelTable(t: TableModel, raw?: (cell: string, column: number) => Raw | string): string {
  if (t.rows.length === 0 && t.empty !== undefined) return `<p>${e(t.empty)}</p>`;
  return table(t.head, raw ? t.rows.map((r) => r.map((c, i) => raw(c, i))) : t.rows);
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${e(caption)}</figcaption></figure>`;
}

/** The report's sections, for report.html and the dashboard. */
function reportBody(r: AccuracyReport): string {
  const m = r.mcnemar;
  const verdictClass = (v: string) => `verdict-${v.replace(/\s+/g, "-")}`;
  return [
    `<section id="conclusion"><h2>Conclusion</h2><p class="statement${r.conclusive ? "" : " weak"}">${e(r.statement)}</p></section>`,
    `<section id="validation"><h2>Validation against the targets</h2>`,
    // The verdict (fourth column) is coloured.
    modelTable(validationTable(r), (c, i) =>
      i === 3 ? { html: `<span class="${verdictClass(c)}">${e(c)}</span>` } : c,
    ),
    "</section>",
    `<section id="paired"><h2>Model and heuristic on the same samples</h2>`,
    `<p>${int(r.samples)} samples from ${int(r.repositories)} repositories, ${pct(r.successRate)} of which succeeded.</p>`,
    modelTable(scoreTable(r)),
    `<p><strong>Difference in accuracy (model minus heuristic):</strong> ${e(points(r.improvementPoints))} points, 95% interval ${e(pointsInterval(r.improvementInterval))}.</p>`,
    `<p><strong>McNemar's test:</strong> ${
      m
        ? e(
            `model alone right on ${m.b}, heuristic alone on ${m.c}; ${m.method === "exact" ? "exact binomial" : `chi-square (cc) ${num(m.statistic)}`}, p = ${pValue(m.p)}`,
          )
        : "no samples"
    }.</p>`,
    "</section>",
    `<section id="operating-points"><h2>Operating points</h2><p>Where the auto-apply threshold would have to sit for each precision, whatever threshold is configured: model and heuristic compared at equal precision.</p>`,
    modelTable(operatingPointTable(r)),
    "</section>",
    `<section id="charts"><h2>Charts</h2><div class="grid">`,
    figure(
      calibrationChart([
        { name: "model", color: COLORS.ml, bins: r.calibration.ml },
        { name: "heuristic", color: COLORS.heuristic, bins: r.calibration.heuristic },
      ]),
      "Calibration curve: ten equal-width trust bins.",
    ),
    "</div>",
    figure(
      accuracyOverTimeChart(r.overTime.buckets, TARGETS.minAccuracy, r.overTime.granularity),
      "Accuracy of each score on the same samples over time.",
    ),
    figure(
      recipeChart(r.perRecipe.slice(0, CHART_RECIPES)),
      `Per recipe (the ${Math.min(CHART_RECIPES, r.perRecipe.length)} with the most samples; all are in the table below).`,
    ),
    figure(
      trustHistogramChart(r.histogram, r.thresholds),
      "Model trust, split by outcome, with the review and auto-apply thresholds.",
    ),
    "</section>",
    `<section id="project-types"><h2>By project type</h2><p>${e(r.consistency.statement)}</p>`,
    "<h3>Size</h3>",
    modelTable(groupTable(r.byProjectType.sizeBand, "size")),
    "<h3>Tests</h3>",
    modelTable(groupTable(r.byProjectType.hasTests, "tests")),
    "<h3>Framework</h3>",
    modelTable(groupTable(r.byProjectType.framework, "framework")),
    "</section>",
    `<section id="recipes"><h2>Per recipe</h2>${modelTable(groupTable(r.perRecipe, "recipe"))}</section>`,
    `<section id="acceptance"><h2>Maintainers' answers</h2><p>${e(ACCEPTANCE_INTRO)}</p>${modelTable(acceptanceTable(r.acceptance))}</section>`,
    `<section id="latency"><h2>Latency and throughput</h2><p>${e(
      `Prediction latency over ${int(r.latency.samples)} predictions on which a model ran: p50 ${ms(r.latency.p50Ms)}, p99 ${ms(r.latency.p99Ms)}, max ${ms(r.latency.maxMs)}. Verified executions: ${int(r.throughput.peakPerHour)} in the busiest hour${r.throughput.peakHour ? ` (${r.throughput.peakHour})` : ""}.`,
    )}</p></section>`,
    `<section id="samples"><h2>The samples</h2>`,
    modelTable(samplesTable(r)),
    "</section>",
    `<section id="definitions"><h2>Definitions and methods</h2><dl>${Object.entries(r.definitions)
      .map(([k, v]) => `<dt>${e(definitionLabel(k))}</dt><dd>${e(v)}</dd>`)
      .join(
        "",
      )}<dt>too small to conclude</dt><dd>${e(`fewer than ${r.minSamples} samples, whatever the intervals say`)}</dd></dl></section>`,
  ].join("\n");
}

export function renderReportHtml(r: AccuracyReport): string {
  return htmlPage({
    title: "ODAVL Autopilot: accuracy report",
    body: `<h1>ODAVL Autopilot: accuracy report</h1><p class="meta">${e(
      `Generated ${r.generatedAt}. Tier thresholds: review ${r.thresholds.review}, auto-apply ${r.thresholds.autoApply}.`,
    )}</p>\n${reportBody(r)}`,
  });
}

function countTable(title: string, rows: readonly ProgressCount[]): string {
  if (rows.length === 0) return "";
  return `<h3>${e(title)}</h3>${table(
    ["name", "samples", "completed", "success rate", "last sample"],
    rows.map((c) => [
      c.name,
      int(c.samples),
      int(c.completed),
      pct(c.successRate),
      c.lastAt?.slice(0, 16).replace("T", " ") ?? "",
    ]),
  )}`;
}

/** Collection progress: the first section of the dashboard. */
function progressBody(p: Progress): string {
  const eta =
    p.eta.hours === null
      ? p.eta.basis
      : p.eta.remaining === 0
        ? "target reached"
        : `${p.eta.at?.slice(0, 16).replace("T", " ")} UTC (${p.eta.basis})`;
  return [
    `<section id="progress"><h2>Collection progress</h2>`,
    figure(progressBar(p.samples, p.target), "Samples recorded against the target."),
    table(
      ["figure", "value"],
      [
        ["samples recorded", `${int(p.samples)} / ${int(p.target)}`],
        ["scored by the model", `${int(p.scoredByModel)} (${pct(p.scoredByModelShare)})`],
        ["completed outcome", `${int(p.completed)} (${pct(p.completedShare)})`],
        ["verification errors", int(p.verificationErrors)],
        ["last 24 hours", `${int(p.last24h.samples)} samples (${p.last24h.perHour.toFixed(1)} an hour)`],
        ["ETA", eta],
        ["repositories / recipes", `${int(p.repositories)} / ${int(p.recipes)}`],
      ],
    ),
    countTable("Per repository", p.perRepository),
    countTable("Per recipe", p.perRecipe),
    "</section>",
  ].join("\n");
}

export function renderDashboardHtml(p: Progress, r: AccuracyReport, refreshSeconds: number): string {
  return htmlPage({
    title: "ODAVL Autopilot: dashboard",
    refreshSeconds,
    body: `<h1>ODAVL Autopilot: dashboard</h1><p class="meta">${e(
      `Live from the database at ${p.generatedAt}; reloads every ${refreshSeconds} s.`,
    )}</p>\n${progressBody(p)}\n${reportBody(r)}`,
  });
}
