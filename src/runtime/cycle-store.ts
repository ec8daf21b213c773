/**
 * The engine's cycle store on Postgres (or PGlite): the cycle row, the recipes' history and records, and Learn's
 * one transaction (src/db/queries/cycles.ts).
 */
import type { DbOrTx } from "../db/client.js";
import { finishCycle, startCycle } from "../db/queries/cycles.js";
import { loadProbationRecords } from "../db/queries/probation.js";
import { findRepositoryById, upsertRepository } from "../db/queries/repositories.js";
import type { CycleStore } from "../engine/ports.js";
import { loadRecipeHistory } from "../model/history.js";

interface CycleStoreOptions {
  /** Read the recipes' records for probation (default true); false: every recipe is in good standing. */
  probation?: boolean;
}

export function createCycleStore(db: DbOrTx, options: CycleStoreOptions = {}): CycleStore {
  return {
    async start(run) {
      const repo =
        run.repositoryId !== undefined
          ? await findRepositoryById(db, run.repositoryId)
          : await upsertRepository(db, run.repository);
      if (!repo) return null;
      const row = await startCycle(db, {
        repositoryId: repo.id,
        runKey: run.runKey,
        sha: run.sha,
        trigger: run.trigger,
      });
      return { cycleId: row.id, repositoryId: repo.id };
    },
    history: (q) => loadRecipeHistory(db, q),
    ...(options.probation === false ? {} : { records: (q) => loadProbationRecords(db, q) }),
    finish: (record) => finishCycle(db, record),
  };
}
