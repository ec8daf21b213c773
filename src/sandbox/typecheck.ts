/**
 * Incremental type checking of candidate patches. One long-lived server per cycle (typecheck-server.cjs) holds the
 * baseline program; each candidate is checked against it by passing the changed files' contents, so only what a
 * patch can affect is checked again. The server loads the repository's own TypeScript, which makes it repository
 * code: it runs in the sandbox. Where that TypeScript has no API the server can use (TypeScript 7 and newer, older
 * than 4.5), the server loads this project's TypeScript for the whole cycle and says so. With
 * `useRepoTypeScript: false` it loads this project's TypeScript, and may then run as a plain child process when no
 * sandbox is available (TypeScript only reads the repository's files; it never executes them).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Diagnostic } from "../engine/types.js";
import { ourTypeScriptDir } from "./paths.js";
import type { Sandbox, SandboxLimits, SandboxProcess, SandboxResult, SpawningSandbox } from "./types.js";

export interface TypeCheckerOptions {
  /** Absolute path of the checkout. */
  root: string;
  /** tsconfig to use, relative to root or absolute. Default: root/tsconfig.json when present. */
  tsconfigPath?: string;
  /** Where the server runs. Required unless `useRepoTypeScript` is false. */
  sandbox?: Sandbox | null;
  /** Limit for each request (start-up, baseline, one check). */
  timeoutMs: number;
  /** Load the repository's TypeScript (default). False: this project's TypeScript. */
  useRepoTypeScript?: boolean;
  /** Limits of the server process in the sandbox; its wall time is the checker's whole lifetime. */
  limits?: Partial<SandboxLimits>;
  /**
   * Extra directories the server may read in the sandbox: targets of node_modules symlinks that leave the
   * checkout (linked workspace packages), whose declaration files the program needs.
   */
  readOnlyPaths?: readonly string[];
}

export interface TypeChecker {
  /** Version of the TypeScript that checks, the baseline and every candidate alike. */
  readonly typescriptVersion: string;
  /** Directory of the TypeScript package in use. */
  readonly typescriptPath: string;
  /** True when the repository's own TypeScript is in use. */
  readonly fromRepository: boolean;
  /**
   * The repository's own TypeScript when this product's checks instead (null when the repository's is in use or
   * it has none): its version and why it was not used (TypeScript 7 has no language-service API; before 4.5 the
   * API the checker uses is missing).
   */
  readonly repositoryTypeScript: { version: string | null; reason: string | null } | null;
  /** Changes made to the repository's compiler options for this product's TypeScript to accept them. */
  readonly configNotes: readonly string[];
  /** True when the server runs in an isolating sandbox. */
  readonly isolated: boolean;
  /** All pre-emit diagnostics of the checkout as it is on disk. */
  baseline(): Promise<Diagnostic[]>;
  /**
   * All pre-emit diagnostics with some files' contents replaced (repository-relative POSIX path -> content).
   * Each check starts from the baseline; earlier checks leave nothing behind.
   */
  check(overrides: ReadonlyMap<string, string>): Promise<Diagnostic[]>;
  /** Stops the server. Calls after this reject. */
  close(): Promise<void>;
}

export type TypeCheckerFailure =
  | "unavailable"
  | "timeout"
  | "exited"
  | "server-error"
  | "protocol"
  | "closed"
  /** The repository's TypeScript cannot be checked with: bad input, not a fault (the server falls back instead). */
  | "unsupported-typescript";

export class TypeCheckerError extends Error {
  constructor(
    message: string,
    readonly failure: TypeCheckerFailure,
    readonly root: string,
    readonly stderr = "",
  ) {
    super(message);
    this.name = "TypeCheckerError";
  }
}

/** The server script: next to this module, in the sources (src/sandbox) and in the build (dist/sandbox) alike. */
function typecheckServerPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = path.join(here, "typecheck-server.cjs");
  if (!existsSync(script)) throw new Error(`typecheck-server.cjs not found in ${here}`);
  return script;
}

const SERVER_LIMITS: Partial<SandboxLimits> = {
  timeoutMs: 4 * 60 * 60_000,
  maxProcesses: 64,
  maxOutputBytes: 256 * 1024,
};

interface ServerHandle {
  isolated: boolean;
  stdin: NodeJS.WritableStream;
  stdout: NodeJS.ReadableStream;
  /** Settles when the server has ended, with what it wrote to stderr. */
  ended: Promise<{ stderr: string; detail: string }>;
  kill(): void;
}

function isSpawning(sandbox: Sandbox): sandbox is SpawningSandbox {
  return typeof (sandbox as Partial<SpawningSandbox>).spawn === "function";
}

async function startServer(options: TypeCheckerOptions, useRepo: boolean): Promise<ServerHandle> {
  const script = typecheckServerPath();
  const node = realpathSync(process.execPath);
  const memoryMb = options.limits?.memoryMb ?? 4096;
  // A heap limit below the address-space limit turns running out of memory into V8's clear "heap out of memory"
  // instead of an allocation failure somewhere in native code.
  // The root is passed only so that `ps` shows which repository a server belongs to.
  const nodeArgs = [`--max-old-space-size=${Math.max(256, Math.floor(memoryMb * 0.6))}`, script, options.root];
  const sandbox = options.sandbox ?? null;

  if (sandbox) {
    if (!isSpawning(sandbox)) {
      throw new TypeCheckerError("the sandbox cannot start long-lived processes", "unavailable", options.root);
    }
    const proc: SandboxProcess = await sandbox.spawn({
      cwd: options.root,
      command: node,
      args: nodeArgs,
      readOnlyPaths: [...new Set([script, ourTypeScriptDir(), ...(options.readOnlyPaths ?? [])])],
      limits: { ...SERVER_LIMITS, memoryMb, ...options.limits },
    });
    return {
      isolated: sandbox.isolated,
      stdin: proc.stdin,
      stdout: proc.stdout,
      ended: proc.done.then((r: SandboxResult) => ({ stderr: r.stderr, detail: describeEnd(r) })),
      kill: () => proc.kill(),
    };
  }
  if (useRepo) {
    throw new TypeCheckerError(
      "running the repository's TypeScript needs a sandbox; pass one or set useRepoTypeScript: false",
      "unavailable",
      options.root,
    );
  }
  // This project's TypeScript reading the repository's files: not repository code, a plain child will do.
  const child: ChildProcess = spawn(node, nodeArgs, {
    cwd: options.root,
    env: { PATH: `${path.dirname(node)}:/usr/bin:/bin`, LANG: "C.UTF-8" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const stderrChunks: Buffer[] = [];
  let stderrBytes = 0;
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderrBytes < 256 * 1024) stderrChunks.push(chunk);
    stderrBytes += chunk.length;
  });
  const ended = new Promise<{ stderr: string; detail: string }>((resolve) => {
    child.once("error", (error) => resolve({ stderr: "", detail: `could not start: ${error.message}` }));
    child.once("close", (code, signal) =>
      resolve({ stderr: Buffer.concat(stderrChunks).toString("utf8"), detail: `exit ${code ?? signal}` }),
    );
  });
  if (!child.stdin || !child.stdout) throw new TypeCheckerError("no pipes to the server", "unavailable", options.root);
  return { isolated: false, stdin: child.stdin, stdout: child.stdout, ended, kill: () => child.kill("SIGKILL") };
}

function describeEnd(r: SandboxResult): string {
  if (r.killed) return `stopped by the sandbox (${r.killed})`;
  return r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
}

function validateOverridePath(p: string, root: string): void {
  if (p === "" || p.includes("\0") || path.posix.isAbsolute(p) || p.split("/").includes("..")) {
    throw new TypeCheckerError(`invalid override path ${JSON.stringify(p)}`, "protocol", root);
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Armed once every earlier request has its answer: the server answers one request at a time, in order. */
  timer: NodeJS.Timeout | null;
}

export async function startTypeChecker(requested: TypeCheckerOptions): Promise<TypeChecker> {
  // The real path: the sandbox exposes the workspace under it, and TypeScript reports real paths of imported files.
  let root: string;
  try {
    root = realpathSync(requested.root);
  } catch {
    throw new TypeCheckerError(`repository root ${requested.root} does not exist`, "unavailable", requested.root);
  }
  const options: TypeCheckerOptions = { ...requested, root };
  const useRepo = options.useRepoTypeScript !== false;
  const server = await startServer(options, useRepo);
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let dead: TypeCheckerError | null = null;

  const failAll = (error: TypeCheckerError) => {
    if (!dead) dead = error;
    for (const [id, p] of pending) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(error);
      pending.delete(id);
    }
  };

  void server.ended.then(({ stderr, detail }) => {
    failAll(
      new TypeCheckerError(
        `the type-check server for ${options.root} ended (${detail})${stderr ? `: ${stderr.trim().slice(-500)}` : ""}`,
        "exited",
        options.root,
        stderr,
      ),
    );
  });

  createInterface({ input: server.stdout }).on("line", (line) => {
    let message: { id?: number; result?: unknown; error?: { message?: string; code?: string | null } };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return;
    }
    const p = message.id === undefined ? undefined : pending.get(message.id);
    if (!p || message.id === undefined) return;
    pending.delete(message.id);
    if (p.timer) clearTimeout(p.timer);
    if (message.error?.code === "unsupported-typescript") {
      p.reject(
        new TypeCheckerError(message.error.message ?? "unsupported TypeScript", message.error.code, options.root),
      );
    } else if (message.error) {
      p.reject(
        new TypeCheckerError(
          `type-check server error on ${options.root}: ${message.error.message ?? "unknown"}`,
          "server-error",
          options.root,
        ),
      );
    } else {
      p.resolve(message.result);
    }
  });

  /**
   * Requests may be sent while earlier ones are under way (the server then has the next at hand the moment it
   * answers one, however busy this process is); each one's time limit runs from when the server gets to it, the
   * answer to the one before.
   */
  let previous: Promise<unknown> = Promise.resolve();
  const request = <T>(method: string, params?: unknown): Promise<T> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    const answered = new Promise<T>((resolve, reject) => {
      const entry: Pending = { resolve: resolve as (v: unknown) => void, reject, timer: null };
      pending.set(id, entry);
      const arm = () => {
        if (pending.get(id) !== entry) return;
        entry.timer = setTimeout(() => {
          pending.delete(id);
          const error = new TypeCheckerError(
            `type-check ${method} timed out after ${options.timeoutMs} ms on ${options.root}`,
            "timeout",
            options.root,
          );
          reject(error);
          // A server stuck in one request cannot be trusted with the next.
          failAll(error);
          server.kill();
        }, options.timeoutMs);
      };
      void previous.then(arm, arm);
      server.stdin.write(`${JSON.stringify({ id, method, params })}\n`);
    });
    previous = answered;
    return answered;
  };

  let info: {
    typescriptVersion: string;
    typescriptPath: string;
    fromRepository: boolean;
    repository: { version: string | null; reason: string | null } | null;
    notes: string[];
  };
  try {
    info = await request("init", {
      root: options.root,
      tsconfigPath: options.tsconfigPath ?? null,
      fallbackTypeScript: ourTypeScriptDir(),
      useRepoTypeScript: useRepo,
    });
  } catch (error) {
    server.kill();
    throw error;
  }

  return {
    typescriptVersion: info.typescriptVersion,
    typescriptPath: info.typescriptPath,
    fromRepository: info.fromRepository,
    repositoryTypeScript: info.repository,
    configNotes: info.notes,
    isolated: server.isolated,
    async baseline() {
      const result = await request<{ diagnostics: Diagnostic[] }>("baseline");
      return result.diagnostics;
    },
    async check(overrides) {
      const payload: Record<string, string> = {};
      for (const [file, content] of overrides) {
        validateOverridePath(file, options.root);
        payload[file] = content;
      }
      const result = await request<{ diagnostics: Diagnostic[] }>("check", { overrides: payload });
      return result.diagnostics;
    },
    async close() {
      if (!dead) failAll(new TypeCheckerError(`type checker for ${options.root} is closed`, "closed", options.root));
      server.kill();
      await server.ended;
    },
  };
}
