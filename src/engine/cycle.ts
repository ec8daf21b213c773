/**
 * The autopilot cycle, in five steps, each in its own file under steps/: 1. Observe the repository, 2. Act (a dry
 * run: each recipe's patch), 3. Decide how far to trust each patch, 4. Verify them in isolation, 5. Learn (store
 * predictions beside outcomes). The recipes act before anything is decided because trust is a function of the
 * patch. The engine knows nothing of GitHub, queues or the database: its collaborators come in through the ports
 * (ports.ts), built by its callers.
 */
import { randomUUID } from "node:crypto";
import { ObserveError } from "./observe.js";
import type { CycleDeps, StartedCycle } from "./ports.js";
import { type CycleRequest, RepositoryGoneError } from "./request.js";
import { act } from "./steps/act.js";
import { decide } from "./steps/decide.js";
import { type EarlyTests, startEarlyTests } from "./steps/early-tests.js";
import { learn } from "./steps/learn.js";
import { observe } from "./steps/observe.js";
import { createRun } from "./steps/run.js";
import { verify, verifyMemo } from "./steps/verify.js";
import type { CycleSummary } from "./types.js";

export async function runCycle(req: CycleRequest, deps: CycleDeps): Promise<CycleSummary> {
  const startedAt = (deps.clock ?? (() => new Date()))();
  const t0 = performance.now();
  const cycle = await register(req, deps);
  const summary: CycleSummary = {
    id: cycle?.cycleId ?? randomUUID(),
    repository: `${req.repository.owner}/${req.repository.name}`,
    sha: req.sha,
    trigger: req.trigger,
    status: "running",
    startedAt: startedAt.toISOString(),
    durationsMs: {},
    facts: null,
    results: [],
    skipped: [],
    stored: false,
    error: null,
  };
  const run = createRun(req, deps, cycle, startedAt, summary);

  let unexpected: unknown = null;
  let early: EarlyTests | null = null;
  try {
    const observing = await observe(run); // 1. Observe: the files, and the baseline started
    // 2. Act (dry run) while the baseline's type check and tests run in their own processes, once they are under
    // way; a baseline that fails is the cycle's error before any of Act's.
    const acting = observing.started.then(() => act(run, observing.view));
    // What Verify will need of each planned candidate (its lint, its type check) begins once Act is done, while the
    // baseline's tests still run, and stops when they end: Verify takes over from there.
    const memo = verifyMemo(run, observing.view, observing.checker);
    let baselineSettled = false;
    const settled = () => {
      baselineSettled = true;
    };
    void observing.baseline.then(settled, settled);
    const warming = acting.then(
      (planned) => memo.warm(planned.candidates, () => baselineSettled || req.signal?.aborted === true),
      () => null,
    );
    // Where the baseline's tests still run when Act has planned, the candidates' tests start on the lanes they
    // leave free (steps/early-tests.ts); Verify reads what they settled.
    let testsEnded = false;
    void observing.testsEnded.then(() => {
      testsEnded = true;
    });
    // A baseline that did not pass the first time runs once more, alone: what started early would not count (it
    // ran the first way), and it competes with the run that decides.
    let retried = false;
    void observing.testsRetry.then(() => {
      retried = true;
      early?.stop();
    });
    // (A baseline that settles first has ended its tests: nothing starts early then.)
    early = await acting.then(
      (planned) =>
        !testsEnded && !retried
          ? startEarlyTests(run, planned, {
              typeCheck: memo.typeCheck,
              baselineDiagnostics: observing.diagnostics,
              baselineTestsEnded: observing.testsEnded,
            })
          : null,
      () => null,
    );
    const [baseline, acted] = await Promise.allSettled([observing.baseline, acting]);
    if (baseline.status !== "fulfilled" || baseline.value.testsPassing !== "pass") early?.stop();
    // A lint under way when the baseline ended finishes before Verify starts (they share the recipes' program).
    const ahead = await warming;
    if (ahead) summary.ahead = { ...ahead };
    if (baseline.status === "rejected") throw baseline.reason;
    if (acted.status === "rejected") throw acted.reason;
    const [observed, planned] = [baseline.value, acted.value];
    const decided = await decide(run, observed, planned); // 3. Decide
    summary.results = await verify(run, observed, planned, decided, memo, early); // 4. Verify
    summary.status = "completed";
  } catch (err) {
    summary.status = "failed";
    summary.error = describeError(err, req.root);
    // Bad input (ObserveError) is an answer, not a fault; anything else is rethrown after the failure is
    // recorded, so a queue can retry it.
    if (!(err instanceof ObserveError)) unexpected = err;
  } finally {
    // Runs started early and not needed (a cycle that failed): none starts now, and closing stops those under way.
    early?.stop();
    await Promise.allSettled([run.sessions.typeChecker?.close(), run.sessions.tests?.close()]);
    deps.tools.dispose?.(req.root);
  }
  summary.durationsMs.total = Math.round(performance.now() - t0);
  await learn(run); // 5. Learn
  if (unexpected) throw unexpected;
  return summary;
}

/** The cycle's row: the caller's, or one started here (taken over by a retried job with the same run key). */
async function register(req: CycleRequest, deps: CycleDeps): Promise<StartedCycle | null> {
  if (!deps.store) return null;
  if (req.started) return req.started;
  const cycle = await deps.store.start({
    repository: req.repository,
    ...(req.repositoryId !== undefined ? { repositoryId: req.repositoryId } : {}),
    runKey: req.runKey ?? randomUUID(),
    sha: req.sha,
    trigger: req.trigger,
  });
  if (!cycle) throw new RepositoryGoneError(req.repositoryId ?? -1);
  return cycle;
}

function describeError(err: unknown, root: string): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split(root).join(".").slice(0, 2000);
}
