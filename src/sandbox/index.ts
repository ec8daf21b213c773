/**
 * Running untrusted commands: a repository's tests, its TypeScript, anything from its node_modules.
 *
 * What a run gets (bubblewrap):
 * - its own pid, network (loopback only, nothing listening), ipc, uts and cgroup namespaces;
 * - /usr (and the /bin, /lib… links) read-only, a generated minimal /etc, its own /proc and /dev, a private size-
 *   limited /tmp; the workspace and `writablePaths` read-write, `readOnlyPaths` read-only; nothing else of the host
 *   (no /root, /home, /var, /run, the worker's tree or its configuration);
 * - an environment built from an allow-list, never copied from the worker;
 * - prlimit limits on data size (writable memory per process), file size and processes, under an unprivileged uid
 *   (see bubblewrap.ts), and a memory limit for the run as a whole: a cgroup or a watchdog (see memory.ts);
 * - a wall clock, an output cap and an abort signal, each of which kills the whole tree.
 */
import { realpathSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type BubblewrapInfo, bwrapArgs, detectBubblewrap, privilegeDropArgs, toolCacheBinds } from "./bubblewrap.js";
import { buildSandboxEnv, DEFAULT_SANDBOX_PATH } from "./env.js";
import { prlimitArgs, resolveLimits } from "./limits.js";
import { createRunCgroup, detectCgroupMemory } from "./memory.js";
import { projectRoot } from "./paths.js";
import { allocateUid, countOwnTasks, makeTreeWritable, releaseUid, writeEtcDir } from "./prepare.js";
import { type LaunchSpec, launch } from "./supervise.js";
import type {
  SandboxLimits,
  SandboxProcess,
  SandboxResult,
  SandboxRunOptions,
  SandboxSpawnOptions,
  SpawningSandbox,
} from "./types.js";
import { SandboxSetupError, SandboxUnavailableError } from "./types.js";

export { detectBubblewrap } from "./bubblewrap.js";
export { DEFAULT_LIMITS } from "./limits.js";
export { ourTypeScriptDir } from "./paths.js";
export { prepareToolchain, type Toolchain } from "./toolchain.js";
export {
  startTypeChecker,
  type TypeChecker,
  TypeCheckerError,
} from "./typecheck.js";
export * from "./types.js";

export interface CreateSandboxOptions {
  /** Run plain child processes when bubblewrap is missing (results say `isolated: false`). Never in production. */
  allowUnsandboxed?: boolean;
  /** bubblewrap binary to use instead of the one on the standard paths. */
  bwrapPath?: string;
  /** Limits for runs that do not set their own. */
  defaults?: Partial<SandboxLimits>;
  /** Size of the private /tmp (memory-backed), in MiB. Default 1024. */
  tmpMb?: number;
}

export function createSandbox(options: CreateSandboxOptions = {}): SpawningSandbox {
  const defaults = resolveLimits(options.defaults);
  const info = detectBubblewrap(options.bwrapPath === undefined ? {} : { bwrapPath: options.bwrapPath });
  if (info.available) return new BubblewrapSandbox(info, defaults, options.tmpMb ?? 1024);
  if (!options.allowUnsandboxed) {
    throw new SandboxUnavailableError(
      `bubblewrap is required to run repository code (${info.reason ?? "unavailable"}); ` +
        "install it with `apt-get install bubblewrap` (it also needs user namespaces or root), " +
        "or allow unsandboxed runs explicitly for local development",
    );
  }
  return new UnsandboxedSandbox(info, defaults);
}

interface Prepared {
  spec: LaunchSpec;
}

/**
 * Bounds the memory of the whole run (see memory.ts): a cgroup of its own when the host delegates one, otherwise
 * the supervisor's watchdog over the run's uid (privileged mode) or process tree. The per-process RLIMIT_DATA of
 * prlimitArgs stays either way, so a single runaway allocation fails at once.
 */
function boundMemory(spec: LaunchSpec, uid: number | null): LaunchSpec {
  const parent = detectCgroupMemory().parent;
  if (parent === null) {
    return { ...spec, memory: uid === null ? { watch: "tree" } : { watch: "uid", uid } };
  }
  let cgroup: ReturnType<typeof createRunCgroup>;
  try {
    cgroup = createRunCgroup(parent, spec.limits.memoryMb * 1024 * 1024);
  } catch (error) {
    void Promise.resolve(spec.cleanup?.()).catch(() => {});
    throw new SandboxSetupError(`cannot create the run's cgroup under ${parent}: ${(error as Error).message}`, {
      path: parent,
    });
  }
  const wrapped = cgroup.wrap(spec.file, spec.args);
  const cleanup = spec.cleanup;
  return {
    ...spec,
    ...wrapped,
    memory: { cgroup },
    cleanup: async () => {
      await cgroup.remove();
      await cleanup?.();
    },
  };
}

abstract class BaseSandbox implements SpawningSandbox {
  abstract readonly isolated: boolean;

  constructor(protected readonly defaults: SandboxLimits) {}

  protected abstract prepare(
    options: SandboxSpawnOptions,
    limits: SandboxLimits,
    extra: { stdin: "pipe" | "ignore"; collectStdout: boolean },
  ): Promise<Prepared>;

  async run(options: SandboxRunOptions): Promise<SandboxResult> {
    const limits = resolveLimits(this.defaults, options.limits);
    if (options.signal?.aborted) return abortedResult(this.isolated);
    const stdin = options.stdin === undefined ? "ignore" : "pipe";
    const { spec } = await this.prepare(options, limits, { stdin, collectStdout: true });
    const launched = await launch(spec);
    if (options.stdin !== undefined) launched.child.stdin?.end(options.stdin);
    options.onLaunch?.();
    return launched.done;
  }

  async spawn(options: SandboxSpawnOptions): Promise<SandboxProcess> {
    const limits = resolveLimits(this.defaults, options.limits);
    const { spec } = await this.prepare(options, limits, { stdin: "pipe", collectStdout: false });
    const launched = await launch(spec);
    const { stdin, stdout } = launched.child;
    if (!stdin || !stdout) throw new SandboxSetupError(`no stdio pipes for ${options.command}`);
    return { stdin, stdout, done: launched.done, kill: () => launched.kill("aborted") };
  }
}

function abortedResult(isolated: boolean): SandboxResult {
  return {
    exitCode: null,
    signal: null,
    stdout: "",
    stderr: "",
    truncated: false,
    killed: "aborted",
    durationMs: 0,
    isolated,
  };
}

function searchPath(prefix: readonly string[] | undefined, base: string): string {
  for (const dir of prefix ?? []) {
    if (!path.isAbsolute(dir) || dir.includes(":")) {
      throw new SandboxSetupError(`pathPrefix entries must be absolute paths without ':', got ${dir}`, { path: dir });
    }
  }
  return [...(prefix ?? []), base].join(":");
}

function resolveExisting(p: string, role: string): string {
  if (!path.isAbsolute(p)) throw new SandboxSetupError(`${role} must be an absolute path, got ${p}`, { path: p });
  let real: string;
  try {
    real = realpathSync(p);
  } catch {
    throw new SandboxSetupError(`${role} does not exist: ${p}`, { path: p });
  }
  return real;
}

/** Paths that must never be bound over or exposed writable. */
const SYSTEM_PATHS = ["/", "/usr", "/etc", "/proc", "/dev", "/sys", "/bin", "/lib", "/lib64", "/sbin", "/tmp"];

/**
 * A workspace is opened up for the run's uid (see makeTreeWritable), so it must be a directory made for the run:
 * never a system directory, nor the temp dir, the home directory or this project as a whole.
 */
function checkWorkspacePath(real: string, role: string): void {
  const isSystem = SYSTEM_PATHS.some((s) => real === s || (s !== "/" && s.startsWith(`${real}/`)));
  const inSystem = ["/proc", "/dev", "/sys", "/etc"].some((s) => real.startsWith(`${s}/`));
  if (isSystem || inSystem) throw new SandboxSetupError(`${role} may not be a system path: ${real}`, { path: real });
  for (const protectedDir of [os.tmpdir(), os.homedir(), projectRoot()]) {
    if (protectedDir === real || protectedDir.startsWith(`${real}/`)) {
      throw new SandboxSetupError(`${role} may not be ${protectedDir} or contain it: ${real}`, { path: real });
    }
  }
}

class BubblewrapSandbox extends BaseSandbox {
  readonly isolated = true;
  private readonly extraSystemPaths: string[];
  private readonly maskDirs: string[];
  private readonly maskFiles: string[];
  private readonly nodeBinDir: string;

  constructor(
    private readonly info: BubblewrapInfo,
    defaults: SandboxLimits,
    private readonly tmpMb: number,
  ) {
    super(defaults);
    // Node must be runnable inside. When it is not installed under /usr (nvm, /opt), its prefix is exposed
    // read-only and put on PATH.
    this.nodeBinDir = path.dirname(realpathSync(process.execPath));
    const nodePrefix = path.dirname(this.nodeBinDir);
    if (nodePrefix === "/usr" || nodePrefix.startsWith("/usr/")) this.extraSystemPaths = [];
    else this.extraSystemPaths = [nodePrefix === "/" ? this.nodeBinDir : nodePrefix];
    // The worker's own tree holds its configuration; when it lives under a directory the sandbox exposes
    // (/usr/src/app in many images), it is hidden.
    const root = projectRoot();
    const exposed = ["/usr", ...this.extraSystemPaths];
    this.maskDirs = exposed.some((e) => root.startsWith(`${e}/`)) ? [root] : [];
    this.maskFiles = ["/usr/etc/npmrc", "/usr/local/etc/npmrc"].filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    });
  }

  protected async prepare(
    options: SandboxSpawnOptions,
    limits: SandboxLimits,
    extra: { stdin: "pipe" | "ignore"; collectStdout: boolean },
  ): Promise<Prepared> {
    const cwd = resolveExisting(options.cwd, "cwd");
    checkWorkspacePath(cwd, "cwd");
    if (!statSync(cwd).isDirectory()) throw new SandboxSetupError(`cwd is not a directory: ${cwd}`, { path: cwd });
    const readOnlyPaths = (options.readOnlyPaths ?? []).map((p) => resolveExisting(p, "readOnlyPaths entry"));
    const writablePaths = (options.writablePaths ?? []).map((p) => resolveExisting(p, "writablePaths entry"));
    for (const p of writablePaths) checkWorkspacePath(p, "writablePaths entry");
    const toolCaches = options.toolCaches ? resolveExisting(options.toolCaches, "toolCaches") : null;
    if (toolCaches) {
      checkWorkspacePath(toolCaches, "toolCaches");
      if (toolCaches === cwd || toolCaches.startsWith(`${cwd}/`)) {
        throw new SandboxSetupError(`toolCaches may not be inside the workspace: ${toolCaches}`, { path: toolCaches });
      }
    }
    for (const p of readOnlyPaths) {
      if (p === "/") throw new SandboxSetupError("readOnlyPaths may not contain /", { path: p });
    }
    const mounts = (options.mounts ?? []).map((m) => {
      const source = resolveExisting(m.source, "mounts source");
      const dest = resolveExisting(m.dest, "mounts dest");
      if (!dest.startsWith(`${cwd}/`) || !statSync(dest).isDirectory() || !statSync(source).isDirectory()) {
        throw new SandboxSetupError(`mounts must put a directory over a directory inside ${cwd}, got ${m.dest}`, {
          path: m.dest,
        });
      }
      if (source === "/" || source === cwd || cwd.startsWith(`${source}/`)) {
        throw new SandboxSetupError(`mounts source may not be / or contain the workspace: ${source}`, { path: source });
      }
      return { source, dest };
    });

    const pathVar = searchPath(
      options.pathPrefix,
      this.extraSystemPaths.length > 0 ? `${this.nodeBinDir}:${DEFAULT_SANDBOX_PATH}` : DEFAULT_SANDBOX_PATH,
    );
    // Validated before anything is touched on disk.
    const env = buildSandboxEnv(options.env, { path: pathVar, home: "/tmp" });

    const privileged = this.info.mode === "privileged";
    const uid = privileged ? allocateUid() : (process.getuid?.() ?? 0);
    const gid = privileged ? uid : (process.getgid?.() ?? 0);
    let etcDir: string | null = null;
    const cleanup = async () => {
      if (privileged) releaseUid(uid);
      if (etcDir) await rm(etcDir, { recursive: true, force: true });
    };
    let tmpBinds: { source: string; dest: string }[] = [];
    try {
      if (toolCaches) tmpBinds = toolCacheBinds(toolCaches, uid);
      if (privileged) {
        await makeTreeWritable(cwd);
        for (const p of writablePaths) await makeTreeWritable(p);
        if (toolCaches) await makeTreeWritable(toolCaches);
      }
      etcDir = await writeEtcDir(uid, gid);
    } catch (error) {
      await cleanup();
      throw new SandboxSetupError(`cannot prepare the sandbox for ${cwd}: ${(error as Error).message}`, {
        path: cwd,
      });
    }

    const layout = bwrapArgs({
      mode: privileged ? "privileged" : "user-namespace",
      cwd,
      readOnlyPaths,
      writablePaths,
      etcDir,
      tmpMb: this.tmpMb,
      extraSystemPaths: this.extraSystemPaths,
      maskDirs: this.maskDirs,
      maskFiles: this.maskFiles,
      mounts,
      tmpBinds,
    });
    const nproc = privileged ? limits.maxProcesses : countOwnTasks() + limits.maxProcesses;
    const args = [
      ...prlimitArgs(limits, nproc),
      "--",
      this.info.path ?? "bwrap",
      ...layout,
      "--",
      ...(privileged ? privilegeDropArgs(this.info.setprivPath ?? "setpriv", uid, gid) : []),
      options.command,
      ...options.args,
    ];
    return {
      spec: boundMemory(
        {
          file: this.info.prlimitPath ?? "prlimit",
          args,
          // bwrap passes its own environment on to the command, so starting it with exactly the allowed variables
          // is the same as --clearenv plus --setenv, without putting values on a command line others can read.
          env,
          hostCwd: "/",
          isolated: true,
          limits,
          stdin: extra.stdin,
          collectStdout: extra.collectStdout,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.niceness ? { niceness: options.niceness } : {}),
          cleanup,
        },
        privileged ? uid : null,
      ),
    };
  }
}

/**
 * Plain child processes, for development machines without bubblewrap, and only when the caller asked for it:
 * the environment is still scrubbed and wall time, output, memory and file size are still limited, but the
 * process sees the host filesystem and network, and a process that leaves its process group survives the kill.
 */
class UnsandboxedSandbox extends BaseSandbox {
  readonly isolated = false;

  constructor(
    private readonly info: BubblewrapInfo,
    defaults: SandboxLimits,
  ) {
    super(defaults);
  }

  protected async prepare(
    options: SandboxSpawnOptions,
    limits: SandboxLimits,
    extra: { stdin: "pipe" | "ignore"; collectStdout: boolean },
  ): Promise<Prepared> {
    const cwd = resolveExisting(options.cwd, "cwd");
    const nodeBin = path.dirname(realpathSync(process.execPath));
    const env = buildSandboxEnv(options.env, {
      path: searchPath(options.pathPrefix, `${nodeBin}:${DEFAULT_SANDBOX_PATH}`),
      home: "/tmp",
    });
    const base = {
      env,
      hostCwd: cwd,
      isolated: false,
      limits,
      stdin: extra.stdin,
      collectStdout: extra.collectStdout,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.niceness ? { niceness: options.niceness } : {}),
    };
    // RLIMIT_NPROC is left out: without a dedicated uid it would count every process of the worker's user.
    if (this.info.prlimitPath) {
      const args = [...prlimitArgs(limits, null), "--", options.command, ...options.args];
      return { spec: boundMemory({ ...base, file: this.info.prlimitPath, args }, null) };
    }
    return { spec: boundMemory({ ...base, file: options.command, args: [...options.args] }, null) };
  }
}
