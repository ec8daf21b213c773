/**
 * Fault suite, the trust model: missing or corrupt at start, and replaced while the process runs (overwritten in
 * place with garbage, then swapped for a new good model). Cycles run by the production runtime (createRuntime,
 * with the worker's fallback counter wired as the worker wires it) go on with the heuristic; every fallback is in
 * the Prometheus counter by cause and in the stored predictions (used_ml false, the cause); a good file put in
 * place is picked up by the next cycle without a restart.
 */
import { renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEnv } from "../../src/config/env.js";
import { setConsent, upsertRepository } from "../../src/db/queries/repositories.js";
import type { CycleSummary } from "../../src/engine/types.js";
import { MetadataKey } from "../../src/model/onnx/export.js";
import { releaseModels } from "../../src/model/predictor.js";
import { createPrometheus, type Prometheus } from "../../src/observability/prometheus.js";
import { createRuntime, type Runtime } from "../../src/runtime/create-runtime.js";
import { detectBubblewrap } from "../../src/sandbox/index.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../helpers/db.js";
import {
  cycleRequest,
  removeTempDirs,
  runCycle,
  smallProject,
  storedResults,
  tempDir,
  writeRepo,
} from "../helpers/engine.js";
import * as fx from "../model/onnx-fixtures.js";

// Skipped only where bubblewrap is missing (apt-get install bubblewrap): the runtime's cycles type-check in it. CI
// has it.
const hasBwrap = detectBubblewrap().available;

const GARBAGE = Buffer.from("this is not an ONNX model\n\x00\x01\x02 but it is where the model should be");

describe.skipIf(!hasBwrap)("a missing, corrupt or replaced model: the heuristic decides, visibly", () => {
  let work: string;
  let repoDir: string;
  let databaseUrl: string | null = null;
  const runtimes: Runtime[] = [];

  beforeAll(async () => {
    work = tempDir("odavl-model-fault-");
    repoDir = path.join(work, "repo");
    writeRepo(repoDir, smallProject("node -e 0"));
    if (process.env.DATABASE_URL) databaseUrl = await createPostgresDatabase();
  });

  afterAll(async () => {
    for (const r of runtimes) await r.close();
    await releaseModels();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
    removeTempDirs();
  });

  /** The worker's runtime for a model path, with its fallbacks counted as the worker counts them. */
  async function worker(modelPath: string): Promise<{ runtime: Runtime; prometheus: Prometheus }> {
    const env = readEnv({
      ML_ENABLE: "true",
      ML_MODEL_PATH: modelPath,
      ODAVL_DATA_DIR: path.join(work, "data"),
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    });
    const prometheus = createPrometheus({ role: "worker", defaults: false });
    const runtime = await createRuntime(env, {
      store: true,
      allowUnsandboxed: false,
      onFallback: ({ cause }) => prometheus.modelFallbacks.inc({ cause }),
    });
    runtimes.push(runtime);
    const db = runtime.db?.db;
    if (!db) throw new Error("the runtime has no database");
    const repo = await upsertRepository(db, { owner: "test", name: "repo", mode: "shadow" });
    await setConsent(db, repo.id, "dataCollection", true, { source: "operator", actor: "test" });
    return { runtime, prometheus };
  }

  async function cycle(runtime: Runtime): Promise<CycleSummary> {
    const summary = await runCycle(
      cycleRequest(repoDir, { recipeIds: ["eslint/prefer-const"], runTests: false }),
      runtime.deps,
    );
    expect(summary.status, summary.error ?? "").toBe("completed");
    expect(summary.results.length).toBeGreaterThan(0);
    return summary;
  }

  /** The counter as a scrape shows it: cause -> value. */
  async function scrapedFallbacks(prometheus: Prometheus): Promise<Record<string, number>> {
    const text = await prometheus.registry.metrics();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^odavl_model_fallbacks_total\{([^}]*)\} (\S+)$/gm)) {
      const cause = /cause="([^"]*)"/.exec(m[1] ?? "")?.[1];
      if (cause) out[cause] = Number(m[2]);
    }
    return out;
  }

  async function expectHeuristic(runtime: Runtime, summary: CycleSummary, cause: string): Promise<void> {
    for (const r of summary.results) {
      expect(r.prediction).toMatchObject({ usedML: false, fallbackCause: cause, mlTrust: null });
      expect(r.prediction.heuristicTrust).toBeGreaterThan(0);
    }
    const stored = await storedResults(runtime.db?.db as NonNullable<Runtime["db"]>["db"], summary.id);
    expect(stored.length).toBe(summary.results.length);
    for (const row of stored) expect(row).toMatchObject({ used_ml: false, fallback_cause: cause, ml_trust: null });
  }

  async function expectModel(runtime: Runtime, summary: CycleSummary, version: string): Promise<void> {
    for (const r of summary.results) {
      expect(r.prediction).toMatchObject({ usedML: true, fallbackCause: null, modelVersion: version });
      expect(r.prediction.mlTrust).toBeGreaterThan(0);
    }
    const stored = await storedResults(runtime.db?.db as NonNullable<Runtime["db"]>["db"], summary.id);
    for (const row of stored)
      expect(row).toMatchObject({ used_ml: true, fallback_cause: null, model_version: version });
  }

  it("missing at start", async () => {
    const { runtime, prometheus } = await worker(path.join(work, "no-such-model.onnx"));
    expect(runtime.predictor.status).toMatchObject({ loaded: false, loadFailure: { cause: "missing" } });
    await expectHeuristic(runtime, await cycle(runtime), "missing");
    expect(await scrapedFallbacks(prometheus)).toEqual({ missing: 1 });
  });

  it("corrupt at start (garbage, then a truncated model)", async () => {
    const garbage = path.join(work, "garbage.onnx");
    writeFileSync(garbage, GARBAGE);
    const a = await worker(garbage);
    expect(a.runtime.predictor.status).toMatchObject({ loaded: false, loadFailure: { cause: "corrupt" } });
    await expectHeuristic(a.runtime, await cycle(a.runtime), "corrupt");
    expect(await scrapedFallbacks(a.prometheus)).toEqual({ corrupt: 1 });

    const truncated = path.join(work, "truncated.onnx");
    const good = fx.sigmoidModel();
    writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
    const b = await worker(truncated);
    expect(b.runtime.predictor.status.loaded).toBe(false);
    await expectHeuristic(b.runtime, await cycle(b.runtime), "corrupt");
    expect(await scrapedFallbacks(b.prometheus)).toEqual({ corrupt: 1 });
  });

  it("replaced while running: overwritten with garbage the heuristic decides; a new good model is picked up", async () => {
    const modelPath = path.join(work, "live.onnx");
    writeFileSync(modelPath, fx.sigmoidModel({ meta: fx.metadata({ [MetadataKey.modelVersion]: "live-1" }) }));
    const { runtime, prometheus } = await worker(modelPath);
    expect(runtime.predictor.status).toMatchObject({ loaded: true, modelVersion: "live-1" });
    const version = "live-1";

    // 1. The model scores.
    await expectModel(runtime, await cycle(runtime), version);
    expect(await scrapedFallbacks(prometheus)).toEqual({});

    // 2. The file is overwritten in place (same inode) with garbage: the next cycle notices, the heuristic decides.
    writeFileSync(modelPath, GARBAGE);
    await expectHeuristic(runtime, await cycle(runtime), "corrupt");
    expect(await scrapedFallbacks(prometheus)).toEqual({ corrupt: 1 });
    expect(runtime.predictor.status).toMatchObject({ loaded: false, loadFailure: { cause: "corrupt" } });

    // 3. Still garbage: still the heuristic, counted again, loaded only once.
    await expectHeuristic(runtime, await cycle(runtime), "corrupt");
    expect(await scrapedFallbacks(prometheus)).toEqual({ corrupt: 2 });

    // 4. A new model is put in place the way a deployment does it (write beside, rename over): picked up.
    const next = `${modelPath}.next`;
    writeFileSync(next, fx.sigmoidModel({ bias: 0.5, meta: fx.metadata({ [MetadataKey.modelVersion]: "live-2" }) }));
    renameSync(next, modelPath);
    const summary = await cycle(runtime);
    expect(runtime.predictor.status).toMatchObject({ loaded: true, modelVersion: "live-2", loadFailure: null });
    await expectModel(runtime, summary, "live-2");
    expect(await scrapedFallbacks(prometheus)).toEqual({ corrupt: 2 });
  });
});
