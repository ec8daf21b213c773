/**
 * The job processors' collaborators built from the environment: the runtime (database, predictor, sandbox,
 * cycle tools), GitHub installation clients, checkout, dependency install, the schedules. Built once per process.
 */
import { rm } from "node:fs/promises";
import type { Logger } from "pino";
import { Probot } from "probot";
import { ConfigError, type Env } from "../config/env.js";
import { createGitHubApi } from "../github/api.js";
import {
  createOctokitClass,
  type OctokitPolicy,
  PRODUCTION_OCTOKIT_POLICY,
  privateKeyFrom,
} from "../github/octokit.js";
import type { Metrics } from "../observability/metrics.js";
import { createRuntime } from "../runtime/context.js";
import { checkout, createWorkspaceRoot, InstallError, installDependencies } from "../workspace/index.js";
import { type QueueConfig, redisConnection } from "./config.js";
import type { GitHubFactory, WorkerDeps } from "./processors/context.js";
import { createCyclesQueue } from "./producer.js";
import { createSchedules } from "./schedules.js";

export interface WorkerDepsOptions {
  queue: QueueConfig;
  logger: Logger;
  /** Run repository code without bubblewrap when it is missing (local development only). */
  allowUnsandboxed: boolean;
  runTests: boolean;
  /** Install each checkout's dependencies (without scripts). Off only for repositories that need none. */
  install: boolean;
  octokit?: OctokitPolicy;
  /** What the process counts: model fallbacks, GitHub requests and rate-limit waits. */
  metrics?: Pick<Metrics, "modelFallbacks" | "githubCalls" | "rateLimitWaits">;
  /** Where installed repositories are cloned from. Default: https://github.com/<owner>/<name>.git */
  cloneUrl?: (owner: string, name: string) => string;
}

export interface BuiltWorkerDeps {
  deps: WorkerDeps;
  close(): Promise<void>;
}

export async function createWorkerDeps(env: Env, o: WorkerDepsOptions): Promise<BuiltWorkerDeps> {
  if (!env.DATABASE_URL)
    throw new ConfigError("DATABASE_URL is required: workers of several processes share one Postgres");
  if (!env.REDIS_URL) throw new ConfigError("REDIS_URL is required: the queue lives in Redis");
  const runtime = await createRuntime(env, {
    store: true,
    allowUnsandboxed: o.allowUnsandboxed,
    logger: o.logger,
    ...(o.metrics ? { onFallback: ({ cause }) => o.metrics?.modelFallbacks.inc({ cause }) } : {}),
  });
  const db = runtime.db?.db;
  if (!db) throw new ConfigError("the worker needs a database");
  if (runtime.sandboxProblem)
    o.logger.warn({ problem: runtime.sandboxProblem }, "no sandbox: repository tests will not run");

  const probot =
    env.APP_ID && env.PRIVATE_KEY
      ? new Probot({
          appId: env.APP_ID,
          privateKey: privateKeyFrom(env.PRIVATE_KEY),
          Octokit: createOctokitClass(o.octokit ?? PRODUCTION_OCTOKIT_POLICY, o.metrics),
          log: o.logger.child({ name: "github" }),
        })
      : null;
  const github: GitHubFactory = {
    async installation(installationId) {
      if (!probot) throw new ConfigError("APP_ID and PRIVATE_KEY are required to serve installed repositories");
      const octokit = await probot.auth(installationId);
      return {
        api: createGitHubApi(octokit),
        async token() {
          const auth = (await octokit.auth({ type: "installation" })) as { token?: unknown };
          if (typeof auth.token !== "string")
            throw new Error(`no installation token for installation ${installationId}`);
          return auth.token;
        },
      };
    },
  };

  const queue = createCyclesQueue(o.queue, redisConnection(env.REDIS_URL, "producer"));
  const workspaceRoot = await createWorkspaceRoot("odavl-jobs-");
  const deps: WorkerDeps = {
    db,
    cycle: runtime.deps,
    github,
    async checkout(options) {
      const result = await checkout({ ...options, timeoutMs: 10 * 60_000 });
      return { dir: result.dir, sha: result.sha };
    },
    async prepare(dir) {
      if (!o.install) return;
      try {
        await installDependencies(dir, { timeoutMs: env.SANDBOX_TIMEOUT_MS });
      } catch (err) {
        // A repository whose dependencies do not install is still checked: without them the type checker sees
        // more errors, before and after each fix alike, and verification compares the two.
        if (!(err instanceof InstallError)) throw err;
        o.logger.warn({ err: err.message }, "dependencies did not install; the cycle goes on without them");
      }
    },
    cloneUrl: o.cloneUrl ?? ((owner, name) => `https://github.com/${owner}/${name}.git`),
    workspaceRoot,
    schedules: createSchedules(queue, o.queue),
    flags: {
      dataCollection: env.DATA_COLLECTION_ENABLED,
      autoApply: env.FEATURE_AUTO_APPROVE,
      thresholds: { autoApply: env.ML_AUTO_APPLY_THRESHOLD, review: env.ML_CONFIDENCE_THRESHOLD },
      runTests: o.runTests,
    },
    logger: o.logger,
    clock: () => new Date(),
  };
  return {
    deps,
    async close() {
      await queue.close();
      await runtime.close();
      await rm(workspaceRoot, { recursive: true, force: true });
    },
  };
}
