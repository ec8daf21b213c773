/**
 * The machine-facing tools of a cycle: listing files safely, the incremental type checker, and the repository's
 * tests run in the sandbox on isolated copies. Repository code only ever runs through the sandbox.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CycleTools, TestSession, TypeCheckerSession } from "../engine/cycle.js";
import { ObserveError } from "../engine/observe.js";
import type { TestStatus } from "../engine/types.js";
import { disposeWorkspace, getFamily } from "../recipes/index.js";
import { ourTypeScriptDir, type Sandbox } from "../sandbox/index.js";
import { startTypeChecker, TypeCheckerError } from "../sandbox/typecheck.js";
import {
  createCandidateCopy,
  detectTestCommand,
  linkedPackageTargets,
  removeCandidateCopy,
  safeListFiles,
  type TestCommand,
} from "../workspace/index.js";

export interface CycleToolsOptions {
  sandbox: Sandbox | null;
  /** Why there is no sandbox (shown as the reason tests did not run). */
  sandboxProblem: string | null;
  /** Where candidate copies are made. */
  scratchDir?: string;
  /** Wall-time limit of one test run. */
  testTimeoutMs?: number;
  /** Wall-time limit of the type checker's start and of each check. */
  typecheckTimeoutMs?: number;
  maxFileBytes?: number;
}

export function createCycleTools(options: CycleToolsOptions): CycleTools {
  const scratch = options.scratchDir ?? join(tmpdir(), "odavl-candidates");
  return {
    async listFiles(root) {
      const listed = await safeListFiles(root, { maxFileBytes: options.maxFileBytes ?? 1024 * 1024 });
      return {
        files: listed.files,
        skipped: listed.skipped.map((s) => ({ file: s.file, reason: describeSkip(s.reason) })),
      };
    },
    async startTypeChecker(root, tsconfigPath): Promise<TypeCheckerSession> {
      // The repository's own TypeScript is repository code: it runs only in the sandbox. Without one, our own
      // TypeScript checks the code (the results may differ in version, and the facts say which ran).
      // Where the repository's TypeScript has no API to check with (TypeScript 7, older than 4.5), ours checks
      // the baseline and every candidate; the facts keep the repository's version and say which compiler checked.
      return startTypeChecker({
        root,
        ...(tsconfigPath ? { tsconfigPath } : {}),
        sandbox: options.sandbox,
        useRepoTypeScript: options.sandbox?.isolated === true,
        readOnlyPaths: linkedPackageTargets(root),
        timeoutMs: options.typecheckTimeoutMs ?? 10 * 60_000,
      }).then(
        (checker): TypeCheckerSession => ({
          typescriptVersion: checker.repositoryTypeScript?.version ?? checker.typescriptVersion,
          compiler: {
            version: checker.typescriptVersion,
            source: checker.fromRepository ? "repository" : "product",
            repositoryVersion: checker.repositoryTypeScript?.version ?? null,
            reason: checker.repositoryTypeScript?.reason ?? null,
            notes: [...checker.configNotes],
          },
          baseline: () => checker.baseline(),
          check: (overrides) => checker.check(overrides),
          close: () => checker.close(),
        }),
        (error: unknown) => {
          // A TypeScript too old to check with is the repository's answer (the cycle fails with the reason, and a
          // queue does not retry it), not a fault of ours.
          if (error instanceof TypeCheckerError && error.failure === "unsupported-typescript") {
            throw new ObserveError(error.message, root, { cause: error });
          }
          throw error;
        },
      );
    },
    async startTests(root, override) {
      if (!options.sandbox) return { unavailable: options.sandboxProblem ?? "no sandbox to run the tests in" };
      const command = override ? shellTestCommand(root, override) : detectTestCommand(root);
      if (!command) return { unavailable: "the repository has no test script" };
      return createTestSession(root, command, options.sandbox, scratch, options.testTimeoutMs ?? 10 * 60_000);
    },
    family: (recipe) => getFamily(recipe.family),
    dispose: (root) => disposeWorkspace(root),
  };
}

function createTestSession(
  root: string,
  test: TestCommand,
  sandbox: Sandbox,
  scratch: string,
  timeoutMs: number,
): TestSession {
  const runIn = async (edits: readonly { path: string; after: string }[]) => {
    const t0 = performance.now();
    const copy = await createCandidateCopy(root, edits, scratch);
    try {
      const readOnlyPaths = [...new Set([...copy.readOnlyPaths, ...linkedPackageTargets(root), ourTypeScriptDir()])];
      if (test.needsBuild && test.buildCommand) {
        const build = await sandbox.run({
          cwd: copy.dir,
          command: test.buildCommand.command,
          args: test.buildCommand.args,
          env: test.env,
          readOnlyPaths,
          limits: { timeoutMs },
        });
        if (build.exitCode !== 0) {
          return {
            status: "fail" as TestStatus,
            reason: `build failed (exit ${build.exitCode ?? build.killed})`,
            durationMs: performance.now() - t0,
          };
        }
      }
      const r = await sandbox.run({
        cwd: copy.dir,
        command: test.command,
        args: test.args,
        env: test.env,
        readOnlyPaths,
        limits: { timeoutMs },
      });
      const status: TestStatus = r.exitCode === 0 && !r.killed ? "pass" : "fail";
      const reason =
        status === "pass"
          ? undefined
          : r.killed
            ? `stopped by the sandbox: ${r.killed}`
            : `exit code ${r.exitCode ?? r.signal}`;
      return { status, ...(reason ? { reason } : {}), durationMs: Math.round(performance.now() - t0) };
    } finally {
      await removeCandidateCopy(copy);
    }
  };
  return {
    command: [test.command, ...test.args].join(" "),
    baseline: () => runIn([]),
    run: (edits) => runIn(edits),
    async close() {},
  };
}

/** A test command given as a shell line (an operator's list, where package.json's script is not the right one). */
function shellTestCommand(root: string, line: string): TestCommand {
  return {
    command: "sh",
    args: ["-c", line],
    env: { PATH: `${join(root, "node_modules", ".bin")}:/usr/local/bin:/usr/bin:/bin` },
    script: line,
    runsLint: false,
    needsBuild: false,
    buildCommand: null,
  };
}

function describeSkip(reason: string): string {
  switch (reason) {
    case "symlink-outside":
      return "symlink that leaves the repository (not read)";
    case "symlink-broken":
      return "broken symlink";
    case "symlink":
      return "symlink (its target is read instead)";
    case "binary":
      return "binary file";
    case "too-large":
      return "file too large";
    default:
      return reason;
  }
}
