/**
 * The sandboxed processor file: BullMQ runs it in a child process of `odavl worker` (see worker.ts for why).
 * It is an entry point: it reads the environment and the options its worker passed once, builds the jobs'
 * collaborators once for the life of the child (BullMQ reuses children across jobs), and runs each job through
 * the registry.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { SandboxedJob } from "bullmq";
import { z } from "zod";
import { readEnv } from "../config/env.js";
import { cloneUrlFor } from "../github/octokit.js";
import { createLogger } from "../observability/logging.js";
import { createSeriesRecorder, relayProgress } from "../observability/relay.js";
import { CYCLES_QUEUE } from "./config.js";
import { type BuiltWorkerDeps, createWorkerDeps } from "./deps.js";
import { processJob } from "./processors/registry.js";
import { jobInfo } from "./processors/worker-deps.js";
import { CHILD_OPTIONS_ENV } from "./worker.js";

const childOptionsSchema = z.object({
  queueName: z.string().default(CYCLES_QUEUE.name),
  queuePrefix: z.string().default(CYCLES_QUEUE.prefix),
  allowUnsandboxed: z.boolean().default(false),
  runTests: z.boolean().default(true),
  install: z.boolean().default(true),
  /** Where installed repositories are cloned from: GitHub, or a directory of owner/name repositories. */
  /** Where repositories are cloned from; default: GITHUB_API_URL's server (github.com for GitHub's API). */
  cloneBaseUrl: z.string().min(1).optional(),
});
export type ChildOptions = z.input<typeof childOptionsSchema>;

// The worker died (killed, crashed, restarted): its job goes back to the queue, so this child must not finish
// the cycle next to the retry. The IPC channel closes when the parent dies.
process.on("disconnect", () => process.exit(1));

let built: Promise<BuiltWorkerDeps> | null = null;
// What this process's jobs observe; it travels to the worker's registry with each job's result or error.
const recorder = createSeriesRecorder();
let workspaceRoot: string | null = null;

// BullMQ stops an idle child with a signal that ends in process.exit, which skips any asynchronous clean-up: the
// (by then empty) workspace root is removed here instead.
process.on("exit", () => {
  if (workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
});

function build(): Promise<BuiltWorkerDeps> {
  const env = readEnv(process.env);
  const options = childOptionsSchema.parse(JSON.parse(process.env[CHILD_OPTIONS_ENV] ?? "{}"));
  const logger = createLogger({ level: env.LOG_LEVEL, base: { pid: process.pid, role: "cycle-child" } });
  return createWorkerDeps(env, {
    queue: { ...CYCLES_QUEUE, name: options.queueName, prefix: options.queuePrefix },
    logger,
    allowUnsandboxed: options.allowUnsandboxed,
    runTests: options.runTests,
    install: options.install,
    prometheus: recorder.series,
    cloneUrl: (owner, name, fromGitHub) => {
      // A set base overrules GitHub's clone URL (a directory of repositories, or a mirror).
      if (!options.cloneBaseUrl) return cloneUrlFor(env.GITHUB_API_URL, owner, name, fromGitHub);
      const base = options.cloneBaseUrl;
      return /^https?:\/\//.test(base) ? `${base.replace(/\/+$/, "")}/${owner}/${name}.git` : join(base, owner, name);
    },
  });
}

export default async function processSandboxedJob(
  job: SandboxedJob,
  _token?: string,
  signal?: AbortSignal,
): Promise<unknown> {
  // Cancelled: the worker abandons its jobs (a second SIGTERM). The process ends at once, so the cycle does not go
  // on next to its retry; the job fails and is retried.
  signal?.addEventListener("abort", () => process.kill(process.pid, "SIGKILL"), { once: true });
  try {
    // A failed build (database unreachable, say) is not kept: the next job tries again.
    built ??= build().catch((err: unknown) => {
      built = null;
      throw err;
    });
    const { deps } = await built;
    workspaceRoot = deps.workspaceRoot;
    return await processJob(jobInfo(job), deps);
  } finally {
    // What the job observed travels to the worker as its last progress report, before its result or error.
    const observations = recorder.take();
    if (observations.length > 0) await job.updateProgress(relayProgress(observations)).catch(() => {});
  }
}
