/**
 * The samples the accuracy report judges, read from the database page by page (keyset pagination on the
 * prediction id, which works the same on Postgres and PGlite and never holds more than one page of raw rows).
 *
 * A sample is a prediction the model scored (used_ml, with an ml_trust) whose outcome was verified. Outcomes with
 * status "error" are left out: the verification itself failed, so they say nothing about the fix.
 */
import { type SQL, sql } from "drizzle-orm";
import { type DbOrTx, queryRows } from "../db/client.js";

export interface TimeRange {
  /** Predictions made at or after. */
  since?: Date | undefined;
  /** Predictions made before. */
  until?: Date | undefined;
}

/** Column-wise, so that metrics take the arrays as they are and a large sample stays compact. */
export interface EvaluationSamples {
  size: number;
  mlTrust: number[];
  heuristicTrust: number[];
  /** 1 when the fix succeeded, else 0. */
  success: number[];
  /** When the prediction was made, in epoch milliseconds. */
  at: number[];
  recipeId: string[];
  repositoryId: number[];
  /** Lines of TypeScript and JavaScript of the repository at the cycle; null when the cycle has no facts. */
  linesOfCode: (number | null)[];
  hasTests: (boolean | null)[];
  /** The repository's framework; "none" when it has none, null when the cycle has no facts. */
  framework: (string | null)[];
}

const PAGE = 10_000;

/** `and p.created_at …` clauses for a range (the alias `p` is the predictions table). */
export function rangeClause(range: TimeRange, column: SQL = sql`p.created_at`): SQL {
  const parts: SQL[] = [];
  if (range.since) parts.push(sql` and ${column} >= ${range.since.toISOString()}::timestamptz`);
  if (range.until) parts.push(sql` and ${column} < ${range.until.toISOString()}::timestamptz`);
  return sql.join(parts, sql``);
}

interface SampleRow extends Record<string, unknown> {
  id: number;
  repository_id: number;
  ml_trust: number;
  heuristic_trust: number;
  success: boolean;
  at_ms: number;
  recipe_id: string;
  loc: string | null;
  has_tests: string | null;
  framework: string | null;
  has_facts: boolean;
}

export async function loadEvaluationSamples(db: DbOrTx, range: TimeRange = {}): Promise<EvaluationSamples> {
  const out: EvaluationSamples = {
    size: 0,
    mlTrust: [],
    heuristicTrust: [],
    success: [],
    at: [],
    recipeId: [],
    repositoryId: [],
    linesOfCode: [],
    hasTests: [],
    framework: [],
  };
  const recipes = new Map<string, string>();
  const frameworks = new Map<string, string>();
  // Interned so that a million samples share a few hundred strings.
  const intern = (m: Map<string, string>, s: string): string => {
    const hit = m.get(s);
    if (hit !== undefined) return hit;
    m.set(s, s);
    return s;
  };
  let last = 0;
  for (;;) {
    const rows = await queryRows<SampleRow>(
      db,
      sql`select p.id, p.repository_id, p.ml_trust, p.heuristic_trust, o.success,
            extract(epoch from p.created_at)::float8 * 1000 as at_ms, p.recipe_id,
            c.facts ->> 'linesOfCode' as loc, c.facts ->> 'hasTests' as has_tests,
            c.facts ->> 'framework' as framework, (c.facts is not null and jsonb_typeof(c.facts) = 'object') as has_facts
          from predictions p
          -- o.prediction_id's bound lets a merge join start at the page (Postgres does not infer it from p.id's).
          join outcomes o on o.prediction_id = p.id and o.status = 'verified' and o.prediction_id > ${last}
          join cycles c on c.id = p.cycle_id
          where p.used_ml and p.ml_trust is not null and p.id > ${last}${rangeClause(range)}
          order by p.id
          limit ${PAGE}`,
    );
    for (const r of rows) {
      const ml = Number(r.ml_trust);
      const h = Number(r.heuristic_trust);
      // A stored NaN is a data defect that check-data reports; it must not silently count as a wrong prediction.
      if (!Number.isFinite(ml) || !Number.isFinite(h)) continue;
      out.mlTrust.push(ml);
      out.heuristicTrust.push(h);
      out.success.push(r.success ? 1 : 0);
      out.at.push(Number(r.at_ms));
      out.recipeId.push(intern(recipes, r.recipe_id));
      out.repositoryId.push(Number(r.repository_id));
      const loc = r.loc === null ? Number.NaN : Number(r.loc);
      out.linesOfCode.push(r.has_facts && Number.isFinite(loc) ? loc : null);
      out.hasTests.push(
        r.has_facts && (r.has_tests === "true" || r.has_tests === "false") ? r.has_tests === "true" : null,
      );
      out.framework.push(r.has_facts ? intern(frameworks, r.framework ?? "none") : null);
    }
    if (rows.length < PAGE) break;
    last = Number((rows[rows.length - 1] as SampleRow).id);
  }
  out.size = out.mlTrust.length;
  return out;
}

export interface SampleFunnel {
  predictions: number;
  withOutcome: number;
  verified: number;
  verifiedScoredByModel: number;
}

/** How many predictions reach each stage on the way to a report sample. */
export async function loadFunnel(db: DbOrTx, range: TimeRange = {}): Promise<SampleFunnel> {
  const [row] = await queryRows<Record<string, number>>(
    db,
    sql`select count(*)::float8 as predictions,
          count(o.id)::float8 as with_outcome,
          (count(*) filter (where o.status = 'verified'))::float8 as verified,
          (count(*) filter (where o.status = 'verified' and p.used_ml and p.ml_trust is not null))::float8 as verified_ml
        from predictions p left join outcomes o on o.prediction_id = p.id
        where true${rangeClause(range)}`,
  );
  return {
    predictions: Number(row?.predictions ?? 0),
    withOutcome: Number(row?.with_outcome ?? 0),
    verified: Number(row?.verified ?? 0),
    verifiedScoredByModel: Number(row?.verified_ml ?? 0),
  };
}

/**
 * Predictions on which a model ran: scored by it, or rejected after running (too slow, NaN, out of range, an
 * error, a wrong output shape). Latency targets are about these; a prediction where no model was loaded took
 * no inference time and would flatter the figures.
 */
export const MODEL_RAN = sql`(p.used_ml or p.fallback_cause in ('timeout', 'nan', 'out-of-range', 'threw', 'input-shape'))`;

export interface LatencySummary {
  /** Predictions measured. */
  samples: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Nearest-rank percentiles (percentile_disc) of the per-candidate prediction latency where a model ran. */
export async function loadLatency(db: DbOrTx, range: TimeRange = {}): Promise<LatencySummary> {
  const [row] = await queryRows<{ n: number; p50: number | null; p99: number | null; max: number | null }>(
    db,
    sql`select count(*)::float8 as n,
          percentile_disc(0.5) within group (order by p.latency_ms) as p50,
          percentile_disc(0.99) within group (order by p.latency_ms) as p99,
          max(p.latency_ms) as max
        from predictions p
        where ${MODEL_RAN}${rangeClause(range)}`,
  );
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return { samples: Number(row?.n ?? 0), p50Ms: num(row?.p50), p99Ms: num(row?.p99), maxMs: num(row?.max) };
}

export interface ThroughputSummary {
  /** Verified executions in the busiest clock hour (UTC). */
  peakPerHour: number;
  peakHour: string | null;
  /** Clock hours with at least one verified execution. */
  activeHours: number;
  /** Verified executions per active hour. */
  meanPerActiveHour: number | null;
}

/** Verified executions per clock hour, by when the outcome was recorded. */
export async function loadThroughput(db: DbOrTx, range: TimeRange = {}): Promise<ThroughputSummary> {
  const rows = await queryRows<{ hour: string; n: number }>(
    db,
    sql`select to_char(date_trunc('hour', o.created_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24":00Z"') as hour,
          count(*)::float8 as n
        from outcomes o join predictions p on p.id = o.prediction_id
        where o.status = 'verified'${rangeClause(range)}
        group by 1`,
  );
  let peak = 0;
  let peakHour: string | null = null;
  let total = 0;
  for (const r of rows) {
    const n = Number(r.n);
    total += n;
    if (n > peak || (n === peak && peakHour !== null && r.hour < peakHour)) {
      peak = n;
      peakHour = r.hour;
    }
  }
  return {
    peakPerHour: peak,
    peakHour,
    activeHours: rows.length,
    meanPerActiveHour: rows.length ? total / rows.length : null,
  };
}
