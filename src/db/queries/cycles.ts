import { and, eq, sql } from "drizzle-orm";
import type { CandidateResult, CycleStatus, Prediction, RepoFacts } from "../../engine/types.js";
import { type DbOrTx, queryRows } from "../client.js";
import { cycles, predictions, repositories } from "../schema.js";

export type CycleRow = typeof cycles.$inferSelect;

export interface StartCycleInput {
  repositoryId: number;
  runKey: string;
  sha: string | null;
  trigger: string;
}

/**
 * Starts a cycle, or takes over the one with the same run key (a retried job): it goes back to "running" and
 * keeps its id and check run.
 */
export async function startCycle(db: DbOrTx, input: StartCycleInput): Promise<CycleRow> {
  const [row] = await db
    .insert(cycles)
    .values({ ...input, status: "running" })
    .onConflictDoUpdate({
      target: cycles.runKey,
      set: { status: "running", error: null, startedAt: new Date(), finishedAt: null },
    })
    .returning();
  if (!row) throw new Error(`startCycle: no row for run key ${input.runKey}`);
  return row;
}

export interface FinishCycleInput {
  cycleId: string;
  repositoryId: number;
  sha: string | null;
  status: CycleStatus;
  error: string | null;
  durationsMs: Record<string, number>;
  facts: RepoFacts | null;
  results: readonly CandidateResult[];
  /** Store features, predictions and outcomes (data-collection consent). */
  storeData: boolean;
}

/**
 * Learn: writes the cycle's predictions and outcomes and its final status in one transaction, replacing whatever
 * an earlier attempt of the same cycle stored, so a retry leaves exactly one set. Consent is re-read inside the
 * transaction: a repository that revoked data collection while the cycle ran gets nothing stored.
 */
export async function finishCycle(db: DbOrTx, input: FinishCycleInput): Promise<{ stored: boolean }> {
  return db.transaction(async (tx) => {
    await tx.delete(predictions).where(eq(predictions.cycleId, input.cycleId));
    let stored = false;
    if (input.storeData && input.results.length > 0) {
      const [repo] = await tx
        .select({ dataCollection: repositories.dataCollection })
        .from(repositories)
        .where(eq(repositories.id, input.repositoryId))
        .for("update");
      stored = repo?.dataCollection === true;
      if (stored) await insertResults(tx, input);
    }
    const updated = await tx
      .update(cycles)
      .set({
        status: input.status,
        error: input.error,
        durationsMs: input.durationsMs,
        facts: input.facts,
        candidates: input.results.length,
        dataStored: stored,
        finishedAt: new Date(),
      })
      .where(eq(cycles.id, input.cycleId))
      .returning({ id: cycles.id });
    if (updated.length === 0) {
      // The repository (and its cycles) was deleted while the cycle ran: nothing of it may be written back.
      throw new CycleGoneError(input.cycleId);
    }
    return { stored };
  });
}

export class CycleGoneError extends Error {
  constructor(readonly cycleId: string) {
    super(`cycle ${cycleId} no longer exists (its repository was removed while it ran)`);
    this.name = "CycleGoneError";
  }
}

/**
 * Predictions and outcomes go in as two statements, whatever their number: each takes its rows as one JSON
 * parameter that Postgres expands (json_populate_recordset), which is many times faster than a multi-row VALUES
 * list with tens of thousands of bound parameters, and never meets the 65,535-parameter limit.
 */
async function insertResults(tx: DbOrTx, input: FinishCycleInput): Promise<void> {
  const predictionRows = input.results.map(({ candidate, prediction }) => ({
    cycle_id: input.cycleId,
    repository_id: input.repositoryId,
    sha: input.sha,
    candidate_key: candidate.key,
    recipe_id: candidate.recipe.id,
    family: candidate.recipe.family,
    safety: candidate.recipe.safety,
    scope: candidate.scope,
    files: candidate.files.map((f) => f.path),
    lines_added: candidate.linesAdded,
    lines_removed: candidate.linesRemoved,
    patch_hash: candidate.patchHash,
    feature_schema_version: prediction.featureSchemaVersion,
    features: prediction.features,
    ml_trust: prediction.mlTrust,
    heuristic_trust: prediction.heuristicTrust,
    trust: prediction.trust,
    tier: prediction.tier,
    used_ml: prediction.usedML,
    fallback_cause: prediction.fallbackCause,
    model_version: prediction.modelVersion,
    latency_ms: prediction.latencyMs,
    confidence: prediction.confidence,
    reason: prediction.reason,
  }));
  const predictionColumns = sql.raw(Object.keys(predictionRows[0] ?? { cycle_id: 0 }).join(", "));
  await tx.execute(sql`
    insert into predictions (${predictionColumns})
    select ${predictionColumns} from json_populate_recordset(null::predictions, ${JSON.stringify(predictionRows)}::json)`);
  const outcomeRows = input.results.flatMap(({ candidate, outcome }) =>
    outcome
      ? [
          {
            candidate_key: candidate.key,
            success: outcome.success,
            status: outcome.status,
            diagnostics_before: outcome.diagnosticsBefore,
            diagnostics_after: outcome.diagnosticsAfter,
            new_diagnostics: outcome.newDiagnostics,
            lint_before: outcome.lintBefore,
            lint_after: outcome.lintAfter,
            new_lint_findings: outcome.newLintFindings,
            target_before: outcome.targetBefore,
            target_after: outcome.targetAfter,
            tests: outcome.tests,
            tests_reason: outcome.testsReason ?? null,
            verification_score: outcome.verificationScore,
            failure_cause: outcome.failureCause ?? null,
            durations_ms: outcome.durationsMs,
          },
        ]
      : [],
  );
  if (outcomeRows.length === 0) return;
  const outcomeColumns = Object.keys(outcomeRows[0] as object).filter((c) => c !== "candidate_key");
  const list = sql.raw(outcomeColumns.join(", "));
  const fromJson = sql.raw(outcomeColumns.map((c) => `o.${c}`).join(", "));
  await tx.execute(sql`
    insert into outcomes (prediction_id, ${list})
    select p.id, ${fromJson}
    from json_populate_recordset(null::outcomes, ${JSON.stringify(outcomeRows.map(({ candidate_key, ...o }) => o))}::json)
      with ordinality as o
    join json_array_elements(${JSON.stringify(outcomeRows.map((o) => o.candidate_key))}::json) with ordinality as k(key, n)
      on k.n = o.ordinality
    join predictions p on p.cycle_id = ${input.cycleId} and p.candidate_key = k.key #>> '{}'`);
}

/** A finished cycle whose report is not published because a newer head came while it ran (its data stay). */
export async function markCycleSuperseded(db: DbOrTx, cycleId: string): Promise<void> {
  await db.update(cycles).set({ status: "superseded" }).where(eq(cycles.id, cycleId));
}

export async function setCycleCheckRun(db: DbOrTx, cycleId: string, checkRunId: number): Promise<void> {
  await db.update(cycles).set({ checkRunId }).where(eq(cycles.id, cycleId));
}

/** What a check run showed for a patch: the prediction its cycle stored for it. */
export type ShownPrediction = Pick<
  Prediction,
  "trust" | "tier" | "usedML" | "modelVersion" | "mlTrust" | "heuristicTrust" | "reason"
>;

/**
 * The prediction the cycle behind a check run made for a patch (the most trusted, when recipes agreed on it), or
 * undefined when that cycle stored none (no consent to store data) or had no such patch.
 */
export async function shownPrediction(
  db: DbOrTx,
  p: { repositoryId: number; checkRunId: number; patchHash: string },
): Promise<ShownPrediction | undefined> {
  const [row] = await queryRows<{
    trust: number;
    tier: ShownPrediction["tier"];
    used_ml: boolean;
    model_version: string | null;
    ml_trust: number | null;
    heuristic_trust: number;
    reason: string;
  }>(
    db,
    sql`select p.trust, p.tier, p.used_ml, p.model_version, p.ml_trust, p.heuristic_trust, p.reason
      from predictions p join cycles c on c.id = p.cycle_id
      where c.repository_id = ${p.repositoryId} and c.check_run_id = ${p.checkRunId} and p.patch_hash = ${p.patchHash}
      order by p.trust desc limit 1`,
  );
  if (!row) return undefined;
  return {
    trust: row.trust,
    tier: row.tier,
    usedML: row.used_ml,
    modelVersion: row.model_version,
    mlTrust: row.ml_trust,
    heuristicTrust: row.heuristic_trust,
    reason: row.reason,
  };
}

/** Row counts per table, for tests and data checks. */
export interface RowCounts {
  cycles: number;
  predictions: number;
  outcomes: number;
  repositories: number;
}

export async function countRows(db: DbOrTx): Promise<RowCounts> {
  const rows = await queryRows<{ t: string; n: number }>(
    db,
    sql`
    select 'cycles' as t, count(*)::int as n from cycles
    union all select 'predictions', count(*)::int from predictions
    union all select 'outcomes', count(*)::int from outcomes
    union all select 'repositories', count(*)::int from repositories`,
  );
  const get = (t: string) => Number(rows.find((x) => x.t === t)?.n ?? 0);
  return {
    cycles: get("cycles"),
    predictions: get("predictions"),
    outcomes: get("outcomes"),
    repositories: get("repositories"),
  };
}

/**
 * Records a cycle as failed when its job failed for good outside the engine (checkout, GitHub): a cycle the
 * engine already finished keeps its status and its stored results.
 */
export async function markCycleFailed(db: DbOrTx, cycleId: string, error: string): Promise<void> {
  await db
    .update(cycles)
    .set({ status: "failed", error: error.slice(0, 2000), finishedAt: new Date() })
    .where(and(eq(cycles.id, cycleId), eq(cycles.status, "running")));
}
