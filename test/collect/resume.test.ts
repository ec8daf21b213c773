/**
 * Resumable collection: a recipe counts as done at a repository's sha when predictions were recorded for it, or
 * when a completed cycle ran it there and found nothing, so a later pass neither repeats samples nor observes the
 * repository again only to find nothing. A failed cycle's recipes stay to do.
 */
import { afterEach, describe, expect, it } from "vitest";
import { markRecipesTried, recordedRecipes } from "../../src/db/queries/collection.js";
import { finishCycle, startCycle } from "../../src/db/queries/cycles.js";
import { setConsent, upsertRepository } from "../../src/db/queries/repositories.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";
import { sampleResult } from "../helpers/samples.js";

describe.each(TEST_DB_KINDS)("recipes already done on %s", (kind) => {
  let db: TestDb | undefined;
  afterEach(async () => {
    await db?.cleanup();
    db = undefined;
  });

  it("counts recorded predictions and recipes a completed cycle tried, per sha; not a failed cycle's", async () => {
    const t = await createTestDb(kind);
    db = t;
    const repo = await upsertRepository(t.db, { owner: "o", name: "r", mode: "shadow" });
    await setConsent(t.db, repo.id, "dataCollection", true, { source: "operator", actor: "t" });
    const run = async (runKey: string, sha: string, status: "completed" | "failed", tried: string[], n: number) => {
      const cycle = await startCycle(t.db, { repositoryId: repo.id, runKey, sha, trigger: "shadow" });
      await finishCycle(t.db, {
        cycleId: cycle.id,
        repositoryId: repo.id,
        sha,
        status,
        error: status === "failed" ? "boom" : null,
        durationsMs: {},
        facts: null,
        results: Array.from({ length: n }, (_, i) => sampleResult(0, i)),
        storeData: true,
      });
      await markRecipesTried(t.db, cycle.id, tried);
    };
    expect(await recordedRecipes(db.db, repo.id, "a")).toEqual(new Set());
    // Two samples: recipes bench/recipe-0 and bench/recipe-1; the cycle also tried two recipes that found nothing.
    await run("k1", "a", "completed", ["bench/recipe-0", "bench/recipe-1", "eslint/eqeqeq", "ts/fix-spelling"], 2);
    await run("k2", "a", "failed", ["biome/use-const"], 0);
    await run("k3", "b", "completed", ["eslint/no-var"], 0);
    expect([...(await recordedRecipes(db.db, repo.id, "a"))].sort()).toEqual([
      "bench/recipe-0",
      "bench/recipe-1",
      "eslint/eqeqeq",
      "ts/fix-spelling",
    ]);
    expect(await recordedRecipes(db.db, repo.id, "b")).toEqual(new Set(["eslint/no-var"]));
    expect(await recordedRecipes(db.db, repo.id, null)).toEqual(new Set());
  });
});
