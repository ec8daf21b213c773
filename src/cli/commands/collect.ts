import { join } from "node:path";
import { getHeapStatistics } from "node:v8";
import { collect } from "../../collect/collect.js";
import { openLedger } from "../../collect/ledger.js";
import { type ListEntry, readList } from "../../collect/list.js";
import { collectThroughQueue } from "../../collect/queue.js";
import { type Env, readEnv } from "../../config/env.js";
import { type Db, openDb } from "../../db/client.js";
import { countPredictions } from "../../db/queries/collection.js";
import type { CandidateScope } from "../../engine/types.js";
import { effectiveThresholds } from "../../model/tiers.js";
import { CYCLES_QUEUE, redisConnection } from "../../queue/config.js";
import { createCyclesQueue } from "../../queue/producer.js";
import { RECIPES, selectRecipes } from "../../recipes/index.js";
import type { Recipe } from "../../recipes/types.js";
import { createRuntime, dataDir } from "../../runtime/create-runtime.js";
import { type CommandContext, parseFlags } from "../command.js";
import { createProgress, type ProgressReporter } from "../progress.js";
import { SPECS } from "../spec.js";
import { UsageError } from "../usage-error.js";

const FLAGS = SPECS.collect.options;

function positiveInt(v: unknown, flag: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer, got "${String(v)}"`);
  return n;
}

/**
 * `odavl collect <list-file>`: with REDIS_URL set, registers each repository in shadow mode and queues one shadow
 * cycle per repository for the workers, then waits for them; without it (or with --in-process), runs the cycles
 * in this process.
 */
export async function collectCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(ctx.argv, FLAGS, 1);
  const listFile = positionals[0];
  if (!listFile)
    throw new UsageError(
      "which list? usage: odavl collect <list-file> [--max-cycles N] [--concurrency K] [--continuous] [--in-process] [--ledger FILE]",
    );
  const entries = readList(listFile);
  const env = readEnv(ctx.env);
  const testsMode = values.tests ?? "all";
  const testScopes: CandidateScope[] =
    testsMode === "all" ? ["all", "file"] : testsMode === "all-scope" ? ["all"] : testsMode === "none" ? [] : [];
  if (!["all", "all-scope", "none"].includes(String(testsMode))) {
    throw new UsageError(`--tests must be all, all-scope or none, got "${String(testsMode)}"`);
  }
  const recipes = values.recipes ? selectRecipes({ enabled: String(values.recipes).split(",") }) : RECIPES;
  if (recipes.length === 0) throw new UsageError(`--recipes "${String(values.recipes)}" selects no recipe`);
  const ledger = values.ledger ? openLedger(String(values.ledger)) : undefined;
  if (env.REDIS_URL && !values["in-process"]) {
    if (ledger) throw new UsageError("--ledger needs --in-process (queued cycles are recorded by the workers)");
    // The workers decide how many cycles run at once and for how long; one job runs a repository's recipes.
    const ignored = (["concurrency", "cycle-timeout", "recipes-per-cycle"] as const).filter((f) => values[f]);
    if (ignored.length > 0) {
      ctx.stderr.write(
        `odavl collect: ${ignored.map((f) => `--${f}`).join(", ")} only apply with --in-process; the workers run the queued cycles\n`,
      );
    }
    return collectQueued(ctx, env, entries, {
      recipes,
      testScopes,
      maxFileCandidatesPerRecipe: positiveInt(values["file-candidates"], "file-candidates", 5),
      ...(values["max-cycles"] ? { maxCycles: positiveInt(values["max-cycles"], "max-cycles", 1) } : {}),
      continuous: values.continuous === true,
    });
  }
  const runtime = await createRuntime(env, { store: true, allowUnsandboxed: false });
  if (!runtime.db) throw new Error("collect needs a database");
  if (runtime.sandboxProblem) {
    ctx.stderr.write(`odavl collect: ${runtime.sandboxProblem}\n`);
    await runtime.close();
    return 1;
  }
  const progress = createProgress(ctx.stderr);
  const db = runtime.db.db;
  const reporter = await createReporter(progress, db, entries.length);
  try {
    await runPasses(progress, values.continuous === true, (signal) =>
      collect(entries, db, runtime.deps, {
        recipes,
        thresholds: effectiveThresholds({
          autoApply: env.ML_AUTO_APPLY_THRESHOLD,
          review: env.ML_CONFIDENCE_THRESHOLD,
        }),
        ...(values["max-cycles"] ? { maxCycles: positiveInt(values["max-cycles"], "max-cycles", 1) } : {}),
        concurrency: positiveInt(values.concurrency, "concurrency", 1),
        cycleTimeoutMs: positiveInt(values["cycle-timeout"], "cycle-timeout", 1800) * 1000,
        recipesPerCycle: positiveInt(values["recipes-per-cycle"], "recipes-per-cycle", 12),
        scopes: ["all", "file"],
        maxFileCandidatesPerRecipe: positiveInt(values["file-candidates"], "file-candidates", 5),
        testScopes,
        installTimeoutMs: 15 * 60_000,
        ...(ledger ? { ledger } : {}),
        signal,
        onEvent: async (e) => {
          if (e.kind === "start") return;
          if (e.kind === "cycle") {
            const ok = e.summary.results.filter((r) => r.outcome?.success).length;
            const seconds = Math.round((e.summary.durationsMs.total ?? 0) / 1000);
            reporter.line(
              e.entry,
              `${e.summary.results.length} candidates, ${ok} verified, ${e.summary.status} in ${seconds} s; ${heapLine()}`,
            );
            return;
          }
          reporter.line(e.entry, e.kind === "error" ? `error: ${e.error.split("\n")[0]}` : e.reason);
          await reporter.entryDone();
        },
      }),
    );
    return 0;
  } finally {
    progress.done();
    await runtime.close();
  }
}

/** Through the cycles queue (REDIS_URL set): the workers run the cycles; this queues them and waits. */
async function collectQueued(
  ctx: CommandContext,
  env: Env,
  entries: readonly ListEntry[],
  o: {
    recipes: readonly Recipe[];
    testScopes: CandidateScope[];
    maxFileCandidatesPerRecipe: number;
    maxCycles?: number;
    continuous: boolean;
  },
): Promise<number> {
  if (!env.REDIS_URL) throw new Error("collectQueued needs REDIS_URL");
  const config = { ...CYCLES_QUEUE, prefix: env.QUEUE_PREFIX };
  const handle = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: join(dataDir(env), "pgdata"), migrate: true });
  const queue = createCyclesQueue(config, redisConnection(env.REDIS_URL, "producer"));
  const progress = createProgress(ctx.stderr);
  const db = handle.db;
  const reporter = await createReporter(progress, db, entries.length);
  try {
    await runPasses(progress, o.continuous === true, (signal) =>
      collectThroughQueue(entries, db, queue, config, {
        recipes: o.recipes,
        testScopes: o.testScopes,
        maxFileCandidatesPerRecipe: o.maxFileCandidatesPerRecipe,
        ...(o.maxCycles !== undefined ? { maxCycles: o.maxCycles } : {}),
        signal,
        onEvent: async (e) => {
          if (e.kind === "queued") {
            reporter.line(e.entry, `queued ${e.jobId} (${e.recipes} recipes)`);
            return;
          }
          if (e.kind === "cycle") {
            const seconds = e.durationMs === null ? "?" : String(Math.round(e.durationMs / 1000));
            reporter.line(e.entry, `${e.candidates} candidates, ${e.verified} verified, ${e.status} in ${seconds} s`);
          } else reporter.line(e.entry, e.kind === "error" ? `error: ${e.error.split("\n")[0]}` : e.reason);
          await reporter.entryDone();
        },
      }),
    );
    return 0;
  } finally {
    progress.done();
    await queue.close();
    await handle.close();
  }
}

/**
 * Collection passes: one, or with --continuous one every ten minutes, until SIGINT or SIGTERM, which stop the
 * run between cycles (the signal reaches the pass).
 */
async function runPasses(
  progress: ProgressReporter,
  continuous: boolean,
  onePass: (signal: AbortSignal) => Promise<{ cycles: number; samples: number; skipped: number; errors: number }>,
): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    let pass = 0;
    do {
      pass++;
      const result = await onePass(controller.signal);
      progress.line(
        `pass ${pass}: ${result.cycles} cycles, ${result.samples} samples, ${result.skipped} repositories already done, ${result.errors} errors`,
      );
      if (continuous && !controller.signal.aborted) await sleep(10 * 60_000, controller.signal);
    } while (continuous && !controller.signal.aborted);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

/**
 * This process's JavaScript heap after a cycle, against its limit: in-process collection runs every cycle here, so
 * a heap that climbs from cycle to cycle is visible long before it runs out (node --max-old-space-size raises it).
 */
function heapLine(): string {
  const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
  return `heap ${Math.round(used / 2 ** 20)} of ${Math.round(limit / 2 ** 20)} MiB`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Progress of a collection run: a line per event, and a bar over the list with samples and their rate. */
async function createReporter(progress: ProgressReporter, db: Db, total: number) {
  const started = Date.now();
  const startSamples = await countPredictions(db);
  let done = 0;
  return {
    line(entry: ListEntry, text: string) {
      progress.line(`${entry.owner}/${entry.name}${entry.ref ? `@${entry.ref}` : ""}: ${text}`);
    },
    async entryDone() {
      done++;
      const samples = (await countPredictions(db)) - startSamples;
      const hours = (Date.now() - started) / 3_600_000;
      progress.bar("collect", done, total, `${samples} samples, ${hours > 0 ? Math.round(samples / hours) : 0}/h`);
    },
  };
}
