import ts from "typescript";
import { z } from "zod";
import { parseParams } from "../shared/params.js";
import { outcomeOf, type PlanOutcome, type PlanResult, PreparedPlans } from "../shared/prepared.js";
import { asRecipeError, recipesLabel, sortEdits, sortFindings, sortSkipped } from "../shared/results.js";
import { applyTextEdits, detectIndent, detectNewline, OverlappingEditsError, type TextEdit } from "../shared/text.js";
import { disposeProject, projectFor, TsConfigError, type TsProject } from "../shared/ts-project.js";
import type { FileEdit, Finding, Recipe, RecipeFamily, RecipeWorkspace, SkippedFile } from "../types.js";
import { RecipeError } from "../types.js";

const codes = z.array(z.number().int().positive()).min(1);
/** Where a diagnostic must be to count: inside import declarations, or anywhere else. */
const where = z.enum(["imports", "elsewhere"]).optional();

/** Params of a ts-codefix recipe. */
export const TsCodefixParams = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("codefix"),
    /** Fix id passed to `getCombinedCodeFix`. */
    fixId: z.string().min(1),
    /** Diagnostic codes the fix addresses: the recipe's findings. */
    codes,
    /**
     * For generic codes (e.g. "Cannot find name"): a diagnostic only counts as a finding when the language service
     * offers a fix with one of these names for it. Names, not the fix id: the service leaves the fix id out when a
     * file has a single occurrence.
     */
    confirmFixNames: z.array(z.string().min(1)).min(1).optional(),
    /** The codes are (also) reported as suggestion diagnostics. */
    suggestions: z.boolean().default(false),
    where,
  }),
  z.object({
    kind: z.literal("organizeImports"),
    mode: z.enum(["All", "SortAndCombine", "RemoveUnused"]),
    /** Findings are the diagnostics with these codes; without codes, a file whose imports would change. */
    codes: codes.optional(),
    where,
  }),
]);
export type TsCodefixParams = z.infer<typeof TsCodefixParams>;

const PREFERENCES: ts.UserPreferences = {
  quotePreference: "auto",
  importModuleSpecifierPreference: "shortest",
  importModuleSpecifierEnding: "auto",
  includePackageJsonAutoImports: "off",
  allowTextChangesInNewFiles: false,
  organizeImportsIgnoreCase: "auto",
  preferTypeOnlyAutoImports: false,
};

const ORGANIZE_MODES: Record<"All" | "SortAndCombine" | "RemoveUnused", ts.OrganizeImportsMode> = {
  All: ts.OrganizeImportsMode.All,
  SortAndCombine: ts.OrganizeImportsMode.SortAndCombine,
  RemoveUnused: ts.OrganizeImportsMode.RemoveUnused,
};

function formatSettings(text: string): ts.FormatCodeSettings {
  const indent = detectIndent(text);
  return {
    ...ts.getDefaultFormatCodeSettings(detectNewline(text)),
    indentSize: indent.size,
    tabSize: indent.size,
    convertTabsToSpaces: !indent.tabs,
    semicolons: ts.SemicolonPreference.Ignore,
  };
}

/** Text ranges of import declarations, including those inside ambient module blocks. */
function importRanges(sourceFile: ts.SourceFile): [number, number][] {
  const ranges: [number, number][] = [];
  const visit = (statements: ts.NodeArray<ts.Statement>): void => {
    for (const statement of statements) {
      if (ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement)) {
        ranges.push([statement.getStart(sourceFile), statement.end]);
      } else if (ts.isModuleDeclaration(statement) && statement.body && ts.isModuleBlock(statement.body)) {
        visit(statement.body.statements);
      }
    }
  };
  visit(sourceFile.statements);
  return ranges;
}

function toFinding(rel: string, sourceFile: ts.SourceFile, d: ts.Diagnostic): Finding {
  const { line, character } = sourceFile.getLineAndCharacterOfPosition(d.start ?? 0);
  return {
    file: rel,
    line: line + 1,
    column: character + 1,
    rule: `TS${d.code}`,
    message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
  };
}

/** Per-file analysis shared by every recipe asked about in one call. */
class FileAnalysis {
  private semantic: readonly ts.Diagnostic[] | undefined;
  private suggestion: readonly ts.Diagnostic[] | undefined;
  private imports: [number, number][] | undefined;
  private readonly organized = new Map<string, readonly ts.FileTextChanges[]>();
  readonly format: ts.FormatCodeSettings;

  constructor(
    readonly project: TsProject,
    readonly rel: string,
    readonly abs: string,
    readonly sourceFile: ts.SourceFile,
  ) {
    this.format = formatSettings(sourceFile.text);
  }

  diagnostics(withSuggestions: boolean): readonly ts.Diagnostic[] {
    this.semantic ??= this.project.service.getSemanticDiagnostics(this.abs);
    if (!withSuggestions) return this.semantic;
    this.suggestion ??= this.project.service.getSuggestionDiagnostics(this.abs);
    return [...this.semantic, ...this.suggestion];
  }

  insideImport(position: number): boolean {
    this.imports ??= importRanges(this.sourceFile);
    return this.imports.some(([start, end]) => position >= start && position < end);
  }

  organize(mode: keyof typeof ORGANIZE_MODES): readonly ts.FileTextChanges[] {
    let changes = this.organized.get(mode);
    if (changes === undefined) {
      changes = this.project.service.organizeImports(
        { type: "file", fileName: this.abs, mode: ORGANIZE_MODES[mode] },
        this.format,
        PREFERENCES,
      );
      this.organized.set(mode, changes);
    }
    return changes;
  }

  /** The service also answers with replacements that rewrite imports to the very same text. */
  private organizeChangesText(mode: keyof typeof ORGANIZE_MODES): boolean {
    const text = this.sourceFile.text;
    const own = this.organize(mode).filter((c) => c.fileName === this.abs);
    const edits = own.flatMap((c) =>
      c.textChanges.map((t) => ({ start: t.span.start, end: t.span.start + t.span.length, newText: t.newText })),
    );
    return edits.length > 0 && applyTextEdits(text, edits) !== text;
  }

  findings(recipe: Recipe, params: TsCodefixParams): Finding[] {
    if (params.kind === "organizeImports" && params.codes === undefined) {
      return this.organizeChangesText(params.mode)
        ? [{ file: this.rel, line: 1, column: 1, rule: recipe.id, message: "Imports are not organized." }]
        : [];
    }
    return this.matching(params).map((d) => toFinding(this.rel, this.sourceFile, d));
  }

  /** The diagnostics that are the recipe's findings in this file. */
  private matching(params: TsCodefixParams): ts.Diagnostic[] {
    const wanted = new Set(params.codes);
    const withSuggestions = params.kind === "codefix" && params.suggestions;
    const out: ts.Diagnostic[] = [];
    for (const d of this.diagnostics(withSuggestions)) {
      if (!wanted.has(d.code) || d.start === undefined) continue;
      if (params.where !== undefined && this.insideImport(d.start) !== (params.where === "imports")) continue;
      if (params.kind === "codefix" && params.confirmFixNames && !this.offersFix(d, params.confirmFixNames)) continue;
      out.push(d);
    }
    return out;
  }

  /** The code fixes the editor offers for a diagnostic. */
  private fixesFor(d: ts.Diagnostic): readonly ts.CodeFixAction[] {
    const start = d.start ?? 0;
    return this.project.service.getCodeFixesAtPosition(
      this.abs,
      start,
      start + (d.length ?? 0),
      [d.code],
      this.format,
      PREFERENCES,
    );
  }

  private offersFix(d: ts.Diagnostic, fixNames: readonly string[]): boolean {
    return this.fixesFor(d).some((f) => fixNames.includes(f.fixName));
  }

  changes(params: TsCodefixParams): readonly ts.FileTextChanges[] {
    if (params.kind === "organizeImports") return this.organize(params.mode);
    try {
      return this.project.service.getCombinedCodeFix(
        { type: "file", fileName: this.abs },
        params.fixId,
        this.format,
        PREFERENCES,
      ).changes;
    } catch (error) {
      // The combined fix can trip over its own changes: for `import { A, B }` of types only, convertToTypeOnlyImport
      // rewrites the declaration for A and adds `type` to B inside it ("Debug Failure. False expression: Changes
      // overlap"). The fixes one at a time do not.
      const one = this.oneByOne(params);
      if (one.length === 0) throw error;
      return one;
    }
  }

  /**
   * The recipe's fix for each of its findings in turn, as the editor offers it. Of a finding's fixes the one whose
   * changes take in the most findings goes first (the whole declaration's `import type` before one specifier's
   * `type`); a finding an earlier fix's change already covers is done, and a fix that would overlap an earlier one
   * is passed over.
   */
  private oneByOne(params: Extract<TsCodefixParams, { kind: "codefix" }>): ts.FileTextChanges[] {
    const diagnostics = this.matching(params);
    const accepted = new Map<string, ts.TextChange[]>();
    const acceptedIn = (fileName: string) => accepted.get(fileName) ?? [];
    const ownSpans = (changes: readonly ts.FileTextChanges[]) =>
      changes.filter((c) => c.fileName === this.abs).flatMap((c) => c.textChanges.map((t) => t.span));
    const inside = (position: number, spans: readonly ts.TextSpan[]) =>
      spans.some((span) => position >= span.start && position < span.start + Math.max(span.length, 1));
    for (const d of diagnostics) {
      const start = d.start ?? 0;
      if (
        inside(
          start,
          acceptedIn(this.abs).map((t) => t.span),
        )
      )
        continue;
      const offered = this.fixesFor(d);
      // The recipe's fix, and the variants its code fix offers beside it without a fix-all (same name, no id):
      // convertToTypeOnlyImport's `import type` for a declaration of types only is one.
      const names = new Set(offered.filter((f) => f.fixId === params.fixId).map((f) => f.fixName));
      const own = (f: ts.CodeFixAction) => f.fixId === params.fixId;
      const fixes = offered.filter((f) => own(f) || (f.fixId === undefined && names.has(f.fixName)));
      const reach = (f: ts.CodeFixAction) => {
        const spans = ownSpans(f.changes);
        return diagnostics.filter((x) => inside(x.start ?? 0, spans)).length;
      };
      // The most findings first; on a tie, the recipe's own fix before a variant.
      const ranked = fixes
        .map((f) => ({ f, n: reach(f) }))
        .sort((a, b) => b.n - a.n || Number(own(b.f)) - Number(own(a.f)));
      for (const { f } of ranked) {
        if (f.changes.some((c) => c.isNewFile === true)) continue;
        const fresh = f.changes.map((c) => ({
          fileName: c.fileName,
          textChanges: c.textChanges.filter(
            (t) =>
              !acceptedIn(c.fileName).some(
                (a) => a.span.start === t.span.start && a.span.length === t.span.length && a.newText === t.newText,
              ),
          ),
        }));
        const clash = fresh.some((c) =>
          c.textChanges.some((t) => acceptedIn(c.fileName).some((a) => spansClash(a.span, t.span))),
        );
        if (clash) continue;
        for (const c of fresh) accepted.set(c.fileName, [...acceptedIn(c.fileName), ...c.textChanges]);
        break;
      }
    }
    return [...accepted]
      .filter(([, textChanges]) => textChanges.length > 0)
      .map(([fileName, textChanges]) => ({ fileName, textChanges }));
  }
}

/** Two changes that cannot both apply: their ranges overlap, or both insert at one position. */
function spansClash(a: ts.TextSpan, b: ts.TextSpan): boolean {
  if (a.length === 0 && b.length === 0) return a.start === b.start;
  return a.start < b.start + b.length && b.start < a.start + a.length;
}

/** The file's analysis; a skip when it does not parse; undefined when TypeScript does not analyse it here. */
function analyze(project: TsProject, rel: string): FileAnalysis | SkippedFile | undefined {
  if (!project.accepts(rel)) return undefined;
  const sourceFile = project.sourceFile(rel);
  if (sourceFile === undefined) return undefined;
  const abs = project.abs(rel);
  const first = project.service.getSyntacticDiagnostics(abs)[0];
  if (first !== undefined) {
    const { line, character } = sourceFile.getLineAndCharacterOfPosition(first.start ?? 0);
    const message = ts.flattenDiagnosticMessageText(first.messageText, " ");
    return { file: rel, reason: `syntax error at ${line + 1}:${character + 1}: ${message}` };
  }
  return new FileAnalysis(project, rel, abs, sourceFile);
}

function openProject(ws: RecipeWorkspace, recipeId: string): TsProject {
  try {
    return projectFor(ws);
  } catch (error) {
    if (error instanceof TsConfigError) throw new RecipeError(error.message, recipeId, { cause: error });
    throw asRecipeError(error, recipeId, "cannot create the TypeScript language service");
  }
}

/**
 * Collects the text changes of every file's fix, per target file. A file's fix is dropped as a whole (and the
 * file reported as skipped) when it would touch a file outside scope or collide with another file's fix.
 */
class ChangeSet {
  private readonly byTarget = new Map<string, TextEdit[]>();

  constructor(private readonly project: TsProject) {}

  add(sourceRel: string, changes: readonly ts.FileTextChanges[]): SkippedFile | undefined {
    const staged = new Map<string, TextEdit[]>();
    for (const change of changes) {
      if (change.textChanges.length === 0) continue;
      const target = this.project.scopedRel(change.fileName);
      if (change.isNewFile === true || target === undefined) {
        return { file: sourceRel, reason: `the fix would change ${change.fileName}, which is not in scope` };
      }
      const edits = staged.get(target) ?? [];
      for (const t of change.textChanges) {
        edits.push({ start: t.span.start, end: t.span.start + t.span.length, newText: t.newText });
      }
      staged.set(target, edits);
    }
    for (const [target, edits] of staged) {
      const merged = [...(this.byTarget.get(target) ?? []), ...edits];
      const text = this.project.text(target) ?? "";
      try {
        applyTextEdits(text, merged);
      } catch (error) {
        if (error instanceof OverlappingEditsError) {
          return { file: sourceRel, reason: `the fix for this file collides with another file's fix in ${target}` };
        }
        throw error;
      }
    }
    for (const [target, edits] of staged) this.byTarget.set(target, [...(this.byTarget.get(target) ?? []), ...edits]);
    return undefined;
  }

  edits(): FileEdit[] {
    const out: FileEdit[] = [];
    for (const [target, edits] of this.byTarget) {
      const before = this.project.text(target) ?? "";
      const after = applyTextEdits(before, edits);
      if (after !== before) out.push({ path: target, before, after });
    }
    return sortEdits(out);
  }
}

const prepared = new PreparedPlans();

/** Plans several recipes with one pass over the files: each file is analysed once and serves every recipe. */
function planMany(ws: RecipeWorkspace, recipes: readonly Recipe[]): Map<string, PlanOutcome> {
  const outcomes = new Map<string, PlanOutcome>();
  const entries: {
    recipe: Recipe;
    params: TsCodefixParams;
    findings: Finding[];
    skipped: SkippedFile[];
    changeSet?: ChangeSet;
    failed?: boolean;
  }[] = [];
  for (const recipe of recipes) {
    try {
      entries.push({ recipe, params: parseParams(TsCodefixParams, recipe), findings: [], skipped: [] });
    } catch (error) {
      outcomes.set(recipe.id, {
        ok: false,
        error: asRecipeError(error, recipe.id, "TypeScript language service failed"),
      });
    }
  }
  if (entries.length === 0) return outcomes;
  let project: TsProject | undefined;
  for (const entry of entries) {
    try {
      // The project is cached per workspace: only the first call builds it.
      project = openProject(ws, entry.recipe.id);
    } catch (error) {
      entry.failed = true;
      outcomes.set(entry.recipe.id, { ok: false, error: asRecipeError(error, entry.recipe.id, "TypeScript failed") });
    }
  }
  if (project === undefined) return outcomes;
  for (const entry of entries) entry.changeSet = new ChangeSet(project);
  for (const rel of ws.files) {
    let analysis: ReturnType<typeof analyze>;
    try {
      analysis = analyze(project, rel);
    } catch (error) {
      for (const entry of entries) {
        if (entry.failed) continue;
        entry.failed = true;
        outcomes.set(entry.recipe.id, {
          ok: false,
          error: asRecipeError(error, entry.recipe.id, "TypeScript language service failed"),
        });
      }
      break;
    }
    if (analysis === undefined) continue;
    for (const entry of entries) {
      if (entry.failed) continue;
      if (!(analysis instanceof FileAnalysis)) {
        entry.skipped.push(analysis);
        continue;
      }
      try {
        const fileFindings = analysis.findings(entry.recipe, entry.params);
        if (fileFindings.length === 0) continue;
        entry.findings.push(...fileFindings);
        const skip = entry.changeSet?.add(rel, analysis.changes(entry.params));
        if (skip) entry.skipped.push(skip);
      } catch (error) {
        entry.failed = true;
        outcomes.set(entry.recipe.id, {
          ok: false,
          error: asRecipeError(error, entry.recipe.id, "TypeScript language service failed"),
        });
      }
    }
  }
  for (const entry of entries) {
    if (entry.failed) continue;
    const plan: PlanResult = {
      findings: sortFindings(entry.findings),
      edits: entry.changeSet?.edits() ?? [],
      skipped: sortSkipped(entry.skipped),
    };
    outcomes.set(entry.recipe.id, { ok: true, plan });
  }
  return outcomes;
}

async function prepare(ws: RecipeWorkspace, recipes: readonly Recipe[]): Promise<void> {
  const own = recipes.filter((r) => r.family === "ts-codefix");
  if (own.length > 0) prepared.store(ws, planMany(ws, own));
}

async function plan(ws: RecipeWorkspace, recipe: Recipe): Promise<PlanResult> {
  return prepared.take(ws, recipe) ?? outcomeOf(planMany(ws, [recipe]), recipe);
}

async function findings(ws: RecipeWorkspace, recipes: readonly Recipe[], files: readonly string[]): Promise<Finding[]> {
  const own = recipes
    .filter((r) => r.family === "ts-codefix")
    .map((recipe) => ({ recipe, params: parseParams(TsCodefixParams, recipe) }));
  if (own.length === 0) return [];
  const label = recipesLabel(own.map((o) => o.recipe));
  const project = openProject(ws, label);
  try {
    const out: Finding[] = [];
    for (const rel of new Set(files)) {
      const analysis = analyze(project, rel);
      if (!(analysis instanceof FileAnalysis)) continue;
      for (const { recipe, params } of own) {
        for (const f of analysis.findings(recipe, params)) out.push({ ...f, recipeId: recipe.id });
      }
    }
    return sortFindings(out);
  } catch (error) {
    throw asRecipeError(error, label, "TypeScript language service failed");
  }
}

export const tsCodefixFamily: RecipeFamily = {
  id: "ts-codefix",
  prepare,
  plan,
  findings,
  dispose: disposeProject,
};
