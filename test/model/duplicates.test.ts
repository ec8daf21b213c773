import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type DatasetRow, writeDataset } from "../../src/model/dataset.js";
import { runIdentity, trainingSamples, withoutDuplicates } from "../../src/model/duplicates.js";
import { FEATURE_COUNT, featureIndex } from "../../src/model/features.js";
import { trainFromJsonl } from "../../src/model/train/run.js";
import { syntheticSamples } from "./synthetic.js";

const dir = mkdtempSync(join(tmpdir(), "odavl-duplicates-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function row(over: Partial<DatasetRow> = {}): DatasetRow {
  return {
    repository: "acme/a",
    sha: "c1",
    recipeId: "eslint/prefer-const",
    scope: "all",
    featureSchemaVersion: 3,
    features: new Array<number>(FEATURE_COUNT).fill(0),
    heuristicTrust: 0.9,
    success: true,
    createdAt: "2026-01-01T00:00:00.000Z",
    ...over,
  };
}

describe("one training row per run", () => {
  it("an identical rerun (same repository, commit, recipe, patch) adds no row; the earliest is kept", () => {
    const first = row({ patchHash: "p1", success: false, createdAt: "2026-01-01T00:00:00.000Z" });
    const rerun = row({ patchHash: "p1", success: false, createdAt: "2026-01-02T00:00:00.000Z", heuristicTrust: 0.95 });
    const { rows, duplicates } = withoutDuplicates([rerun, first]);
    expect(duplicates).toBe(1);
    expect(rows).toEqual([first]);
  });

  it("another commit, repository or patch is another run", () => {
    const rows = [
      row({ patchHash: "p1" }),
      row({ patchHash: "p1", sha: "c2" }),
      row({ patchHash: "p1", repository: "acme/b" }),
      row({ patchHash: "p2" }),
    ];
    expect(withoutDuplicates(rows)).toEqual({ rows, duplicates: 0 });
  });

  it("twin recipes (the same patch from two recipes on one commit) are one row", () => {
    const eslint = row({ patchHash: "same-edit", recipeId: "eslint/prefer-const" });
    const biome = row({ patchHash: "same-edit", recipeId: "biome/use-const", createdAt: "2026-01-01T00:00:01.000Z" });
    expect(withoutDuplicates([eslint, biome])).toEqual({ rows: [eslint], duplicates: 1 });
  });

  it("rows exported before the patch hash: a rerun's repeated descriptions add nothing, a cycle keeps its own", () => {
    const files = featureIndex("change.files");
    const history = featureIndex("history.repo.runs");
    const base = row().features;
    const first = "2026-01-01T00:00:00.000Z";
    const later = "2026-01-03T00:00:00.000Z";
    // One cycle: two file-scope patches of one recipe that look alike (one file each, same counts), and another.
    const a1 = row({ scope: "file", features: base, createdAt: first });
    const a2 = row({ scope: "file", features: base, createdAt: first, success: false });
    const b = row({ scope: "all", features: base.map((v, i) => (i === files ? 0.3 : v)), createdAt: first });
    // A rerun of the commit: the same three, with the history the first cycle wrote, and one patch it did not have.
    const moved = (v: number[]) => v.map((x, i) => (i === history ? 0.5 : x));
    const rerun = [a1, a2, b].map((r) => ({ ...r, features: moved(r.features), createdAt: later }));
    const extra = { ...a1, features: moved(a1.features), createdAt: later, heuristicTrust: 0.5 };
    expect(runIdentity(a1)).toEqual(runIdentity(rerun[0] as DatasetRow));
    expect(runIdentity(a1)).not.toEqual(runIdentity(b));
    const { rows, duplicates } = withoutDuplicates([a1, a2, b, ...rerun, extra]);
    expect(rows).toEqual([a1, a2, b, extra]);
    expect(duplicates).toBe(3);
    // Without a commit nothing can be told apart: every row is kept.
    expect(withoutDuplicates([row({ sha: null }), row({ sha: null, createdAt: later })]).duplicates).toBe(0);
  });

  it("training from a file reads reruns as one sample each", async () => {
    const samples = syntheticSamples({ repositories: 4, perRepository: 40, seed: 3 });
    const rows: DatasetRow[] = samples.map((s, i) => ({
      repository: s.repository,
      sha: `c${i}`,
      recipeId: "r",
      patchHash: `p${i}`,
      featureSchemaVersion: 3,
      features: s.features,
      heuristicTrust: s.heuristicTrust,
      success: s.label === 1,
      createdAt: "2026-01-01T00:00:00.000Z",
    }));
    const reruns = rows.slice(0, 30).map((r) => ({ ...r, createdAt: "2026-02-01T00:00:00.000Z" }));
    const path = join(dir, "reruns.jsonl.gz");
    await writeDataset(path, [...rows, ...reruns]);
    const r = await trainFromJsonl(path, { kinds: ["logistic-regression"], learningCurve: [], resamples: 20 });
    expect(r.duplicates).toBe(30);
    expect(r.result.card.data.samples).toBe(rows.length);
    expect(trainingSamples([...rows, ...reruns]).samples).toHaveLength(rows.length);
  });
});
