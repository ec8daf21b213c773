/**
 * A recipe's track record before a prediction: across all repositories (the crowd) and in this repository.
 * Only outcomes recorded before `before` count, so a stored feature vector never contains its own outcome or a
 * later one. Outcomes whose verification itself failed (status "error") say nothing about the recipe and are left
 * out. Neither do the outcomes of the cycle asking (a retried cycle keeps its failed attempt's outcomes until it
 * finishes) nor those of the same commit (a rerun on an unchanged commit would count the very patches it is
 * about to score again, and move their trust without any new evidence).
 */
import { and, desc, eq, inArray, isNull, lt, ne, or, type SQL, sql } from "drizzle-orm";
import type { DbOrTx } from "../db/client.js";
import { outcomes, predictions } from "../db/schema.js";
import type { RecipeHistory } from "./types.js";

export interface HistoryQuery {
  repositoryId: number;
  recipeIds: readonly string[];
  before: Date;
  /** The cycle asking: its own outcomes (from an earlier attempt) never count. */
  cycleId?: string | null;
  /** The commit being scored: outcomes recorded for the same commit never count. */
  sha?: string | null;
}

function emptyHistory(): RecipeHistory {
  return { crowdSuccesses: 0, crowdRuns: 0, repoSuccesses: 0, repoRuns: 0, repoConsecutiveFailures: 0 };
}

/** History of each requested recipe; a recipe never run has an all-zero entry. */
export async function loadRecipeHistory(db: DbOrTx, q: HistoryQuery): Promise<Map<string, RecipeHistory>> {
  const ids = [...new Set(q.recipeIds)];
  const out = new Map<string, RecipeHistory>(ids.map((id) => [id, emptyHistory()]));
  if (ids.length === 0) return out;
  const conditions: SQL[] = [
    inArray(predictions.recipeId, ids),
    lt(outcomes.createdAt, q.before),
    eq(outcomes.status, "verified"),
  ];
  if (q.cycleId) conditions.push(ne(predictions.cycleId, q.cycleId));
  if (q.sha) conditions.push(or(isNull(predictions.sha), ne(predictions.sha, q.sha)) as SQL);
  const known = and(...conditions);
  const crowd = await db
    .select({
      recipeId: predictions.recipeId,
      runs: sql<number>`count(*)::int`,
      successes: sql<number>`(count(*) filter (where ${outcomes.success}))::int`,
    })
    .from(predictions)
    .innerJoin(outcomes, eq(outcomes.predictionId, predictions.id))
    .where(known)
    .groupBy(predictions.recipeId);
  for (const row of crowd) {
    const h = out.get(row.recipeId);
    if (!h) continue;
    h.crowdRuns = Number(row.runs);
    h.crowdSuccesses = Number(row.successes);
  }
  // This repository's runs, newest first: counts, and the failures since the last success.
  const repo = await db
    .select({ recipeId: predictions.recipeId, success: outcomes.success })
    .from(predictions)
    .innerJoin(outcomes, eq(outcomes.predictionId, predictions.id))
    .where(and(known, eq(predictions.repositoryId, q.repositoryId)))
    .orderBy(desc(outcomes.createdAt), desc(outcomes.id));
  const streakOpen = new Set(ids);
  for (const row of repo) {
    const h = out.get(row.recipeId);
    if (!h) continue;
    h.repoRuns++;
    if (row.success) {
      h.repoSuccesses++;
      streakOpen.delete(row.recipeId);
    } else if (streakOpen.has(row.recipeId)) {
      h.repoConsecutiveFailures++;
    }
  }
  return out;
}
