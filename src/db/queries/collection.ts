import { and, eq, isNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../client.js";
import { collectionErrors, predictions } from "../schema.js";

/** Recipes already recorded (with an outcome) for a repository at a sha: collection skips them. */
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
  return new Set(rows.map((r) => r.recipeId));
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
