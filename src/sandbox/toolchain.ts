/**
 * The repository's own package manager (pnpm, yarn), ready to run inside the sandbox, where there is no network.
 *
 * Before a run, on the host where the registry is reachable, corepack (shipped with Node) downloads the version the
 * repository declares (the `packageManager` field, else the major its lockfile format implies) into a cache the
 * worker owns. Corepack only downloads and unpacks the package manager's own package: nothing of the repository is
 * run, and it is started from a neutral directory so that no project configuration is read. Inside the sandbox the
 * cache is mounted read-only, with `COREPACK_ENABLE_NETWORK=0`, and small shell shims named `pnpm`, `yarn`… come
 * first on PATH. A yarn berry repository that commits its release (`yarnPath` in .yarnrc.yml) needs no download:
 * the `yarn` shim runs that file, inside the sandbox only.
 *
 * Usage (the caller merges its own env and paths):
 *
 *     const toolchain = await prepareToolchain(root, { cacheDir });
 *     await sandbox.run({
 *       cwd: root, command, args,
 *       env: { ...toolchain.env, ...ownEnv },
 *       readOnlyPaths: [...toolchain.readOnlyPaths, ...ownPaths],
 *       pathPrefix: toolchain.pathPrefix,
 *     });
 *
 * `problem` is set (and the rest still usable) when the package manager could not be prepared; scripts that call
 * it will then fail with "command not found" (exit 127), so callers should report `problem` with such a failure.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { networkEnv, toolPath } from "../workspace/exec.js";

export interface Toolchain {
  /** What is available inside, e.g. `pnpm@9.15.0`; null for npm (always there) and when nothing could be prepared. */
  packageManager: string | null;
  /** Directories to expose read-only (the corepack cache, the shims, corepack itself when not under /usr). */
  readOnlyPaths: string[];
  /** Variables for the sandboxed process (corepack offline, pointed at the read-only cache). */
  env: Record<string, string>;
  /** Directories to put first on the sandbox's PATH (the shims). Empty when there is nothing to add. */
  pathPrefix: string[];
  /** Why the declared package manager is not available, when it is not. */
  problem: string | null;
}

export interface ToolchainOptions {
  /** Directory the worker owns for downloaded package managers and shims. Default: under the OS temp dir. */
  cacheDir?: string;
  /** Registry to download from. Default: `npm config get registry` (read outside any project). */
  registry?: string;
  /** Bound on the download. Default 120 s. */
  timeoutMs?: number;
}

type Manager = "pnpm" | "yarn";

export interface Wanted {
  name: Manager;
  /** Exact version, or a major ("9") when only the lockfile tells. */
  version: string;
  /** `+sha512.…` of the packageManager field, checked by corepack on download. */
  hash: string;
}

const FIELD = /^(npm|pnpm|yarn|bun)@(\d+(?:\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)?)(\+[0-9A-Za-z.-]+)?$/;
const EXACT = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const BINARIES: Record<Manager, string[]> = { pnpm: ["pnpm", "pnpx"], yarn: ["yarn", "yarnpkg"] };

function defaultToolchainDir(): string {
  return path.join(os.tmpdir(), "odavl-toolchain");
}

/** Where corepack itself is (its entry script), or null when this Node has no corepack. */
function corepackScript(): string | null {
  const candidates = [
    path.join(path.dirname(realpathSync(process.execPath)), "..", "lib", "node_modules", "corepack", "dist"),
    "/usr/lib/node_modules/corepack/dist",
    "/usr/local/lib/node_modules/corepack/dist",
  ];
  for (const dir of candidates) {
    const file = path.join(dir, "corepack.js");
    if (existsSync(file)) return realpathSync(file);
  }
  return null;
}

/** Reads what the repository asks for, from package.json, the lockfile and .yarnrc.yml (never by running them). */
export function wantedPackageManager(root: string): {
  wanted: Wanted | null;
  yarnPath: string | null;
  problem: string | null;
} {
  let pkg: { packageManager?: unknown } | null = null;
  try {
    pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { packageManager?: unknown };
  } catch {
    // no or broken package.json: only the lockfiles tell
  }
  const yarnPath = committedYarnPath(root);
  const field = pkg?.packageManager;
  if (field !== undefined) {
    const match = typeof field === "string" ? FIELD.exec(field.trim()) : null;
    if (!match) {
      return {
        wanted: null,
        yarnPath,
        problem: `package.json: packageManager ${JSON.stringify(field)} is not <npm|pnpm|yarn>@<version>`,
      };
    }
    const [, name, version = "", hash = ""] = match;
    if (name === "npm") return { wanted: null, yarnPath, problem: null };
    if (name === "bun") return { wanted: null, yarnPath, problem: "package.json: bun is not supported in the sandbox" };
    return { wanted: { name: name as Manager, version, hash }, yarnPath, problem: null };
  }
  if (existsSync(path.join(root, "pnpm-lock.yaml"))) {
    const lock = readHead(path.join(root, "pnpm-lock.yaml"));
    const format = /^lockfileVersion:\s*['"]?(\d+)/m.exec(lock)?.[1];
    const major = format === "5" ? "7" : format === "6" ? "8" : "9";
    return { wanted: { name: "pnpm", version: major, hash: "" }, yarnPath, problem: null };
  }
  if (existsSync(path.join(root, "yarn.lock"))) {
    const lock = readHead(path.join(root, "yarn.lock"));
    const metadata = /^__metadata:\s*\n\s+version:\s*(\d+)/m.exec(lock)?.[1];
    // Classic yarn.lock files have no __metadata; berry's format version says the major that wrote it.
    const major = metadata === undefined ? "1" : Number(metadata) >= 8 ? "4" : Number(metadata) >= 6 ? "3" : "2";
    return { wanted: { name: "yarn", version: major, hash: "" }, yarnPath, problem: null };
  }
  return { wanted: null, yarnPath, problem: null };
}

function readHead(file: string): string {
  try {
    return readFileSync(file, "utf8").slice(0, 4096);
  } catch {
    return "";
  }
}

/** The yarn release the repository commits (`yarnPath` in .yarnrc.yml), when the file is there. */
function committedYarnPath(root: string): string | null {
  const rc = readHead(path.join(root, ".yarnrc.yml"));
  const value = /^yarnPath:\s*["']?([^"'\n]+?)["']?\s*$/m.exec(rc)?.[1];
  if (!value) return null;
  const file = path.resolve(root, value);
  if (!file.startsWith(`${root}/`)) return null;
  return existsSync(file) ? file : null;
}

const pending = new Map<string, Promise<string>>();

export async function prepareToolchain(root: string, options: ToolchainOptions = {}): Promise<Toolchain> {
  const { wanted: declared, yarnPath, problem } = wantedPackageManager(root);
  const none: Toolchain = { packageManager: null, readOnlyPaths: [], env: {}, pathPrefix: [], problem };
  const named = declared ?? (yarnPath ? { name: "yarn" as const, version: "", hash: "" } : null);
  if (!named) return none;
  const wanted = runnableOnThisNode(named);
  const substituted = wanted === named ? null : `${named.name}@${named.version}`;

  const corepack = corepackScript();
  if (!corepack) return { ...none, problem: "this Node has no corepack to provide pnpm or yarn" };
  const cacheDir = path.resolve(options.cacheDir ?? defaultToolchainDir());
  const home = path.join(cacheDir, "corepack");
  // The run's uid reads the cache and shims through a read-only bind, which keeps host modes.
  await mkdir(home, { recursive: true });
  for (const dir of [cacheDir, home]) chmodSync(dir, 0o755);

  let version: string | null = null;
  let failure: string | null = null;
  // A yarn berry repository with its own release runs that; it needs nothing from the cache.
  if (!(wanted.name === "yarn" && yarnPath)) {
    try {
      version = await downloadOnce(wanted, home, options);
    } catch (error) {
      failure = `cannot prepare ${wanted.name}@${wanted.version}: ${(error as Error).message}`;
    }
  }
  if (version === null && !yarnPath) return { ...none, problem: failure };

  const shimDir = path.join(cacheDir, "shims", `${wanted.name}@${version ?? "yarnPath"}`);
  await writeShims(shimDir, wanted.name, version, corepack);
  const corepackDir = path.dirname(path.dirname(corepack));
  return {
    packageManager: version
      ? `${wanted.name}@${version}${substituted ? ` (in place of ${substituted}, which needs Node.js 22.13)` : ""}`
      : `yarn (${path.relative(root, yarnPath ?? "")})`,
    readOnlyPaths: [home, shimDir, ...(corepackDir.startsWith("/usr/") ? [] : [corepackDir])],
    env: {
      COREPACK_HOME: home,
      COREPACK_ENABLE_NETWORK: "0",
      // Corepack would otherwise add a packageManager field to the repository's package.json.
      COREPACK_ENABLE_AUTO_PIN: "0",
      COREPACK_ENABLE_DOWNLOAD_PROMPT: "0",
      YARN_ENABLE_TELEMETRY: "0",
      YARN_ENABLE_NETWORK: "0",
      // pnpm 10 would otherwise try to switch to (download) the version packageManager names.
      ...(substituted ? { npm_config_manage_package_manager_versions: "false" } : {}),
    },
    pathPrefix: [shimDir],
    problem: failure,
  };
}

/**
 * pnpm 11 and later need Node.js 22.13 (its built-in `node:sqlite`); on an older Node a pnpm 10 (the newest in the
 * cache, else the newest published), which reads their lockfile format, runs in their place (as the install does,
 * src/workspace/install.ts).
 */
export function runnableOnThisNode(wanted: Wanted, nodeVersion = process.versions.node): Wanted {
  const major = Number.parseInt(wanted.version, 10);
  const [nodeMajor = 0, nodeMinor = 0] = nodeVersion.split(".").map((n) => Number.parseInt(n, 10));
  // pnpm 11's engines: Node.js >= 22.13 (node:sqlite without a flag).
  const nodeRunsIt = nodeMajor > 22 || (nodeMajor === 22 && nodeMinor >= 13);
  if (wanted.name !== "pnpm" || !(major >= 11) || nodeRunsIt) return wanted;
  return { name: "pnpm", version: "10", hash: "" };
}

/** One download of a version at a time, however many runs ask for it at once. */
function downloadOnce(wanted: Wanted, home: string, options: ToolchainOptions): Promise<string> {
  const key = `${home}\0${wanted.name}@${wanted.version}${wanted.hash}`;
  let job = pending.get(key);
  if (!job) {
    job = download(wanted, home, options).finally(() => pending.delete(key));
    pending.set(key, job);
  }
  return job;
}

/** Downloads `wanted` into the corepack cache (unless there already); resolves the exact version. */
async function download(wanted: Wanted, home: string, options: ToolchainOptions): Promise<string> {
  if (EXACT.test(wanted.version) && existsSync(path.join(home, "v1", wanted.name, wanted.version))) {
    return wanted.version;
  }
  if (!EXACT.test(wanted.version)) {
    const cached = newestCached(home, wanted.name, wanted.version);
    if (cached) return cached;
  }
  const registry = (options.registry ?? (await npmRegistry())).replace(/\/+$/, "");
  const neutral = await mkdtemp(path.join(os.tmpdir(), "odavl-corepack-"));
  try {
    await run(
      process.execPath,
      [corepackPath(), "install", "--global", `${wanted.name}@${wanted.version}${wanted.hash}`],
      {
        cwd: neutral,
        timeoutMs: options.timeoutMs ?? 120_000,
        env: {
          ...networkEnv(),
          PATH: toolPath(),
          HOME: neutral,
          COREPACK_HOME: home,
          COREPACK_NPM_REGISTRY: registry,
          // Mirrors re-sign nothing: corepack's built-in npm keys do not match their metadata. The tarball is still
          // checked against the registry's integrity field and, when package.json pins one, its hash.
          COREPACK_INTEGRITY_KEYS: "0",
          COREPACK_ENABLE_AUTO_PIN: "0",
          COREPACK_ENABLE_DOWNLOAD_PROMPT: "0",
        },
      },
    );
  } finally {
    await rm(neutral, { recursive: true, force: true });
  }
  const version = EXACT.test(wanted.version) ? wanted.version : newestCached(home, wanted.name, wanted.version);
  if (!version || !existsSync(path.join(home, "v1", wanted.name, version))) {
    throw new Error(`corepack reported success but ${wanted.name}@${wanted.version} is not in ${home}`);
  }
  makeReadable(path.join(home, "v1"));
  return version;
}

let corepackFile: string | null = null;
function corepackPath(): string {
  corepackFile ??= corepackScript();
  if (!corepackFile) throw new Error("this Node has no corepack");
  return corepackFile;
}

/** The newest cached version of `name` in major `major`. */
function newestCached(home: string, name: Manager, major: string): string | null {
  let versions: string[];
  try {
    versions = readdirSync(path.join(home, "v1", name));
  } catch {
    return null;
  }
  const parse = (v: string) => v.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  const matching = versions.filter((v) => EXACT.test(v) && v.split(".")[0] === major && !v.includes("-"));
  matching.sort((a, b) => {
    const [x, y] = [parse(a), parse(b)];
    for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  });
  return matching.at(-1) ?? null;
}

/** Directories a+rx and files a+r, so the run's own uid can read the cache (corepack may create 0700 dirs). */
function makeReadable(dir: string): void {
  const stat = statSync(dir);
  if (stat.isDirectory()) {
    if ((stat.mode & 0o555) !== 0o555) chmodSync(dir, stat.mode | 0o555);
    for (const entry of readdirSync(dir)) makeReadable(path.join(dir, entry));
  } else if (stat.isFile() && (stat.mode & 0o444) !== 0o444) {
    chmodSync(dir, stat.mode | 0o444);
  }
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * One executable per binary name. Each runs corepack on the cached version; `yarn` first looks, from the working
 * directory upwards, for a .yarnrc.yml naming a committed release (`yarnPath`) and runs that instead, as yarn
 * itself would.
 */
async function writeShims(dir: string, name: Manager, version: string | null, corepack: string): Promise<void> {
  const node = realpathSync(process.execPath);
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true, mode: 0o755 });
  for (const binary of BINARIES[name]) {
    const lines = ["#!/bin/sh"];
    if (name === "yarn") {
      lines.push(
        'd="$PWD"',
        "while :; do",
        '  if [ -f "$d/.yarnrc.yml" ]; then',
        `    p=$(sed -n "s/^yarnPath:[[:space:]]*[\\"']\\{0,1\\}\\([^\\"']*\\)[\\"']\\{0,1\\}[[:space:]]*$/\\1/p" "$d/.yarnrc.yml" | head -n 1)`,
        '    if [ -n "$p" ]; then',
        '      case "$p" in /*) ;; *) p="$d/$p" ;; esac',
        `      exec ${shellQuote(node)} "$p" "$@"`,
        "    fi",
        "  fi",
        '  [ "$d" = / ] && break',
        '  d=$(dirname "$d")',
        "done",
      );
    }
    if (version) {
      const tool = binary === "pnpx" ? "pnpx" : binary === "yarnpkg" ? "yarn" : binary;
      lines.push(`exec ${shellQuote(node)} ${shellQuote(corepack)} ${tool}@${version} "$@"`);
    } else {
      lines.push(
        `echo "${binary}: no .yarnrc.yml with a yarnPath above $PWD, and no yarn was prepared" >&2`,
        "exit 127",
      );
    }
    await writeFile(path.join(tmp, binary), `${lines.join("\n")}\n`, { mode: 0o755 });
  }
  // Replaced whole, so a run never sees half a directory.
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true, mode: 0o755 });
  chmodSync(path.dirname(dir), 0o755);
  await rename(tmp, dir);
}

async function npmRegistry(): Promise<string> {
  const neutral = await mkdtemp(path.join(os.tmpdir(), "odavl-npm-config-"));
  try {
    const out = await run("npm", ["config", "get", "registry"], {
      cwd: neutral,
      timeoutMs: 30_000,
      env: { ...networkEnv(), PATH: toolPath(), HOME: os.homedir() },
    });
    const registry = out.trim();
    if (!/^https?:\/\//.test(registry)) throw new Error(`npm config get registry said ${JSON.stringify(registry)}`);
    return registry;
  } finally {
    await rm(neutral, { recursive: true, force: true });
  }
}

function run(
  file: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const detail = `${stderr}`.trim().split("\n").slice(-3).join(" ") || error.message;
          reject(new Error(`${path.basename(file)} ${args.join(" ")}: ${detail}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}
