/**
 * bench:cycle — a cycle on a generated repository of about 200 files with about 10 candidates. Prints the total,
 * observe and per-candidate verification times, and the ratio of per-candidate type-check time to one cold
 * `tsc --noEmit` of the same repository (the type checker is reused between baseline and candidates).
 *   npm run bench:cycle [-- --files 200 --json]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readEnv } from "../src/config/env.js";
import { runCycle } from "../src/engine/cycle.js";
import { DEFAULT_REPO_CONFIG } from "../src/engine/repo-config.js";
import { DEFAULT_THRESHOLDS } from "../src/model/tiers.js";
import { RECIPES } from "../src/recipes/index.js";
import { createRuntime } from "../src/runtime/create-runtime.js";
import { generateRepo } from "./gen-repo.js";
import { median } from "./stats.js";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "200" },
    json: { type: "boolean" },
    runs: { type: "string", default: "3" },
  },
});
const files = Number(values.files);
const runs = Number(values.runs);

const dir = mkdtempSync(join(tmpdir(), "odavl-bench-cycle-"));
try {
  generateRepo(dir, { files });
  const tsc = join(require_().resolve("typescript/package.json"), "..", "bin", "tsc");
  const cold: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    try {
      execFileSync(process.execPath, [tsc, "--noEmit", "-p", join(dir, "tsconfig.json")], { stdio: "ignore" });
    } catch {
      // Exit code 2 with diagnostics still measures a full check.
    }
    cold.push(performance.now() - t);
  }
  const runtime = await createRuntime(readEnv({ ...process.env, ML_ENABLE: process.env.ML_ENABLE ?? "true" }), {
    store: false,
    allowUnsandboxed: true,
  });
  const totals: number[] = [];
  const observes: number[] = [];
  const perCandidate: number[] = [];
  const perTypecheck: number[] = [];
  let candidates = 0;
  for (let i = 0; i < runs; i++) {
    const summary = await runCycle(
      {
        root: dir,
        repository: { owner: "bench", name: "generated", mode: "shadow" },
        sha: null,
        trigger: "cli",
        recipes: RECIPES,
        config: DEFAULT_REPO_CONFIG,
        thresholds: DEFAULT_THRESHOLDS,
        scopes: ["all"],
        runTests: false,
        collectData: false,
      },
      runtime.deps,
    );
    if (summary.status !== "completed") throw new Error(`bench cycle failed: ${summary.error}`);
    candidates = summary.results.length;
    totals.push(summary.durationsMs.total ?? 0);
    observes.push(summary.durationsMs.observe ?? 0);
    for (const r of summary.results) {
      if (!r.outcome || r.outcome.sharedWith) continue;
      perCandidate.push(r.outcome.durationsMs.total);
      perTypecheck.push(r.outcome.durationsMs.typecheck);
    }
  }
  await runtime.close();
  const result = {
    files,
    candidates,
    runs,
    coldTscMs: Math.round(median(cold)),
    totalMs: Math.round(median(totals)),
    observeMs: Math.round(median(observes)),
    perCandidateVerifyMs: Math.round(median(perCandidate)),
    perCandidateTypecheckMs: Math.round(median(perTypecheck)),
    typecheckRatio: Number((median(perTypecheck) / median(cold)).toFixed(3)),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`repository: ${files} files, ${candidates} candidates, ${runs} runs (medians)`);
    console.log(`cold tsc --noEmit:              ${result.coldTscMs} ms`);
    console.log(`cycle total:                    ${result.totalMs} ms`);
    console.log(`observe:                        ${result.observeMs} ms`);
    console.log(`verification per candidate:     ${result.perCandidateVerifyMs} ms`);
    console.log(`type check per candidate:       ${result.perCandidateTypecheckMs} ms`);
    console.log(`ratio type check / cold tsc:    ${result.typecheckRatio} (target < 0.3)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function require_() {
  return createRequire(import.meta.url);
}
