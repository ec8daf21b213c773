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
}

export function readPackageJson(dir: string): PackageJson | null {
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

export interface TestCommand {
  command: string;
  args: string[];
  /** Extra environment for the sandbox run (PATH with node_modules/.bin when the script is run directly). */
  env: Record<string, string>;
  /** The repository's `test` script as written. */
  script: string;
  /** The script also runs linters or type checks; those parts are left out of `command`. */
  runsLint: boolean;
  /** The tests read build output that the test script does not produce itself; run `buildCommand` first. */
  needsBuild: boolean;
  buildCommand: { command: string; args: string[] } | null;
}

/** The test script `npm init` writes for a package without tests. */
const NO_TEST = /no test specified/i;
/** Parts of a test script that check style or types rather than run tests. */
const LINT_STEP =
  /^(npx\s+)?(eslint|biome|prettier|tsc|xo|standard|oxlint|dprint|stylelint|markdownlint|publint|attw|knip|depcheck)\b|^(npm|pnpm|yarn)\s+(run\s+)?(lint|format|typecheck|type-check|check-types|tsc|prettier|style)(\W|$)/;
const BUILD_STEP =
  /^(npm|pnpm|yarn)\s+(run\s+)?(build|compile|prepare)(\W|$)|^(npx\s+)?(tsc\s+(-b|--build|-p)|tsup|rollup|vite\s+build|webpack)\b/;

/**
 * The command that runs a repository's tests, read from package.json (best effort, nothing is executed).
 * Returns null when there is no test script or only npm's default "no test specified" script.
 */
export function detectTestCommand(dir: string): TestCommand | null {
  const pkg = readPackageJson(dir);
  const scripts = pkg?.scripts ?? {};
  const script = scripts.test;
  if (typeof script !== "string" || script.trim() === "" || NO_TEST.test(script)) return null;

  const steps = script.split(/\s*&&\s*/).map((s) => s.trim());
  const lintSteps = steps.filter((s) => LINT_STEP.test(s));
  const buildInScript =
    steps.some((s) => BUILD_STEP.test(s)) || (typeof scripts.pretest === "string" && /build/.test(scripts.pretest));
  const testSteps = steps.filter((s) => !LINT_STEP.test(s));
  const runsLint = lintSteps.length > 0 && testSteps.length > 0;
  const needsBuild = !buildInScript && typeof scripts.build === "string" && testsReadBuildOutput(dir, pkg);
  const buildCommand = typeof scripts.build === "string" ? { command: "npm", args: ["run", "build"] } : null;

  if (runsLint) {
    // Run the remaining steps directly: `npm test` would run the lint steps too, and their failures are not
    // test failures.
    return {
      command: "sh",
      args: ["-c", testSteps.join(" && ")],
      env: { PATH: `${path.join(dir, "node_modules", ".bin")}:/usr/local/bin:/usr/bin:/bin` },
      script,
      runsLint,
      needsBuild,
      buildCommand,
    };
  }
  return {
    command: "npm",
    args: ["test"],
    env: { npm_config_update_notifier: "false", npm_config_fund: "false" },
    script,
    runsLint: false,
    needsBuild,
    buildCommand,
  };
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
