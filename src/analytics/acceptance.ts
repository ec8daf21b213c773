/**
 * The maintainers' answers: how often verified fixes became pull requests and were accepted, by the tier they were
 * shown in. Read from the labels stored beside the predictions (src/db/queries/fix-labels.ts): Apply presses,
 * the pull requests of fixes, and what became of each (merged, closed unmerged, reverted later).
 */
import { sql } from "drizzle-orm";
import { type DbOrTx, queryRows } from "../db/client.js";
import { rangeClause, type TimeRange } from "./samples.js";
import { type Interval, wilsonInterval } from "./stats.js";

const ACCEPTANCE_TIERS = ["auto-apply", "review-suggested", "manual-only"] as const;

export interface AcceptanceRow {
  /** A tier, or "all". */
  tier: string;
  /**
   * Verified fixes check runs showed: one per check run and patch (identical patches of several recipes once, and
   * an unchanged commit's cycle that kept the check run it had adds none), in its most trusted prediction's tier.
   */
  verifiedFixes: number;
  /** Apply presses on fixes shown in this tier ("all" also counts presses whose prediction was not stored). */
  applyClicks: number;
  /** Pull requests opened for fixes (Apply or auto-apply), by the tier the pull request showed. */
  pullRequests: number;
  open: number;
  merged: number;
  closedUnmerged: number;
  reverted: number;
  /** Merged and not reverted since, over the pull requests answered (merged, closed unmerged or reverted). */
  acceptance: number | null;
  acceptanceInterval: Interval | null;
}

export interface AcceptanceCounts {
  verifiedFixes: Record<string, number>;
  applyClicks: Record<string, number>;
  /** Tier -> state -> pull requests. */
  pullRequests: Record<string, Record<string, number>>;
}

export const EMPTY_ACCEPTANCE: AcceptanceCounts = { verifiedFixes: {}, applyClicks: {}, pullRequests: {} };

/** The rows of the report: one per tier, then "all". Pure, for tests. */
export function acceptanceRows(c: AcceptanceCounts): AcceptanceRow[] {
  const tiers = [...ACCEPTANCE_TIERS];
  const sum = (r: Record<string, number>, keys: readonly string[]) => keys.reduce((a, k) => a + (r[k] ?? 0), 0);
  const row = (tier: string, keys: readonly string[]): AcceptanceRow => {
    const state = (s: string) => keys.reduce((a, k) => a + (c.pullRequests[k]?.[s] ?? 0), 0);
    const [open, merged, closedUnmerged, reverted] = [
      state("open"),
      state("merged"),
      state("closed"),
      state("reverted"),
    ];
    const answered = merged + closedUnmerged + reverted;
    const ci = wilsonInterval(merged, answered);
    return {
      tier,
      verifiedFixes: sum(c.verifiedFixes, keys),
      applyClicks: tier === "all" ? sum(c.applyClicks, Object.keys(c.applyClicks)) : sum(c.applyClicks, keys),
      pullRequests: open + answered,
      open,
      merged,
      closedUnmerged,
      reverted,
      acceptance: ci?.estimate ?? null,
      acceptanceInterval: ci ? { lower: ci.lower, upper: ci.upper } : null,
    };
  };
  return [...tiers.map((t) => row(t, [t])), row("all", tiers)];
}

export async function loadAcceptance(db: DbOrTx, range: TimeRange = {}): Promise<AcceptanceCounts> {
  const verified = await queryRows<{ tier: string; n: number }>(
    db,
    sql`select tier, count(*)::int as n from (
          select distinct on (c.check_run_id, p.patch_hash) p.tier
          from predictions p
          join outcomes o on o.prediction_id = p.id and o.status = 'verified' and o.success
          join cycles c on c.id = p.cycle_id and c.check_run_id is not null
          where p.scope = 'all'${rangeClause(range)}
          order by c.check_run_id, p.patch_hash, p.trust desc
        ) shown group by tier`,
  );
  // A press answers the prediction its check run's cycle stored for the recipe (the most trusted, if several).
  const clicks = await queryRows<{ tier: string; n: number }>(
    db,
    sql`select coalesce(shown.tier, 'unknown') as tier, count(*)::int as n
        from apply_clicks k
        left join lateral (
          select p.tier from predictions p join cycles c on c.id = p.cycle_id
          where c.repository_id = k.repository_id and c.check_run_id = k.check_run_id and p.recipe_id = k.recipe_id
            and p.scope = 'all'
          order by p.trust desc limit 1
        ) shown on true
        where true${rangeClause(range, sql`k.created_at`)}
        group by 1`,
  );
  const prs = await queryRows<{ tier: string; state: string; n: number }>(
    db,
    sql`select f.tier, f.state, count(*)::int as n from fix_pull_requests f
        where true${rangeClause(range, sql`f.created_at`)}
        group by f.tier, f.state`,
  );
  const out: AcceptanceCounts = { verifiedFixes: {}, applyClicks: {}, pullRequests: {} };
  for (const r of verified) out.verifiedFixes[r.tier] = Number(r.n);
  for (const r of clicks) out.applyClicks[r.tier] = Number(r.n);
  for (const r of prs) {
    const byState = out.pullRequests[r.tier] ?? {};
    byState[r.state] = Number(r.n);
    out.pullRequests[r.tier] = byState;
  }
  return out;
}
