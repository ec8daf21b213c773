/**
 * bench:verify-lint — what Verify's lint costs a candidate on a real checkout, per recipe family. Plans every recipe
 * as a cycle's Act does (file candidates as collection makes them; what each family's planning cost is printed
 * first), then lints each candidate's changed files after
 * its change, as Verify does, one family at a time, and prints per family the median and total milliseconds of
 * this process's CPU and of wall time. CPU time is this process's own, all its threads (the garbage collector's
 * helpers too, so it can exceed wall time); the linters and the TypeScript language service run here, Biome in a
 * process of its own that only wall time counts. CPU figures hold up better than wall time on a busy machine.
 * Nothing is written to the checkout.
 *
 *   npx tsx bench/verify-lint.ts <checkout> [--candidates 20] [--runs 1]
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { buildCandidates } from "../src/engine/candidates.js";
import { createRecipeWorkspace, cycleSourceFiles, readTsconfig } from "../src/engine/observe.js";
import { DEFAULT_REPO_CONFIG } from "../src/engine/repo-config.js";
import {
  collectFindings,
  disposeWorkspace,
  getFamily,
  prepareRecipes,
  type Recipe,
  selectRecipes,
} from "../src/recipes/index.js";
import { safeListFiles } from "../src/workspace/index.js";
import { median } from "./stats.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { candidates: { type: "string", default: "20" }, runs: { type: "string", default: "1" } },
});
const root = positionals[0];
if (!root || positionals.length > 1) throw new Error("usage: npx tsx bench/verify-lint.ts <checkout> [--candidates N]");
const maxCandidates = Number(values.candidates);
const runs = Number(values.runs);
if (!Number.isInteger(maxCandidates) || maxCandidates < 1) {
  throw new Error(`--candidates must be a positive integer (got ${values.candidates})`);
}
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer (got ${values.runs})`);

const listed = await safeListFiles(root, { maxFileBytes: 1024 * 1024 });
const tsconfig = readTsconfig(root, listed.files);
const sourceFiles = cycleSourceFiles(tsconfig, listed.files);
if (sourceFiles.length === 0) throw new Error(`${root}: no TypeScript source files`);
const recipes = selectRecipes({ disabled: DEFAULT_REPO_CONFIG.recipes.disable });
const ws = createRecipeWorkspace(root, sourceFiles, tsconfig.path);
const byFamily = new Map<string, Recipe[]>();
for (const r of recipes) byFamily.set(r.family, [...(byFamily.get(r.family) ?? []), r]);
const t0 = performance.now();
// Act's planning, one family at a time (a cycle starts them together, Biome's process first): ts-codefix builds the
// TypeScript program that ESLint's type-aware rules then share, so ESLint's figure leaves that program out.
const planning: { family: string; cpu: number; wall: number }[] = [];
for (const [family, list] of byFamily) {
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await prepareRecipes(ws, list);
  const cpu = process.cpuUsage(cpu0);
  planning.push({ family, cpu: (cpu.user + cpu.system) / 1000, wall: performance.now() - w0 });
}
const planned = await buildCandidates(ws, recipes, (r) => getFamily(r.family), {
  budget: DEFAULT_REPO_CONFIG.budget,
  protectedPaths: DEFAULT_REPO_CONFIG.protectedPaths,
  scopes: ["all", "file"],
  maxFileCandidatesPerRecipe: 5,
});
const planMs = performance.now() - t0;
const candidates = planned.candidates.slice(0, maxCandidates);
console.log(
  `${root}: ${sourceFiles.length} source files, ${recipes.length} recipes planned in ${(planMs / 1000).toFixed(1)} s, ` +
    `${planned.candidates.length} candidates (${candidates.length} linted, ${runs} run${runs === 1 ? "" : "s"})`,
);

console.log(
  `planning (Act): ${planning.map((p) => `${p.family} ${p.cpu.toFixed(0)} ms CPU / ${p.wall.toFixed(0)} ms wall`).join(", ")}`,
);
const figures = new Map<string, { cpu: number[]; wall: number[] }>();
for (let run = 0; run < runs; run++) {
  for (const c of candidates) {
    const overrides = new Map(c.files.map((f) => [f.path, f.after] as const));
    const files = c.files.map((f) => f.path);
    for (const [family, list] of byFamily) {
      // A workspace of its own, as Verify makes for each candidate.
      const cws = createRecipeWorkspace(root, sourceFiles, tsconfig.path, overrides);
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      await collectFindings(cws, list, files);
      const wall = performance.now() - w0;
      const cpu = process.cpuUsage(cpu0);
      const f = figures.get(family) ?? { cpu: [], wall: [] };
      f.cpu.push((cpu.user + cpu.system) / 1000);
      f.wall.push(wall);
      figures.set(family, f);
    }
  }
}
disposeWorkspace(root);

const pad = (s: string, n: number) => s.padEnd(n);
console.log(
  `${pad("family", 12)}${pad("median cpu ms", 15)}${pad("median wall ms", 16)}${pad("total cpu s", 13)}total wall s`,
);
let cpuAll = 0;
let wallAll = 0;
for (const [family, f] of figures) {
  const cpu = f.cpu.reduce((a, b) => a + b, 0);
  const wall = f.wall.reduce((a, b) => a + b, 0);
  cpuAll += cpu;
  wallAll += wall;
  console.log(
    `${pad(family, 12)}${pad(median(f.cpu).toFixed(0), 15)}${pad(median(f.wall).toFixed(0), 16)}${pad((cpu / 1000).toFixed(1), 13)}${(wall / 1000).toFixed(1)}`,
  );
}
console.log(
  `${pad("all", 12)}${pad("", 15)}${pad("", 16)}${pad((cpuAll / 1000).toFixed(1), 13)}${(wallAll / 1000).toFixed(1)}`,
);
