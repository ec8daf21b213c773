/**
 * Planning benchmark of the recipe catalog: every recipe of every family planned over a generated repository, once
 * with one run of each tool for all of a family's recipes (`prepare`, what a cycle does) and once recipe by recipe.
 * Prints milliseconds of planning per source file, medians over several runs (each run starts from cold caches).
 *   npx tsx bench/recipes-lint.ts [--files 40] [--runs 3]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  disposeWorkspace,
  type FamilyId,
  planRecipe,
  prepareRecipes,
  RECIPES,
  type Recipe,
  type RecipeWorkspace,
} from "../src/recipes/index.js";
import { generateRepo } from "./gen-repo.js";
import { median } from "./stats.js";

const { values } = parseArgs({
  options: { files: { type: "string", default: "40" }, runs: { type: "string", default: "3" } },
});
const fileCount = Number(values.files);
const runs = Number(values.runs);
if (!Number.isInteger(fileCount) || fileCount < 1)
  throw new Error(`--files must be a positive integer (got ${values.files})`);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer (got ${values.runs})`);

function sources(root: string, dir = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && entry.name !== ".git") out.push(...sources(root, rel));
    } else if (/\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(entry.name)) {
      out.push(rel);
    }
  }
  return out.sort();
}

const workRoot = mkdtempSync(path.join(os.tmpdir(), "odavl-bench-recipes-"));
const root = path.join(workRoot, "repo");
generateRepo(root, { files: fileCount, problemEvery: 5 });
const files = sources(root);
const contents = new Map(files.map((f) => [f, readFileSync(path.join(root, f), "utf8")] as const));
/** A fresh workspace object: nothing prepared for another one is reused. */
const workspace = (): RecipeWorkspace => ({
  root,
  files,
  tsconfigPath: path.join(root, "tsconfig.json"),
  read: (rel) => {
    const text = contents.get(rel);
    if (text === undefined) throw new Error(`no file ${rel} in the generated repository`);
    return text;
  },
});

async function onePass(recipes: readonly Recipe[]): Promise<number> {
  const ws = workspace();
  const start = performance.now();
  await prepareRecipes(ws, recipes);
  for (const r of recipes) await planRecipe(ws, r);
  return performance.now() - start;
}

async function oneAtATime(recipes: readonly Recipe[]): Promise<number> {
  const start = performance.now();
  for (const r of recipes) await planRecipe(workspace(), r);
  return performance.now() - start;
}

const families: FamilyId[] = ["ts-codefix", "eslint", "biome"];
const results = new Map<string, { pass: number[]; single: number[] }>();
for (const key of [...families, "all"]) results.set(key, { pass: [], single: [] });

// A warm-up run (module loading, the Biome binary in the page cache, typescript-eslint's project service) that is
// not counted.
await onePass(RECIPES);
for (let run = 0; run < runs; run++) {
  for (const family of [...families, "all"] as const) {
    const recipes = family === "all" ? RECIPES : RECIPES.filter((r) => r.family === family);
    const row = results.get(family) as { pass: number[]; single: number[] };
    // Alternate the order so that neither mode always runs on caches the other warmed.
    const order = run % 2 === 0 ? (["pass", "single"] as const) : (["single", "pass"] as const);
    for (const mode of order) {
      disposeWorkspace(root);
      const ms = mode === "pass" ? await onePass(recipes) : await oneAtATime(recipes);
      row[mode].push(ms);
    }
  }
}

console.log(`recipes-lint: ${RECIPES.length} recipes, ${files.length} source files, ${runs} runs (medians)`);
console.log("family        recipes  one pass ms/file  one at a time ms/file  speed-up");
for (const [family, row] of results) {
  const n = family === "all" ? RECIPES.length : RECIPES.filter((r) => r.family === family).length;
  const pass = median(row.pass) / files.length;
  const single = median(row.single) / files.length;
  console.log(
    `${family.padEnd(12)}  ${String(n).padStart(7)}  ${pass.toFixed(1).padStart(16)}  ${single.toFixed(1).padStart(21)}  ${(single / pass).toFixed(2).padStart(7)}x`,
  );
}
disposeWorkspace(root);
rmSync(workRoot, { recursive: true, force: true });
