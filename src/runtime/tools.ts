/**
 * The machine-facing tools of a cycle: listing files safely, the incremental type checker, and the repository's
 * tests run in the sandbox on isolated copies. Repository code only ever runs through the sandbox.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ObserveError } from "../engine/observe.js";
import type { CycleTools, TestSession, TypeCheckerSession } from "../engine/ports.js";
import type { TestRun } from "../engine/verify.js";
import { disposeWorkspace, getFamily } from "../recipes/index.js";
import { ourTypeScriptDir, prepareToolchain, type Sandbox } from "../sandbox/index.js";
import { startTypeChecker, TypeCheckerError } from "../sandbox/typecheck.js";
import {
  applyCandidateEdits,
  type CandidateCopy,
  type CandidateEdit,
  createCandidateCopy,
  describeTestLine,
  detectTests,
  linkedPackageTargets,
  removeCandidateCopy,
  resetCandidateCopy,
  safeListFiles,
  type TestCommand,
  UnsafePathError,
} from "../workspace/index.js";
import { type BaselineCoverage, changedLineCoverage, prepareCoverage, readCoverage } from "./coverage.js";
import {
  type Compile,
  compiler,
  emitOptions,
  emittedJavaScriptKey,
  sameEmittedJavaScript,
  typeCheckingInTests,
} from "./emit.js";
import { explainFailure, failedTestFiles, type KnownLimits, parseTestCounts, plainOutput } from "./test-output.js";

export interface CycleToolsOptions {
  sandbox: Sandbox | null;
  /** Why there is no sandbox (shown as the reason tests did not run). */
  sandboxProblem: string | null;
  /** Where candidate copies are made. */
  scratchDir?: string;
  /** Wall-time limit of one test run. */
  testTimeoutMs?: number;
  /** Test runs of one session at once (SANDBOX_PARALLEL_RUNS); 1 when absent. */
  parallelRuns?: number;
  /** The sandbox's memory and process limits, named in the reason when a test run is stopped by one. */
  sandboxLimits?: { memoryMb?: number; maxProcesses?: number };
  /**
   * Makes the repository's package manager runnable in the sandbox (pnpm, yarn) before its tests run: the extra
   * environment and read-only paths every test run gets, or why the tests cannot run. The one place a toolchain
   * is prepared.
   */
  prepareToolchain?: (root: string) => Promise<Toolchain | { unavailable: string }>;
  /** Where the default preparation keeps package managers (SANDBOX_TOOLCHAIN_DIR). */
  toolchainDir?: string;
  /** Wall-time limit of the type checker's start and of each check. */
  typecheckTimeoutMs?: number;
  maxFileBytes?: number;
}

export interface Toolchain {
  env: Record<string, string>;
  readOnlyPaths: string[];
  /** Directories put first on the PATH of every run (the package manager's shims). */
  pathPrefix?: string[];
  /** Why the repository's package manager could not be prepared; named when a run then misses it. */
  problem?: string | null;
}

/** The sandbox's preparation of the repository's pnpm or yarn, as the test session takes it. */
function sandboxToolchain(cacheDir: string | undefined): (root: string) => Promise<Toolchain> {
  return (root) => prepareToolchain(root, cacheDir ? { cacheDir } : {});
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
    async startTests(root, configured = {}) {
      if (!options.sandbox) return { unavailable: options.sandboxProblem ?? "no sandbox to run the tests in" };
      const found = configured.command ? shellTestCommand(root, configured.command) : detectTests(root);
      if ("reason" in found) return { unavailable: found.reason };
      const test: TestCommand = { ...found, setup: configured.setup ?? found.setup };
      const toolchain = await (options.prepareToolchain ?? sandboxToolchain(options.toolchainDir))(root);
      if ("unavailable" in toolchain) return { unavailable: toolchain.unavailable };
      return createTestSession(
        root,
        test,
        options.sandbox,
        toolchain,
        scratch,
        {
          timeoutMs: configured.timeoutMs ?? options.testTimeoutMs ?? 10 * 60_000,
          ...options.sandboxLimits,
        },
        configured.fullSuite === true,
        options.parallelRuns ?? 1,
        configured.signal,
      );
    },
    family: (recipe) => getFamily(recipe.family),
    dispose: (root) => disposeWorkspace(root),
  };
}

/**
 * Copies of the checkout the session's runs take turns in: a run takes an idle copy reset to the checkout (see
 * resetCandidateCopy) or, when none is idle, a fresh one, and gives it back afterwards. Copying a repository for
 * every candidate costs more than putting back the few files a run changed.
 */
function copyPool(root: string, scratch: string) {
  const idle: CandidateCopy[] = [];
  const all = new Set<CandidateCopy>();
  return {
    async take(edits: readonly CandidateEdit[]): Promise<CandidateCopy> {
      const reused = idle.pop();
      if (reused) {
        try {
          await resetCandidateCopy(reused, root);
          await applyCandidateEdits(reused.dir, edits);
          return reused;
        } catch (error) {
          all.delete(reused);
          await removeCandidateCopy(reused);
          if (error instanceof UnsafePathError) throw error;
          // A copy that cannot be put back is replaced by a fresh one.
        }
      }
      const copy = await createCandidateCopy(root, edits, scratch);
      all.add(copy);
      return copy;
    },
    give(copy: CandidateCopy): void {
      idle.push(copy);
    },
    async close(): Promise<void> {
      idle.length = 0;
      await Promise.all([...all].map((c) => removeCandidateCopy(c)));
      all.clear();
    },
  };
}

/** The nice value of background test runs: the baseline's tests, the type checker and the cycle go first. */
const BACKGROUND_NICENESS = 10;

function createTestSession(
  root: string,
  test: TestCommand,
  sandbox: Sandbox,
  toolchain: Toolchain,
  scratch: string,
  limits: KnownLimits,
  fullSuite: boolean,
  lanes: number,
  signal: AbortSignal | undefined,
): TestSession {
  let baselineCoverage: BaselineCoverage | null = null;
  const related = fullSuite ? null : test.relatedLine;
  // Tests that check where a resolved module really lives (liquidjs's template lookup) need the packages inside
  // the copy: the base's node_modules is shown read-only over the copy's links. Not for tools that keep caches in
  // node_modules (vite, vitest, ava, nyc), which need the copy's own writable directory.
  const commandText = [test.script, test.setup ?? "", [test.command, ...test.args].join(" ")].join("\n");
  let mountModules =
    test.runner !== "vitest" && test.runner !== "ava" && !/\b(vite|vitest|ava|nyc)\b/.test(commandText);
  // Skipping a run whose changes compile to the baseline's JavaScript is sound only where the tests just run it.
  // The same holds for two changes that compile to the same JavaScript: one run stands for both.
  let compile: Compile | null | undefined = fullSuite ? null : undefined;
  const emitting = () => {
    if (compile === undefined) {
      const build = test.needsBuild && test.buildCommand ? [test.buildCommand.command, ...test.buildCommand.args] : [];
      const lines = [test.script, test.setup ?? "", [test.command, ...test.args].join(" "), build.join(" ")];
      compile = typeCheckingInTests(root, lines) === null ? compiler(emitOptions(root)) : null;
    }
    return compile;
  };
  const unchanged = (files: readonly { path: string; before: string; after: string }[]): string | null => {
    const c = emitting();
    if (c === null || !sameEmittedJavaScript(files, c)) return null;
    return "not run: the changed files compile to the same JavaScript as at baseline, where the tests passed";
  };
  // Where the tests may type-check (ts-jest, tsc in the command), or it is not known, a type error fails them too.
  const checksTypes = () => emitting() === null;
  const equivalent = (files: readonly { path: string; before: string; after: string }[]): string | null => {
    const c = emitting();
    return c === null ? null : emittedJavaScriptKey(files, c);
  };
  const copies = copyPool(root, scratch);
  // jest's and tsx's caches last across the session's runs (a warm jest cache: 12 s a run instead of 18 s on
  // tsconfig-paths); the directory sits beside the copies, never inside one, and goes with them at close.
  let caches: Promise<string> | null = null;
  const toolCaches = () => {
    caches ??= mkdir(scratch, { recursive: true, mode: 0o700 }).then(() => mkdtemp(join(scratch, "caches-")));
    return caches;
  };
  const runIn = async (
    edits: readonly { path: string; after: string }[],
    mode: "baseline" | "candidate",
    {
      onLaunch,
      onRetry,
      only,
      signal: runSignal,
      background,
    }: {
      onLaunch?: () => void;
      onRetry?: () => void;
      only?: readonly string[] | undefined;
      signal?: AbortSignal;
      background?: boolean;
    } = {},
  ): Promise<TestRun> => {
    const stop = runSignal && signal ? AbortSignal.any([signal, runSignal]) : (runSignal ?? signal);
    const t0 = performance.now();
    const done = (r: Omit<TestRun, "durationMs">): TestRun => ({
      ...r,
      durationMs: Math.round(performance.now() - t0),
    });
    const cachesDir = await toolCaches();
    const copy = await copies.take(edits);
    try {
      const readOnlyPaths = [
        ...new Set([
          ...copy.readOnlyPaths,
          ...linkedPackageTargets(root),
          ourTypeScriptDir(),
          ...toolchain.readOnlyPaths,
        ]),
      ];
      const exec = (
        command: string,
        args: string[],
        env: Record<string, string>,
        how: { mount: boolean; writablePaths?: string[] },
      ) =>
        sandbox.run({
          cwd: copy.dir,
          command,
          args,
          // The shims go first also where the test command sets its own PATH (node_modules/.bin).
          env: {
            ...toolchain.env,
            ...env,
            ...(env.PATH && toolchain.pathPrefix?.length
              ? { PATH: [...toolchain.pathPrefix, env.PATH].join(":") }
              : {}),
          },
          ...(toolchain.pathPrefix?.length ? { pathPrefix: toolchain.pathPrefix } : {}),
          ...(how.mount ? { mounts: copy.modules.map((m) => ({ source: m.base, dest: m.copy })) } : {}),
          readOnlyPaths,
          ...(how.writablePaths?.length ? { writablePaths: how.writablePaths } : {}),
          toolCaches: cachesDir,
          limits: { timeoutMs: limits.timeoutMs },
          ...(onLaunch ? { onLaunch } : {}),
          ...(stop ? { signal: stop } : {}),
          ...(background ? { niceness: BACKGROUND_NICENESS } : {}),
        });
      /** The setup and build steps; the failure when one fails. */
      const steps = async (mount: boolean): Promise<Attempt | null> => {
        const list: [string, { command: string; args: string[] } | null][] = [
          ["setup", test.setup ? { command: "sh", args: ["-c", test.setup] } : null],
          ["build", test.needsBuild ? test.buildCommand : null],
        ];
        for (const [name, step] of list) {
          if (!step) continue;
          const r = await exec(step.command, step.args, { ...test.env, ...binPath(root) }, { mount });
          if (r.exitCode !== 0 || r.killed) {
            const shown = step.command === "sh" ? step.args[1] : [step.command, ...step.args].join(" ");
            return {
              passed: false,
              ranSuite: false,
              stopped: r.killed !== undefined && r.killed !== null,
              reason: `${name} failed before the tests (\`${shown}\`): ${explainFailure(r, null, limits)}`,
            };
          }
        }
        return null;
      };
      /** The whole suite; with coverage, what it collected becomes the baseline's coverage. */
      const suite = async (mount: boolean, withCoverage: boolean): Promise<Attempt> => {
        const coverage = withCoverage ? prepareCoverage(copy.dir) : null;
        let r: Awaited<ReturnType<typeof exec>>;
        try {
          const repoFiles = coverage ? listRepositoryFiles(copy.dir) : null;
          r = await exec(
            test.command,
            test.args,
            { ...test.env, ...(coverage?.env ?? {}) },
            { mount, ...(coverage ? { writablePaths: [coverage.writable] } : {}) },
          );
          if (coverage && repoFiles) baselineCoverage = readCoverage(copy.dir, coverage.dir, repoFiles);
        } finally {
          coverage?.remove();
        }
        if (r.exitCode === 0 && !r.killed) return { passed: true, ranSuite: true, stopped: false, reason: "" };
        return {
          output: plainOutput(r),
          passed: false,
          ranSuite: true,
          stopped: (r.killed !== undefined && r.killed !== null) || r.exitCode === null,
          reason:
            r.exitCode === 127 && toolchain.problem
              ? `${explainFailure(r, test.runner, limits)} (${toolchain.problem})`
              : explainFailure(r, test.runner, limits),
        };
      };

      if (mode === "baseline") {
        const first = (await steps(mountModules)) ?? (await suite(mountModules, true));
        if (first.passed) return done({ status: "pass", ran: "full" });
        const failed = done({
          status: "fail",
          reason: first.reason,
          ...(first.ranSuite ? { ran: "full" as const } : {}),
        });
        if (first.stopped) return failed;
        // How the product observes the run must not decide the verdict: V8's coverage counters slow the code down
        // (tests with a time budget fail: rrule allows 200 ms a case), and packages shown read-only over the
        // copy's links stop tools that keep caches in node_modules (rollup-plugin-typescript2's .rpt2). A baseline
        // that fails runs once more without either; when that passes, it is the baseline, and the candidates run
        // the same way.
        onRetry?.();
        const second = (await steps(false)) ?? (await suite(false, false));
        if (!second.passed) return { ...failed, durationMs: Math.round(performance.now() - t0) };
        baselineCoverage = null;
        const changed = mountModules
          ? "without coverage collection and with node_modules writable"
          : "without coverage collection";
        mountModules = false;
        return done({
          status: "pass",
          reason: `passed on a second run ${changed} (the first: ${first.reason})`,
          ran: "full",
        });
      }

      const failedStep = await steps(mountModules);
      if (failedStep) return done({ status: "fail", reason: failedStep.reason });
      let note: string | undefined;
      /** The failing test files the runner named, where each is a file of the copy (a related line can run them). */
      const failedFiles = (output: string): { failedFiles?: string[] } => {
        const files = related ? failedTestFiles(output, test.runner) : null;
        return files?.every((f) => existsSync(join(copy.dir, f))) ? { failedFiles: files } : {};
      };
      if (related && (edits.length > 0 || only?.length)) {
        // Only the tests that import the changed files (or the test files asked for), when the runner can tell
        // which; a run that finds none, or whose summary cannot be read, is no evidence either way, so the full
        // suite decides instead.
        const targets = only?.length ? only : edits.map((e) => e.path);
        const r = await exec(
          "sh",
          ["-c", `${related} "$@"`, "sh", ...targets],
          { ...test.env, ...binPath(root) },
          { mount: mountModules },
        );
        const output = plainOutput(r);
        const counts = parseTestCounts(output, test.runner);
        const ran = counts !== null && !counts.noTests && (counts.passed ?? 0) + (counts.failed ?? 0) > 0;
        if (!r.killed && r.exitCode === 0 && ran) return done({ status: "pass", ran: "related" });
        if (r.killed || (r.exitCode !== 0 && ran && (counts?.failed ?? 0) > 0)) {
          const reason = explainFailure(r, test.runner, limits);
          return done({ status: "fail", reason, ran: "related", ...failedFiles(output) });
        }
        note = only?.length
          ? "the test files asked for did not run: ran the full suite"
          : "no tests related to the changed files: ran the full suite";
      }
      const full = await suite(mountModules, false);
      if (full.passed) return done({ status: "pass", ...(note ? { reason: note } : {}), ran: "full" });
      return done({ status: "fail", reason: full.reason, ran: "full", ...failedFiles(full.output ?? "") });
    } finally {
      copies.give(copy);
    }
  };
  return {
    command: test.command === "sh" ? (test.args[1] ?? test.script) : [test.command, ...test.args].join(" "),
    baseline: (options) => runIn([], "baseline", options),
    lanes,
    run: (edits, options) => runIn(edits, "candidate", options),
    unchanged,
    equivalent,
    checksTypes,
    coverage: (files) => changedLineCoverage(baselineCoverage, files),
    close: async () => {
      await copies.close();
      if (caches) await rm(await caches, { recursive: true, force: true });
    },
  };
}

/** One try at the steps and tests: whether they passed, whether a limit stopped them, and why not. */
interface Attempt {
  passed: boolean;
  /** The suite itself ran (no setup or build step failed before it). */
  ranSuite: boolean;
  stopped: boolean;
  reason: string;
  /** The suite's output (its text without colours), when it ran and did not pass. */
  output?: string;
}

function binPath(root: string): Record<string, string> {
  return { PATH: `${join(root, "node_modules", ".bin")}:/usr/local/bin:/usr/bin:/bin` };
}

/** Repository-relative paths of the files in a copy (not node_modules, not .git), before its tests run. */
function listRepositoryFiles(dir: string): Set<string> {
  const out = new Set<string>();
  const visit = (abs: string, rel: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === ".git") continue;
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) visit(join(abs, entry.name), childRel);
      else if (entry.isFile()) out.add(childRel);
    }
  };
  visit(dir, "");
  return out;
}

/** A test command given as a shell line (`.github/odavl.yml` tests.command, or an operator's list). */
function shellTestCommand(root: string, line: string): TestCommand {
  return {
    command: "sh",
    args: ["-c", line],
    env: binPath(root),
    script: line,
    source: "config",
    // The runner it calls and its related-tests line, as for a package.json script (the line is run as written).
    ...describeTestLine(root, line),
    runsLint: false,
    needsBuild: false,
    buildCommand: null,
    setup: null,
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
