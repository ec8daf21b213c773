/**
 * Tests ahead of Verify. Once Act has planned, the baseline's tests often still run (the suite takes longer than
 * the planning), and with two or more lanes one of them is free. The planned candidates' tests then start in
 * groups at once, on the lanes the baseline leaves free (all of them once it has ended), instead of after it: on
 * a repository whose tests take longer than its type check, a whole round of test runs overlaps the baseline.
 *
 * Their results count only where the baseline's tests passed the way these runs went (a baseline that passed only
 * when run again another way, without coverage or with node_modules writable, leaves them unused), and Verify
 * reads them through the grouped runner: a candidate whose run is settled costs no run there. Candidates are
 * grouped as Verify groups them, the unsafe apart from the others (the tiers, which also keep manual-only
 * candidates apart, are not known before Decide). Where Decide will leave candidates out (more than the cap), or
 * runs are not grouped (collection, Apply), nothing starts early.
 */
import { capLimit } from "../budget.js";
import { testsInScope } from "../request.js";
import { filesKey, gate, shareEquivalentRuns, testableMembers, testInGroups } from "../test-groups.js";
import type { Diagnostic } from "../types.js";
import type { CandidateTestRunner } from "../verify.js";
import type { Planned } from "./act.js";
import type { CycleRun } from "./run.js";

export interface EarlyTests {
  /**
   * The runner that answers from the early groups' runs, once all of them have settled; null when none ran, or
   * when they were stopped (before or after they settled): then nothing they ran counts.
   */
  results(): Promise<CandidateTestRunner | null>;
  /**
   * Starts no further run and stops those under way: the baseline's tests did not pass, or ran again another
   * way (what ran early went the first way), or the cycle ended.
   */
  stop(): void;
}

export function startEarlyTests(
  run: CycleRun,
  planned: Planned,
  ahead: {
    typeCheck: (overrides: ReadonlyMap<string, string>) => Promise<Diagnostic[]>;
    baselineDiagnostics: Promise<Diagnostic[]>;
    baselineTestsEnded: Promise<void>;
  },
): EarlyTests | null {
  const { req } = run;
  const tests = run.sessions.tests;
  const lanes = Math.max(1, Math.floor(tests?.lanes ?? 1));
  if (!tests || lanes < 2 || req.groupTests === false || req.trigger === "apply") return null;
  const cap = capLimit(req.maxCandidates);
  if (cap !== null && planned.candidates.length > cap) return null;
  const list = planned.candidates.filter((c) => testsInScope(req, c));
  if (list.length === 0) return null;

  const stopping = new AbortController();
  const stopped = () => stopping.signal.aborted;
  let baselineRuns = true;
  const lanesLeft = gate(lanes - 1);
  void ahead.baselineTestsEnded.then(() => {
    baselineRuns = false;
    lanesLeft.grow(lanes);
  });
  const shared = shareEquivalentRuns(tests);
  // While the baseline's tests run, the early runs take only the CPU it leaves: a baseline slowed down fails the
  // tests that have a time budget, and then nothing run early counts.
  const runner: CandidateTestRunner = {
    ...shared,
    run: (edits, options) =>
      lanesLeft.run(() => shared.run(edits, { ...options, signal: stopping.signal, background: baselineRuns })),
  };
  const unsafe = new Set(list.filter((c) => c.recipe.safety === "unsafe").map((c) => filesKey(c.files)));
  const grouped = (async (): Promise<CandidateTestRunner | null> => {
    // Where the tests type-check, a member must pass the type check first: against the baseline's diagnostics.
    const diagnostics = (runner.checksTypes?.() ?? true) ? await ahead.baselineDiagnostics : [];
    const members = await testableMembers(runner, list, ahead.typeCheck, diagnostics);
    if (stopped() || members.length === 0) return null;
    const g = await testInGroups(runner, members, {
      aborted: () => stopped() || req.signal?.aborted === true,
      apart: (files) => unsafe.has(filesKey(files)),
    });
    return g.runner;
  })();
  // Read by Verify, or by nobody when the cycle fails first.
  grouped.catch(() => undefined);
  return {
    results: () => grouped.then((r) => (stopped() ? null : r)).catch(() => null),
    stop: () => stopping.abort(),
  };
}
