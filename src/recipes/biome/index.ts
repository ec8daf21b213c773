import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { isContainedPath, isSourceFile, SOURCE_GLOBS } from "../shared/files.js";
import { parseParams } from "../shared/params.js";
import { outcomeOf, type PlanOutcome, type PlanResult, PreparedPlans } from "../shared/prepared.js";
import { asRecipeError, recipesLabel, sortEdits, sortFindings, sortSkipped } from "../shared/results.js";
import { codePointColumnToUtf16, lineStarts } from "../shared/text.js";
import type { FileEdit, Finding, Recipe, RecipeFamily, RecipeWorkspace, SkippedFile } from "../types.js";
import { type BiomeDiagnostic, type BiomeReport, runBiome } from "./runner.js";

const GROUPS = [
  "a11y",
  "complexity",
  "correctness",
  "nursery",
  "performance",
  "security",
  "style",
  "suspicious",
] as const;

/** Params of a biome recipe. */
export const BiomeParams = z.object({
  /** Rule group, as in Biome's diagnostic category `lint/<group>/<rule>`. */
  group: z.enum(GROUPS),
  rule: z.string().regex(/^[a-z][A-Za-z0-9]*$/),
  /** Rule options, passed through to the generated configuration. */
  options: z.record(z.string(), z.unknown()).optional(),
});
export type BiomeParams = z.infer<typeof BiomeParams>;

const TIMEOUT_MS = 120_000;
/** Keeps each command line well under the operating system's argument limits. */
const MAX_ARGS_LENGTH = 64_000;

function category(params: BiomeParams): string {
  return `lint/${params.group}/${params.rule}`;
}

/**
 * Our generated configuration: only the given rules, no formatter, no assist actions, no VCS or ignore files, and
 * `root` so that no configuration above the temporary directory is picked up.
 */
function configFor(rules: readonly BiomeParams[]): string {
  const groups: Record<string, Record<string, unknown>> = {};
  for (const params of rules) {
    const group = groups[params.group] ?? {};
    group[params.rule] = params.options === undefined ? "error" : { level: "error", options: params.options };
    groups[params.group] = group;
  }
  return JSON.stringify({
    root: true,
    vcs: { enabled: false },
    files: { ignoreUnknown: true, maxSize: 64 * 1024 * 1024, includes: [...SOURCE_GLOBS] },
    formatter: { enabled: false },
    assist: { enabled: false },
    linter: { enabled: true, rules: { preset: "none", ...groups } },
    javascript: { parser: { unsafeParameterDecoratorsEnabled: true } },
  });
}

function chunks(paths: readonly string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const p of paths) {
    if (current.length > 0 && length + p.length + 1 > MAX_ARGS_LENGTH) {
      out.push(current);
      current = [];
      length = 0;
    }
    current.push(p);
    length += p.length + 1;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** A temporary copy of some workspace files, with our configuration beside them. */
class Sandbox {
  private constructor(
    readonly dir: string,
    readonly configPath: string,
  ) {}

  static async create(ws: RecipeWorkspace, files: readonly string[], rules: readonly BiomeParams[]): Promise<Sandbox> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "odavl-biome-"));
    const configPath = path.join(dir, "biome.json");
    try {
      await writeFile(configPath, configFor(rules));
      for (const rel of files) {
        const target = path.join(dir, rel);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, ws.read(rel));
      }
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return new Sandbox(dir, configPath);
  }

  async lint(files: readonly string[], mode: "report" | "write" | "write-unsafe"): Promise<BiomeDiagnostic[]> {
    const diagnostics: BiomeDiagnostic[] = [];
    for (const paths of chunks(files)) {
      const report: BiomeReport = await runBiome({
        cwd: this.dir,
        configPath: this.configPath,
        paths,
        write: mode !== "report",
        unsafe: mode === "write-unsafe",
        timeoutMs: TIMEOUT_MS,
      });
      diagnostics.push(...report.diagnostics);
    }
    return diagnostics;
  }

  read(rel: string): Promise<string> {
    return readFile(path.join(this.dir, rel), "utf8");
  }

  dispose(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

/** Categories under which Biome says it could not process a file at all. */
function isUnprocessable(categoryName: string): boolean {
  return categoryName === "parse" || categoryName.startsWith("files/") || categoryName.startsWith("internalError");
}

interface Sorted {
  byRule: Map<string, Finding[]>;
  skipped: Map<string, string>;
}

function sortDiagnostics(
  ws: RecipeWorkspace,
  copied: ReadonlySet<string>,
  diagnostics: readonly BiomeDiagnostic[],
): Sorted {
  const byRule = new Map<string, Finding[]>();
  const skipped = new Map<string, string>();
  const lines = new Map<string, { text: string; starts: number[] }>();
  for (const d of diagnostics) {
    const location = d.location;
    if (location === undefined || d.category === undefined) continue;
    const rel = location.path.replace(/\\/g, "/");
    if (!copied.has(rel)) continue;
    if (isUnprocessable(d.category)) {
      if (!skipped.has(rel)) skipped.set(rel, `${d.message} (${location.start.line}:${location.start.column})`);
      continue;
    }
    if (!d.category.startsWith("lint/")) continue;
    let file = lines.get(rel);
    if (file === undefined) {
      const text = ws.read(rel);
      file = { text, starts: lineStarts(text) };
      lines.set(rel, file);
    }
    const start = file.starts[location.start.line - 1] ?? 0;
    const end = file.starts[location.start.line] ?? file.text.length;
    const column = codePointColumnToUtf16(file.text.slice(start, end), location.start.column);
    const list = byRule.get(d.category) ?? [];
    list.push({ file: rel, line: location.start.line, column, rule: d.category, message: d.message });
    byRule.set(d.category, list);
  }
  return { byRule, skipped };
}

const prepared = new PreparedPlans();

/**
 * Plans several recipes with one `biome lint` run over the workspace for their findings; then, for each recipe with
 * findings, one write run with that rule alone over the files it reported (so no other rule's fix mixes in).
 */
async function planMany(ws: RecipeWorkspace, recipes: readonly Recipe[]): Promise<Map<string, PlanOutcome>> {
  const outcomes = new Map<string, PlanOutcome>();
  const entries: { recipe: Recipe; params: BiomeParams }[] = [];
  for (const recipe of recipes) {
    try {
      entries.push({ recipe, params: parseParams(BiomeParams, recipe) });
    } catch (error) {
      outcomes.set(recipe.id, { ok: false, error: asRecipeError(error, recipe.id, "biome failed") });
    }
  }
  const sources = ws.files.filter(isSourceFile);
  // The files are copied below a temporary directory; a path that would land outside it is not copied.
  const files = sources.filter(isContainedPath);
  const escaping = sources
    .filter((f) => !isContainedPath(f))
    .map((file) => ({ file, reason: "path leaves the repository" }));
  if (entries.length === 0) return outcomes;
  if (files.length === 0) {
    for (const { recipe } of entries) {
      outcomes.set(recipe.id, { ok: true, plan: { findings: [], edits: [], skipped: [...escaping] } });
    }
    return outcomes;
  }
  let sorted: Sorted;
  let sandbox: Sandbox | undefined;
  try {
    sandbox = await Sandbox.create(
      ws,
      files,
      entries.map((e) => e.params),
    );
    sorted = sortDiagnostics(ws, new Set(files), await sandbox.lint(files, "report"));
  } catch (error) {
    if (entries.length === 1) {
      const { recipe } = entries[0] as (typeof entries)[number];
      outcomes.set(recipe.id, { ok: false, error: asRecipeError(error, recipe.id, "biome failed") });
      return outcomes;
    }
    // One recipe's configuration can fail the whole run (an option the installed Biome rejects): plan each alone,
    // so that the failure stays that recipe's.
    for (const { recipe } of entries) {
      const one = await planMany(ws, [recipe]);
      for (const [id, outcome] of one) outcomes.set(id, outcome);
    }
    return outcomes;
  } finally {
    await sandbox?.dispose();
  }
  const skipped: SkippedFile[] = sortSkipped([
    ...escaping,
    ...[...sorted.skipped].map(([file, reason]) => ({ file, reason })),
  ]);
  for (const { recipe, params } of entries) {
    const findings = (sorted.byRule.get(category(params)) ?? []).filter((f) => !sorted.skipped.has(f.file));
    const targets = [...new Set(findings.map((f) => f.file))];
    const edits: FileEdit[] = [];
    let writer: Sandbox | undefined;
    try {
      if (targets.length > 0) {
        writer = await Sandbox.create(ws, targets, [params]);
        await writer.lint(targets, recipe.safety === "unsafe" ? "write-unsafe" : "write");
        for (const rel of targets) {
          const before = ws.read(rel);
          const after = await writer.read(rel);
          if (after !== before) edits.push({ path: rel, before, after });
        }
      }
      const plan: PlanResult = { findings: sortFindings(findings), edits: sortEdits(edits), skipped: [...skipped] };
      outcomes.set(recipe.id, { ok: true, plan });
    } catch (error) {
      outcomes.set(recipe.id, { ok: false, error: asRecipeError(error, recipe.id, "biome failed") });
    } finally {
      await writer?.dispose();
    }
  }
  return outcomes;
}

async function prepare(ws: RecipeWorkspace, recipes: readonly Recipe[]): Promise<void> {
  const own = recipes.filter((r) => r.family === "biome");
  if (own.length > 0) prepared.store(ws, await planMany(ws, own));
}

async function plan(ws: RecipeWorkspace, recipe: Recipe): Promise<PlanResult> {
  return prepared.take(ws, recipe) ?? outcomeOf(await planMany(ws, [recipe]), recipe);
}

async function findings(ws: RecipeWorkspace, recipes: readonly Recipe[], files: readonly string[]): Promise<Finding[]> {
  const own = recipes.filter((r) => r.family === "biome");
  const targets = [...new Set(files)].filter((f) => isSourceFile(f) && isContainedPath(f));
  if (own.length === 0 || targets.length === 0) return [];
  const label = recipesLabel(own);
  const rules = own.map((r) => parseParams(BiomeParams, r));
  let sandbox: Sandbox | undefined;
  try {
    sandbox = await Sandbox.create(ws, targets, rules);
    const sorted = sortDiagnostics(ws, new Set(targets), await sandbox.lint(targets, "report"));
    const recipeOf = new Map(rules.map((r, i) => [category(r), (own[i] as Recipe).id] as const));
    const out: Finding[] = [];
    for (const [rule, list] of sorted.byRule) {
      const recipeId = recipeOf.get(rule);
      if (recipeId === undefined) continue;
      for (const f of list) if (!sorted.skipped.has(f.file)) out.push({ ...f, recipeId });
    }
    return sortFindings(out);
  } catch (error) {
    throw asRecipeError(error, label, "biome failed");
  } finally {
    await sandbox?.dispose();
  }
}

export const biomeFamily: RecipeFamily = {
  id: "biome",
  ownProcess: true,
  prepare,
  plan,
  findings,
};
