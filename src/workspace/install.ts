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
    let last: { stderr: string; command: string[] } | null = null;
    for (const [index, plan] of plans.entries()) {
      const result = await attempt(plan.file, plan.args, plan.cwd);
      if (result.code === 0) {
        return {
          packageManager,
          steps,
          fellBack: index > 0,
          skipped: null,
          durationMs: Math.round(performance.now() - start),
        };
      }
      last = { stderr: result.stderr, command: [plan.file, ...plan.args] };
    }
    throw new InstallError(
      `installing dependencies failed in ${dir} (${packageManager.name}): ${tail(last?.stderr.trim() ?? "", 600)}`,
      dir,
      last?.command ?? [],
      tail(last?.stderr ?? ""),
    );
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

interface Plan {
  file: string;
  args: string[];
  cwd: string;
}

async function planInstall(dir: string, pm: PackageManagerInfo, neutralCwd: string): Promise<Plan[]> {
  const npmInstall: Plan = { file: "npm", args: ["install", ...COMMON_NPM_FLAGS], cwd: dir };
  if (pm.name === "pnpm") {
    const spec = `pnpm@${await pnpmVersion(dir, pm)}`;
    // Started from a neutral directory: npx would otherwise prefer a `pnpm` binary from the repository's own
    // node_modules/.bin. The pnpm package itself is fetched without running its scripts.
    const pnpm = (extra: string[]): Plan => ({
      file: "npx",
      args: [
        "--yes",
        "--ignore-scripts",
        "--package",
        spec,
        "--",
        "pnpm",
        "--dir",
        dir,
        "install",
        "--ignore-scripts",
        // .pnpmfile.cjs is JavaScript from the repository that pnpm would load and run.
        "--ignore-pnpmfile",
        "--config.side-effects-cache=false",
        ...extra,
      ],
      cwd: neutralCwd,
    });
    return [pnpm(["--frozen-lockfile"]), pnpm(["--no-frozen-lockfile"])];
  }
  if (pm.name === "npm" && pm.lockfile) {
    return [{ file: "npm", args: ["ci", ...COMMON_NPM_FLAGS], cwd: dir }, npmInstall];
  }
  return [npmInstall];
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
