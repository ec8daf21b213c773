/**
 * The runtime: database, predictor and tools built once from the environment and passed down. The CLI, the
 * worker and the collector all build their cycles' collaborators here.
 */
import { join } from "node:path";
import type { Env } from "../config/env.js";
import { type DbHandle, openDb } from "../db/client.js";
import type { CycleDeps } from "../engine/ports.js";
import { computeFeatures } from "../model/features.js";
import {
  createPredictor,
  type PredictorLogger,
  type PredictorOptions,
  type TrustPredictor,
} from "../model/predictor.js";
import { createSandbox, type Sandbox, SandboxUnavailableError } from "../sandbox/index.js";
import { createCycleStore } from "./cycle-store.js";
import { createCycleTools } from "./tools.js";

/** Where embedded data lives: ODAVL_DATA_DIR, or `.odavl/` in the working directory. */
export function dataDir(env: Pick<Env, "ODAVL_DATA_DIR">): string {
  return env.ODAVL_DATA_DIR ?? join(process.cwd(), ".odavl");
}

/** The shipped model, used when ML_MODEL_PATH is not set. */
export const DEFAULT_MODEL_PATH = join(
  import.meta.dirname ?? new URL(".", import.meta.url).pathname,
  "../../models/trust-predictor.onnx",
);

export interface RuntimeOptions {
  /** Open a database (false: --no-store). */
  store: boolean;
  /** Run repository code without bubblewrap when it is missing (explicit user choice). */
  allowUnsandboxed: boolean;
  logger?: PredictorLogger;
  /** Every batch the heuristic decides instead of the model (the process's fallback counter). */
  onFallback?: PredictorOptions["onFallback"];
}

export interface Runtime {
  env: Env;
  db: DbHandle | null;
  predictor: TrustPredictor;
  sandbox: Sandbox | null;
  /** Why repository code will not run, when it will not. */
  sandboxProblem: string | null;
  deps: CycleDeps;
  close(): Promise<void>;
}

export async function createRuntime(env: Env, options: RuntimeOptions): Promise<Runtime> {
  const db = options.store
    ? await openDb({ databaseUrl: env.DATABASE_URL, dataDir: join(dataDir(env), "pgdata"), migrate: true })
    : null;
  const predictor = await createPredictor({
    enabled: env.ML_ENABLE,
    modelPath: env.ML_MODEL_PATH ?? DEFAULT_MODEL_PATH,
    timeBudgetMs: env.ML_TIME_BUDGET_MS,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.onFallback ? { onFallback: options.onFallback } : {}),
  });
  let sandbox: Sandbox | null = null;
  let sandboxProblem: string | null = null;
  try {
    sandbox = createSandbox({
      allowUnsandboxed: options.allowUnsandboxed,
      defaults: {
        timeoutMs: env.SANDBOX_TIMEOUT_MS,
        memoryMb: env.SANDBOX_MEMORY_MB,
        maxProcesses: env.SANDBOX_MAX_PROCESSES,
        maxFileMb: env.SANDBOX_MAX_FILE_MB,
        maxOutputBytes: env.SANDBOX_MAX_OUTPUT_BYTES,
      },
      tmpMb: env.SANDBOX_TMP_MB,
    });
  } catch (err) {
    if (!(err instanceof SandboxUnavailableError)) throw err;
    sandboxProblem = err.message;
  }
  const tools = createCycleTools({
    sandbox,
    sandboxProblem,
    parallelRuns: env.SANDBOX_PARALLEL_RUNS,
    ...(env.SANDBOX_TOOLCHAIN_DIR ? { toolchainDir: env.SANDBOX_TOOLCHAIN_DIR } : {}),
  });
  const deps: CycleDeps = {
    store: db ? createCycleStore(db.db) : null,
    predictor,
    tools,
    computeFeatures,
  };
  return {
    env,
    db,
    predictor,
    sandbox,
    sandboxProblem,
    deps,
    async close() {
      await db?.close();
    },
  };
}
