import { eq, sql } from "drizzle-orm";
import type { CandidateResult, CycleStatus, RepoFacts } from "../../engine/types.js";
import { type DbOrTx, queryRows } from "../client.js";
import { cycles, outcomes, predictions, repositories } from "../schema.js";

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

async function insertResults(tx: DbOrTx, input: FinishCycleInput): Promise<void> {
  const rows = input.results.map(({ candidate, prediction }) => ({
    cycleId: input.cycleId,
    repositoryId: input.repositoryId,
    sha: input.sha,
    candidateKey: candidate.key,
    recipeId: candidate.recipe.id,
    family: candidate.recipe.family,
    safety: candidate.recipe.safety,
    scope: candidate.scope,
    files: candidate.files.map((f) => f.path),
    linesAdded: candidate.linesAdded,
    linesRemoved: candidate.linesRemoved,
    patchHash: candidate.patchHash,
    featureSchemaVersion: prediction.featureSchemaVersion,
    features: prediction.features,
    mlTrust: prediction.mlTrust,
    heuristicTrust: prediction.heuristicTrust,
    trust: prediction.trust,
    tier: prediction.tier,
    usedMl: prediction.usedML,
    fallbackCause: prediction.fallbackCause,
    modelVersion: prediction.modelVersion,
    latencyMs: prediction.latencyMs,
    confidence: prediction.confidence,
    reason: prediction.reason,
  }));
  // Batches keep each statement's parameter count well under Postgres' limit of 65,535.
  const ids: { id: number; key: string }[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const inserted = await tx
      .insert(predictions)
      .values(rows.slice(i, i + 500))
      .returning({ id: predictions.id, key: predictions.candidateKey });
    ids.push(...inserted);
  }
  const byKey = new Map(ids.map((r) => [r.key, r.id]));
  const outcomeRows = input.results.flatMap(({ candidate, outcome }) => {
    const predictionId = byKey.get(candidate.key);
    if (!outcome || predictionId === undefined) return [];
    return [
      {
        predictionId,
        success: outcome.success,
        status: outcome.status,
        diagnosticsBefore: outcome.diagnosticsBefore,
        diagnosticsAfter: outcome.diagnosticsAfter,
        newDiagnostics: outcome.newDiagnostics,
        lintBefore: outcome.lintBefore,
        lintAfter: outcome.lintAfter,
        newLintFindings: outcome.newLintFindings,
        targetBefore: outcome.targetBefore,
        targetAfter: outcome.targetAfter,
        tests: outcome.tests,
        testsReason: outcome.testsReason ?? null,
        verificationScore: outcome.verificationScore,
        failureCause: outcome.failureCause ?? null,
        durationsMs: outcome.durationsMs,
      },
    ];
  });
  for (let i = 0; i < outcomeRows.length; i += 500) {
    await tx.insert(outcomes).values(outcomeRows.slice(i, i + 500));
  }
}

export async function findCycle(db: DbOrTx, id: string): Promise<CycleRow | undefined> {
  const [row] = await db.select().from(cycles).where(eq(cycles.id, id));
  return row;
}

export async function setCycleCheckRun(db: DbOrTx, cycleId: string, checkRunId: number): Promise<void> {
  await db.update(cycles).set({ checkRunId }).where(eq(cycles.id, cycleId));
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
