import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRecipe, matchesSelector, RECIPES, selectRecipes, unknownSelectors } from "../../src/recipes/catalog.js";
import { collectFindings, planRecipe } from "../../src/recipes/index.js";
import { families, getFamily, isFamilyId } from "../../src/recipes/registry.js";
import { type FamilyId, RecipeError } from "../../src/recipes/types.js";
import { recipe } from "./cases.js";
import { createFixture, type Fixture } from "./fixture.js";

const lines = (...l: string[]): string => `${l.join("\n")}\n`;

describe("catalog", () => {
  it("has at least 60 recipes, at least 20 of them unsafe, with unique ids", () => {
    expect(RECIPES.length).toBeGreaterThanOrEqual(60);
    expect(RECIPES.filter((r) => r.safety === "unsafe").length).toBeGreaterThanOrEqual(20);
    expect(new Set(RECIPES.map((r) => r.id)).size).toBe(RECIPES.length);
  });

  it("covers all three families and both safeties", () => {
    expect(new Set(RECIPES.map((r) => r.family))).toEqual(new Set<FamilyId>(["ts-codefix", "eslint", "biome"]));
    expect(new Set(RECIPES.map((r) => r.safety))).toEqual(new Set(["safe", "unsafe"]));
    for (const family of ["ts-codefix", "eslint", "biome"] as const) {
      const safeties = new Set(RECIPES.filter((r) => r.family === family).map((r) => r.safety));
      expect(safeties, family).toEqual(new Set(["safe", "unsafe"]));
    }
  });

  it("registers the family of every recipe, and ids carry the family's prefix", () => {
    const prefixes: Record<FamilyId, string> = { "ts-codefix": "ts/", eslint: "eslint/", biome: "biome/" };
    for (const r of RECIPES) {
      expect(isFamilyId(r.family)).toBe(true);
      expect(getFamily(r.family).id).toBe(r.family);
      expect(r.id.startsWith(prefixes[r.family]), r.id).toBe(true);
      expect(r.title.length).toBeGreaterThan(0);
      expect(r.category.length).toBeGreaterThan(0);
    }
    expect(Object.keys(families).sort()).toEqual(["biome", "eslint", "ts-codefix"]);
  });

  it("finds recipes by id", () => {
    expect(findRecipe("eslint/prefer-const")?.family).toBe("eslint");
    expect(findRecipe("eslint/nope")).toBeUndefined();
  });

  it("filters by enabled and disabled selectors, disabled winning", () => {
    expect(selectRecipes({}).length).toBe(RECIPES.length);
    expect(selectRecipes({ enabled: ["biome/*"] }).every((r) => r.family === "biome")).toBe(true);
    expect(selectRecipes({ enabled: ["eslint/prefer-const", "ts/add-override"] }).map((r) => r.id)).toEqual([
      "ts/add-override",
      "eslint/prefer-const",
    ]);
    const withoutEslint = selectRecipes({ disabled: ["eslint/*", "ts/organize-imports"] });
    expect(withoutEslint.some((r) => r.family === "eslint" || r.id === "ts/organize-imports")).toBe(false);
    expect(selectRecipes({ enabled: ["*"], disabled: ["*"] })).toEqual([]);
    expect(selectRecipes({ enabled: ["eslint/prefer-const"], disabled: ["eslint/*"] })).toEqual([]);
  });

  it("matches selectors exactly or by family prefix, and reports unknown ones", () => {
    const r = recipe("ts/add-override");
    expect(matchesSelector(r, "ts/add-override")).toBe(true);
    expect(matchesSelector(r, "ts/*")).toBe(true);
    expect(matchesSelector(r, "ts/add")).toBe(false);
    expect(unknownSelectors(["ts/*", "ts/add-override", "ts/nope", "rome/*"])).toEqual(["ts/nope", "rome/*"]);
  });
});

describe("files that cannot be parsed", () => {
  let fixture: Fixture;
  const broken = lines("export const = ;", "let ok = 1;");

  beforeAll(() => {
    fixture = createFixture({
      "src/broken.ts": broken,
      "src/good.ts": lines('import { x } from "./x";', "let a = 1;", "export const b = a + 1;"),
      "src/x.ts": lines("export const x = 1;"),
    });
  });
  afterAll(() => fixture.cleanup());

  for (const id of ["ts/remove-unused-imports", "eslint/prefer-const", "biome/use-const"]) {
    it(`are skipped and reported by ${id}, and the other files still planned`, async () => {
      const result = await planRecipe(fixture.ws, recipe(id));
      expect(result.skipped.map((s) => s.file)).toEqual(["src/broken.ts"]);
      expect(result.skipped[0]?.reason.length).toBeGreaterThan(0);
      expect(result.edits.map((e) => e.path)).toEqual(["src/good.ts"]);
      expect(result.findings.some((f) => f.file === "src/broken.ts")).toBe(false);
    });
  }

  it("yield no findings instead of an error", async () => {
    const all = [recipe("ts/remove-unused-imports"), recipe("eslint/prefer-const"), recipe("biome/use-const")];
    const findings = await collectFindings(fixture.ws, all, ["src/broken.ts"]);
    expect(findings).toEqual([]);
  });
});

describe("collectFindings", () => {
  it("gathers findings of recipes from every family in one sorted list", async () => {
    const fixture = createFixture({
      "src/a.ts": lines('import { x } from "./x";', "let a = 1;", "export const b = a + 1;"),
      "src/x.ts": lines("export const x = 1;"),
    });
    try {
      const findings = await collectFindings(
        fixture.ws,
        [recipe("biome/use-const"), recipe("eslint/prefer-const"), recipe("ts/remove-unused-imports")],
        ["src/a.ts", "src/x.ts"],
      );
      expect(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.rule}`)).toEqual([
        "src/a.ts:1:1 TS6133",
        "src/a.ts:2:1 lint/style/useConst",
        "src/a.ts:2:5 prefer-const",
      ]);
    } finally {
      fixture.cleanup();
    }
  });

  it("returns nothing for no recipes", async () => {
    const fixture = createFixture({ "a.ts": "let a = 1;\n" });
    try {
      expect(await collectFindings(fixture.ws, [], ["a.ts"])).toEqual([]);
    } finally {
      fixture.cleanup();
    }
  });
});

describe("recipe params", () => {
  it("are validated, with a RecipeError naming the recipe", async () => {
    const fixture = createFixture({ "a.ts": "let a = 1;\n" });
    try {
      const badEslint = { ...recipe("eslint/prefer-const"), id: "eslint/bad", params: { options: [] } };
      const badBiome = { ...recipe("biome/use-const"), id: "biome/bad", params: { group: "nope", rule: "useConst" } };
      for (const bad of [badEslint, badBiome]) {
        const error = await planRecipe(fixture.ws, bad).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RecipeError);
        expect((error as RecipeError).recipeId).toBe(bad.id);
      }
    } finally {
      fixture.cleanup();
    }
  });

  it("that name a rule the tool does not know fail the recipe instead of skipping every file", async () => {
    const fixture = createFixture({ "a.ts": "let a = 1;\n" });
    try {
      const eslintTypo = { ...recipe("eslint/prefer-const"), id: "eslint/typo", params: { rule: "prefer-konst" } };
      const biomeTypo = {
        ...recipe("biome/use-const"),
        id: "biome/typo",
        params: { group: "style", rule: "useKonst" },
      };
      for (const bad of [eslintTypo, biomeTypo]) {
        const error = await planRecipe(fixture.ws, bad).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RecipeError);
        expect((error as RecipeError).recipeId).toBe(bad.id);
      }
    } finally {
      fixture.cleanup();
    }
  });
});
