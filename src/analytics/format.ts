/** Number formatting shared by the text, Markdown and HTML renderings, so that they print the same figures. */
import type { Interval } from "./stats.js";

export const pct = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined ? "n/a" : `${(v * 100).toFixed(digits)}%`;

export const pctInterval = (i: Interval | null | undefined, digits = 1): string =>
  i ? `${(i.lower * 100).toFixed(digits)}-${(i.upper * 100).toFixed(digits)}%` : "n/a";

export const num = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined ? "n/a" : v.toFixed(digits);

export const int = (v: number | null | undefined): string =>
  v === null || v === undefined ? "n/a" : Math.round(v).toLocaleString("en-US");

export const points = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined ? "n/a" : `${v >= 0 ? "+" : ""}${v.toFixed(digits)}`;

export const pointsInterval = (i: Interval | null | undefined, digits = 1): string =>
  i ? `${points(i.lower, digits)} to ${points(i.upper, digits)}` : "n/a";

/** A p-value: small ones in scientific notation, so that "0.000" never reads as zero. */
export const pValue = (p: number | null | undefined): string =>
  p === null || p === undefined ? "n/a" : p < 0.001 ? p.toExponential(2) : p.toFixed(3);

export const ms = (v: number | null | undefined): string =>
  v === null || v === undefined ? "n/a" : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;

/** "1 verification error", "2 verification errors". */
export const count = (n: number, singular: string, plural = `${singular}s`): string =>
  `${int(n)} ${n === 1 ? singular : plural}`;
