/**
 * The daily data check: finds what would make the collected data unfit to validate or train on, with thresholds
 * an operator can tune. `ok` is false when any check fails, so that `odavl check-data` exits 1 and cron alerts.
 */
import { sql } from "drizzle-orm";
import { type DbOrTx, queryRows } from "../db/client.js";
import { v2VectorProblem } from "../model/convert.js";
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION, featureSpecs, validateFeatureVector } from "../model/features.js";
import { DEFAULT_THRESHOLDS, type TierThresholds } from "../model/tiers.js";
import { count, int, ms, pct, pctInterval, points } from "./format.js";
import { MODEL_RAN } from "./samples.js";
import { type Interval, wilsonInterval } from "./stats.js";

export interface DataCheckThresholds {
  /** A prediction older than this without an outcome is stale (cycles store outcomes within minutes). */
  staleAfterHours: number;
  /** Fail when more than this share of the predictions older than staleAfterHours have no outcome. */
  maxStaleShare: number;
  /** Fail when fewer than this share of the predictions older than staleAfterHours have a verified outcome. */
  minCompletion: number;
  /** Fail when the model scored fewer than this share of the window's predictions. */
  minModelUsage: number;
  /** Fail when the window's p99 prediction latency reaches this. */
  maxLatencyP99Ms: number;
  /** The recent window of the usage, latency and accuracy checks, in days. */
  windowDays: number;
  /** Fail when the window's accuracy dropped by more than this many points against the window before. */
  maxAccuracyDropPoints: number;
  /** The accuracy change is judged only when both windows have this many samples. */
  minAccuracySamples: number;
  /** Fail when more than this many predictions repeat an earlier one. */
  maxDuplicates: number;
  /** Fail when more than this many feature vectors are invalid. */
  maxInvalidVectors: number;
}

export const DEFAULT_CHECK_THRESHOLDS: Readonly<DataCheckThresholds> = Object.freeze({
  staleAfterHours: 24,
  maxStaleShare: 0.01,
  minCompletion: 0.95,
  minModelUsage: 0.9,
  maxLatencyP99Ms: 100,
  windowDays: 7,
  maxAccuracyDropPoints: 5,
  minAccuracySamples: 100,
  maxDuplicates: 0,
  maxInvalidVectors: 0,
});

export type CheckStatus = "pass" | "fail" | "skip";

export interface CheckResult {
  id: "feature-vectors" | "stale-predictions" | "duplicates" | "completion" | "model-usage" | "latency" | "accuracy";
  status: CheckStatus;
  /** One line: the figure and the limit. */
  summary: string;
  value: number | null;
  details: Record<string, unknown>;
  /** A few offending rows, to start looking from. */
  examples: string[];
}

export interface TableSize {
  table: string;
  rows: number;
  bytes: number;
}

export interface DataCheckReport {
  generatedAt: string;
  ok: boolean;
  thresholds: DataCheckThresholds;
  checks: CheckResult[];
  tables: TableSize[];
}

export interface DataCheckOptions {
  thresholds?: Partial<DataCheckThresholds>;
  tiers?: TierThresholds;
  now?: Date;
}

const HOUR = 3_600_000;
const EXAMPLES = 10;
const SCAN_PAGE = 2_000;

/** Every table of the schema, for the size report. */
const TABLES = [
  "installations",
  "repositories",
  "consent_events",
  "deliveries",
  "cycles",
  "predictions",
  "outcomes",
  "models",
  "collection_errors",
] as const;

type VectorIssueKind = "version" | "length" | "not-finite" | "out-of-range";

/**
 * Invalid feature vectors. Rows of schema v2 are valid when they are valid v2 vectors (they are converted for
 * training and export). Postgres narrows the scan to suspicious rows (another schema version, another length,
 * or an element outside its feature's range: NaN compares above every number there, and NULL never satisfies the
 * range, so both are caught); each suspicious row is then judged by validateFeatureVector, the schema's own check.
 */
async function checkFeatureVectors(db: DbOrTx, t: DataCheckThresholds): Promise<CheckResult> {
  const specs = featureSpecs();
  const literal = (values: number[]) => sql.raw(`array[${values.map((v) => v.toString()).join(",")}]::float8[]`);
  const mins = literal(specs.map((s) => s.min));
  const maxs = literal(specs.map((s) => s.max));
  const counts: Record<VectorIssueKind, number> = { version: 0, length: 0, "not-finite": 0, "out-of-range": 0 };
  const examples: string[] = [];
  let invalid = 0;
  let last = 0;
  for (;;) {
    const rows = await queryRows<{ id: number; version: number; features: (number | null)[] }>(
      db,
      sql`select p.id, p.feature_schema_version as version, p.features from predictions p
          where p.id > ${last} and (
            p.feature_schema_version <> ${FEATURE_SCHEMA_VERSION}
            or coalesce(cardinality(p.features), 0) <> ${FEATURE_COUNT}
            or exists (select 1 from unnest(p.features, ${mins}, ${maxs}) as u(v, lo, hi)
                       where not coalesce(u.v >= u.lo and u.v <= u.hi, false)))
          order by p.id limit ${SCAN_PAGE}`,
    );
    for (const r of rows) {
      const kinds = new Set<VectorIssueKind>();
      let message: string;
      if (Number(r.version) === 2) {
        // Schema v2 rows still train the model (converted, see convert.ts): judged by v2's own rules.
        const problem = v2VectorProblem(r.features ?? []);
        if (problem) kinds.add(problem.kind);
        message = problem?.message ?? "";
      } else if (Number(r.version) !== FEATURE_SCHEMA_VERSION) {
        kinds.add("version");
        message = `feature schema v${r.version}, expected v${FEATURE_SCHEMA_VERSION} or v2`;
      } else {
        const issues = validateFeatureVector(r.features ?? []);
        for (const i of issues) kinds.add(i.kind);
        message = issues.map((i) => i.message).join("; ");
      }
      if (kinds.size === 0) continue;
      invalid++;
      for (const k of kinds) counts[k]++;
      if (examples.length < EXAMPLES) examples.push(`prediction ${r.id}: ${message}`);
    }
    if (rows.length < SCAN_PAGE) break;
    last = Number((rows[rows.length - 1] as { id: number }).id);
  }
  return {
    id: "feature-vectors",
    status: invalid > t.maxInvalidVectors ? "fail" : "pass",
    summary: `${int(invalid)} invalid feature vectors (wrong version ${int(counts.version)}, wrong length ${int(counts.length)}, NaN or missing ${int(counts["not-finite"])}, out of range ${int(counts["out-of-range"])}); at most ${int(t.maxInvalidVectors)} allowed`,
    value: invalid,
    details: { invalid, ...counts, schemaVersion: FEATURE_SCHEMA_VERSION, featureCount: FEATURE_COUNT },
    examples,
  };
}

async function checkOutcomes(db: DbOrTx, t: DataCheckThresholds, now: Date): Promise<CheckResult[]> {
  const cutoff = new Date(now.getTime() - t.staleAfterHours * HOUR).toISOString();
  const [row] = await queryRows<Record<string, number | string | null>>(
    db,
    sql`select count(*)::float8 as old,
          (count(*) filter (where o.id is null))::float8 as stale,
          (count(*) filter (where o.status = 'verified'))::float8 as completed,
          (count(*) filter (where o.status = 'error'))::float8 as errors,
          min(p.created_at) filter (where o.id is null) as oldest_stale
        from predictions p left join outcomes o on o.prediction_id = p.id
        where p.created_at < ${cutoff}::timestamptz`,
  );
  const old = Number(row?.old ?? 0);
  const stale = Number(row?.stale ?? 0);
  const completed = Number(row?.completed ?? 0);
  const staleRows = await queryRows<{ id: number; repo: string; recipe_id: string; created_at: Date | string }>(
    db,
    sql`select p.id, r.owner || '/' || r.name as repo, p.recipe_id, p.created_at
        from predictions p join repositories r on r.id = p.repository_id
        where p.created_at < ${cutoff}::timestamptz
          and not exists (select 1 from outcomes o where o.prediction_id = p.id)
        order by p.created_at, p.id limit ${EXAMPLES}`,
  );
  const staleShare = old ? stale / old : null;
  const completion = old ? completed / old : null;
  const scope = `predictions older than ${t.staleAfterHours} h`;
  return [
    {
      id: "stale-predictions",
      status: old === 0 ? "skip" : (staleShare as number) > t.maxStaleShare ? "fail" : "pass",
      summary:
        old === 0
          ? `no ${scope}`
          : `${int(stale)} of ${int(old)} ${scope} have no outcome (${pct(staleShare, 2)}); at most ${pct(t.maxStaleShare, 2)} allowed`,
      value: staleShare,
      details: {
        stale,
        old,
        oldestStale: row?.oldest_stale ? new Date(row.oldest_stale as string).toISOString() : null,
      },
      examples: staleRows.map(
        (r) => `prediction ${r.id} (${r.repo}, ${r.recipe_id}) made ${new Date(r.created_at).toISOString()}`,
      ),
    },
    {
      id: "completion",
      status: old === 0 ? "skip" : (completion as number) >= t.minCompletion ? "pass" : "fail",
      summary:
        old === 0
          ? `no ${scope}`
          : `${pct(completion)} of ${int(old)} ${scope} have a verified outcome (${count(Number(row?.errors ?? 0), "verification error")}, ${int(stale)} without outcome); at least ${pct(t.minCompletion)} required`,
      value: completion,
      details: { completed, old, errors: Number(row?.errors ?? 0) },
      examples: [],
    },
  ];
}

/**
 * The same candidate (repository, commit, recipe, scope and files, identical patch) recorded by more than one
 * cycle: a re-run of a commit, which would count one execution twice.
 */
async function checkDuplicates(db: DbOrTx, t: DataCheckThresholds): Promise<CheckResult> {
  const [totals] = await queryRows<{ groups: number; excess: number }>(
    db,
    sql`select count(*)::float8 as groups, coalesce(sum(n - 1), 0)::float8 as excess from (
          select count(*) as n from predictions
          where sha is not null
          group by repository_id, sha, recipe_id, candidate_key, patch_hash
          having count(*) > 1) d`,
  );
  const excess = Number(totals?.excess ?? 0);
  const groups = Number(totals?.groups ?? 0);
  const examples =
    groups === 0
      ? []
      : await queryRows<{ repo: string; sha: string; candidate_key: string; ids: string }>(
          db,
          sql`select r.owner || '/' || r.name as repo, p.sha, p.candidate_key,
                string_agg(p.id::text, ', ' order by p.id) as ids
              from predictions p join repositories r on r.id = p.repository_id
              where p.sha is not null
              group by r.owner, r.name, p.repository_id, p.sha, p.recipe_id, p.candidate_key, p.patch_hash
              having count(*) > 1
              order by min(p.id) limit ${EXAMPLES}`,
        );
  return {
    id: "duplicates",
    status: excess > t.maxDuplicates ? "fail" : "pass",
    summary: `${int(excess)} predictions repeat an earlier one (${int(groups)} groups); at most ${int(t.maxDuplicates)} allowed`,
    value: excess,
    details: { excess, groups },
    examples: examples.map((e) => `${e.repo}@${String(e.sha).slice(0, 12)} ${e.candidate_key}: predictions ${e.ids}`),
  };
}

async function checkWindow(db: DbOrTx, t: DataCheckThresholds, now: Date): Promise<CheckResult[]> {
  const since = new Date(now.getTime() - t.windowDays * 24 * HOUR).toISOString();
  const window = `the last ${t.windowDays} days`;
  const [usage] = await queryRows<{ n: number; ml: number }>(
    db,
    sql`select count(*)::float8 as n, (count(*) filter (where p.used_ml))::float8 as ml
        from predictions p where p.created_at >= ${since}::timestamptz`,
  );
  const [lat] = await queryRows<{ n: number; p99: number | null; p50: number | null }>(
    db,
    sql`select count(*)::float8 as n,
          percentile_disc(0.5) within group (order by p.latency_ms) as p50,
          percentile_disc(0.99) within group (order by p.latency_ms) as p99
        from predictions p where ${MODEL_RAN} and p.created_at >= ${since}::timestamptz`,
  );
  const fallbacks = await queryRows<{ cause: string; n: number }>(
    db,
    sql`select coalesce(p.fallback_cause, 'unknown') as cause, count(*)::float8 as n from predictions p
        where not p.used_ml and p.created_at >= ${since}::timestamptz group by 1 order by 2 desc, 1`,
  );
  const n = Number(usage?.n ?? 0);
  const ml = Number(usage?.ml ?? 0);
  const share = n ? ml / n : null;
  const latN = Number(lat?.n ?? 0);
  const p99 = lat?.p99 === null || lat?.p99 === undefined ? null : Number(lat.p99);
  return [
    {
      id: "model-usage",
      status: n === 0 ? "skip" : (share as number) >= t.minModelUsage ? "pass" : "fail",
      summary:
        n === 0
          ? `no predictions in ${window}`
          : `the model scored ${pct(share)} of ${int(n)} predictions in ${window}; at least ${pct(t.minModelUsage)} required`,
      value: share,
      details: {
        predictions: n,
        scoredByModel: ml,
        fallbacks: Object.fromEntries(fallbacks.map((f) => [f.cause, Number(f.n)])),
      },
      examples: fallbacks.map((f) => `${int(Number(f.n))} fell back to the heuristic: ${f.cause}`),
    },
    {
      id: "latency",
      status: latN === 0 ? "skip" : (p99 as number) < t.maxLatencyP99Ms ? "pass" : "fail",
      summary:
        latN === 0
          ? `no predictions on which a model ran in ${window}`
          : `p99 prediction latency ${ms(p99)} over ${int(latN)} predictions in ${window}; under ${ms(t.maxLatencyP99Ms)} required`,
      value: p99,
      details: {
        samples: latN,
        p50Ms: lat?.p50 === null || lat?.p50 === undefined ? null : Number(lat.p50),
        p99Ms: p99,
      },
      examples: [],
    },
  ];
}

interface WindowAccuracy {
  samples: number;
  accuracy: number | null;
  interval: Interval | null;
}

async function checkAccuracy(
  db: DbOrTx,
  t: DataCheckThresholds,
  tiers: TierThresholds,
  now: Date,
): Promise<CheckResult> {
  const span = t.windowDays * 24 * HOUR;
  const recentFrom = new Date(now.getTime() - span).toISOString();
  const priorFrom = new Date(now.getTime() - 2 * span).toISOString();
  const rows = await queryRows<{ recent: boolean; n: number; correct: number }>(
    db,
    sql`select p.created_at >= ${recentFrom}::timestamptz as recent, count(*)::float8 as n,
          (count(*) filter (where (p.ml_trust >= ${tiers.review}) = o.success))::float8 as correct
        from predictions p join outcomes o on o.prediction_id = p.id and o.status = 'verified'
        where p.used_ml and p.ml_trust is not null and p.created_at >= ${priorFrom}::timestamptz
          and p.created_at < ${now.toISOString()}::timestamptz
        group by 1`,
  );
  const pick = (recent: boolean): WindowAccuracy => {
    const r = rows.find((x) => x.recent === recent);
    const n = Number(r?.n ?? 0);
    const w = wilsonInterval(Number(r?.correct ?? 0), n);
    return { samples: n, accuracy: w?.estimate ?? null, interval: w ? { lower: w.lower, upper: w.upper } : null };
  };
  const recent = pick(true);
  const prior = pick(false);
  const change = recent.accuracy !== null && prior.accuracy !== null ? (recent.accuracy - prior.accuracy) * 100 : null;
  const judged = recent.samples >= t.minAccuracySamples && prior.samples >= t.minAccuracySamples;
  const describe = (w: WindowAccuracy) =>
    w.accuracy === null ? "no samples" : `${pct(w.accuracy)} (${pctInterval(w.interval)}) on ${int(w.samples)}`;
  const status: CheckStatus = !judged ? "skip" : (change as number) < -t.maxAccuracyDropPoints ? "fail" : "pass";
  return {
    id: "accuracy",
    status,
    summary: `model accuracy over the last ${t.windowDays} days ${describe(recent)}, the ${t.windowDays} days before ${describe(prior)}, change ${points(change)} points; ${
      judged
        ? `a drop of more than ${t.maxAccuracyDropPoints} points fails`
        : `not judged below ${t.minAccuracySamples} samples in each window`
    }`,
    value: change,
    details: { recent, prior, changePoints: change },
    examples: [],
  };
}

async function tableSizes(db: DbOrTx): Promise<TableSize[]> {
  const parts = TABLES.map(
    (name) =>
      sql`select ${name}::text as t, (select count(*) from ${sql.identifier(name)})::float8 as n, pg_total_relation_size(${name}::regclass)::float8 as b`,
  );
  const rows = await queryRows<{ t: string; n: number; b: number }>(db, sql.join(parts, sql` union all `));
  return rows.map((r) => ({ table: r.t, rows: Number(r.n), bytes: Number(r.b) }));
}

export async function runDataChecks(db: DbOrTx, options: DataCheckOptions = {}): Promise<DataCheckReport> {
  const t: DataCheckThresholds = { ...DEFAULT_CHECK_THRESHOLDS, ...options.thresholds };
  const now = options.now ?? new Date();
  const tiers = options.tiers ?? DEFAULT_THRESHOLDS;
  const checks: CheckResult[] = [
    await checkFeatureVectors(db, t),
    ...(await checkOutcomes(db, t, now)),
    await checkDuplicates(db, t),
    ...(await checkWindow(db, t, now)),
    await checkAccuracy(db, t, tiers, now),
  ];
  return {
    generatedAt: now.toISOString(),
    ok: checks.every((c) => c.status !== "fail"),
    thresholds: t,
    checks,
    tables: await tableSizes(db),
  };
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export function renderDataChecks(r: DataCheckReport): string {
  const lines = [`data check at ${r.generatedAt}: ${r.ok ? "OK" : "FAILED"}`, ""];
  for (const c of r.checks) {
    lines.push(`${c.status.toUpperCase().padEnd(4)}  ${c.id.padEnd(17)}  ${c.summary}`);
    for (const e of c.examples) lines.push(`${"".padEnd(25)}- ${e}`);
  }
  lines.push("", "tables:");
  const w = Math.max(...r.tables.map((t) => t.table.length));
  for (const t of r.tables)
    lines.push(`  ${t.table.padEnd(w)}  ${int(t.rows).padStart(11)} rows  ${bytes(t.bytes).padStart(9)}`);
  return lines.join("\n");
}
