/** The cycle row through the store port: started once (or taken from the caller), finished once. */
import { describe, expect, it } from "vitest";
import { runCycle } from "../../src/engine/cycle.js";
import type { CycleDeps, CycleRecord, CycleStart, CycleStore, CycleTools } from "../../src/engine/ports.js";
import { RepositoryGoneError } from "../../src/engine/request.js";
import { createHeuristicPredictor } from "../../src/model/predictor.js";
import { cycleRequest } from "../helpers/engine.js";

function fakeStore(startResult: "row" | "gone" = "row") {
  const calls = { start: [] as CycleStart[], finish: [] as CycleRecord[] };
  const store: CycleStore = {
    async start(run) {
      calls.start.push(run);
      return startResult === "row" ? { cycleId: "c-1", repositoryId: 7 } : null;
    },
    history: async () => new Map(),
    async finish(record) {
      calls.finish.push(record);
      return { stored: false };
    },
  };
  return { store, calls };
}

/** Tools for a repository without TypeScript: Observe refuses it at once, without starting any tool. */
const EMPTY_TOOLS: CycleTools = {
  listFiles: async () => ({ files: [], skipped: [] }),
  startTypeChecker: () => Promise.reject(new Error("not started")),
  startTests: () => Promise.reject(new Error("not started")),
  family: () => {
    throw new Error("no family");
  },
};

function deps(store: CycleStore): CycleDeps {
  return {
    store,
    predictor: createHeuristicPredictor("disabled"),
    computeFeatures: () => [],
    tools: EMPTY_TOOLS,
    clock: () => new Date("2026-01-02T03:04:05Z"),
  };
}

describe("the cycle row through the store", () => {
  it("is started once and finished once with what the cycle found", async () => {
    const { store, calls } = fakeStore();
    const summary = await runCycle(cycleRequest("/nonexistent", { runKey: "k", repositoryId: 7 }), deps(store));
    expect(calls.start).toEqual([
      expect.objectContaining({ runKey: "k", repositoryId: 7, repository: expect.objectContaining({ name: "repo" }) }),
    ]);
    expect(calls.finish).toEqual([
      expect.objectContaining({ cycleId: "c-1", repositoryId: 7, status: "failed", storeData: true }),
    ]);
    expect(summary).toMatchObject({ id: "c-1", status: "failed", startedAt: "2026-01-02T03:04:05.000Z" });
    expect(summary.error).toMatch(/no TypeScript source files/);
  });

  it("a row the caller started is not started again, only finished", async () => {
    const { store, calls } = fakeStore();
    const started = { cycleId: "job-row", repositoryId: 3 };
    const summary = await runCycle(cycleRequest("/nonexistent", { started, repositoryId: 3 }), deps(store));
    expect(calls.start).toEqual([]);
    expect(calls.finish.map((r) => [r.cycleId, r.repositoryId])).toEqual([["job-row", 3]]);
    expect(summary.id).toBe("job-row");
  });

  it("a repository gone before the cycle starts ends it before anything runs", async () => {
    const { store, calls } = fakeStore("gone");
    await expect(runCycle(cycleRequest("/nonexistent", { repositoryId: 9 }), deps(store))).rejects.toThrow(
      RepositoryGoneError,
    );
    expect(calls.finish).toEqual([]);
  });

  it("without a store nothing is started or finished", async () => {
    const summary = await runCycle(cycleRequest("/nonexistent"), { ...deps(fakeStore().store), store: null });
    expect(summary.stored).toBe(false);
    expect(summary.status).toBe("failed");
  });
});
