import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, openDb } from "../../src/db/client.js";
import { loadRecipeHistory } from "../../src/model/history.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";
import { addCycle, addRepository, addSample } from "./db.js";

let handle: DbHandle;
let repoA: number;
let repoB: number;
const t = (minute: number) => new Date(Date.UTC(2025, 0, 1, 0, minute));

beforeAll(async () => {
  handle = await openDb({ dataDir: "memory" });
  const db = handle.db;
  repoA = await addRepository(db, "acme", "a");
  repoB = await addRepository(db, "acme", "b");
  const ca = await addCycle(db, repoA);
  const cb = await addCycle(db, repoB);
  const r = "eslint/prefer-const";
  // Repository A: success, failure, success, failure, failure (minutes 1..5); one more success at minute 20.
  for (const [minute, success] of [
    [1, true],
    [2, false],
    [3, true],
    [4, false],
    [5, false],
    [20, true],
  ] as const) {
    await addSample(db, { repositoryId: repoA, cycleId: ca, recipeId: r, success, at: t(minute) });
  }
  // A verification error says nothing about the recipe.
  await addSample(db, { repositoryId: repoA, cycleId: ca, recipeId: r, success: false, at: t(6), status: "error" });
  // Repository B: two successes, one at minute 30.
  await addSample(db, { repositoryId: repoB, cycleId: cb, recipeId: r, success: true, at: t(7) });
  await addSample(db, { repositoryId: repoB, cycleId: cb, recipeId: r, success: true, at: t(30) });
  await addSample(db, { repositoryId: repoB, cycleId: cb, recipeId: "biome/use-const", success: false, at: t(8) });
});

afterAll(async () => {
  await handle.close();
});

describe("loadRecipeHistory", () => {
  it("counts only outcomes recorded before the given time", async () => {
    const h = await loadRecipeHistory(handle.db, {
      repositoryId: repoA,
      recipeIds: ["eslint/prefer-const", "biome/use-const", "ts/never-run"],
      before: t(10),
    });
    expect(h.get("eslint/prefer-const")).toEqual({
      crowdRuns: 6,
      crowdSuccesses: 3,
      repoRuns: 5,
      repoSuccesses: 2,
      repoConsecutiveFailures: 2,
    });
    expect(h.get("biome/use-const")).toEqual({
      crowdRuns: 1,
      crowdSuccesses: 0,
      repoRuns: 0,
      repoSuccesses: 0,
      repoConsecutiveFailures: 0,
    });
    expect(h.get("ts/never-run")).toMatchObject({ crowdRuns: 0, repoRuns: 0 });
  });

  it("moves with the time: earlier and later cut-offs", async () => {
    const early = await loadRecipeHistory(handle.db, {
      repositoryId: repoA,
      recipeIds: ["eslint/prefer-const"],
      before: t(3),
    });
    expect(early.get("eslint/prefer-const")).toEqual({
      crowdRuns: 2,
      crowdSuccesses: 1,
      repoRuns: 2,
      repoSuccesses: 1,
      repoConsecutiveFailures: 1,
    });
    // The outcome at exactly the cut-off is not "before".
    const late = await loadRecipeHistory(handle.db, {
      repositoryId: repoA,
      recipeIds: ["eslint/prefer-const"],
      before: t(30),
    });
    expect(late.get("eslint/prefer-const")).toEqual({
      crowdRuns: 7,
      crowdSuccesses: 4,
      repoRuns: 6,
      repoSuccesses: 3,
      repoConsecutiveFailures: 0,
    });
  });

  it("returns an empty map for no recipes", async () => {
    expect((await loadRecipeHistory(handle.db, { repositoryId: repoA, recipeIds: [], before: t(99) })).size).toBe(0);
  });
});

describe.each(TEST_DB_KINDS)("loadRecipeHistory leaves out the asking cycle and commit (%s)", (kind) => {
  let db: TestDb;
  let repo: number;
  let other: number;
  const r = "eslint/eqeqeq";

  beforeAll(async () => {
    db = await createTestDb(kind);
    repo = await addRepository(db.db, "acme", "retried");
    other = await addRepository(db.db, "acme", "elsewhere");
  });

  afterAll(async () => {
    await db.cleanup();
  });

  it("a retried cycle does not count its failed attempt, nor a rerun its own commit", async () => {
    const earlier = await addCycle(db.db, repo);
    const retried = await addCycle(db.db, repo);
    const elsewhere = await addCycle(db.db, other);
    // An earlier commit: one success, one failure.
    await addSample(db.db, { repositoryId: repo, cycleId: earlier, recipeId: r, success: true, at: t(1), sha: "old" });
    await addSample(db.db, { repositoryId: repo, cycleId: earlier, recipeId: r, success: false, at: t(2), sha: "old" });
    // The retried cycle's first attempt on commit "new" stored a failure before it died.
    await addSample(db.db, { repositoryId: repo, cycleId: retried, recipeId: r, success: false, at: t(3), sha: "new" });
    // Another run on the same commit (a rerun), and a run in another repository on the same commit id.
    await addSample(db.db, { repositoryId: repo, cycleId: earlier, recipeId: r, success: true, at: t(4), sha: "new" });
    await addSample(db.db, { repositoryId: other, cycleId: elsewhere, recipeId: r, success: true, at: t(5), sha: "x" });

    const everything = await loadRecipeHistory(db.db, { repositoryId: repo, recipeIds: [r], before: t(10) });
    expect(everything.get(r)).toEqual({
      crowdRuns: 5,
      crowdSuccesses: 3,
      repoRuns: 4,
      repoSuccesses: 2,
      repoConsecutiveFailures: 0,
    });
    const retry = await loadRecipeHistory(db.db, {
      repositoryId: repo,
      recipeIds: [r],
      before: t(10),
      cycleId: retried,
      sha: "new",
    });
    // Only the earlier commit's two outcomes in this repository, and the other repository's one in the crowd.
    expect(retry.get(r)).toEqual({
      crowdRuns: 3,
      crowdSuccesses: 2,
      repoRuns: 2,
      repoSuccesses: 1,
      repoConsecutiveFailures: 1,
    });
    // Without the commit, the same cycle alone is left out: the rerun's success on "new" counts again.
    const cycleOnly = await loadRecipeHistory(db.db, {
      repositoryId: repo,
      recipeIds: [r],
      before: t(10),
      cycleId: retried,
    });
    expect(cycleOnly.get(r)).toMatchObject({ repoRuns: 3, repoSuccesses: 2, repoConsecutiveFailures: 0 });
  });
});
