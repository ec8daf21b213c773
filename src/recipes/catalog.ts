import type { z } from "zod";
import type { BiomeParams } from "./biome/index.js";
import type { EslintParams } from "./eslint/index.js";
import type { TsCodefixParams } from "./ts-codefix/index.js";
import type { Recipe, Safety } from "./types.js";

/*
 * Safety labels follow one rule across families. "unsafe": the tool itself calls the fix unsafe, or the change can
 * alter run-time behaviour, or it can fail to compile under compiler options the tool does not see. "safe": none
 * of these; what remains (an inferred literal type asserted on by a type-level test, decorator metadata, an old
 * TypeScript version) is repository context that the trust model's features describe. Identical transformations
 * carry the same label in every family, so the label means the same thing whichever tool produced a patch.
 */

function ts(
  id: string,
  title: string,
  category: string,
  safety: Safety,
  params: z.input<typeof TsCodefixParams>,
): Recipe {
  return { id: `ts/${id}`, family: "ts-codefix", title, category, safety, params: { ...params } };
}

function eslint(
  id: string,
  title: string,
  category: string,
  safety: Safety,
  params: z.input<typeof EslintParams>,
): Recipe {
  return { id: `eslint/${id}`, family: "eslint", title, category, safety, params: { ...params } };
}

function biome(
  id: string,
  title: string,
  category: string,
  safety: Safety,
  params: z.input<typeof BiomeParams>,
): Recipe {
  return { id: `biome/${id}`, family: "biome", title, category, safety, params: { ...params } };
}

/** TypeScript's unused-code diagnostics (see the compiler's fixUnusedIdentifier). */
const UNUSED_CODES = [6133, 6138, 6192, 6196, 6198, 6199, 6205];

export const RECIPES: readonly Recipe[] = Object.freeze([
  // TypeScript code fixes.
  ts("remove-unused-imports", "Remove unused imports", "imports", "safe", {
    kind: "organizeImports",
    mode: "RemoveUnused",
    codes: [6133, 6192, 6196],
    where: "imports",
  }),
  ts("organize-imports", "Organize imports (remove unused, merge and sort)", "imports", "safe", {
    kind: "organizeImports",
    mode: "All",
  }),
  // Deletes unused locals, parameters, private members and type parameters (imports are left to the recipes
  // above): arity and declaration merging can change, and an initializer's side effects go with the declaration.
  ts("remove-unused-declarations", "Remove unused declarations", "dead-code", "unsafe", {
    kind: "codefix",
    fixId: "unusedIdentifier_delete",
    codes: UNUSED_CODES,
    where: "elsewhere",
  }),
  // A modifier checked by the compiler only; nothing changes at run time.
  ts("add-override", "Add missing override modifiers", "types", "safe", {
    kind: "codefix",
    fixId: "fixAddOverrideModifier",
    codes: [4114, 4115, 4116, 4119, 4120],
  }),
  // Type-only imports are erased exactly like unused-as-value imports already were.
  ts("type-only-imports", "Import types with import type", "imports", "safe", {
    kind: "codefix",
    fixId: "convertToTypeOnlyImport",
    codes: [1484, 1485],
  }),
  ts("add-missing-await", "Add missing await", "correctness", "unsafe", {
    kind: "codefix",
    fixId: "addMissingAwait",
    codes: [2339, 2345, 2349, 2351, 2356, 2362, 2363, 2365, 2367, 2461, 2488, 2495, 2504, 2548, 2549, 2736, 2801, 2802],
    confirmFixNames: ["addMissingAwait", "addMissingAwaitToInitializer"],
  }),
  // Removing an await of a non-promise still removes a turn of the event loop.
  ts("remove-unnecessary-await", "Remove await on values that are not promises", "correctness", "unsafe", {
    kind: "codefix",
    fixId: "removeUnnecessaryAwait",
    codes: [80007],
    suggestions: true,
  }),
  // The module to import from is TypeScript's guess.
  ts("add-missing-imports", "Add missing imports", "imports", "unsafe", {
    kind: "codefix",
    fixId: "fixMissingImport",
    codes: [
      1361, 2304, 2311, 2503, 2552, 2580, 2581, 2582, 2583, 2584, 2591, 2592, 2593, 2662, 2663, 2686, 2689, 2693, 2833,
      2874, 18004,
    ],
    confirmFixNames: ["import"],
  }),
  // Inferred annotations become part of public signatures.
  ts("infer-types-from-usage", "Annotate implicit any from usage", "types", "unsafe", {
    kind: "codefix",
    fixId: "inferFromUsage",
    codes: [2683, 7005, 7006, 7008, 7010, 7019, 7032, 7033, 7034, 7043, 7044, 7045, 7046, 7047, 7048, 7049, 7050],
    suggestions: true,
  }),
  ts("remove-unreachable-code", "Remove unreachable code", "dead-code", "safe", {
    kind: "codefix",
    fixId: "fixUnreachableCode",
    codes: [7027],
  }),
  ts("remove-unused-labels", "Remove unused labels", "dead-code", "safe", {
    kind: "codefix",
    fixId: "fixUnusedLabel",
    codes: [7028],
  }),

  // The name is TypeScript's closest match, which need not be the one meant.
  ts("fix-spelling", "Fix misspelled names TypeScript cannot find", "correctness", "unsafe", {
    kind: "codefix",
    fixId: "fixSpelling",
    codes: [2551, 2552, 2568, 2570, 2724, 2833, 2839, 4117],
    confirmFixNames: ["spelling"],
  }),
  // Removes a modifier the compiler rejects; nothing changes at run time.
  ts("remove-invalid-override", "Remove override from members that override nothing", "types", "safe", {
    kind: "codefix",
    fixId: "fixRemoveOverrideModifier",
    codes: [4112, 4113],
  }),
  // The function starts returning a promise: its callers see a different value.
  ts("add-async-for-await", "Make functions that use await async", "correctness", "unsafe", {
    kind: "codefix",
    fixId: "fixAwaitInSyncFunction",
    codes: [1308],
  }),
  // Calling a class without new throws at run time; with new, the constructor's side effects run.
  ts("add-missing-new", "Add new to class calls", "correctness", "unsafe", {
    kind: "codefix",
    fixId: "addMissingNewOperator",
    codes: [2348],
  }),
  // Silences the compiler about a conversion it thinks is a mistake; it may be one.
  ts("convert-through-unknown", "Convert non-overlapping assertions through unknown", "types", "unsafe", {
    kind: "codefix",
    fixId: "addConvertToUnknownForNonOverlappingTypes",
    codes: [2352],
  }),
  // A type argument only: the emitted code is the same.
  ts("add-void-to-promise", "Type promises resolved without a value as Promise<void>", "types", "safe", {
    kind: "codefix",
    fixId: "addVoidToPromise",
    codes: [2794, 2810],
  }),

  // ESLint rules.
  eslint("prefer-const", "Use const for variables never reassigned", "modernize", "safe", {
    rule: "prefer-const",
    options: [{ destructuring: "all" }],
  }),
  // At the top level of a script (not a module), var declares a global property and let does not.
  // The let it writes for a variable never reassigned is prefer-const's (and useConst's) next step.
  {
    ...eslint("no-var", "Replace var with let or const", "modernize", "unsafe", { rule: "no-var" }),
    followUps: ["eslint/prefer-const", "biome/use-const"],
  },
  eslint("object-shorthand", "Use shorthand object properties", "style", "safe", {
    rule: "object-shorthand",
    options: ["properties"],
  }),
  // Concatenation converts operands with valueOf first, template literals with toString.
  eslint("prefer-template", "Use template literals instead of string concatenation", "style", "unsafe", {
    rule: "prefer-template",
  }),
  // Applies ESLint's suggestions too: == and === differ for operands of different types.
  eslint("eqeqeq", "Use === and !== (except for null checks)", "correctness", "unsafe", {
    rule: "eqeqeq",
    options: ["always", { null: "ignore" }],
    applySuggestions: true,
  }),
  // Fails to compile under noPropertyAccessFromIndexSignature.
  eslint("dot-notation", "Use dot notation for property access", "style", "unsafe", { rule: "dot-notation" }),
  eslint("no-useless-rename", "Remove renames to the same name", "style", "safe", { rule: "no-useless-rename" }),
  eslint("prefer-arrow-callback", "Use arrow functions for callbacks", "modernize", "safe", {
    rule: "prefer-arrow-callback",
  }),
  eslint("consistent-type-imports", "Import types with import type", "imports", "safe", {
    rule: "@typescript-eslint/consistent-type-imports",
  }),
  eslint("no-inferrable-types", "Remove type annotations that are inferred", "types", "safe", {
    rule: "@typescript-eslint/no-inferrable-types",
  }),
  eslint("array-type", "Write array types as T[]", "style", "safe", { rule: "@typescript-eslint/array-type" }),
  // Interfaces merge with same-named declarations and lack the implicit index signature of type literals.
  eslint("consistent-type-definitions", "Declare object types as interfaces", "types", "unsafe", {
    rule: "@typescript-eslint/consistent-type-definitions",
  }),

  // typescript-eslint rules that need type information run with the program of the repository's tsconfig.
  // Removing an assertion the checker calls unnecessary can still change a declaration's inferred type (measured
  // breaking the type check of 4 of 15 repositories).
  eslint("no-unnecessary-type-assertion", "Remove type assertions that change nothing", "types", "unsafe", {
    rule: "@typescript-eslint/no-unnecessary-type-assertion",
  }),
  // || and ?? differ for "", 0, false and NaN; typescript-eslint offers it as a suggestion only.
  eslint("prefer-nullish-coalescing", "Use ?? instead of || for nullable values", "modernize", "unsafe", {
    rule: "@typescript-eslint/prefer-nullish-coalescing",
    applySuggestions: true,
  }),
  // `a && a.b` yields the falsy `a` itself, `a?.b` yields undefined.
  eslint("prefer-optional-chain", "Use optional chaining", "modernize", "unsafe", {
    rule: "@typescript-eslint/prefer-optional-chain",
    applySuggestions: true,
  }),
  // Removes optional chains the types say are never nullish; the types can be wrong at run time.
  eslint("no-unnecessary-condition", "Remove optional chains on values that are never nullish", "types", "unsafe", {
    rule: "@typescript-eslint/no-unnecessary-condition",
    applySuggestions: true,
  }),
  eslint("non-nullable-type-assertion-style", "Write non-null assertions as !", "style", "safe", {
    rule: "@typescript-eslint/non-nullable-type-assertion-style",
  }),
  // includes finds NaN, indexOf does not.
  eslint("prefer-includes", "Use includes instead of indexOf comparisons", "modernize", "unsafe", {
    rule: "@typescript-eslint/prefer-includes",
  }),
  eslint("prefer-string-starts-ends-with", "Use startsWith and endsWith", "modernize", "safe", {
    rule: "@typescript-eslint/prefer-string-starts-ends-with",
  }),
  eslint("prefer-reduce-type-parameter", "Type reduce through its type parameter", "types", "safe", {
    rule: "@typescript-eslint/prefer-reduce-type-parameter",
  }),
  // A method's public return type becomes `this`, which subclasses see differently.
  eslint("prefer-return-this-type", "Return this types from fluent methods", "types", "unsafe", {
    rule: "@typescript-eslint/prefer-return-this-type",
  }),
  eslint("no-unnecessary-type-arguments", "Remove type arguments equal to the default", "types", "safe", {
    rule: "@typescript-eslint/no-unnecessary-type-arguments",
  }),
  eslint(
    "no-unnecessary-boolean-literal-compare",
    "Remove comparisons of booleans with true and false",
    "style",
    "safe",
    {
      rule: "@typescript-eslint/no-unnecessary-boolean-literal-compare",
    },
  ),
  eslint("no-unnecessary-template-expression", "Remove template literals around a lone string", "style", "safe", {
    rule: "@typescript-eslint/no-unnecessary-template-expression",
  }),
  eslint("prefer-as-const", "Use as const instead of literal type assertions", "types", "safe", {
    rule: "@typescript-eslint/prefer-as-const",
  }),
  // `x!.y` becomes `x?.y`: a value the assertion claimed present now yields undefined instead of throwing.
  eslint("no-non-null-assertion", "Replace non-null assertions with optional chaining", "types", "unsafe", {
    rule: "@typescript-eslint/no-non-null-assertion",
    applySuggestions: true,
  }),
  // any becomes unknown: every use of the value must now narrow it first.
  eslint("no-explicit-any", "Replace any with unknown", "types", "unsafe", {
    rule: "@typescript-eslint/no-explicit-any",
    applySuggestions: true,
  }),
  eslint("consistent-type-assertions", "Write type assertions with as", "style", "safe", {
    rule: "@typescript-eslint/consistent-type-assertions",
  }),
  // Property signatures are checked contravariantly under strictFunctionTypes, method signatures are not.
  eslint("method-signature-style", "Declare methods as function-typed properties", "types", "unsafe", {
    rule: "@typescript-eslint/method-signature-style",
  }),
  // An interface becomes a type alias: declaration merging stops.
  eslint("prefer-function-type", "Declare call-only interfaces as function types", "types", "unsafe", {
    rule: "@typescript-eslint/prefer-function-type",
  }),
  // Same as prefer-function-type for index-only interfaces.
  eslint("consistent-indexed-object-style", "Write index signatures as Record", "types", "unsafe", {
    rule: "@typescript-eslint/consistent-indexed-object-style",
  }),

  // Biome rules (safety as Biome classifies each rule's fix).
  biome("use-const", "Use const for variables never reassigned", "modernize", "safe", {
    group: "style",
    rule: "useConst",
  }),
  biome("use-template", "Use template literals instead of string concatenation", "style", "unsafe", {
    group: "style",
    rule: "useTemplate",
  }),
  biome("no-useless-else", "Remove else after an early exit", "style", "safe", {
    group: "style",
    rule: "noUselessElse",
  }),
  biome("use-optional-chain", "Use optional chaining", "modernize", "unsafe", {
    group: "complexity",
    rule: "useOptionalChain",
  }),
  biome("use-literal-keys", "Use literal property access", "style", "unsafe", {
    group: "complexity",
    rule: "useLiteralKeys",
  }),
  biome("no-unused-imports", "Remove unused imports", "imports", "unsafe", {
    group: "correctness",
    rule: "noUnusedImports",
  }),
  biome("use-import-type", "Import types with import type", "imports", "safe", {
    group: "style",
    rule: "useImportType",
  }),
  biome("use-exponentiation-operator", "Use ** instead of Math.pow", "modernize", "safe", {
    group: "style",
    rule: "useExponentiationOperator",
  }),
  biome("no-inferrable-types", "Remove type annotations that are inferred", "types", "safe", {
    group: "style",
    rule: "noInferrableTypes",
  }),
  biome("use-arrow-function", "Use arrow functions for function expressions", "modernize", "safe", {
    group: "complexity",
    rule: "useArrowFunction",
  }),
  // Biome turns `x!.y` into `x?.y` (measured breaking the type check or tests of 7 of 11 repositories it changed).
  biome("no-non-null-assertion", "Replace non-null assertions with optional chaining", "types", "unsafe", {
    group: "style",
    rule: "noNonNullAssertion",
  }),
  biome("no-unused-variables", "Prefix unused variables with an underscore", "dead-code", "unsafe", {
    group: "correctness",
    rule: "noUnusedVariables",
  }),
  biome("no-unused-function-parameters", "Prefix unused parameters with an underscore", "dead-code", "unsafe", {
    group: "correctness",
    rule: "noUnusedFunctionParameters",
  }),
  biome("use-nodejs-import-protocol", "Import Node.js built-ins with node:", "imports", "unsafe", {
    group: "style",
    rule: "useNodejsImportProtocol",
  }),
  biome("no-useless-ternary", "Simplify ternaries that yield booleans", "style", "unsafe", {
    group: "complexity",
    rule: "noUselessTernary",
  }),
  biome("no-useless-constructor", "Remove constructors that only call super", "dead-code", "unsafe", {
    group: "complexity",
    rule: "noUselessConstructor",
  }),
  biome("no-useless-catch", "Remove catch clauses that only rethrow", "dead-code", "unsafe", {
    group: "complexity",
    rule: "noUselessCatch",
  }),
  biome("use-is-nan", "Use Number.isNaN instead of comparisons with NaN", "correctness", "unsafe", {
    group: "correctness",
    rule: "useIsNan",
  }),
  biome("no-double-equals", "Use === and !==", "correctness", "unsafe", {
    group: "suspicious",
    rule: "noDoubleEquals",
  }),
  biome("use-date-now", "Use Date.now()", "modernize", "unsafe", { group: "complexity", rule: "useDateNow" }),
  biome("use-flat-map", "Use flatMap instead of map then flat", "modernize", "safe", {
    group: "complexity",
    rule: "useFlatMap",
  }),
  // Biome calls the fix safe; the interface becomes a type alias, which stops declaration merging, as with
  // prefer-function-type.
  biome("use-shorthand-function-type", "Declare call-only interfaces as function types", "types", "unsafe", {
    group: "style",
    rule: "useShorthandFunctionType",
  }),
  biome("no-useless-undefined-initialization", "Remove initialization to undefined", "style", "safe", {
    group: "complexity",
    rule: "noUselessUndefinedInitialization",
  }),
  biome("no-extra-boolean-cast", "Remove redundant boolean casts", "style", "safe", {
    group: "complexity",
    rule: "noExtraBooleanCast",
  }),
]);

const byId = new Map(RECIPES.map((r) => [r.id, r]));

export function findRecipe(id: string): Recipe | undefined {
  return byId.get(id);
}

/**
 * Matches a recipe id against a selector: an exact id ("eslint/prefer-const"), a family prefix ("eslint/*"), or
 * "*" for every recipe.
 */
export function matchesSelector(recipe: Recipe, selector: string): boolean {
  if (selector === "*") return true;
  if (selector.endsWith("/*")) return recipe.id.startsWith(selector.slice(0, -1));
  return recipe.id === selector;
}

export interface RecipeSelection {
  /** When given, only recipes matching one of these selectors. */
  enabled?: readonly string[];
  /** Recipes matching one of these selectors are left out (wins over `enabled`). */
  disabled?: readonly string[];
}

/** The catalog (or the given recipes) filtered by enabled and disabled selectors, in catalog order. */
export function selectRecipes(selection: RecipeSelection, recipes: readonly Recipe[] = RECIPES): Recipe[] {
  const { enabled, disabled = [] } = selection;
  return recipes.filter(
    (r) =>
      (enabled === undefined || enabled.some((s) => matchesSelector(r, s))) &&
      !disabled.some((s) => matchesSelector(r, s)),
  );
}

/** Selectors that match no recipe, so that a configuration naming an unknown recipe can be reported. */
export function unknownSelectors(selectors: readonly string[], recipes: readonly Recipe[] = RECIPES): string[] {
  return selectors.filter((s) => !recipes.some((r) => matchesSelector(r, s)));
}
