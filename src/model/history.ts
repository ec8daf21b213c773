/**
 * A recipe's track record before a prediction: across all repositories (the crowd) and in this repository.
 * Only outcomes recorded before `before` count, so a stored feature vector never contains its own outcome or a
 * later one. Outcomes whose verification itself failed (status "error") say nothing about the recipe and are left
 * out.
 */
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { DbOrTx } from "../db/client.js";
import { outcomes, predictions } from "../db/schema.js";
import type { RecipeHistory } from "./types.js";

export interface HistoryQuery {
  repositoryId: number;
  recipeIds: readonly string[];
  before: Date;
}

export function emptyHistory(): RecipeHistory {
  return { crowdSuccesses: 0, crowdRuns: 0, repoSuccesses: 0, repoRuns: 0, repoConsecutiveFailures: 0 };
}

/** History of each requested recipe; a recipe never run has an all-zero entry. */
export async function loadRecipeHistory(db: DbOrTx, q: HistoryQuery): Promise<Map<string, RecipeHistory>> {
  const ids = [...new Set(q.recipeIds)];
  const out = new Map<string, RecipeHistory>(ids.map((id) => [id, emptyHistory()]));
  if (ids.length === 0) return out;
  const known = and(
    inArray(predictions.recipeId, ids),
    lt(outcomes.createdAt, q.before),
    eq(outcomes.status, "verified"),
  );
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
