/**
 * Step 5, Learn: the cycle's end is stored once, through the store, with its predictions and outcomes where the
 * repository consented (the store re-checks consent as it writes). Without a store nothing is kept.
 */
import type { CycleRun } from "./run.js";

export async function learn(run: CycleRun): Promise<void> {
  const { req, deps, summary, cycle } = run;
  if (!deps.store || !cycle) return;
  run.progress({ phase: "learn", message: "storing the cycle" });
  const t = performance.now();
  const { stored } = await deps.store.finish({
    cycleId: cycle.cycleId,
    repositoryId: cycle.repositoryId,
    sha: req.sha,
    status: summary.status,
    error: summary.error,
    durationsMs: summary.durationsMs,
    facts: summary.facts,
    results: summary.results,
    storeData: req.collectData,
  });
  summary.durationsMs.learn = Math.round(performance.now() - t);
  summary.stored = stored;
}
