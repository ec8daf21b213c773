/**
 * Running one prepared command line and watching it: wall time, output caps, abort, and telling why it ended.
 * The process is started in its own process group; stopping a run sends SIGKILL to the whole group. Under
 * bubblewrap that group holds bwrap itself, and bwrap's death takes its pid namespace down with it (the namespace's
 * init gets SIGKILL via --die-with-parent, and the kernel kills every process left in a namespace whose init died),
 * so nothing started inside can outlive the run, not even a daemon that left the process group.
 */
import { type ChildProcess, spawn } from "node:child_process";
import os, { getPriority, setPriority } from "node:os";
import { performance } from "node:perf_hooks";
import { OUTPUT_FLOOD_FACTOR } from "./limits.js";
import { type MemoryScope, type RunCgroup, sampleMemory, WATCHDOG_INTERVAL_MS } from "./memory.js";
import type { KillCause, SandboxLimits, SandboxResult } from "./types.js";
import { SandboxSetupError } from "./types.js";

export interface LaunchSpec {
  file: string;
  args: string[];
  env: Record<string, string>;
  /** Working directory of the spawned process on the host. */
  hostCwd: string;
  isolated: boolean;
  limits: SandboxLimits;
  stdin: "pipe" | "ignore";
  /** False for long-lived processes whose stdout the caller reads. */
  collectStdout: boolean;
  signal?: AbortSignal;
  /** How much lower than this process's the spawned process's priority is, set as soon as it is spawned. */
  niceness?: number;
  /**
   * How the memory of the run as a whole is bounded (see memory.ts): by a cgroup the command line already enters
   * (its OOM kills are reported as "memory"), or by sampling the run's processes, all of a uid or the tree of the
   * spawned process, and killing the run past `limits.memoryMb`.
   */
  memory?: { cgroup: RunCgroup } | { watch: "uid"; uid: number } | { watch: "tree" };
  /** Runs once after the process has ended (removes per-run files). */
  cleanup?: () => Promise<void> | void;
}

export interface Launched {
  child: ChildProcess;
  done: Promise<SandboxResult>;
  kill(cause: KillCause): void;
}

/** Tail kept of each stream, past the cap too, to recognise why a run failed (OOM and fork errors come last). */
const TAIL_BYTES = 8192;
/** After the process has exited, how long stdout/stderr may stay open (a leftover grandchild of an unsandboxed run). */
const DRAIN_GRACE_MS = 1000;
const KILLED_DRAIN_GRACE_MS = 200;

const MEMORY_EVIDENCE =
  /out of memory|Fatal process OOM|Cannot allocate memory|std::bad_alloc|MemoryError|ENOMEM|allocation failed|Failed to reserve (virtual )?memory/i;
// Only messages about creating processes or threads: "EAGAIN: resource temporarily unavailable, read" is ordinary
// non-blocking I/O and says nothing about the process limit.
const PROCESS_EVIDENCE =
  /Cannot fork|fork: (retry: )?Resource temporarily unavailable|fork failed|\bspawn(\s+\S+)?\s+EAGAIN|uv_thread_create|pthread_create|(fork|clone|thread)[^\n]*Resource temporarily unavailable/i;
const FILE_SIZE_EVIDENCE = /EFBIG|File too large|File size limit exceeded/i;

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(os.constants.signals).map(([name, num]) => [num, name as NodeJS.Signals]),
);

class StreamCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  truncated = false;
  private tail = Buffer.alloc(0);

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.kept < this.max) {
      const room = this.max - this.kept;
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
      if (part.length < chunk.length) this.truncated = true;
    } else if (chunk.length > 0) {
      this.truncated = true;
    }
    const joined = Buffer.concat([this.tail, chunk]);
    this.tail = joined.subarray(Math.max(0, joined.length - TAIL_BYTES));
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }

  tailText(): string {
    return this.tail.toString("utf8");
  }
}

export function launch(spec: LaunchSpec): Promise<Launched> {
  const start = performance.now();
  return new Promise((resolveLaunch, rejectLaunch) => {
    let child: ChildProcess;
    try {
      child = spawn(spec.file, spec.args, {
        cwd: spec.hostCwd,
        env: spec.env,
        stdio: [spec.stdin, "pipe", "pipe"],
        detached: true,
      });
    } catch (error) {
      rejectLaunch(
        new SandboxSetupError(`cannot start ${spec.file}: ${(error as Error).message}`, { command: spec.file }),
      );
      return;
    }
    if (spec.niceness && child.pid !== undefined) {
      // Set the moment the spawn returns: the spawned process (prlimit, or the command itself) has only just
      // started, and bwrap and the command, started after, inherit it.
      try {
        setPriority(child.pid, Math.min(19, getPriority() + Math.max(1, Math.round(spec.niceness))));
      } catch {
        // Gone already: its result says why.
      }
    }

    const stdout = new StreamCapture(spec.limits.maxOutputBytes);
    const stderr = new StreamCapture(spec.limits.maxOutputBytes);
    const flood = spec.limits.maxOutputBytes * OUTPUT_FLOOD_FACTOR;
    let killedBy: KillCause | null = null;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let settled = false;
    let resolveDone: (result: SandboxResult) => void = () => {};
    const done = new Promise<SandboxResult>((resolve) => {
      resolveDone = resolve;
    });

    const kill = (cause: KillCause) => {
      if (killedBy === null && exit === null) killedBy = cause;
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };

    const timer = setTimeout(() => kill("timeout"), spec.limits.timeoutMs);
    let watchdog: NodeJS.Timeout | undefined;
    const memory = spec.memory;
    if (memory && "watch" in memory && child.pid !== undefined) {
      const scope: MemoryScope =
        memory.watch === "uid" ? { kind: "uid", uid: memory.uid } : { kind: "tree", rootPid: child.pid };
      const limitBytes = spec.limits.memoryMb * 1024 * 1024;
      watchdog = setInterval(() => {
        if (exit !== null) return;
        const sample = sampleMemory(scope);
        if (sample.bytes <= limitBytes) return;
        kill("memory");
        // The group kill ends a sandboxed run (its pid namespace goes with bwrap); an unsandboxed process that
        // left the group is still in the sample.
        for (const pid of sample.pids) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone
          }
        }
      }, WATCHDOG_INTERVAL_MS);
    }
    const onAbort = () => kill("aborted");
    spec.signal?.addEventListener("abort", onAbort, { once: true });

    const watch = (stream: NodeJS.ReadableStream | null, capture: StreamCapture) => {
      stream?.on("data", (chunk: Buffer) => {
        capture.push(chunk);
        if (capture.total > flood) kill("output");
      });
    };
    watch(child.stderr, stderr);
    if (spec.collectStdout) watch(child.stdout, stdout);
    child.stdin?.on("error", () => {
      // the process exited before reading all of its stdin: that is its business
    });

    const finish = async () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(watchdog);
      spec.signal?.removeEventListener("abort", onAbort);
      // Read before cleanup removes the cgroup.
      const oomKilled = memory !== undefined && "cgroup" in memory && memory.cgroup.oomKilled();
      try {
        await spec.cleanup?.();
      } catch {
        // cleanup of per-run scratch files must not hide the run's result
      }
      let code = exit?.code ?? null;
      let signal = exit?.signal ?? null;
      // bwrap reports a command killed by signal N as exit status 128 + N.
      if (spec.isolated && signal === null && code !== null && code > 128 && code <= 128 + 64) {
        const name = SIGNAL_NAMES.get(code - 128);
        if (name) {
          signal = name;
          code = null;
        }
      }
      const evidence = `${stderr.tailText()}\n${spec.collectStdout ? stdout.tailText() : ""}`;
      resolveDone({
        exitCode: code,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated || stderr.truncated,
        // A runner can survive the kernel killing one of its workers; only a run that failed failed for memory.
        killed: classify(
          killedBy ?? (oomKilled && (code !== 0 || signal !== null) ? "memory" : null),
          code,
          signal,
          evidence,
        ),
        durationMs: Math.round(performance.now() - start),
        isolated: spec.isolated,
      });
    };

    child.once("error", (error) => {
      if (child.pid === undefined) {
        clearTimeout(timer);
        clearInterval(watchdog);
        spec.signal?.removeEventListener("abort", onAbort);
        settled = true;
        Promise.resolve(spec.cleanup?.()).finally(() =>
          rejectLaunch(new SandboxSetupError(`cannot start ${spec.file}: ${error.message}`, { command: spec.file })),
        );
      }
    });
    child.once("spawn", () => {
      resolveLaunch({ child, done, kill });
      if (spec.signal?.aborted) kill("aborted");
    });
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      clearInterval(watchdog);
      // A process can exit while something it started still holds the pipes open (only possible without
      // isolation); the result must not wait for that forever.
      const grace = killedBy ? KILLED_DRAIN_GRACE_MS : DRAIN_GRACE_MS;
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        void finish();
      }, grace).unref();
    });
    child.once("close", () => void finish());
  });
}

function classify(
  killedBy: KillCause | null,
  code: number | null,
  signal: NodeJS.Signals | null,
  evidence: string,
): KillCause | null {
  if (killedBy === "aborted" || killedBy === "output" || killedBy === "memory") return killedBy;
  // A fork bomb never ends by itself: the process limit holds it and the wall clock ends it. The limit is the
  // more useful answer.
  if (killedBy === "timeout") return PROCESS_EVIDENCE.test(evidence) ? "processes" : "timeout";
  if (signal === "SIGXFSZ") return "file-size";
  const failed = signal !== null || (code !== null && code !== 0);
  if (!failed) return null;
  if (FILE_SIZE_EVIDENCE.test(evidence)) return "file-size";
  if (MEMORY_EVIDENCE.test(evidence)) return "memory";
  if (PROCESS_EVIDENCE.test(evidence)) return "processes";
  return null;
}
