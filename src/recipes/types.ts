/**
 * Recipes are data; a family knows how to apply them. Adding a recipe is adding an entry to the catalog,
 * adding a family is adding one folder that implements {@link RecipeFamily} and registering it.
 */
export type Safety = "safe" | "unsafe";
export type FamilyId = "ts-codefix" | "eslint" | "biome";

export interface Recipe {
  /** Stable id, e.g. "ts/remove-unused-imports", "eslint/prefer-const", "biome/use-const". */
  id: string;
  family: FamilyId;
  title: string;
  /** Coarse grouping used as a feature: "imports" | "style" | "types" | "correctness" | "modernize" | ... */
  category: string;
  safety: Safety;
  /** Family-specific parameters (fix id, rule name, rule options). */
  params: Record<string, unknown>;
  /**
   * Recipes whose findings this recipe's fix may create as the next step of the same clean-up (no-var writes
   * `let`, which prefer-const then makes `const`). Verification does not hold such findings against the fix; it
   * verifies the fix together with the follow-up's fix on the same lines as one bundled candidate.
   */
  followUps?: readonly string[];
}

/** One finding of a recipe's rule (or a TypeScript diagnostic that a code fix addresses). */
export interface Finding {
  /** Repository-relative POSIX path. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Rule id or "TS" + diagnostic code. */
  rule: string;
  message: string;
  /** The recipe whose rule reported it (set by `findings`, which may serve several recipes at once). */
  recipeId?: string;
}

/** The full new content of one file. */
export interface FileEdit {
  /** Repository-relative POSIX path. */
  path: string;
  before: string;
  after: string;
}

/**
 * What a family sees of a repository. Files are already filtered: inside the repository (no symlink that leaves
 * it), not protected, not binary, not huge. Families read through `read`, never from disk directly, so that
 * verification can ask for findings over patched contents.
 */
export interface RecipeWorkspace {
  /** Absolute path of the checkout. */
  root: string;
  /** Repository-relative POSIX paths of the TypeScript/JavaScript sources in scope. */
  files: readonly string[];
  /** Absolute path of the tsconfig used, when the repository has one. */
  tsconfigPath?: string;
  /** Contents of a file in scope (with overrides applied). */
  read(path: string): string;
}

/** A file a family could not process (unparseable, or a tool failure confined to that file). */
export interface SkippedFile {
  /** Repository-relative POSIX path. */
  file: string;
  reason: string;
}

export interface RecipePlan {
  /** Findings of the recipe's rule before any change. */
  findings: Finding[];
  /** Files the recipe would change, with their full new content. Empty when the recipe does not apply. */
  edits: FileEdit[];
}

export interface RecipeFamily {
  readonly id: FamilyId;
  /**
   * Its tool runs in a process of its own (Biome): started before the families that compute in this process, it
   * works while they do.
   */
  readonly ownProcess?: boolean;
  /**
   * Dry run: the recipe's findings and the edits it would make over the whole workspace. Writes nothing.
   * Throws a {@link RecipeError} for a failure of the tool itself (never for a file it cannot parse: such files are
   * skipped and reported through `skipped`).
   */
  plan(ws: RecipeWorkspace, recipe: Recipe): Promise<RecipePlan & { skipped?: { file: string; reason: string }[] }>;
  /**
   * Plans every given recipe of the family with one run of the tool over the workspace (one lint per file, one Biome
   * run, one language-service pass) and keeps the plans, so that the `plan` calls that follow for the same workspace
   * and contents are answered from them. Optional: without it, each `plan` runs the tool on its own.
   */
  prepare?(ws: RecipeWorkspace, recipes: readonly Recipe[]): Promise<void>;
  /** Findings of the given recipes over the given files (used before and after a patch at verification). */
  findings(ws: RecipeWorkspace, recipes: readonly Recipe[], files: readonly string[]): Promise<Finding[]>;
  /** Release caches (language services, linter instances) held for a workspace. */
  dispose?(root: string): void;
}

export class RecipeError extends Error {
  constructor(
    message: string,
    readonly recipeId: string,
    options?: { cause?: unknown },
  ) {
    super(`${recipeId}: ${message}`, options);
    this.name = "RecipeError";
  }
}
