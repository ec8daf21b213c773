/** Facts read from a repository's files (never by running its code): package manager, test command. */
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export type PackageManagerName = "npm" | "pnpm" | "yarn" | "bun";

export interface PackageManagerInfo {
  name: PackageManagerName;
  /** The lockfile found (repository-relative), if any. */
  lockfile: string | null;
  /** Version from the `packageManager` field, when it names this manager. */
  version: string | null;
  /** What decided: the `packageManager` field, a lockfile, or nothing (npm). */
  source: "packageManager" | "lockfile" | "default";
}

interface PackageJson {
  name?: string;
  packageManager?: string;
  scripts?: Record<string, string>;
  main?: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  jest?: unknown;
  mocha?: unknown;
  ava?: unknown;
}

function readPackageJson(dir: string): PackageJson | null {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
    return parsed !== null && typeof parsed === "object" ? (parsed as PackageJson) : null;
  } catch {
    return null;
  }
}

const LOCKFILES: [string, PackageManagerName][] = [
  ["pnpm-lock.yaml", "pnpm"],
  ["package-lock.json", "npm"],
  ["npm-shrinkwrap.json", "npm"],
  ["yarn.lock", "yarn"],
  ["bun.lockb", "bun"],
  ["bun.lock", "bun"],
];

export function detectPackageManager(dir: string): PackageManagerInfo {
  const pkg = readPackageJson(dir);
  const field =
    typeof pkg?.packageManager === "string" ? /^(npm|pnpm|yarn|bun)@([^+\s]+)/.exec(pkg.packageManager) : null;
  const lockfiles = LOCKFILES.filter(([file]) => existsSync(path.join(dir, file)));
  if (field) {
    const name = field[1] as PackageManagerName;
    const lock = lockfiles.find(([, manager]) => manager === name);
    return { name, lockfile: lock?.[0] ?? null, version: field[2] ?? null, source: "packageManager" };
  }
  const first = lockfiles[0];
  if (first) return { name: first[1], lockfile: first[0], version: null, source: "lockfile" };
  return { name: "npm", lockfile: null, version: null, source: "default" };
}

export type TestRunner = "vitest" | "jest" | "mocha" | "node" | "ava";

export interface TestCommand {
  command: string;
  args: string[];
  /** Extra environment for the sandbox run (PATH with node_modules/.bin when the script is run directly). */
  env: Record<string, string>;
  /** The script (or configured command) as written. */
  script: string;
  /** Where the command comes from: a package.json script's name, "runner" (found from its config) or "config". */
  source: string;
  /** The test runner the command calls, when it can be told. */
  runner: TestRunner | null;
  /** The script also runs linters or type checks; those parts are left out of `command`. */
  runsLint: boolean;
  /** The tests read build output that the test script does not produce itself; run `buildCommand` first. */
  needsBuild: boolean;
  buildCommand: { command: string; args: string[] } | null;
  /**
   * A shell line that runs only the tests related to the files given after it ("$@"), when the runner can tell
   * which those are (vitest related, jest --findRelatedTests) and the script calls it directly; null otherwise.
   */
  relatedLine: string | null;
  /** A shell line run before the tests (`.github/odavl.yml` tests.setup). */
  setup: string | null;
}

/** Why no test command could be found, said so a maintainer can act on it. */
export interface NoTestCommand {
  reason: string;
}

/** The test script `npm init` writes for a package without tests. */
const NO_TEST = /no test specified/i;
/** Scripts that do nothing: `exit 0`, `true`, an echo. */
const TRIVIAL = /^\s*(exit\s+0|true|:|echo\b[^&|;]*)?\s*$/;
/**
 * Parts of a test script that check style or types rather than run tests. `tsc` counts only with --noEmit: without
 * it, it usually compiles what the tests then run.
 */
const LINT_STEP =
  /^(npx\s+)?((eslint|biome|prettier|xo|standard|oxlint|dprint|stylelint|markdownlint|publint|attw|knip|depcheck|tsd|size-limit)\b|(tsc|vue-tsc)\b(?=.*\s--noEmit(?!\s+false)(\s|$)))|^(npm|pnpm|yarn|bun)\s+(run\s+)?(lint|format|typecheck|type-check|types|check-types|tsc|prettier|style)(\W|$)/;
const BUILD_STEP =
  /^(npm|pnpm|yarn)\s+(run\s+)?(build|compile|prepare)(\W|$)|^(npx\s+)?(tsc\s+(-b|--build|-p)|tsup|rollup|vite\s+build|webpack)\b/;
/** Scripts maintainers use for the unit tests when `test` is missing, trivial or only lints (in this order). */
const ALTERNATE_SCRIPTS = [
  "test:unit",
  "unit",
  "test-unit",
  "unit-test",
  "test:node",
  "testonly",
  "test-only",
  "test:only",
  "test:run",
  "test:ci",
  "tests",
];

/**
 * The command that runs a repository's tests, read from package.json (best effort, nothing is executed).
 * Returns null when there is none; {@link detectTests} says why.
 */
export function detectTestCommand(dir: string): TestCommand | null {
  const found = detectTests(dir);
  return "reason" in found ? null : found;
}

/**
 * The test command as a maintainer would run it: the `test` script; when it is missing, does nothing or only
 * lints, a unit-test script (`test:unit`, `testonly`, …); when scripts give nothing, the runner the repository is
 * set up for (vitest, jest, mocha, ava, node --test). Lint and type-check steps are left out.
 */
export function detectTests(dir: string): TestCommand | NoTestCommand {
  const pkg = readPackageJson(dir);
  if (!pkg)
    return { reason: existsSync(path.join(dir, "package.json")) ? "package.json cannot be read" : "no package.json" };
  const scripts = pkg.scripts ?? {};
  const testScript = scripts.test;
  let problem: string;
  if (typeof testScript !== "string" || testScript.trim() === "") problem = "no test script";
  else if (NO_TEST.test(testScript) || TRIVIAL.test(testScript))
    problem = `the test script does nothing (\`${testScript.trim()}\`)`;
  else if (testSteps(testScript).length === 0)
    problem = `the test script only runs linters or type checks (\`${testScript.trim()}\`)`;
  else return fromScript(dir, pkg, "test");
  for (const name of ALTERNATE_SCRIPTS) {
    const script = scripts[name];
    if (typeof script === "string" && !TRIVIAL.test(script) && !NO_TEST.test(script) && testSteps(script).length > 0) {
      return fromScript(dir, pkg, name);
    }
  }
  const runner = configuredRunner(dir, pkg);
  if (runner) return fromRunner(dir, pkg, runner);
  return { reason: problem };
}

/**
 * What can be told of a test command given as a shell line (`.github/odavl.yml` tests.command, an operator's
 * list): the runner it calls (following `npm run x` into package.json) and, for a line of one step calling vitest or
 * jest directly, the line that runs only the tests related to some files.
 */
export function describeTestLine(dir: string, line: string): Pick<TestCommand, "runner" | "relatedLine"> {
  const steps = splitSteps(line);
  const scripts = readPackageJson(dir)?.scripts ?? {};
  return {
    runner: runnerOf(steps, scripts, 0),
    // One plain step only: a line of several commands (newlines, `;`, `&`) runs as written.
    relatedLine: steps.length === 1 && !/[\n\r;&|]/.test(line) ? relatedFor(steps[0] as string) : null,
  };
}

function testSteps(script: string): string[] {
  return splitSteps(script).filter((s) => !LINT_STEP.test(s));
}

function splitSteps(script: string): string[] {
  return script
    .split(/\s*&&\s*/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function binPath(dir: string): Record<string, string> {
  return { PATH: `${path.join(dir, "node_modules", ".bin")}:/usr/local/bin:/usr/bin:/bin` };
}

function fromScript(dir: string, pkg: PackageJson, name: string): TestCommand {
  const scripts = pkg.scripts ?? {};
  const script = scripts[name] as string;
  const steps = splitSteps(script);
  const tests = steps.filter((s) => !LINT_STEP.test(s));
  const runsLint = tests.length < steps.length;
  const pre = scripts[`pre${name}`];
  const buildInScript = steps.some((s) => BUILD_STEP.test(s)) || (typeof pre === "string" && /build/.test(pre));
  const needsBuild = !buildInScript && typeof scripts.build === "string" && testsReadBuildOutput(dir, pkg);
  const buildCommand = typeof scripts.build === "string" ? { command: "npm", args: ["run", "build"] } : null;
  const runner = runnerOf(tests, scripts, 0);
  // Related runs call the runner directly, which skips npm's pre/post scripts: only when there are none.
  const relatedLine =
    tests.length === 1 && typeof pre !== "string" && typeof scripts[`post${name}`] !== "string"
      ? relatedFor(tests[0] as string)
      : null;
  const base = { script, source: name, runner, runsLint, needsBuild, buildCommand, relatedLine, setup: null };
  if (runsLint) {
    // Run the remaining steps directly: `npm test` would run the lint steps too, and their failures are not
    // test failures.
    return { ...base, command: "sh", args: ["-c", tests.join(" && ")], env: binPath(dir) };
  }
  return {
    ...base,
    command: "npm",
    args: name === "test" ? ["test"] : ["run", name],
    env: { npm_config_update_notifier: "false", npm_config_fund: "false" },
  };
}

const RUNNER_CONFIGS: [TestRunner, RegExp][] = [
  ["vitest", /^vitest\.(config|workspace)\.[cm]?[jt]s$/],
  ["jest", /^jest\.config\.([cm]?[jt]s|json)$/],
  ["mocha", /^\.mocharc(\.[cm]?js|\.json|\.jsonc|\.ya?ml)?$/],
  ["ava", /^ava\.config\.[cm]?js$/],
];

/** The runner the repository is set up for, from its config files and declared dependencies. */
function configuredRunner(dir: string, pkg: PackageJson): TestRunner | null {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  for (const [runner, config] of RUNNER_CONFIGS) if (names.some((n) => config.test(n))) return runner;
  if (pkg.jest !== undefined) return "jest";
  if (pkg.mocha !== undefined) return "mocha";
  if (pkg.ava !== undefined) return "ava";
  const declared = { ...(pkg.dependencies ?? {}), ...(pkg.devDependencies ?? {}) };
  for (const runner of ["vitest", "jest", "mocha", "ava"] as const) if (runner in declared) return runner;
  if (["test", "tests"].some((d) => existsSync(path.join(dir, d))) && directoryHas(dir, /\.test\.[cm]?js$/))
    return "node";
  return null;
}

function fromRunner(dir: string, pkg: PackageJson, runner: TestRunner): TestCommand {
  const line = { vitest: "vitest run", jest: "jest", mocha: "mocha", ava: "ava", node: "node --test" }[runner];
  const scripts = pkg.scripts ?? {};
  return {
    command: "sh",
    args: ["-c", line],
    env: binPath(dir),
    script: line,
    source: "runner",
    runner,
    runsLint: false,
    needsBuild: typeof scripts.build === "string" && testsReadBuildOutput(dir, pkg),
    buildCommand: typeof scripts.build === "string" ? { command: "npm", args: ["run", "build"] } : null,
    relatedLine: relatedFor(line),
    setup: null,
  };
}

const RUNNERS = new Set(["vitest", "jest", "mocha", "ava", "node", "tsx"]);

/** Environment assignments, npx and coverage wrappers in front of the command a step runs. */
const PREFIX = /^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+|npx\s+(?:--no-install\s+)?|cross-env\s+)+/;

/** The runner a script's test steps call, following `npm run x` and the like a few levels. */
function runnerOf(steps: readonly string[], scripts: Record<string, string>, depth: number): TestRunner | null {
  for (const step of steps) {
    const words = step.replace(PREFIX, "").split(/\s+/);
    let i = 0;
    // Coverage wrappers (c8 [options] vitest …): the runner is the first runner name after their options.
    if (words[0] === "c8" || words[0] === "nyc") {
      const at = words.findIndex((w) => RUNNERS.has(w));
      if (at > 0) i = at;
    }
    const head = words[i] ?? "";
    if (head === "vitest" || head === "jest" || head === "mocha" || head === "ava") return head;
    if ((head === "node" || head === "tsx") && words.slice(i + 1).some((w) => w === "--test")) return "node";
    const run = /^(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?([\w:.-]+)/.exec(step);
    const target = run?.[1];
    if (target && depth < 3 && typeof scripts[target] === "string") {
      const found = runnerOf(splitSteps(scripts[target] as string), scripts, depth + 1);
      if (found) return found;
    }
  }
  return null;
}

/**
 * The shell line that runs only the tests related to some files, for a step that calls vitest or jest directly
 * with options only (a positional filter would be combined with the related files in ways that differ by runner).
 */
function relatedFor(step: string): string | null {
  const prefix = PREFIX.exec(step)?.[0] ?? "";
  const words = step
    .slice(prefix.length)
    .split(/\s+/)
    .filter((w) => w !== "");
  const head = words[0];
  if (head !== "vitest" && head !== "jest") return null;
  let rest = words.slice(1);
  if (head === "vitest" && (rest[0] === "run" || rest[0] === "related")) rest = rest.slice(1);
  // Quotes, pipes, redirections and subshells: not a plain command line.
  if (rest.some((w) => /["'`|;<>()$\\]/.test(w))) return null;
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] as string;
    if (word.startsWith("-")) continue;
    const previous = rest[i - 1];
    // A value of the option before it (--config x); anything else is a positional filter.
    if (previous?.startsWith("--") && !previous.includes("=")) continue;
    return null;
  }
  if (head === "vitest") return `${prefix}vitest related --run ${rest.join(" ")}`.replace(/\s+$/, "");
  return `${prefix}jest ${rest.join(" ")} --findRelatedTests`.replace(/\s+/g, " ");
}

function directoryHas(dir: string, pattern: RegExp): boolean {
  const stack = [dir];
  let seen = 0;
  while (stack.length > 0 && seen < 2000) {
    const current = stack.pop() as string;
    let entries: string[];
    try {
      entries = readdirSync(current);
    } catch {
      continue;
    }
    for (const name of entries) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      seen++;
      const full = path.join(current, name);
      const stat = lstatSync(full, { throwIfNoEntry: false });
      if (stat?.isDirectory()) stack.push(full);
      else if (stat?.isFile() && pattern.test(name)) return true;
    }
  }
  return false;
}

/**
 * Whether the package's entry point is build output missing from the checkout and the tests import the package
 * by name or from that output directory.
 */
function testsReadBuildOutput(dir: string, pkg: PackageJson | null): boolean {
  const entry = typeof pkg?.main === "string" ? pkg.main : JSON.stringify(pkg?.exports ?? "");
  const outDir = /(?:^|["/.])(dist|lib|build|out)\//.exec(entry)?.[1];
  if (!outDir || existsSync(path.join(dir, outDir))) return false;
  const testDirs = ["test", "tests", "__tests__", "spec"].filter((d) => existsSync(path.join(dir, d)));
  const needles = [`/${outDir}/`, `'${outDir}/`, `"${outDir}/`];
  if (pkg?.name) needles.push(`'${pkg.name}'`, `"${pkg.name}"`);
  for (const testDir of testDirs) {
    if (directoryMentions(path.join(dir, testDir), needles, 200)) return true;
  }
  return false;
}

function directoryMentions(dir: string, needles: string[], budget: number): boolean {
  const stack = [dir];
  let seen = 0;
  while (stack.length > 0 && seen < budget) {
    const current = stack.pop() as string;
    for (const name of readdirSync(current)) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const full = path.join(current, name);
      // lstat: a symlink in the repository must not lead the scan outside it.
      const stat = lstatSync(full, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isDirectory()) stack.push(full);
      else if (stat.isFile() && stat.size < 512 * 1024 && /\.[cm]?[jt]sx?$/.test(name)) {
        seen++;
        const text = readFileSync(full, "utf8");
        if (needles.some((n) => text.includes(n))) return true;
      }
    }
  }
  return false;
}
