/**
 * Queue tests: a queue config of their own (unique prefix, short timings), real git repositories built here with
 * fixed dates (so their shas, and the summaries that name them, are the same on every run), and job processors'
 * collaborators wired to a test database and a test Probot.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Job, Queue } from "bullmq";
import type { Probot } from "probot";
import { DEMO_FILES, linkTypeScript } from "../../src/cli/demo-repo.js";
import { readEnv } from "../../src/config/env.js";
import type { Db } from "../../src/db/client.js";
import { createGitHubApi } from "../../src/github/api.js";
import { CYCLES_QUEUE, type QueueConfig, redisConnection } from "../../src/queue/config.js";
import type { WorkerDeps, WorkerFlags } from "../../src/queue/processors/context.js";
import type { Schedules } from "../../src/queue/schedules.js";
import { createRuntime } from "../../src/runtime/context.js";
import { checkout, createWorkspaceRoot } from "../../src/workspace/index.js";
import { silentLogger } from "../github/helpers/probot.js";

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error("REDIS_URL is not set (run the tests with npm test)");
  return url;
}

/** A queue of the test file's own: nothing it adds is seen by another file or a running deployment. */
export function testQueueConfig(tag: string, worker: Partial<QueueConfig["worker"]> = {}): QueueConfig {
  return {
    ...CYCLES_QUEUE,
    prefix: `odavl-test-${tag}-${randomBytes(4).toString("hex")}`,
    defaultJobOptions: {
      ...CYCLES_QUEUE.defaultJobOptions,
      attempts: 3,
      backoff: { type: "fixed", delay: 200 },
    },
    worker: { ...CYCLES_QUEUE.worker, drainDelaySeconds: 1, ...worker },
  };
}

export const producerConnection = () => redisConnection(redisUrl(), "producer");
export const workerConnection = () => redisConnection(redisUrl(), "worker");

/** Fixed dates and identities make commits, and so their shas, reproducible. */
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "odavl test",
  GIT_AUTHOR_EMAIL: "test@odavl.invalid",
  GIT_COMMITTER_NAME: "odavl test",
  GIT_COMMITTER_EMAIL: "test@odavl.invalid",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "core.hooksPath=/dev/null", ...args], {
    cwd: dir,
    env: GIT_ENV,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/** Writes files into a git repository at `dir` (created on first use) and commits them; returns the sha. */
export function commitFiles(dir: string, files: Record<string, string>, message: string): string {
  mkdirSync(dir, { recursive: true });
  try {
    git(dir, "rev-parse", "--git-dir");
  } catch {
    git(dir, "init", "-q", "-b", "main");
  }
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "--allow-empty", "-m", message);
  return git(dir, "rev-parse", "HEAD");
}

/** The demo repository (real problems, planted failures), with only the files a cycle needs. */
export function buildDemo(dir: string, extra: Record<string, string> = {}): string {
  return commitFiles(dir, { ...DEMO_FILES, ".gitignore": "node_modules/\nbuild/\n", ...extra }, "demo repository");
}

export interface TestWorkerOptions {
  db: Db;
  probot: Probot;
  /** owner/name -> local git repository the "GitHub" clone of that repository comes from. */
  repos: Record<string, string>;
  flags?: Partial<WorkerFlags>;
  schedules?: Schedules | null;
}

export const FIXED_NOW = new Date("2026-01-02T03:04:05Z");

/** The collaborators of the job processors, as the worker builds them, with test doubles where GitHub would be. */
export async function testWorkerDeps(o: TestWorkerOptions): Promise<{ deps: WorkerDeps; close(): Promise<void> }> {
  // The heuristic scores: the check-run snapshots must not change whenever the shipped model is retrained.
  const runtime = await createRuntime(readEnv({ ML_ENABLE: "false" }), { store: false, allowUnsandboxed: true });
  const workspaceRoot = await createWorkspaceRoot("odavl-test-jobs-");
  const deps: WorkerDeps = {
    db: o.db,
    cycle: { ...runtime.deps, db: o.db },
    github: {
      async installation(installationId) {
        const octokit = await o.probot.auth(installationId);
        return {
          api: createGitHubApi(octokit),
          token: async () => ((await octokit.auth({ type: "installation" })) as { token: string }).token,
        };
      },
    },
    async checkout(options) {
      const r = await checkout(options);
      return { dir: r.dir, sha: r.sha };
    },
    // The demo repository's TypeScript comes from a link (as `odavl demo` makes it), not from the registry.
    prepare: async (dir) => linkTypeScript(dir),
    cloneUrl: (owner, name) => {
      const path = o.repos[`${owner}/${name}`];
      if (!path) throw new Error(`no test repository for ${owner}/${name}`);
      return path;
    },
    workspaceRoot,
    schedules: o.schedules ?? null,
    flags: {
      dataCollection: true,
      autoApply: true,
      thresholds: { autoApply: 0.85, review: 0.65 },
      runTests: false,
      ...o.flags,
    },
    logger: silentLogger,
    clock: () => FIXED_NOW,
  };
  return {
    deps,
    async close() {
      await runtime.close();
      await rm(workspaceRoot, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(
  f: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await f();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until the job is completed or failed for good, and returns it. */
export async function finishedJob(queue: Queue, jobId: string, timeoutMs = 120_000): Promise<Job> {
  await waitFor(
    async () => {
      const state = await queue.getJobState(jobId);
      return state === "completed" || state === "failed";
    },
    timeoutMs,
    `job ${jobId}`,
  );
  // Read after it finished: a job read while it ran has no return value.
  const job = await queue.getJob(jobId);
  if (!job) throw new Error(`job ${jobId} vanished`);
  return job;
}
