/**
 * Installing a repository's dependencies on the host, where the registry is reachable, without running any of
 * its code: lifecycle scripts are off (flag and environment both), the environment carries no credential, and the
 * settings a repository's .npmrc could use to run a program of its choosing are pinned from the environment, which
 * npm ranks above project configuration. Yarn is not used: Yarn 2+ runs the `yarnPath` JavaScript a repository
 * names in .yarnrc.yml; npm installs from package.json instead (yarn.lock is a hint npm can read).
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { isSecretName } from "../sandbox/env.js";
import { InstallError, WorkspaceError } from "./errors.js";
import { execTool, networkEnv, tail, toolPath } from "./exec.js";
import { detectPackageManager, type PackageManagerInfo } from "./facts.js";

export interface InstallOptions {
  timeoutMs: number;
  /** Shared download cache (npm cache, pnpm store). Default: a directory under the OS temp dir. */
  cacheDir?: string;
  /** Registry URL, when not the default. */
  registry?: string;
  /** Extra variables for the package manager; names that look like credentials are refused. */
  env?: Record<string, string>;
}

export interface InstallStep {
  command: string[];
  exitCode: number | null;
  durationMs: number;
}

export interface InstallResult {
  packageManager: PackageManagerInfo;
  /** What ran, in order (a failed `npm ci` followed by `npm install`, for instance). */
  steps: InstallStep[];
  /** The first choice failed and a more lenient install succeeded (e.g. lockfile out of date). */
  fellBack: boolean;
  /** Set when nothing was installed, with the reason (no package.json). */
  skipped: string | null;
  durationMs: number;
}

const COMMON_NPM_FLAGS = ["--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline", "--no-update-notifier"];

export async function installDependencies(dir: string, options: InstallOptions): Promise<InstallResult> {
  const start = performance.now();
  const packageManager = detectPackageManager(dir);
  if (!existsSync(path.join(dir, "package.json"))) {
    return { packageManager, steps: [], fellBack: false, skipped: "no package.json", durationMs: 0 };
  }
  for (const name of Object.keys(options.env ?? {})) {
    if (isSecretName(name)) {
      throw new WorkspaceError(`refusing to pass ${name} to the package manager`, "install", name);
    }
  }
  const cacheDir = options.cacheDir ?? path.join(os.tmpdir(), "odavl-package-cache");
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const home = await mkdtemp(path.join(os.tmpdir(), "odavl-install-home-"));
  try {
    const env = installEnv(home, cacheDir, options);
    const deadline = Date.now() + options.timeoutMs;
    const steps: InstallStep[] = [];
    const attempt = async (file: string, args: string[], cwd: string) => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new InstallError(`install timed out in ${dir}`, dir, [file, ...args], "");
      let result: Awaited<ReturnType<typeof execTool>>;
      try {
        result = await execTool(file, args, { cwd, env, timeoutMs: remaining });
      } catch (error) {
        throw new InstallError(`cannot run ${file} in ${dir}: ${(error as Error).message}`, dir, [file, ...args], "");
      }
      steps.push({ command: [file, ...args], exitCode: result.code, durationMs: result.durationMs });
      if (result.timedOut) {
        throw new InstallError(
          `${file} ${args[0] ?? ""} timed out after ${options.timeoutMs} ms in ${dir}`,
          dir,
          [file, ...args],
          tail(result.stderr),
        );
      }
      return result;
    };

    const plans = await planInstall(dir, packageManager, home);
    let last: { stdout: string; stderr: string; command: string[] } | null = null;
    let ran = 0;
    let previousRan = false;
    for (const plan of plans) {
      const output = last ? `${last.stdout}\n${last.stderr}` : null;
      const skip: boolean =
        (plan.withPrevious === true && !previousRan) ||
        (plan.onlyAfter !== undefined && !(output !== null && plan.onlyAfter(output)));
      previousRan = !skip;
      if (skip) continue;
      const result = await attempt(plan.file, plan.args, plan.cwd);
      if (result.code === 0) {
        return {
          packageManager,
          steps,
          fellBack: ran > 0,
          skipped: null,
          durationMs: Math.round(performance.now() - start),
        };
      }
      ran++;
      last = { stdout: result.stdout, stderr: result.stderr, command: [plan.file, ...plan.args] };
    }
    throw new InstallError(
      `installing dependencies failed in ${dir} (${packageManager.name}): ${failureLine(last?.stdout ?? "", last?.stderr ?? "")}`,
      dir,
      last?.command ?? [],
      tail(last?.stderr || last?.stdout || ""),
    );
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

interface Plan {
  file: string;
  args: string[];
  cwd: string;
  /** Run only when the previous attempt's output (stdout and stderr) says this may help. */
  onlyAfter?: (output: string) => boolean;
  /** Run only when the plan before it ran (the second half of a pair of attempts). */
  withPrevious?: boolean;
}

/** npm refused the dependency tree over peer dependencies (ERESOLVE): npm 6's rules may still install it. */
const PEER_CONFLICT = (output: string) => /\bERESOLVE\b/.test(output);
/**
 * npx could not get the pnpm version the repository names (unpublished, a malformed packageManager), or got one that
 * does not run on this Node.js (pnpm 11 needs Node 22's built-in `node:sqlite`: ERR_UNKNOWN_BUILTIN_MODULE).
 */
const PNPM_UNAVAILABLE = (output: string) =>
  /\b(ETARGET|E404|EBADENGINE|ERR_PNPM_UNSUPPORTED_ENGINE|ERR_UNKNOWN_BUILTIN_MODULE|No matching version|Unsupported engine)\b/i.test(
    output,
  );

/**
 * The line of a failed install's output a maintainer can act on: pnpm's ERR_PNPM_ line (pnpm reports on stdout),
 * npm's error code and message, else the last line of stderr, else of stdout.
 */
export function failureLine(stdout: string, stderr: string): string {
  const lines = `${stderr}\n${stdout}`.split("\n").map((l) => l.trim());
  const pnpm = lines.find((l) => /\bERR_PNPM_\w+/.test(l));
  if (pnpm) return pnpm.replace(/\s+/g, " ").slice(0, 300);
  const npmCode = lines.find((l) => /^npm (error|ERR!) code /.test(l));
  const npmMessage = lines.find(
    (l) => /^npm (error|ERR!) /.test(l) && !/^npm (error|ERR!) (code|errno|path|syscall)\b/.test(l) && l.length > 12,
  );
  if (npmCode || npmMessage) return [npmCode, npmMessage].filter(Boolean).join(": ").slice(0, 300);
  const last = (text: string) =>
    text
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .pop();
  return (last(stderr) ?? last(stdout) ?? "no output").slice(0, 300);
}

async function planInstall(dir: string, pm: PackageManagerInfo, neutralCwd: string): Promise<Plan[]> {
  const npmInstall: Plan = { file: "npm", args: ["install", ...COMMON_NPM_FLAGS], cwd: dir };
  const legacyPeers = (plan: Plan): Plan => ({
    ...plan,
    args: [...plan.args, "--legacy-peer-deps"],
    onlyAfter: PEER_CONFLICT,
  });
  if (pm.name === "pnpm") {
    const wanted = await pnpmVersion(dir, pm);
    const lockfileMajor = await pnpmVersion(dir, { ...pm, version: null });
    // pnpm 11 and later need Node 22; when such a pnpm cannot run, pnpm 10 is the newest that reads their lockfile
    // format (9) and their workspace files (pnpm 9 refuses a pnpm-workspace.yaml without `packages`).
    const fallback = Number.parseInt(wanted, 10) >= 11 && lockfileMajor === "9" ? "10" : lockfileMajor;
    // Started from a neutral directory: npx would otherwise prefer a `pnpm` binary from the repository's own
    // node_modules/.bin. The pnpm package itself is fetched without running its scripts.
    const pnpm = (version: string, extra: string[], when: Pick<Plan, "onlyAfter" | "withPrevious"> = {}): Plan => ({
      file: "npx",
      args: [
        "--yes",
        "--ignore-scripts",
        "--package",
        `pnpm@${version}`,
        "--",
        "pnpm",
        "--dir",
        dir,
        "install",
        "--ignore-scripts",
        // .pnpmfile.cjs is JavaScript from the repository that pnpm would load and run.
        "--ignore-pnpmfile",
        "--config.side-effects-cache=false",
        // pnpm 10+ would otherwise switch to (download and run) the version packageManager names: the fallback
        // runs the version chosen here.
        "--config.manage-package-manager-versions=false",
        ...extra,
      ],
      cwd: neutralCwd,
      ...when,
    });
    const plans = [pnpm(wanted, ["--frozen-lockfile"]), pnpm(wanted, ["--no-frozen-lockfile"])];
    if (fallback === wanted) return plans;
    // The version packageManager names cannot be had: the major that matches the lockfile's format instead.
    return [
      ...plans,
      pnpm(fallback, ["--frozen-lockfile"], { onlyAfter: PNPM_UNAVAILABLE }),
      pnpm(fallback, ["--no-frozen-lockfile"], { withPrevious: true }),
    ];
  }
  if (pm.name === "npm" && pm.lockfile) {
    const ci: Plan = { file: "npm", args: ["ci", ...COMMON_NPM_FLAGS], cwd: dir };
    return [ci, legacyPeers(ci), npmInstall, legacyPeers(npmInstall)];
  }
  return [npmInstall, legacyPeers(npmInstall)];
}

/** The packageManager field's version, else the major matching the lockfile format. */
async function pnpmVersion(dir: string, pm: PackageManagerInfo): Promise<string> {
  if (pm.version && /^\d+\.\d+\.\d+(-[\w.]+)?$/.test(pm.version)) return pm.version;
  try {
    const lock = await readFile(path.join(dir, "pnpm-lock.yaml"), "utf8");
    const format = /^lockfileVersion:\s*['"]?(\d+)/m.exec(lock)?.[1];
    if (format === "5") return "7";
    if (format === "6") return "8";
  } catch {
    // no lockfile: the current major
  }
  return "9";
}

function installEnv(home: string, cacheDir: string, options: InstallOptions): Record<string, string> {
  const env: Record<string, string> = {
    ...networkEnv(),
    PATH: toolPath(),
    HOME: home,
    LANG: "C.UTF-8",
    CI: "true",
    npm_config_cache: path.join(cacheDir, "npm"),
    npm_config_store_dir: path.join(cacheDir, "pnpm-store"),
    // The worker's own ~/.npmrc may hold registry tokens.
    npm_config_userconfig: path.join(home, ".npmrc"),
    npm_config_ignore_scripts: "true",
    npm_config_update_notifier: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
    // A repository's .npmrc could name its own program as `git`; environment settings outrank project ones.
    npm_config_git: "git",
    npm_config_script_shell: "/bin/sh",
  };
  if (options.registry) env.npm_config_registry = options.registry;
  for (const [name, value] of Object.entries(options.env ?? {})) env[name] = value;
  return env;
}
