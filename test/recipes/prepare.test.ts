import { Linter } from "eslint";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { planRecipe, prepareRecipes } from "../../src/recipes/index.js";
import { getFamily } from "../../src/recipes/registry.js";
import { type Recipe, RecipeError, type RecipeWorkspace } from "../../src/recipes/types.js";
import { recipe } from "./cases.js";
import { createFixture, type Fixture } from "./fixture.js";

const lines = (...l: string[]): string => `${l.join("\n")}\n`;

const FILES = {
  "src/a.ts": lines(
    'import { join } from "path";',
    "var base = 1;",
    "let next = base + 1;",
    "export function f(s: string | undefined, o: { a?: { b: number } }): string {",
    "  const t = s as string | undefined;",
    '  return join(t || "x", String(o.a!.b + next));',
    "}",
  ),
  "src/b.ts": lines(
    "export class Base {",
    "  run(): number {",
    "    return 1 == 1 ? 1 : 0;",
    "  }",
    "}",
    "export class Child extends Base {",
    "  run(): number {",
    "    let unused = 2;",
    "    return 2;",
    "  }",
    "}",
  ),
};

const RECIPE_IDS = [
  "eslint/no-var",
  "eslint/prefer-const",
  "eslint/no-unnecessary-type-assertion",
  "eslint/prefer-nullish-coalescing",
  "eslint/no-non-null-assertion",
  "biome/no-non-null-assertion",
  "biome/use-nodejs-import-protocol",
  "biome/no-double-equals",
  "biome/use-const",
  "ts/add-override",
  "ts/remove-unused-declarations",
];

/** The same repository seen through a new workspace object, so that nothing prepared for another one is reused. */
function copy(ws: RecipeWorkspace): RecipeWorkspace {
  return { ...ws, files: [...ws.files] };
}

describe("planning several recipes in one pass per tool", () => {
  let fixture: Fixture;
  const recipes = RECIPE_IDS.map(recipe);

  beforeAll(() => {
    fixture = createFixture(FILES);
  });
  afterAll(() => fixture.cleanup());
  afterEach(() => vi.restoreAllMocks());

  it("gives every recipe the plan it gets when planned alone", async () => {
    const alone = new Map<string, Awaited<ReturnType<typeof planRecipe>>>();
    for (const r of recipes) alone.set(r.id, await planRecipe(copy(fixture.ws), r));
    expect([...alone.values()].every((p) => p.edits.length > 0)).toBe(true);

    const ws = copy(fixture.ws);
    await prepareRecipes(ws, recipes);
    for (const r of recipes) expect(await planRecipe(ws, r), r.id).toEqual(alone.get(r.id));
  });

  it("lints each file once for all ESLint recipes, not once per recipe", async () => {
    const eslintRecipes = recipes.filter((r) => r.family === "eslint");
    const ws = copy(fixture.ws);
    // Parse the files first, so that both counts below see the same cache.
    await prepareRecipes(copy(fixture.ws), eslintRecipes);
    const verify = vi.spyOn(Linter.prototype, "verify");
    /** Lints of a file's original text (fix passes lint other texts). */
    const lintsOfOriginals = (): number =>
      verify.mock.calls.filter(([code, , options]) => {
        const filename = typeof options === "string" ? options : (options?.filename ?? "");
        const rel = Object.keys(FILES).find((f) => filename.endsWith(f));
        return rel !== undefined && (typeof code !== "string" || code === FILES[rel as keyof typeof FILES]);
      }).length;

    await prepareRecipes(ws, eslintRecipes);
    const prepared = lintsOfOriginals();
    for (const r of eslintRecipes) await planRecipe(ws, r);
    expect(prepared).toBe(Object.keys(FILES).length);
    expect(lintsOfOriginals()).toBe(prepared);

    verify.mockClear();
    for (const r of eslintRecipes) await planRecipe(copy(fixture.ws), r);
    expect(lintsOfOriginals()).toBe(Object.keys(FILES).length * eslintRecipes.length);
  });

  it("plans again when the workspace's contents changed after it was prepared", async () => {
    const contents = new Map(Object.entries(FILES));
    const ws: RecipeWorkspace = { ...fixture.ws, read: (rel) => contents.get(rel) ?? "" };
    const r = recipe("biome/no-double-equals");
    await prepareRecipes(ws, [r]);
    expect((await planRecipe(ws, r)).edits.map((e) => e.path)).toEqual(["src/b.ts"]);
    contents.set("src/b.ts", (contents.get("src/b.ts") ?? "").replace("1 == 1", "1 === 1"));
    expect(await planRecipe(ws, r)).toMatchObject({ findings: [], edits: [] });
  });

  it("keeps a recipe's tool failure its own", async () => {
    const broken: Recipe = {
      id: "biome/no-such-rule",
      family: "biome",
      title: "A rule Biome does not know",
      category: "style",
      safety: "safe",
      params: { group: "style", rule: "noSuchRuleAnywhere" },
    };
    const good = recipe("biome/no-double-equals");
    const ws = copy(fixture.ws);
    await getFamily("biome").prepare?.(ws, [good, broken]);
    expect((await planRecipe(ws, good)).edits.map((e) => e.path)).toEqual(["src/b.ts"]);
    await expect(planRecipe(ws, broken)).rejects.toThrow(RecipeError);
    await expect(planRecipe(ws, broken)).rejects.toThrow(/biome\/no-such-rule/);
  });
});
