/** Running untrusted commands (a repository's tests, its TypeScript, anything from its node_modules). */

export interface SandboxLimits {
  /** Wall-clock limit; the whole process tree is killed when it is reached. */
  timeoutMs: number;
  /**
   * Memory of the whole run, in MiB: what all of its processes together hold (a cgroup's memory.max where the host
   * delegates one, else the resident anonymous memory of the run's processes, sampled by the supervisor). Each
   * process is also held to it alone as RLIMIT_DATA (writable memory it maps), so one runaway allocation fails at
   * once. Address space is not limited: V8 and WebAssembly reserve far more than they use.
   */
  memoryMb: number;
  /** Maximum number of processes/threads the run may hold at once. */
  maxProcesses: number;
  /** stdout and stderr are each kept up to this many bytes; the rest is dropped and `truncated` is set. */
  maxOutputBytes: number;
  /** Largest file the run may write, in MiB. */
  maxFileMb: number;
}

export interface SandboxRunOptions {
  /** Absolute path of the workspace: the only writable place (besides a private /tmp). */
  cwd: string;
  command: string;
  args: readonly string[];
  /** Extra variables; only names on the allow-list (and these) reach the process. Never tokens or DATABASE_URL. */
  env?: Record<string, string>;
  /** Extra read-only paths to expose (e.g. the baseline node_modules a candidate copy links to). */
  readOnlyPaths?: readonly string[];
  /** Extra writable paths to expose. */
  writablePaths?: readonly string[];
  /**
   * Directories shown read-only at another place inside the workspace (`dest`, an existing directory under `cwd`):
   * the base checkout's node_modules over a candidate copy's, so that a package's real path stays inside the
   * copy for code that checks where a resolved module lives. Ignored where runs are not isolated.
   */
  mounts?: readonly { source: string; dest: string }[];
  /**
   * Directories put first on PATH, before the sandbox's own (e.g. the package-manager shims of
   * `prepareToolchain`); each must be absolute, and exposed through `readOnlyPaths` to be usable.
   */
  pathPrefix?: readonly string[];
  /**
   * A directory made for the purpose (beside a candidate copy, never inside it) where the caches tools keep per user
   * under /tmp last from one run to the next: jest's transform and haste-map cache (`/tmp/jest_<uid in base 36>`)
   * and tsx's (`/tmp/tsx-<uid>`). Each is bound writable at the name the run's uid gives it; the rest of /tmp is
   * still a fresh tmpfs. Ignored where runs are not isolated (they use the host's /tmp, caches included).
   */
  toolCaches?: string;
  limits?: Partial<SandboxLimits>;
  /** Data written to the process's stdin, then closed. */
  stdin?: string;
  /**
   * A lower CPU priority for the run: this many nice steps below the worker's own (at most nice 19), inherited by
   * every process it starts. For work that should use only what CPU the machine's other work leaves (test runs
   * started while a cycle's baseline still runs).
   */
  niceness?: number;
  signal?: AbortSignal;
  /** Called once the process has started, before it ends (a caller that waits for work to be under way). */
  onLaunch?: () => void;
}

export type KillCause = "timeout" | "memory" | "processes" | "output" | "file-size" | "aborted";

export interface SandboxResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  /** Why the sandbox stopped the run, when it did. */
  killed: KillCause | null;
  durationMs: number;
  /** False when the run was not isolated (bubblewrap missing and the caller allowed it explicitly). */
  isolated: boolean;
}

export interface Sandbox {
  /** True when runs are isolated (bubblewrap present). */
  readonly isolated: boolean;
  run(options: SandboxRunOptions): Promise<SandboxResult>;
}

export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SandboxUnavailableError";
  }
}

/** Options of a long-lived sandboxed process: like a run, but the caller talks to it over stdin/stdout. */
export type SandboxSpawnOptions = Omit<SandboxRunOptions, "stdin" | "onLaunch">;

/**
 * A long-lived sandboxed process (e.g. the type-check server). Its stdout is handed to the caller as a stream and
 * is not collected (the result's `stdout` is empty); stderr is collected and capped as in {@link Sandbox.run}.
 * The wall-time limit applies to the whole lifetime.
 */
export interface SandboxProcess {
  readonly stdin: NodeJS.WritableStream;
  readonly stdout: NodeJS.ReadableStream;
  /** Settles when the process has ended, however it ended; never rejects. */
  readonly done: Promise<SandboxResult>;
  /** Stops the whole process tree; the result reports `killed: "aborted"`. */
  kill(): void;
}

/** Optional capability of a {@link Sandbox}: start a long-lived process (implemented by `createSandbox`). */
export interface SpawningSandbox extends Sandbox {
  /** Resolves once the process is started; rejects with {@link SandboxSetupError} when it cannot be. */
  spawn(options: SandboxSpawnOptions): Promise<SandboxProcess>;
}

/** The sandbox could not start a run (bad options, missing paths, helper binaries that failed). */
export class SandboxSetupError extends Error {
  constructor(
    message: string,
    readonly detail: { command?: string; path?: string } = {},
  ) {
    super(message);
    this.name = "SandboxSetupError";
  }
}
