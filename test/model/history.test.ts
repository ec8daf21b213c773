import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, openDb } from "../../src/db/client.js";
import { loadRecipeHistory } from "../../src/model/history.js";
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
