/** Real collaborators for engine tests: the real sandbox, type checker, recipes and predictor; hostile repositories. */
import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { sql } from "drizzle-orm";
import { commitAll, linkTypeScript } from "../../src/cli/demo-repo.js";
import type { Db } from "../../src/db/client.js";
import { queryRows } from "../../src/db/client.js";
import { runCycle } from "../../src/engine/cycle.js";
import type { CycleDeps, TestSession } from "../../src/engine/ports.js";
import { DEFAULT_REPO_CONFIG } from "../../src/engine/repo-config.js";
import type { CycleRequest } from "../../src/engine/request.js";
import { computeFeatures } from "../../src/model/features.js";
import { createHeuristicPredictor } from "../../src/model/predictor.js";
import { DEFAULT_THRESHOLDS } from "../../src/model/tiers.js";
import type { Predictor } from "../../src/model/types.js";
import { selectRecipes } from "../../src/recipes/index.js";
import { createCycleStore } from "../../src/runtime/cycle-store.js";
import { createCycleTools } from "../../src/runtime/tools.js";
import { createSandbox, type Sandbox, type SandboxLimits, type SpawningSandbox } from "../../src/sandbox/index.js";

const created: string[] = [];

export function tempDir(prefix = "odavl-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every directory {@link tempDir} made in this process (for an afterAll). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface EngineDepsOptions {
  /** Wall-time limit of one test run (default 10 minutes, as in production). */
  testTimeoutMs?: number;
  /** The sandbox's limits for runs that do not set their own (default: production's, with a 2-minute clock). */
  limits?: Partial<SandboxLimits>;
  /** Wraps the sandbox the tools use (as the worker wraps it to count kills). */
  wrapSandbox?: (sandbox: SpawningSandbox) => Sandbox;
  /** Test runs at once (SANDBOX_PARALLEL_RUNS; default 1). */
  parallelRuns?: number;
}

export function engineDeps(
  db: Db | null,
  predictor: Predictor = createHeuristicPredictor("disabled"),
  options: EngineDepsOptions = {},
): CycleDeps {
  const created = createSandbox({ allowUnsandboxed: false, defaults: { timeoutMs: 120_000, ...options.limits } });
  const sandbox = options.wrapSandbox ? options.wrapSandbox(created) : created;
  return {
    // Probation stays out of the way unless a test asks for it (test/engine/probation.test.ts).
    store: db ? createCycleStore(db, { probation: false }) : null,
    predictor,
    tools: createCycleTools({
      sandbox,
      sandboxProblem: null,
      ...(options.testTimeoutMs ? { testTimeoutMs: options.testTimeoutMs } : {}),
      ...(options.parallelRuns ? { parallelRuns: options.parallelRuns } : {}),
    }),
    computeFeatures,
  };
}

/** Has every test session the tools start pass through `wrap` (to watch its runs). */
export function wrapTestSessions(deps: CycleDeps, wrap: (session: TestSession) => TestSession): void {
  const start = deps.tools.startTests.bind(deps.tools);
  deps.tools.startTests = async (root, options) => {
    const session = await start(root, options);
    return "unavailable" in session ? session : wrap(session);
  };
}

export function cycleRequest(
  root: string,
  overrides: Partial<CycleRequest> & { recipeIds?: string[] } = {},
): CycleRequest {
  const { recipeIds, ...rest } = overrides;
  return {
    root,
    repository: { owner: "test", name: "repo", mode: "shadow" },
    sha: null,
    trigger: "cli",
    recipes: selectRecipes(recipeIds ? { enabled: recipeIds } : {}),
    // As production: every recipe judges, whichever are planned.
    judgeRecipes: selectRecipes({ disabled: DEFAULT_REPO_CONFIG.recipes.disable }),
    config: DEFAULT_REPO_CONFIG,
    thresholds: DEFAULT_THRESHOLDS,
    scopes: ["all"],
    runTests: true,
    collectData: true,
    ...rest,
  };
}

/**
 * Writes a repository from file contents (paths relative to `dir`), links our TypeScript into node_modules
 * unless told not to, and commits everything but node_modules. Returns the commit's sha.
 */
export function writeRepo(
  dir: string,
  files: Record<string, string | Buffer>,
  options: { linkTypeScript?: boolean } = {},
): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  if (options.linkTypeScript !== false) linkTypeScript(dir);
  writeFileSync(join(dir, ".gitignore"), "node_modules/\n");
  return commitAll(dir, "fixture").sha;
}

/** A small TypeScript project with one prefer-const finding (`let a = 1` in src/a.ts) and the given test script. */
export function smallProject(
  testScript: string,
  extra: Record<string, string | Buffer> = {},
): Record<string, string | Buffer> {
  return {
    "package.json": `${JSON.stringify({ name: "fixture", version: "1.0.0", private: true, scripts: { test: testScript } }, null, 2)}\n`,
    "tsconfig.json": `${JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true }, include: ["src"] }, null, 2)}\n`,
    "src/a.ts": "let a = 1;\nexport { a };\n",
    ...extra,
  };
}

export interface TreeEntry {
  type: "file" | "dir" | "symlink" | "other";
  mode: number;
  size: number;
  mtimeMs: number;
  /** sha256 of a file's content, a symlink's target. */
  content: string;
}

/** Everything under `dir` (recursively, symlinks not followed): type, mode, size, mtime and content hash. */
export function snapshotTree(dir: string): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    const base = { mode: st.mode, size: st.size, mtimeMs: st.mtimeMs };
    if (st.isSymbolicLink()) {
      out[rel] = { type: "symlink", ...base, content: readlinkSync(abs) };
    } else if (st.isDirectory()) {
      out[rel] = { type: "dir", ...base, content: readdirSync(abs).sort().join("\n") };
      for (const name of readdirSync(abs)) visit(join(abs, name), rel === "." ? name : `${rel}/${name}`);
    } else if (st.isFile()) {
      out[rel] = { type: "file", ...base, content: createHash("sha256").update(readFileSync(abs)).digest("hex") };
    } else {
      out[rel] = { type: "other", ...base, content: "" };
    }
  };
  visit(dir, ".");
  return out;
}

/**
 * A directory outside every workspace, with a few files (one of them TypeScript, one named like a secret), that
 * hostile repositories aim at. Its snapshot before and after a cycle must be identical.
 */
export function createSentinel(): { dir: string; snapshot(): Record<string, TreeEntry> } {
  const dir = tempDir("odavl-sentinel-");
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "secret.txt"), "sentinel-secret-value\n");
  writeFileSync(join(dir, "outside.ts"), "export let outside = 1;\n");
  writeFileSync(join(dir, "sub/deep.ts"), "export var deep = 2;\n");
  return { dir, snapshot: () => snapshotTree(dir) };
}

/** Stored outcomes of a cycle, beside their predictions' recipe and ML fields. */
export async function storedResults(db: Db, cycleId: string) {
  return queryRows<{
    recipe_id: string;
    used_ml: boolean;
    fallback_cause: string | null;
    model_version: string | null;
    ml_trust: number | null;
    tests: string | null;
    tests_reason: string | null;
    failure_cause: string | null;
    success: boolean | null;
  }>(
    db,
    sql`select p.recipe_id, p.used_ml, p.fallback_cause, p.model_version, p.ml_trust, o.tests, o.tests_reason,
               o.failure_cause, o.success
          from predictions p left join outcomes o on o.prediction_id = p.id
         where p.cycle_id = ${cycleId} order by p.id`,
  );
}

export { runCycle };
