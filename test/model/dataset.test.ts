import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, openDb } from "../../src/db/client.js";
import { DatasetError, type DatasetRow, readDataset, writeDataset } from "../../src/model/dataset.js";
import { createPredictor, releaseModels } from "../../src/model/predictor.js";
import { currentModel, listModels } from "../../src/model/registry.js";
import { runTrainCommand } from "../../src/model/train/command.js";
import { loadTrainingRows, trainFromDb, trainFromJsonl } from "../../src/model/train/run.js";
import { trainModels } from "../../src/model/train/train.js";
import { addCycle, addRepository, addSample, addSamples, type SampleInput } from "./db.js";
import { syntheticSamples } from "./synthetic.js";

const dir = mkdtempSync(join(tmpdir(), "odavl-dataset-"));
let handle: DbHandle;

beforeAll(async () => {
  handle = await openDb({ dataDir: "memory" });
});

afterAll(async () => {
  await releaseModels();
  await handle.close();
  rmSync(dir, { recursive: true, force: true });
});

const samples = syntheticSamples({ repositories: 5, perRepository: 80, seed: 9 });
const rows: DatasetRow[] = samples.map((s) => ({
  repository: s.repository,
  featureSchemaVersion: 3,
  features: s.features,
  heuristicTrust: s.heuristicTrust,
  success: s.label === 1,
}));

describe("dataset files", () => {
  it("round-trips gzip'ed JSON Lines", async () => {
    const path = join(dir, "data.jsonl.gz");
    expect(await writeDataset(path, rows)).toBe(rows.length);
    expect(gunzipSync(readFileSync(path)).toString("utf8").split("\n")).toHaveLength(rows.length + 1);
    const back: DatasetRow[] = [];
    for await (const r of readDataset(path)) back.push(r);
    expect(back).toEqual(rows);
  });

  it("stops at a malformed line with its number", async () => {
    const path = join(dir, "bad.jsonl");
    writeFileSync(path, `${JSON.stringify(rows[0])}\n{"repository":"x"}\n`);
    const read = async () => {
      for await (const _ of readDataset(path)) {
        // drain
      }
    };
    await expect(read()).rejects.toThrow(DatasetError);
    await expect(read()).rejects.toThrow(/bad\.jsonl:2:/);
  });

  it("trains from a dataset file, skipping other schema versions", async () => {
    const path = join(dir, "train.jsonl.gz");
    await writeDataset(path, [...rows, { ...(rows[0] as DatasetRow), featureSchemaVersion: 1, features: [1] }]);
    const r = await trainFromJsonl(path, {
      outDir: join(dir, "out"),
      name: "file-1",
      kinds: ["logistic-regression"],
      learningCurve: [],
    });
    expect(r.skippedRows).toBe(1);
    expect(r.result.card.data.samples).toBe(rows.length);
    expect(r.written?.modelPath).toBe(join(dir, "out", "file-1.onnx"));
    const card = JSON.parse(readFileSync(r.written?.cardPath as string, "utf8"));
    // The name is only the file's; the version is the hash of the model's content.
    expect(card.modelVersion).toMatch(/^v3-[0-9a-f]{8}$/);
    expect(card.modelVersion).toBe(r.result.card.modelVersion);
  });
});

describe("training from the database", () => {
  it("reads completed samples, writes the model, registers it, and the predictor loads it", async () => {
    const db = handle.db;
    const repoIds = new Map<string, { id: number; cycle: string }>();
    const inputs: SampleInput[] = [];
    for (const s of samples) {
      let repo = repoIds.get(s.repository);
      if (!repo) {
        const [owner, name] = s.repository.split("/") as [string, string];
        const id = await addRepository(db, owner, name);
        repo = { id, cycle: await addCycle(db, id) };
        repoIds.set(s.repository, repo);
      }
      inputs.push({
        repositoryId: repo.id,
        cycleId: repo.cycle,
        recipeId: "eslint/prefer-const",
        success: s.label === 1,
        at: new Date(),
        features: s.features,
        heuristicTrust: s.heuristicTrust,
      });
    }
    await addSamples(db, inputs);
    const first = samples[0] as (typeof samples)[number];
    const anyRepo = repoIds.get(first.repository) as { id: number; cycle: string };
    // Neither a verification error nor another schema's sample is a training label.
    await addSample(db, {
      repositoryId: anyRepo.id,
      cycleId: anyRepo.cycle,
      recipeId: "x",
      success: false,
      at: new Date(),
      status: "error",
    });
    await addSample(db, {
      repositoryId: anyRepo.id,
      cycleId: anyRepo.cycle,
      recipeId: "x",
      success: false,
      at: new Date(),
      featureSchemaVersion: 1,
    });
    const loaded = await loadTrainingRows(db);
    expect(loaded).toHaveLength(samples.length);
    expect(loaded[0]).toMatchObject({ repository: first.repository, success: first.label === 1 });

    const out = await trainFromDb(db, { outDir: join(dir, "db"), name: "db-1", gbt: { trees: 40 }, learningCurve: [] });
    const version = out.result.card.modelVersion;
    expect(version).toMatch(/^v3-[0-9a-f]{8}$/);
    expect(out.model).toMatchObject({ version, status: "candidate", path: join(dir, "db", "db-1.onnx") });
    expect(out.result.card.data.repositories).toBe(5);
    const predictor = await createPredictor({ enabled: true, modelPath: out.modelPath, timeBudgetMs: 1000 });
    const scored = await predictor.score(samples.slice(0, 5).map((s) => s.features));
    // The model decides only when its card's gate is open; it runs either way, and its batches carry its version.
    expect(scored.usedML).toBe(out.result.card.gate?.open);
    expect(scored.fallbackCause).toBe(out.result.card.gate?.open ? null : "not-promoted");
    expect(scored.modelVersion).toBe(version);
    expect(scored.ml).toHaveLength(5);
    scored.ml?.forEach((m, i) => {
      expect(m.trust).toBeCloseTo(out.result.best.predict((samples[i] as (typeof samples)[number]).features), 5);
      expect(m.reason).toMatch(/^model 0\.\d\d: /);
    });

    const cmd = await runTrainCommand({ outDir: join(dir, "cmd"), name: "db-2", seed: 2, promote: true }, { db });
    expect(cmd.promoted).toBe(true);
    expect(cmd.card.modelVersion).toMatch(/^v3-[0-9a-f]{8}$/);
    expect(cmd.lines.join("\n")).toMatch(new RegExp(`model ${cmd.card.modelVersion} .*\n.*5 repositories`));
    // One pair of AUCs for each of the 5 folds (one repository each).
    const perFold = cmd.lines.find((l) => l.includes("AUC per fold"));
    expect(perFold?.match(/\d\.\d{3} \/ \d\.\d{3}/g)).toHaveLength(5);
    expect(cmd.lines.filter((l) => /precision >= 0\.9\d: model \d+\.\d% \| \d+\.\d%/.test(l))).toHaveLength(4);
    expect((await currentModel(db))?.version).toBe(cmd.card.modelVersion);
    const versions = [...new Set([version, cmd.card.modelVersion])].sort();
    expect((await listModels(db)).map((m) => m.version).sort()).toEqual(versions);
    // The same training again is the same model: its version is registered once.
    const again = await runTrainCommand({ outDir: join(dir, "again"), seed: 2 }, { db });
    expect(again.card.modelVersion).toBe(cmd.card.modelVersion);
    expect(again.modelPath).toBe(join(dir, "again", `trust-predictor-${cmd.card.modelVersion}.onnx`));
    expect(await listModels(db)).toHaveLength(versions.length);
    // Another model (other data) has another version.
    const other = trainModels(samples.slice(0, 320), {
      kinds: ["logistic-regression"],
      learningCurve: [],
      resamples: 20,
    });
    expect(other.card.modelVersion).not.toBe(cmd.card.modelVersion);
  });
});
