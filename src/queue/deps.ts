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
  cloneUrlFor,
  createOctokitClass,
  type OctokitPolicy,
  PRODUCTION_OCTOKIT_POLICY,
  privateKeyFrom,
} from "../github/octokit.js";
import type { Predictor } from "../model/types.js";
import type { CycleSeries } from "../observability/relay.js";
import { createRuntime } from "../runtime/create-runtime.js";
import { createCycleTools } from "../runtime/tools.js";
import type { Sandbox, SandboxResult, SpawningSandbox } from "../sandbox/index.js";
import { checkout, createWorkspaceRoot, InstallError, installDependencies } from "../workspace/index.js";
import { type QueueConfig, redisConnection } from "./config.js";
import type { GitHubFactory, WorkerDeps } from "./processors/worker-deps.js";
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
  /**
   * What the jobs observe: phase durations, candidates by tier, prediction latency, model fallbacks, sandbox
   * kills, GitHub requests and rate-limit waits (the process's registry, or a child's recorder).
   */
  prometheus?: CycleSeries;
  /**
   * Where installed repositories are cloned from. Default: the `clone_url` GitHub gave, else
   * `<server of GITHUB_API_URL>/<owner>/<name>.git`.
   */
  cloneUrl?: (owner: string, name: string, fromGitHub: string | null) => string;
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
    ...(o.prometheus ? { onFallback: ({ cause }) => o.prometheus?.modelFallbacks.inc({ cause }) } : {}),
  });
  const prometheus = o.prometheus;
  const cycleDeps = prometheus
    ? {
        ...runtime.deps,
        predictor: timedPredictor(runtime.deps.predictor, prometheus),
        tools: createCycleTools({
          sandbox: runtime.sandbox ? countingSandbox(runtime.sandbox, prometheus) : null,
          sandboxProblem: runtime.sandboxProblem,
          parallelRuns: env.SANDBOX_PARALLEL_RUNS,
          ...(env.SANDBOX_TOOLCHAIN_DIR ? { toolchainDir: env.SANDBOX_TOOLCHAIN_DIR } : {}),
        }),
      }
    : runtime.deps;
  const db = runtime.db?.db;
  if (!db) throw new ConfigError("the worker needs a database");
  if (runtime.sandboxProblem)
    o.logger.warn({ problem: runtime.sandboxProblem }, "no sandbox: repository tests will not run");

  const probot =
    env.APP_ID && env.PRIVATE_KEY
      ? new Probot({
          appId: env.APP_ID,
          privateKey: privateKeyFrom(env.PRIVATE_KEY),
          Octokit: createOctokitClass(o.octokit ?? PRODUCTION_OCTOKIT_POLICY, o.prometheus),
          baseUrl: env.GITHUB_API_URL,
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
    cycle: cycleDeps,
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
    cloneUrl: o.cloneUrl ?? ((owner, name, fromGitHub) => cloneUrlFor(env.GITHUB_API_URL, owner, name, fromGitHub)),
    workspaceRoot,
    schedules: createSchedules(queue, o.queue),
    flags: {
      dataCollection: env.DATA_COLLECTION_ENABLED,
      autoApply: env.FEATURE_AUTO_APPROVE,
      thresholds: { autoApply: env.ML_AUTO_APPLY_THRESHOLD, review: env.ML_CONFIDENCE_THRESHOLD },
      runTests: o.runTests,
      maxCandidates: env.CYCLE_MAX_CANDIDATES,
    },
    logger: o.logger,
    clock: () => new Date(),
    ...(prometheus ? { prometheus } : {}),
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

/** The predictor, with the time of each non-empty batch observed. */
function timedPredictor(predictor: Predictor, series: CycleSeries): Predictor {
  return {
    featureSchemaVersion: predictor.featureSchemaVersion,
    recipePriors: () => predictor.recipePriors(),
    async score(features) {
      const batch = await predictor.score(features);
      if (features.length > 0) series.predictionLatency.observe(batch.latencyMs / 1000);
      return batch;
    },
  };
}

/**
 * The sandbox, with each run it stopped at a limit counted by cause (runs and long-lived processes alike). A
 * process stopped by its caller (`aborted`: the type checker closed at the end of a cycle) hit no limit.
 */
export function countingSandbox(sandbox: Sandbox, series: Pick<CycleSeries, "sandboxKills">): Sandbox {
  const count = (r: SandboxResult) => {
    if (r.killed && r.killed !== "aborted") series.sandboxKills.inc({ cause: r.killed });
    return r;
  };
  const spawning = sandbox as Partial<SpawningSandbox>;
  const counted: Sandbox = {
    get isolated() {
      return sandbox.isolated;
    },
    run: async (options) => count(await sandbox.run(options)),
  };
  if (typeof spawning.spawn !== "function") return counted;
  const spawn = spawning.spawn.bind(sandbox);
  const withSpawn: SpawningSandbox = {
    get isolated() {
      return sandbox.isolated;
    },
    run: counted.run,
    async spawn(options) {
      const proc = await spawn(options);
      const done = proc.done.then(count);
      return {
        get stdin() {
          return proc.stdin;
        },
        get stdout() {
          return proc.stdout;
        },
        done,
        kill: () => proc.kill(),
      };
    },
  };
  return withSpawn;
}
