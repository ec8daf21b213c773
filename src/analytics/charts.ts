/**
 * Charts as inline SVG strings: the report and the dashboard are single self-contained pages (no script, no CDN),
 * so they open anywhere, from a file or behind a strict Content-Security-Policy.
 */
import type { CalibrationBin } from "../model/metrics.js";
import type { GroupRow, HistogramBin, TimeBucket } from "./report.js";

export const COLORS = {
  ml: "#2563eb",
  heuristic: "#d97706",
  success: "#16a34a",
  failure: "#dc2626",
  neutral: "#6b7280",
  grid: "#e5e7eb",
  axis: "#374151",
} as const;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const r2 = (v: number): string => (Math.round(v * 100) / 100).toString();
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const innerW = (f: Frame) => f.width - f.left - f.right;
const innerH = (f: Frame) => f.height - f.top - f.bottom;

function open(f: Frame, title: string, description: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" role="img" aria-label="${escapeHtml(title)}" font-family="system-ui, sans-serif" font-size="11"><title>${escapeHtml(title)}</title><desc>${escapeHtml(description)}</desc>`;
}

function legend(f: Frame, items: { label: string; color: string; dashed?: boolean }[]): string {
  let x = f.left;
  const y = 12;
  return items
    .map((it) => {
      const s = it.dashed
        ? `<line x1="${x}" y1="${y - 4}" x2="${x + 14}" y2="${y - 4}" stroke="${it.color}" stroke-width="2" stroke-dasharray="4 3"/>`
        : `<rect x="${x}" y="${y - 9}" width="12" height="10" fill="${it.color}"/>`;
      const out = `${s}<text x="${x + 18}" y="${y}" fill="${COLORS.axis}">${escapeHtml(it.label)}</text>`;
      x += 26 + it.label.length * 6.2;
      return out;
    })
    .join("");
}

/** Gridlines and tick labels of a [y0, y1] vertical axis (shares when `asShare`). */
function yAxis(f: Frame, y0: number, y1: number, ticks: number, asShare: boolean, label: string): string {
  const parts: string[] = [];
  for (let i = 0; i <= ticks; i++) {
    const v = y0 + ((y1 - y0) * i) / ticks;
    const y = f.top + innerH(f) * (1 - i / ticks);
    parts.push(
      `<line x1="${f.left}" y1="${r2(y)}" x2="${f.left + innerW(f)}" y2="${r2(y)}" stroke="${COLORS.grid}"/>`,
      `<text x="${f.left - 6}" y="${r2(y + 4)}" text-anchor="end" fill="${COLORS.axis}">${asShare ? `${Math.round(v * 100)}%` : r2(v)}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(12 ${r2(f.top + innerH(f) / 2)}) rotate(-90)" text-anchor="middle" fill="${COLORS.axis}">${escapeHtml(label)}</text>`,
  );
  return parts.join("");
}

function xAxisShare(f: Frame, ticks: number, label: string): string {
  const parts: string[] = [];
  const base = f.top + innerH(f);
  for (let i = 0; i <= ticks; i++) {
    const x = f.left + (innerW(f) * i) / ticks;
    parts.push(
      `<line x1="${r2(x)}" y1="${base}" x2="${r2(x)}" y2="${base + 4}" stroke="${COLORS.axis}"/>`,
      `<text x="${r2(x)}" y="${base + 16}" text-anchor="middle" fill="${COLORS.axis}">${r2(i / ticks)}</text>`,
    );
  }
  parts.push(
    `<line x1="${f.left}" y1="${base}" x2="${f.left + innerW(f)}" y2="${base}" stroke="${COLORS.axis}"/>`,
    `<text x="${r2(f.left + innerW(f) / 2)}" y="${f.height - 4}" text-anchor="middle" fill="${COLORS.axis}">${escapeHtml(label)}</text>`,
  );
  return parts.join("");
}

function empty(f: Frame, title: string): string {
  return `${open(f, title, "no data")}<text x="${f.width / 2}" y="${f.height / 2}" text-anchor="middle" fill="${COLORS.neutral}">no samples yet</text></svg>`;
}

/** Observed success rate against mean predicted trust per bin, for the model and the heuristic. */
export function calibrationChart(series: { name: string; color: string; bins: readonly CalibrationBin[] }[]): string {
  const f: Frame = { width: 460, height: 360, left: 52, right: 16, top: 24, bottom: 40 };
  const title = "Calibration: observed success rate by predicted trust";
  const filled = series.map((s) => s.bins.filter((b) => b.count > 0));
  if (filled.every((b) => b.length === 0)) return empty(f, title);
  const total = Math.max(...filled.map((bins) => bins.reduce((a, b) => a + b.count, 0)));
  const X = (v: number) => f.left + innerW(f) * v;
  const Y = (v: number) => f.top + innerH(f) * (1 - v);
  const parts = [
    open(f, title, "Points on the diagonal are perfectly calibrated; marker area grows with the bin's samples."),
    legend(f, [
      ...series.map((s) => ({ label: s.name, color: s.color })),
      { label: "perfect", color: COLORS.neutral, dashed: true },
    ]),
    yAxis(f, 0, 1, 5, true, "observed success rate"),
    xAxisShare(f, 10, "mean predicted trust"),
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="${COLORS.neutral}" stroke-dasharray="4 3"/>`,
  ];
  series.forEach((s, k) => {
    const bins = filled[k] as CalibrationBin[];
    if (bins.length === 0) return;
    const pts = bins.map((b) => `${r2(X(b.meanPredicted as number))},${r2(Y(b.observedRate as number))}`).join(" ");
    parts.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const b of bins) {
      const radius = 2.5 + 6 * Math.sqrt(b.count / total);
      parts.push(
        `<circle cx="${r2(X(b.meanPredicted as number))}" cy="${r2(Y(b.observedRate as number))}" r="${r2(radius)}" fill="${s.color}" fill-opacity="0.7"><title>${escapeHtml(
          `${s.name}, trust ${r2(b.lower)}-${r2(b.upper)}: ${b.count} samples, mean trust ${(b.meanPredicted as number).toFixed(3)}, observed ${pct(b.observedRate as number)}`,
        )}</title></circle>`,
      );
    }
  });
  parts.push("</svg>");
  return parts.join("");
}

/** Model and heuristic accuracy per day (or week), with the accuracy target as a dashed line. */
export function accuracyOverTimeChart(buckets: readonly TimeBucket[], target: number, granularity: string): string {
  const f: Frame = { width: 720, height: 300, left: 52, right: 16, top: 24, bottom: 48 };
  const title = `Model and heuristic accuracy per ${granularity}`;
  if (buckets.length === 0) return empty(f, title);
  const values = buckets.flatMap((b) => [b.mlAccuracy, b.heuristicAccuracy]).filter((v): v is number => v !== null);
  // The axis starts at the tenth below the lowest value (and below the target), so that differences are visible;
  // the tick labels say where it starts.
  const y0 = Math.max(0, Math.floor(Math.min(target, ...values) * 10) / 10 - 0.1);
  const X = (i: number) => f.left + (buckets.length === 1 ? innerW(f) / 2 : (innerW(f) * i) / (buckets.length - 1));
  const Y = (v: number) => f.top + innerH(f) * (1 - (v - y0) / (1 - y0));
  const parts = [
    open(f, title, `Share of samples each score classified correctly, per ${granularity} (UTC).`),
    legend(f, [
      { label: "model", color: COLORS.ml },
      { label: "heuristic", color: COLORS.heuristic },
      { label: `target ${Math.round(target * 100)}%`, color: COLORS.neutral, dashed: true },
    ]),
    yAxis(f, y0, 1, Math.round((1 - y0) * 10), true, "accuracy"),
    `<line x1="${f.left}" y1="${r2(Y(target))}" x2="${f.left + innerW(f)}" y2="${r2(Y(target))}" stroke="${COLORS.neutral}" stroke-dasharray="4 3"/>`,
  ];
  const base = f.top + innerH(f);
  parts.push(`<line x1="${f.left}" y1="${base}" x2="${f.left + innerW(f)}" y2="${base}" stroke="${COLORS.axis}"/>`);
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  buckets.forEach((b, i) => {
    if (i % every === 0 || i === buckets.length - 1) {
      // The outermost labels hang inwards so that they are not cut at the edges.
      const anchor =
        buckets.length > 1 && i === 0 ? "start" : buckets.length > 1 && i === buckets.length - 1 ? "end" : "middle";
      parts.push(
        `<text x="${r2(X(i))}" y="${base + 16}" text-anchor="${anchor}" fill="${COLORS.axis}">${b.start}</text>`,
      );
    }
  });
  parts.push(
    `<text x="${r2(f.left + innerW(f) / 2)}" y="${f.height - 6}" text-anchor="middle" fill="${COLORS.axis}">${escapeHtml(`${granularity} starting (UTC)`)}</text>`,
  );
  for (const [key, color, name] of [
    ["mlAccuracy", COLORS.ml, "model"],
    ["heuristicAccuracy", COLORS.heuristic, "heuristic"],
  ] as const) {
    const pts = buckets.map((b, i) => (b[key] === null ? null : ([X(i), Y(b[key] as number)] as const)));
    const line = pts.filter((p) => p !== null).map((p) => `${r2(p[0])},${r2(p[1])}`);
    if (line.length > 1)
      parts.push(`<polyline points="${line.join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`);
    buckets.forEach((b, i) => {
      const p = pts[i];
      if (!p) return;
      parts.push(
        `<circle cx="${r2(p[0])}" cy="${r2(p[1])}" r="3" fill="${color}"><title>${escapeHtml(`${name}, ${b.start}: ${pct(b[key] as number)} of ${b.samples} samples`)}</title></circle>`,
      );
    });
  }
  parts.push("</svg>");
  return parts.join("");
}

/** Per recipe: success rate, model accuracy and heuristic accuracy as grouped horizontal bars. */
export function recipeChart(rows: readonly GroupRow[]): string {
  const barH = 7;
  const rowH = barH * 3 + 8;
  const labelW = 230;
  const f: Frame = { width: 720, height: 0, left: labelW, right: 24, top: 26, bottom: 40 };
  f.height = f.top + f.bottom + Math.max(1, rows.length) * rowH;
  const title = "Per recipe: success rate and accuracy";
  if (rows.length === 0) return empty({ ...f, height: 120 }, title);
  const X = (v: number) => f.left + innerW(f) * v;
  const parts = [
    open(
      f,
      title,
      "For each recipe: share of its fixes that succeeded, and the accuracy of the model and the heuristic.",
    ),
    legend({ ...f, left: 10 }, [
      { label: "success rate", color: COLORS.success },
      { label: "model accuracy", color: COLORS.ml },
      { label: "heuristic accuracy", color: COLORS.heuristic },
    ]),
  ];
  for (let i = 0; i <= 10; i++) {
    parts.push(
      `<line x1="${r2(X(i / 10))}" y1="${f.top}" x2="${r2(X(i / 10))}" y2="${f.top + innerH(f)}" stroke="${COLORS.grid}"/>`,
    );
  }
  parts.push(xAxisShare(f, 10, "share"));
  rows.forEach((row, i) => {
    const y = f.top + i * rowH + 4;
    const label = row.group.length > 36 ? `${row.group.slice(0, 35)}…` : row.group;
    parts.push(
      `<text x="${f.left - 6}" y="${r2(y + barH * 1.5 + 4)}" text-anchor="end" fill="${COLORS.axis}">${escapeHtml(label)} (${row.samples})</text>`,
    );
    const bars = [
      ["success rate", row.successRate, COLORS.success],
      ["model accuracy", row.mlAccuracy, COLORS.ml],
      ["heuristic accuracy", row.heuristicAccuracy, COLORS.heuristic],
    ] as const;
    bars.forEach(([name, v, color], k) => {
      if (v === null) return;
      parts.push(
        `<rect x="${f.left}" y="${r2(y + k * barH)}" width="${r2(innerW(f) * v)}" height="${barH - 1}" fill="${color}"><title>${escapeHtml(`${row.group}, ${name}: ${pct(v)} of ${row.samples}`)}</title></rect>`,
      );
    });
  });
  parts.push("</svg>");
  return parts.join("");
}

/** The smallest whole 1, 2 or 5 times a power of ten that is at least `raw` (and at least 1: counts are whole). */
function niceStep(raw: number): number {
  if (raw <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/** Histogram of the model's trust, successes and failures stacked, with the tier thresholds marked. */
export function trustHistogramChart(
  bins: readonly HistogramBin[],
  thresholds: { review: number; autoApply: number },
): string {
  const f: Frame = { width: 720, height: 300, left: 52, right: 16, top: 24, bottom: 40 };
  const title = "Model trust by outcome";
  const maxCount = Math.max(0, ...bins.map((b) => b.successes + b.failures));
  if (maxCount === 0) return empty(f, title);
  const step = niceStep(maxCount / 4);
  const top = Math.ceil(maxCount / step) * step;
  const X = (v: number) => f.left + innerW(f) * v;
  const Y = (c: number) => f.top + innerH(f) * (1 - c / top);
  const parts = [
    open(
      f,
      title,
      "Samples per trust bin, successes (bottom) and failures (top) stacked; dashed lines mark the review and auto-apply thresholds.",
    ),
    legend(f, [
      { label: "succeeded", color: COLORS.success },
      { label: "failed", color: COLORS.failure },
      { label: "tier thresholds", color: COLORS.neutral, dashed: true },
    ]),
    yAxis(f, 0, top, top / step, false, "samples"),
    xAxisShare(f, 10, "model trust"),
  ];
  for (const b of bins) {
    const x = X(b.lower) + 1;
    const w = Math.max(1, X(b.upper) - X(b.lower) - 2);
    const tip = `trust ${r2(b.lower)}-${r2(b.upper)}: ${b.successes} succeeded, ${b.failures} failed`;
    if (b.successes) {
      parts.push(
        `<rect x="${r2(x)}" y="${r2(Y(b.successes))}" width="${r2(w)}" height="${r2(Y(0) - Y(b.successes))}" fill="${COLORS.success}"><title>${escapeHtml(tip)}</title></rect>`,
      );
    }
    if (b.failures) {
      parts.push(
        `<rect x="${r2(x)}" y="${r2(Y(b.successes + b.failures))}" width="${r2(w)}" height="${r2(Y(b.successes) - Y(b.successes + b.failures))}" fill="${COLORS.failure}"><title>${escapeHtml(tip)}</title></rect>`,
      );
    }
  }
  for (const t of [thresholds.review, thresholds.autoApply]) {
    parts.push(
      `<line x1="${r2(X(t))}" y1="${f.top}" x2="${r2(X(t))}" y2="${f.top + innerH(f)}" stroke="${COLORS.neutral}" stroke-dasharray="4 3"/>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}

/** A horizontal progress bar toward a target. */
export function progressBar(done: number, target: number): string {
  const f: Frame = { width: 720, height: 34, left: 0, right: 0, top: 4, bottom: 4 };
  const share = target > 0 ? Math.min(1, done / target) : 0;
  return `${open(f, "Samples recorded against the target", `${done} of ${target}`)}<rect x="0" y="6" width="720" height="22" rx="4" fill="${COLORS.grid}"/><rect x="0" y="6" width="${r2(720 * share)}" height="22" rx="4" fill="${COLORS.ml}"/><text x="360" y="21" text-anchor="middle" fill="#111827">${escapeHtml(`${done.toLocaleString("en-US")} / ${target.toLocaleString("en-US")} (${pct(share)})`)}</text></svg>`;
}
