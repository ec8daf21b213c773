/**
 * Step 1, Observe: the repository as it is. Its files (listed safely), its tsconfig, and the baseline's type check
 * and tests, run side by side (neither needs the other) and while Act plans (it needs only the files).
 */
import type { RecipeWorkspace } from "../../recipes/types.js";
import { createRecipeWorkspace, cycleSourceFiles, ObserveError, readTsconfig, type TsconfigInfo } from "../observe.js";
import type { TypeCheckerSession } from "../ports.js";
import type { Diagnostic, TestStatus } from "../types.js";
import type { CycleRun } from "./run.js";

export interface Observation {
  listing: { files: string[]; skipped: { file: string; reason: string }[] };
  tsconfig: TsconfigInfo;
  sourceFiles: string[];
  /** The recipes' view of the unchanged repository. */
  ws: RecipeWorkspace;
  checker: TypeCheckerSession;
  baselineDiagnostics: Diagnostic[];
  testsPassing: TestStatus;
  /** Why the tests do not count, or "" when they passed. */
  testsReason: string;
  testCommand: string | null;
}

/** The repository as read, before its baseline: what Act needs to plan. */
export type RepositoryView = Pick<Observation, "listing" | "tsconfig" | "sourceFiles" | "ws">;

/**
 * Reads the repository and starts its baseline (type check and tests, in their own processes). The baseline is
 * returned unawaited so that Act can plan while it runs; the "observe" duration ends when the baseline does.
 * `started` settles once both halves of the baseline are under way (the type checker has its request, the tests'
 * first process runs) or have ended: Act's planning keeps this process busy, and started before, it would hold
 * up the very steps that set the baseline going (copying the checkout, preparing the toolchain, spawning).
 */
export async function observe(run: CycleRun): Promise<{
  view: RepositoryView;
  baseline: Promise<Observation>;
  started: Promise<void>;
  /** The type checker once it is up (before the baseline's diagnostics); rejected when it cannot start. */
  checker: Promise<TypeCheckerSession>;
  /** The baseline's type-check diagnostics, as soon as they are known (before its tests end). */
  diagnostics: Promise<Diagnostic[]>;
  /** Settles when the baseline's tests have ended (or did not run), however they ended. */
  testsEnded: Promise<void>;
  /** Settles when the baseline's tests did not pass a first time and run once more, another way. */
  testsRetry: Promise<void>;
}> {
  const { req, deps, summary } = run;
  const t0 = performance.now();
  const finish = () => {
    summary.durationsMs.observe = Math.round(performance.now() - t0);
  };
  let view: RepositoryView;
  try {
    view = await run.timed("observe", async () => {
      run.progress({ phase: "observe", message: "reading the repository" });
      const listing = await deps.tools.listFiles(req.root);
      summary.skipped.push(...listing.skipped);
      const tsconfig = readTsconfig(req.root, listing.files);
      if (tsconfig.outsideFiles.length > 0) {
        const n = tsconfig.outsideFiles.length;
        summary.skipped.push({
          file: "tsconfig.json",
          reason: `includes ${n} file${n === 1 ? "" : "s"} outside the repository (ignored)`,
        });
      }
      const sourceFiles = cycleSourceFiles(tsconfig, listing.files);
      if (sourceFiles.length === 0) {
        throw new ObserveError("no TypeScript source files found (is this a TypeScript repository?)", req.root);
      }
      return { listing, tsconfig, sourceFiles, ws: createRecipeWorkspace(req.root, sourceFiles, tsconfig.path) };
    });
  } finally {
    finish();
  }
  const checking = once();
  const testing = once();
  run.progress({ phase: "observe", message: "type-checking the baseline" });
  const checker = deps.tools.startTypeChecker(req.root, view.tsconfig.path);
  // Nobody may wait for the checker (a cycle that fails first): its failure is the baseline's to report.
  checker.catch(() => undefined);
  const typeCheck = checker.then((checker) => {
    run.sessions.typeChecker = checker;
    const diagnostics = checker.baseline();
    checking.fire();
    return diagnostics.then((d) => ({ checker, diagnostics: d }));
  });
  const testsEnded = once();
  const testsRetry = once();
  const baseline = (async (): Promise<Observation> => {
    try {
      const [checked, tested] = await Promise.allSettled([
        typeCheck.finally(checking.fire),
        baselineTests(run, testing.fire, testsRetry.fire).finally(() => {
          testing.fire();
          testsEnded.fire();
        }),
      ]);
      if (checked.status === "rejected") throw checked.reason;
      if (tested.status === "rejected") throw tested.reason;
      return {
        ...view,
        checker: checked.value.checker,
        baselineDiagnostics: checked.value.diagnostics,
        ...tested.value,
      };
    } finally {
      finish();
    }
  })();
  const diagnostics = typeCheck.then((c) => c.diagnostics);
  // Nobody may wait for them (a cycle that fails first): their failure is the baseline's to report.
  diagnostics.catch(() => undefined);
  return {
    view,
    baseline,
    started: Promise.all([checking.fired, testing.fired]).then(() => undefined),
    checker,
    diagnostics,
    testsEnded: testsEnded.fired,
    testsRetry: testsRetry.fired,
  };
}

/** A one-time event: `fired` resolves at the first `fire()`. */
function once(): { fire: () => void; fired: Promise<void> } {
  let fire = () => {};
  const fired = new Promise<void>((resolve) => {
    fire = () => resolve();
  });
  return { fire, fired };
}

async function baselineTests(
  run: CycleRun,
  onLaunch: () => void,
  onRetry: () => void,
): Promise<Pick<Observation, "testsPassing" | "testsReason" | "testCommand">> {
  const { req, deps } = run;
  if (!req.runTests) return { testsPassing: "unknown", testsReason: "tests not run (--no-tests)", testCommand: null };
  run.progress({ phase: "observe", message: "running the tests at baseline" });
  const configured = req.config.tests;
  const command = req.testCommand ?? configured?.command;
  const t = await deps.tools.startTests(req.root, {
    ...(command ? { command } : {}),
    ...(configured?.setup ? { setup: configured.setup } : {}),
    ...(configured?.timeout ? { timeoutMs: configured.timeout * 1000 } : {}),
    ...(req.trigger === "apply" ? { fullSuite: true } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
  });
  if ("unavailable" in t) return { testsPassing: "unknown", testsReason: t.unavailable, testCommand: null };
  run.sessions.tests = t;
  const b = await t.baseline({ onLaunch, onRetry });
  return {
    testsPassing: b.status,
    testsReason: b.status === "pass" ? "" : `tests did not pass before the change: ${b.reason ?? "status unknown"}`,
    testCommand: t.command,
  };
}
