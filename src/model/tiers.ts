/** Tiers from trust: `auto-apply` at >= autoApply, `review-suggested` at >= review, otherwise `manual-only`. */
import type { Tier } from "../engine/types.js";

export interface TierThresholds {
  autoApply: number;
  review: number;
}

export const DEFAULT_THRESHOLDS: Readonly<TierThresholds> = Object.freeze({ autoApply: 0.85, review: 0.65 });

export class ThresholdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ThresholdError";
  }
}

function check(t: TierThresholds, what: string): void {
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isFinite(v) || v < 0 || v > 1) throw new ThresholdError(`${what}.${k} must be in [0, 1], got ${v}`);
  }
  if (t.review > t.autoApply) {
    throw new ThresholdError(`${what}.review (${t.review}) must not exceed ${what}.autoApply (${t.autoApply})`);
  }
}

export function tierFor(trust: number, thresholds: TierThresholds = DEFAULT_THRESHOLDS): Tier {
  // NaN never reaches a tier above manual-only.
  if (!(trust >= thresholds.review)) return "manual-only";
  return trust >= thresholds.autoApply ? "auto-apply" : "review-suggested";
}

/**
 * The thresholds a repository gets: its own may only make them stricter, so each is the larger of the global and
 * the repository's value. A looser repository value is ignored rather than rejected: the configuration file is
 * the maintainer's, and a typo there must not stop the cycle.
 */
export function effectiveThresholds(global: TierThresholds, repo?: Partial<TierThresholds> | null): TierThresholds {
  check(global, "global");
  const review = Math.max(global.review, finiteOr(repo?.review, global.review));
  // A stricter review threshold above the auto-apply one lifts auto-apply with it: never looser than either.
  const autoApply = Math.max(global.autoApply, finiteOr(repo?.autoApply, global.autoApply), review);
  return { autoApply, review };
}

function finiteOr(v: number | undefined, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1 ? v : fallback;
}
