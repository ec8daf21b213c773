import { existsSync } from "node:fs";
import path from "node:path";
import { Linter, type SourceCode } from "eslint";
import ts from "typescript";
import tseslint from "typescript-eslint";
import { z } from "zod";
import { isSourceFile, SOURCE_GLOBS, toAbsolute } from "../shared/files.js";
import { parseParams } from "../shared/params.js";
import { outcomeOf, type PlanOutcome, type PlanResult, PreparedPlans } from "../shared/prepared.js";
import { asRecipeError, recipesLabel, sortEdits, sortFindings, sortSkipped } from "../shared/results.js";
import { applyTextEdits, normalizeEdits, OverlappingEditsError, type TextEdit } from "../shared/text.js";
import { disposeProject, projectFor, type TsProject } from "../shared/ts-project.js";
import type { FileEdit, Finding, Recipe, RecipeFamily, RecipeWorkspace, SkippedFile } from "../types.js";

/** Params of an eslint recipe. */
export const EslintParams = z.object({
  /** Core rule name, or "@typescript-eslint/<name>". */
  rule: z.string().min(1),
  /** Rule options (what follows the severity in a rule's config). */
  options: z.array(z.unknown()).default([]),
  /**
   * Also apply the rule's first suggestion where it offers no fix. ESLint keeps changes that can alter behaviour
   * out of its fixes and offers them as suggestions; only unsafe recipes set this.
   */
  applySuggestions: z.boolean().default(false),
});
export type EslintParams = z.infer<typeof EslintParams>;

/** ESLint's own limit for fix passes. */
const MAX_PASSES = 10;
const BOM = "\uFEFF";
/** Parsed files kept per workspace, counted in characters of source; the least recently used go first. */
const MAX_CACHED_CHARS = 32 * 1024 * 1024;
/**
 * Versions of one file kept parsed: verification alternates between a file's original text and the patches of
 * several candidates.
 */
const MAX_VERSIONS_PER_FILE = 4;

type RuleEntry = Linter.RuleEntry;
type Message = Linter.LintMessage;

interface DecoratorOptions {
  experimentalDecorators: boolean;
  emitDecoratorMetadata: boolean;
}

interface ProjectConfig {
  decorators: DecoratorOptions;
  /** Absolute paths of the files the repository's tsconfig includes. */
  files: ReadonlySet<string>;
}

/**
 * The repository's tsconfig as plain data (unlike an ESLint config): its decorator settings, which typescript-eslint
 * uses to keep imports that decorator metadata needs at run time out of `import type`, and the files it includes,
 * the ones type-aware rules can analyse.
 */
function readProjectConfig(tsconfigPath: string | undefined): ProjectConfig {
  if (tsconfigPath === undefined) {
    return { decorators: { experimentalDecorators: false, emitDecoratorMetadata: false }, files: new Set() };
  }
  const parsed = ts.getParsedCommandLineOfConfigFile(
    tsconfigPath,
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  return {
    decorators: {
      experimentalDecorators: parsed?.options.experimentalDecorators === true,
      emitDecoratorMetadata: parsed?.options.emitDecoratorMetadata === true,
    },
    files: new Set((parsed?.fileNames ?? []).map((f) => path.resolve(f))),
  };
}

/** typescript-eslint rules that need type information (they run with the project service). */
function requiresTypes(rule: string): boolean {
  if (!rule.startsWith("@typescript-eslint/")) return false;
  const plugin = tseslint.plugin as unknown as {
    rules: Record<string, { meta?: { docs?: { requiresTypeChecking?: boolean } } }>;
  };
  const meta = plugin.rules[rule.slice("@typescript-eslint/".length)]?.meta;
  return meta?.docs?.requiresTypeChecking === true;
}

/**
 * Our own configuration: the repository's ESLint config is executable code and is never loaded here. Inline
 * disable comments stay honoured: they are the maintainers' explicit decision about a line. Every configuration
 * built here parses the same way, which is what lets a parsed file serve every recipe. Type-aware rules get their
 * program when a file is parsed (see Session.lint).
 */
function buildConfig(rules: Record<string, RuleEntry>, decorators: DecoratorOptions): Linter.Config[] {
  return [
    {
      files: [...SOURCE_GLOBS],
      languageOptions: {
        parser: tseslint.parser as Linter.Parser,
        ecmaVersion: "latest",
        sourceType: "module",
        parserOptions: { ecmaFeatures: { jsx: true }, ...decorators },
      },
      plugins: { "@typescript-eslint": tseslint.plugin as unknown as NonNullable<Linter.Config["plugins"]>[string] },
      linterOptions: { reportUnusedDisableDirectives: "off", reportUnusedInlineConfigs: "off" },
      rules,
    },
    {
      // typescript-eslint knows no "commonjs" source type: the module wrapper's scope comes from globalReturn.
      files: ["**/*.cjs"],
      languageOptions: {
        sourceType: "commonjs",
        parserOptions: { ecmaFeatures: { jsx: true, globalReturn: true }, ...decorators },
      },
    },
  ];
}

type Parsed = { ok: true; source: SourceCode } | { ok: false; reason: string };

interface CachedParse {
  text: string;
  /**
   * The program it was parsed with: it serves every rule while that program is the project's (the workspace's other
   * files unchanged). Without one, it serves the rules that need no types.
   */
  program: ts.Program | undefined;
  result: Parsed;
}

/**
 * A linter and the parsed files of one workspace root. Type-aware rules see the program of the TypeScript project
 * the code fixes use (shared/ts-project.ts), given the linted text, instead of typescript-eslint building a second
 * program of the same files.
 */
class Session {
  readonly linter: Linter;
  readonly project: ProjectConfig;
  /** Per file, most recently used version first; files in least-recently-used order. */
  private readonly parsed = new Map<string, CachedParse[]>();
  private readonly typedFiles = new Map<string, boolean>();
  private readonly configs = new Map<string, Linter.Config[]>();
  /** The configurations of type-aware rules: their files are parsed with a program. */
  private readonly typedConfigs = new WeakSet<Linter.Config[]>();
  private cachedChars = 0;
  private ws: RecipeWorkspace;
  private tsProject: TsProject | undefined;

  constructor(ws: RecipeWorkspace) {
    this.ws = ws;
    this.linter = new Linter({ cwd: ws.root });
    this.project = readProjectConfig(ws.tsconfigPath);
  }

  get root(): string {
    return this.ws.root;
  }

  get tsconfigPath(): string | undefined {
    return this.ws.tsconfigPath;
  }

  /** The workspace whose other files the type-aware rules see next. */
  use(ws: RecipeWorkspace): void {
    this.ws = ws;
    this.tsProject = undefined;
  }

  /**
   * Whether type-aware rules can run on a file: the repository's tsconfig includes it and is the nearest tsconfig.json
   * (the one an editor would use for it), so the types are the ones the repository's build sees.
   */
  typed(rel: string): boolean {
    let typed = this.typedFiles.get(rel);
    if (typed === undefined) {
      const abs = path.resolve(this.root, rel);
      typed =
        this.tsconfigPath !== undefined &&
        this.project.files.has(abs) &&
        nearestTsconfig(path.dirname(abs), this.root) === path.resolve(this.tsconfigPath);
      this.typedFiles.set(rel, typed);
    }
    return typed;
  }

  /** The configuration of some rules, built once per set of rules. */
  config(rules: Record<string, RuleEntry>, typed: boolean): Linter.Config[] {
    const key = JSON.stringify([typed, rules]);
    let config = this.configs.get(key);
    if (config === undefined) {
      config = buildConfig(rules, this.project.decorators);
      if (typed) this.typedConfigs.add(config);
      this.configs.set(key, config);
    }
    return config;
  }

  filename(rel: string): string {
    return toAbsolute(this.root, rel);
  }

  /** The project's program with `text` as `rel`, for a configuration of type-aware rules; otherwise undefined. */
  private programFor(config: Linter.Config[], rel: string, text: string): ts.Program | undefined {
    if (!this.typedConfigs.has(config)) return undefined;
    this.tsProject ??= projectFor(this.ws);
    const program = this.tsProject.programWith(rel, text);
    if (program === undefined) throw new Error(`${rel} is not in the TypeScript project`);
    return program;
  }

  private lint(text: string, config: Linter.Config[], rel: string, program: ts.Program | undefined): Message[] {
    const withProgram = program ? [...config, { languageOptions: { parserOptions: { programs: [program] } } }] : config;
    return this.linter.verify(text, withProgram, { filename: this.filename(rel) });
  }

  /**
   * Lints a file's current text. The first lint of a text parses it; later lints of the same text (other recipes,
   * other calls) reuse the parsed source, where type-aware rules are concerned only while the other files are
   * unchanged too.
   */
  verify(rel: string, text: string, config: Linter.Config[]): { messages: Message[] } | { skip: SkippedFile } {
    let messages: Message[];
    try {
      const program = this.programFor(config, rel, text);
      const cached = this.lookup(rel, text, program);
      if (cached !== undefined) {
        if (!cached.result.ok) return { skip: { file: rel, reason: cached.result.reason } };
        messages = this.linter.verify(cached.result.source, config, { filename: this.filename(rel) });
      } else {
        messages = this.lint(text, config, rel, program);
        const fatal = messages.find((m) => m.fatal === true);
        const result: Parsed =
          fatal === undefined
            ? { ok: true, source: this.linter.getSourceCode() }
            : { ok: false, reason: `${fatal.message} (${fatal.line}:${fatal.column})` };
        this.remember(rel, text, program, result);
        if (!result.ok) return { skip: { file: rel, reason: result.reason } };
      }
    } catch (error) {
      // A rule that crashes on one file's code should not cost the whole repository its candidates.
      const detail = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
      return { skip: { file: rel, reason: `eslint failed on this file: ${detail}` } };
    }
    return { messages };
  }

  /**
   * Lints an empty file once, so that an unknown rule or invalid rule options surface as an error of the recipe
   * instead of as every file being skipped.
   */
  checkConfig(config: Linter.Config[]): void {
    this.linter.verify("", config, { filename: this.filename("__config_check__.ts") });
  }

  /** Lints text that is not worth caching (intermediate output of fix passes). */
  verifyOnce(rel: string, text: string, config: Linter.Config[]): Message[] {
    return this.lint(text, config, rel, this.programFor(config, rel, text));
  }

  private lookup(rel: string, text: string, program: ts.Program | undefined): CachedParse | undefined {
    const versions = this.parsed.get(rel);
    const index = versions?.findIndex((v) => v.text === text && (program === undefined || v.program === program)) ?? -1;
    if (versions === undefined || index < 0) return undefined;
    const [hit] = versions.splice(index, 1);
    if (hit === undefined) return undefined;
    versions.unshift(hit);
    this.parsed.delete(rel);
    this.parsed.set(rel, versions);
    return hit;
  }

  private remember(rel: string, text: string, program: ts.Program | undefined, result: Parsed): void {
    const versions = (this.parsed.get(rel) ?? []).filter((v) => v.text !== text);
    versions.unshift({ text, program, result });
    this.cachedChars += text.length;
    for (const dropped of versions.splice(MAX_VERSIONS_PER_FILE)) this.cachedChars -= dropped.text.length;
    this.parsed.delete(rel);
    this.parsed.set(rel, versions);
    for (const [key, entries] of this.parsed) {
      if (this.cachedChars <= MAX_CACHED_CHARS || key === rel) break;
      this.parsed.delete(key);
      for (const entry of entries) this.cachedChars -= entry.text.length;
    }
  }
}

/** The nearest tsconfig.json at or above a directory, not looking above the repository root. */
function nearestTsconfig(dir: string, root: string): string | undefined {
  const top = path.resolve(root);
  for (let current = dir; ; current = path.dirname(current)) {
    const candidate = path.join(current, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    if (current === top || path.dirname(current) === current) return undefined;
  }
}

const sessions = new Map<string, Session>();
const prepared = new PreparedPlans();

function sessionFor(ws: RecipeWorkspace): Session {
  const key = path.resolve(ws.root);
  const cached = sessions.get(key);
  if (cached !== undefined && cached.tsconfigPath === ws.tsconfigPath) {
    cached.use(ws);
    return cached;
  }
  const session = new Session(ws);
  sessions.set(key, session);
  return session;
}

function dispose(root: string): void {
  sessions.delete(path.resolve(root));
  disposeProject(root);
}

function ruleEntry(params: EslintParams): RuleEntry {
  return ["error", ...params.options] as RuleEntry;
}

function toFinding(rel: string, m: Message): Finding {
  return { file: rel, line: m.line, column: m.column, rule: m.ruleId ?? "", message: m.message };
}

/**
 * Applies one pass of fixes exactly as ESLint's own fixer does (sorted by range, a fix that touches the previous
 * one waits for the next pass, byte order mark kept), restricted to one rule: an inline `eslint` comment in the
 * repository may switch on other rules, whose fixes are not this recipe's.
 */
function applyFixPass(
  sourceText: string,
  messages: readonly Message[],
  rule: string,
): { fixed: boolean; output: string } {
  const fixes = messages
    .filter((m) => m.ruleId === rule && m.fix !== undefined)
    .map((m) => m.fix as NonNullable<Message["fix"]>)
    .sort((a, b) => a.range[0] - b.range[0] || a.range[1] - b.range[1]);
  if (fixes.length === 0) return { fixed: false, output: sourceText };
  const bom = sourceText.startsWith(BOM) ? BOM : "";
  const text = bom ? sourceText.slice(1) : sourceText;
  let output = bom;
  let lastPos = Number.NEGATIVE_INFINITY;
  for (const fix of fixes) {
    const [start, end] = fix.range;
    if (lastPos >= start || start > end) continue;
    if ((start < 0 && end >= 0) || (start === 0 && fix.text.startsWith(BOM))) output = "";
    output += text.slice(Math.max(0, lastPos), Math.max(0, start)) + fix.text;
    lastPos = end;
  }
  output += text.slice(Math.max(0, lastPos));
  return { fixed: true, output };
}

/** Applies the first suggestion of every message of the rule, leaving out those that overlap an earlier one. */
function applySuggestionPass(sourceText: string, messages: readonly Message[], rule: string): string {
  const bom = sourceText.startsWith(BOM) ? BOM : "";
  const text = bom ? sourceText.slice(1) : sourceText;
  const edits: TextEdit[] = [];
  for (const m of messages) {
    const fix = m.ruleId === rule && m.fix === undefined ? m.suggestions?.[0]?.fix : undefined;
    if (fix === undefined) continue;
    const candidate = { start: fix.range[0], end: fix.range[1], newText: fix.text };
    try {
      normalizeEdits([...edits, candidate]);
      edits.push(candidate);
    } catch (error) {
      if (!(error instanceof OverlappingEditsError)) throw error;
    }
  }
  return edits.length === 0 ? sourceText : bom + applyTextEdits(text, edits);
}

/** ESLint's fix loop (as in `verifyAndFix`), starting from messages already computed for the original text. */
function fixLoop(
  session: Session,
  rel: string,
  config: Linter.Config[],
  text: string,
  first: readonly Message[],
  rule: string,
): string {
  let current = text;
  let messages = first;
  for (let pass = 1; ; pass++) {
    const result = applyFixPass(current, messages, rule);
    current = result.output;
    if (!result.fixed || pass >= MAX_PASSES) return current;
    messages = session.verifyOnce(rel, current, config);
    if (messages.length === 1 && messages[0]?.fatal === true) return current;
  }
}

function fixFile(
  session: Session,
  rel: string,
  config: Linter.Config[],
  text: string,
  first: readonly Message[],
  params: EslintParams,
): string {
  let output = fixLoop(session, rel, config, text, first, params.rule);
  if (!params.applySuggestions) return output;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    // When the fixes changed nothing, the messages of the original text are the ones already at hand.
    const messages = pass === 0 && output === text ? first : session.verifyOnce(rel, output, config);
    if (messages.some((m) => m.fatal === true)) break;
    const next = applySuggestionPass(output, messages, params.rule);
    if (next === output) break;
    output = fixLoop(session, rel, config, next, session.verifyOnce(rel, next, config), params.rule);
  }
  return output;
}

interface Planned {
  recipe: Recipe;
  params: EslintParams;
  typeAware: boolean;
  findings: Finding[];
  edits: FileEdit[];
  skipped: SkippedFile[];
}

/**
 * Plans several recipes with one lint per file: every rule that can run on a file runs in that one lint, and only
 * the fix passes of a rule that has fixes there lint again (with that rule alone, so no other rule's fix mixes in).
 */
function planMany(ws: RecipeWorkspace, recipes: readonly Recipe[]): Map<string, PlanOutcome> {
  const outcomes = new Map<string, PlanOutcome>();
  let session: Session;
  try {
    session = sessionFor(ws);
  } catch (error) {
    for (const recipe of recipes)
      outcomes.set(recipe.id, { ok: false, error: asRecipeError(error, recipe.id, "eslint failed") });
    return outcomes;
  }
  const planned: Planned[] = [];
  for (const recipe of recipes) {
    try {
      const params = parseParams(EslintParams, recipe);
      const typeAware = requiresTypes(params.rule);
      // A type-aware rule cannot run on an empty file outside the project; its options are checked on first use.
      if (!typeAware) session.checkConfig(session.config({ [params.rule]: ruleEntry(params) }, false));
      planned.push({ recipe, params, typeAware, findings: [], edits: [], skipped: [] });
    } catch (error) {
      outcomes.set(recipe.id, { ok: false, error: asRecipeError(error, recipe.id, "eslint failed") });
    }
  }
  const failed = new Set<Planned>();
  for (const rel of ws.files) {
    if (!isSourceFile(rel) || planned.length === 0) continue;
    const typed = planned.some((p) => p.typeAware) && session.typed(rel);
    const active = planned.filter((p) => (typed || !p.typeAware) && !failed.has(p));
    if (active.length === 0) continue;
    const rules: Record<string, RuleEntry> = {};
    for (const p of active) rules[p.params.rule] = ruleEntry(p.params);
    const before = ws.read(rel);
    const verified = session.verify(rel, before, session.config(rules, typed));
    if ("skip" in verified) {
      for (const p of active) p.skipped.push(verified.skip);
      continue;
    }
    for (const p of active) {
      const own = verified.messages.filter((m) => m.ruleId === p.params.rule);
      if (own.length === 0) continue;
      p.findings.push(...own.map((m) => toFinding(rel, m)));
      const fixable = own.some((m) => m.fix !== undefined || (p.params.applySuggestions && m.suggestions?.length));
      if (!fixable) continue;
      try {
        const config = session.config({ [p.params.rule]: ruleEntry(p.params) }, typed && p.typeAware);
        const after = fixFile(session, rel, config, before, own, p.params);
        if (after !== before) p.edits.push({ path: rel, before, after });
      } catch (error) {
        failed.add(p);
        outcomes.set(p.recipe.id, { ok: false, error: asRecipeError(error, p.recipe.id, "eslint failed") });
      }
    }
  }
  for (const p of planned) {
    if (failed.has(p)) continue;
    const plan: PlanResult = {
      findings: sortFindings(p.findings),
      edits: sortEdits(p.edits),
      skipped: sortSkipped(p.skipped),
    };
    outcomes.set(p.recipe.id, { ok: true, plan });
  }
  return outcomes;
}

async function prepare(ws: RecipeWorkspace, recipes: readonly Recipe[]): Promise<void> {
  const own = recipes.filter((r) => r.family === "eslint");
  if (own.length > 0) prepared.store(ws, planMany(ws, own));
}

async function plan(ws: RecipeWorkspace, recipe: Recipe): Promise<PlanResult> {
  return prepared.take(ws, recipe) ?? outcomeOf(planMany(ws, [recipe]), recipe);
}

async function findings(ws: RecipeWorkspace, recipes: readonly Recipe[], files: readonly string[]): Promise<Finding[]> {
  const own = recipes.filter((r) => r.family === "eslint");
  if (own.length === 0) return [];
  const label = recipesLabel(own);
  const entries: { rule: string; entry: RuleEntry; typeAware: boolean; recipeId: string }[] = [];
  for (const recipe of own) {
    const params = parseParams(EslintParams, recipe);
    entries.push({
      rule: params.rule,
      entry: ruleEntry(params),
      typeAware: requiresTypes(params.rule),
      recipeId: recipe.id,
    });
  }
  try {
    const session = sessionFor(ws);
    const untyped = Object.fromEntries(entries.filter((e) => !e.typeAware).map((e) => [e.rule, e.entry]));
    const all = Object.fromEntries(entries.map((e) => [e.rule, e.entry]));
    if (Object.keys(untyped).length > 0) session.checkConfig(session.config(untyped, false));
    const recipeOf = new Map(entries.map((e) => [e.rule, e.recipeId] as const));
    const out: Finding[] = [];
    for (const rel of new Set(files)) {
      if (!isSourceFile(rel)) continue;
      const typed = entries.some((e) => e.typeAware) && session.typed(rel);
      const rules = typed ? all : untyped;
      if (Object.keys(rules).length === 0) continue;
      const verified = session.verify(rel, ws.read(rel), session.config(rules, typed));
      if ("skip" in verified) continue;
      for (const m of verified.messages) {
        if (typeof m.ruleId === "string" && Object.hasOwn(rules, m.ruleId)) {
          out.push({ ...toFinding(rel, m), recipeId: recipeOf.get(m.ruleId) as string });
        }
      }
    }
    return sortFindings(out);
  } catch (error) {
    throw asRecipeError(error, label, "eslint failed");
  }
}

export const eslintFamily: RecipeFamily = {
  id: "eslint",
  prepare,
  plan,
  findings,
  dispose,
};
