import { and, eq, isNull, sql } from "drizzle-orm";
import { type DbOrTx, queryRows } from "../client.js";
import { collectionErrors, cycles, predictions } from "../schema.js";

/**
 * Recipes already done for a repository at a sha, which collection skips: those with recorded predictions, and
 * those a completed cycle ran there without finding anything to change (marked by markRecipesTried), so that a
 * later pass does not observe the repository again only to find nothing.
 */
export async function recordedRecipes(db: DbOrTx, repositoryId: number, sha: string | null): Promise<Set<string>> {
  const rows = await db
    .selectDistinct({ recipeId: predictions.recipeId })
    .from(predictions)
    .where(
      and(
        eq(predictions.repositoryId, repositoryId),
        sha === null ? isNull(predictions.sha) : eq(predictions.sha, sha),
      ),
    );
  const tried = await queryRows<{ recipe_id: string }>(
    db,
    sql`select distinct jsonb_array_elements_text(facts -> 'recipesTried') as recipe_id
        from ${cycles}
        where repository_id = ${repositoryId} and status = 'completed'
          and ${sha === null ? sql`sha is null` : sql`sha = ${sha}`}
          and jsonb_typeof(facts -> 'recipesTried') = 'array'`,
  );
  return new Set([...rows.map((r) => r.recipeId), ...tried.map((r) => r.recipe_id)]);
}

/** Marks the recipes a completed cycle ran (in its facts), whether or not they found anything. */
export async function markRecipesTried(db: DbOrTx, cycleId: string, recipeIds: readonly string[]): Promise<void> {
  await db.execute(
    sql`update ${cycles}
        set facts = coalesce(facts, '{}'::jsonb) || jsonb_build_object('recipesTried', ${JSON.stringify([...recipeIds].sort())}::jsonb)
        where id = ${cycleId} and status = 'completed'`,
  );
}

export async function recordCollectionError(
  db: DbOrTx,
  repository: string,
  ref: string | null,
  error: string,
): Promise<void> {
  await db.insert(collectionErrors).values({ repository, ref, error: error.slice(0, 4000) });
}

export async function countPredictions(db: DbOrTx): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(predictions);
  return Number(row?.n ?? 0);
}
