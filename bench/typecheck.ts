/**
 * Type-check benchmark: a generated ~200-file repository, cold `tsc --noEmit` (median of 3) against the
 * incremental checker's baseline and ten candidate checks of 1–5 files each.
 *   npx tsx bench/typecheck.ts [--files 200] [--unsandboxed]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { createSandbox, detectBubblewrap, ourTypeScriptDir, startTypeChecker } from "../src/sandbox/index.js";
import { changeExportedShape, generateTsRepo, insertAtBody } from "../test/helpers/gen-repo-ts.js";
import { median } from "./stats.js";

const { values } = parseArgs({
  options: { files: { type: "string", default: "200" }, unsandboxed: { type: "boolean", default: false } },
});
const fileCount = Number(values.files);

const workRoot = mkdtempSync(path.join(os.tmpdir(), "odavl-bench-tc-"));
const repoDir = path.join(workRoot, "repo");
mkdirSync(repoDir);
const repo = generateTsRepo(repoDir, { files: fileCount, baselineErrors: 3 });
// The repository's own TypeScript, as a real checkout would have it after installing dependencies.
mkdirSync(path.join(repoDir, "node_modules"));
symlinkSync(ourTypeScriptDir(), path.join(repoDir, "node_modules", "typescript"), "dir");

const tsc = path.join(ourTypeScriptDir(), "bin", "tsc");
const coldTimes: number[] = [];
let tscErrors = 0;
for (let i = 0; i < 3; i++) {
  const start = performance.now();
  const r = spawnSync(process.execPath, [tsc, "--noEmit", "-p", repoDir, "--pretty", "false"], { encoding: "utf8" });
  coldTimes.push(performance.now() - start);
  tscErrors = r.stdout.split("\n").filter((l) => / error TS\d+:/.test(l)).length;
}
const cold = median(coldTimes);

const bwrap = detectBubblewrap();
const sandboxed = bwrap.available && !values.unsandboxed;
const sandbox = sandboxed ? createSandbox() : null;
const startAt = performance.now();
const checker = await startTypeChecker({
  root: repoDir,
  sandbox,
  timeoutMs: 120_000,
  useRepoTypeScript: sandboxed,
});
const startup = performance.now() - startAt;
const baselineAt = performance.now();
const baseline = await checker.baseline();
const baselineMs = performance.now() - baselineAt;

const read = (f: string) => readFileSync(path.join(repoDir, f), "utf8");
type Candidate = { label: string; overrides: Map<string, string> };
const candidates: Candidate[] = [];
for (let i = 0; i < 10; i++) {
  const overrides = new Map<string, string>();
  const kind = i % 3;
  if (kind === 0) {
    // Body-only edits in a few features and services: nothing exported changes.
    for (const f of [repo.features[i], repo.services[i], repo.features[i + 10]]) {
      if (f) overrides.set(f, insertAtBody(read(f), `const local${i} = ${i} * 2; void local${i};`));
    }
  } else if (kind === 1) {
    // A type error planted in one file, body edits in others.
    const f = repo.services[i] as string;
    overrides.set(f, insertAtBody(read(f), `const wrong${i}: number = "text";`));
    for (const g of repo.features.slice(i, i + 4)) overrides.set(g, insertAtBody(read(g), `void ${i};`));
  } else {
    // An exported signature change in a utility: its importers must be checked again.
    const u = repo.utils[i] as string;
    overrides.set(u, changeExportedShape(read(u)));
  }
  candidates.push({ label: `${kind === 0 ? "body" : kind === 1 ? "error" : "shape"} x${overrides.size}`, overrides });
}

const candidateTimes: number[] = [];
const rows: string[] = [];
for (const candidate of candidates) {
  const start = performance.now();
  const diagnostics = await checker.check(candidate.overrides);
  const ms = performance.now() - start;
  candidateTimes.push(ms);
  rows.push(`  ${candidate.label.padEnd(10)} ${ms.toFixed(0).padStart(6)} ms  ${diagnostics.length} diagnostics`);
}
const restoredAt = performance.now();
const restored = await checker.check(new Map());
const restoredMs = performance.now() - restoredAt;
await checker.close();
rmSync(workRoot, { recursive: true, force: true });

const perCandidate = median(candidateTimes);
console.log(`type-check benchmark: ${repo.files.length} files, TypeScript ${checker.typescriptVersion}`);
console.log(
  `  runner: ${sandboxed ? "bubblewrap sandbox, repository's TypeScript" : "plain child process, our TypeScript"}`,
);
console.log(
  `cold tsc --noEmit (median of 3):   ${cold.toFixed(0)} ms  [${coldTimes.map((t) => t.toFixed(0)).join(", ")}]  ${tscErrors} errors`,
);
console.log(`checker start-up:                  ${startup.toFixed(0)} ms`);
console.log(`baseline:                          ${baselineMs.toFixed(0)} ms  ${baseline.length} diagnostics`);
console.log("candidates:");
for (const row of rows) console.log(row);
console.log(`per-candidate check (median of 10): ${perCandidate.toFixed(0)} ms`);
console.log(`empty check after candidates:      ${restoredMs.toFixed(0)} ms  ${restored.length} diagnostics`);
console.log(`ratio per-candidate / cold tsc:     ${(perCandidate / cold).toFixed(3)}  (target < 0.3)`);
