/**
 * Records for recipes on probation (src/engine/probation.ts): each recipe's verified outcomes across all
 * repositories (its latest runs) and in one repository, and the operator's overrides (`recipe_overrides`).
 */
import { eq, type SQL, sql } from "drizzle-orm";
import {
  PROBATION,
  type RecipeRecord,
  type RecipeRecordsQuery,
  type RecipeStanding,
  standings,
} from "../../engine/probation.js";
import { type DbOrTx, queryRows } from "../client.js";
import { recipeOverrides } from "../schema.js";

function emptyRecord(): RecipeRecord {
  return {
    globalRuns: 0,
    globalFailures: 0,
    repoRuns: 0,
    repoFailures: 0,
    repoHardFailureStreak: 0,
    overridden: false,
  };
}

function recipeFilter(ids: readonly string[] | null): SQL {
  if (ids === null) return sql`true`;
  return sql`p.recipe_id in (${sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  )})`;
}

/**
 * Each requested recipe's record (a recipe never run has an all-zero one). Verified outcomes only: a verification
 * that itself failed (status "error") says nothing of the recipe. A run "fails by the type check or the tests" when
 * it added diagnostics or the tests failed.
 */
export async function loadProbationRecords(db: DbOrTx, q: RecipeRecordsQuery): Promise<Map<string, RecipeRecord>> {
  const ids = [...new Set(q.recipeIds)];
  const out = new Map<string, RecipeRecord>(ids.map((id) => [id, emptyRecord()]));
  if (ids.length === 0) return out;
  const before = q.before.toISOString();
  const crowd = await queryRows<{ recipe_id: string; runs: number; failures: number }>(
    db,
    sql`select recipe_id, count(*)::int as runs, (count(*) filter (where not success))::int as failures
          from (select p.recipe_id, o.success,
                       row_number() over (partition by p.recipe_id order by o.created_at desc, o.id desc) as n
                  from predictions p join outcomes o on o.prediction_id = p.id
                 where ${recipeFilter(ids)} and o.status = 'verified' and o.created_at < ${before}::timestamptz) t
         where n <= ${PROBATION.globalWindow}
         group by recipe_id`,
  );
  for (const row of crowd) {
    const r = out.get(row.recipe_id);
    if (!r) continue;
    r.globalRuns = Number(row.runs);
    r.globalFailures = Number(row.failures);
  }
  if (q.repositoryId !== null) {
    const here = await queryRows<{ recipe_id: string; success: boolean; hard: boolean }>(
      db,
      sql`select p.recipe_id, o.success, (o.new_diagnostics > 0 or o.tests = 'fail') as hard
            from predictions p join outcomes o on o.prediction_id = p.id
           where ${recipeFilter(ids)} and p.repository_id = ${q.repositoryId} and o.status = 'verified'
             and o.created_at < ${before}::timestamptz
           order by o.created_at desc, o.id desc`,
    );
    const streakOpen = new Set(ids);
    for (const row of here) {
      const r = out.get(row.recipe_id);
      if (!r) continue;
      r.repoRuns++;
      if (!row.success) r.repoFailures++;
      if (!streakOpen.has(row.recipe_id)) continue;
      if (!row.success && row.hard) r.repoHardFailureStreak++;
      else streakOpen.delete(row.recipe_id);
    }
  }
  for (const id of await overriddenRecipes(db)) {
    const r = out.get(id);
    if (r) r.overridden = true;
  }
  return out;
}

export interface Override {
  recipeId: string;
  actor: string;
  createdAt: Date;
}

async function listOverrides(db: DbOrTx): Promise<Override[]> {
  return db.select().from(recipeOverrides).orderBy(recipeOverrides.recipeId);
}

async function overriddenRecipes(db: DbOrTx): Promise<string[]> {
  return (await db.select({ id: recipeOverrides.recipeId }).from(recipeOverrides)).map((r) => r.id);
}

/** Lets a recipe out of probation everywhere (idempotent; the actor of the latest call is kept). */
export async function setOverride(db: DbOrTx, recipeId: string, actor: string): Promise<void> {
  await db
    .insert(recipeOverrides)
    .values({ recipeId, actor })
    .onConflictDoUpdate({ target: recipeOverrides.recipeId, set: { actor, createdAt: new Date() } });
}

/** Puts a recipe back under probation; false when it had no override. */
export async function clearOverride(db: DbOrTx, recipeId: string): Promise<boolean> {
  const gone = await db
    .delete(recipeOverrides)
    .where(eq(recipeOverrides.recipeId, recipeId))
    .returning({ id: recipeOverrides.recipeId });
  return gone.length > 0;
}

export interface ProbationListing {
  /** Recipes on probation across all repositories. */
  global: RecipeStanding[];
  /** Recipes on probation or muted in one repository. */
  repositories: { repository: string; standings: RecipeStanding[] }[];
  overrides: Override[];
}

/** Every recipe not in good standing now, across all repositories and in each one, and the overrides. */
export async function listProbation(db: DbOrTx, now: Date = new Date()): Promise<ProbationListing> {
  const recipes = (
    await queryRows<{ recipe_id: string }>(db, sql`select distinct recipe_id from predictions order by 1`)
  ).map((r) => r.recipe_id);
  const global = [
    ...standings(
      recipes,
      await loadProbationRecords(db, { repositoryId: null, recipeIds: recipes, before: now }),
    ).values(),
  ];
  const globalIds = new Set(global.map((s) => s.recipeId));
  const repos = await queryRows<{ id: number; owner: string; name: string }>(
    db,
    sql`select r.id, r.owner, r.name from repositories r
         where exists (select 1 from predictions p where p.repository_id = r.id) order by r.owner, r.name`,
  );
  const repositories: ProbationListing["repositories"] = [];
  for (const repo of repos) {
    const records = await loadProbationRecords(db, { repositoryId: repo.id, recipeIds: recipes, before: now });
    // What the crowd already puts on probation is listed once, above.
    const own = [...standings(recipes, records).values()].filter(
      (s) => !globalIds.has(s.recipeId) || s.status === "muted",
    );
    if (own.length > 0) repositories.push({ repository: `${repo.owner}/${repo.name}`, standings: own });
  }
  return { global, repositories, overrides: await listOverrides(db) };
}
