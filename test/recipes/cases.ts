import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRecipe } from "../../src/recipes/catalog.js";
import { planRecipe } from "../../src/recipes/index.js";
import { getFamily } from "../../src/recipes/registry.js";
import type { Recipe } from "../../src/recipes/types.js";
import { createFixture, type Fixture } from "./fixture.js";

/** A module the fixtures import from; every recipe must leave it alone. */
export const LIB = {
  "lib.ts": [
    "export const used = 1;",
    "export const unused = 2;",
    "export function sum(a: number, b: number): number {",
    "  return a + b;",
    "}",
    "export interface Shape {",
    "  w: number;",
    "}",
    "export function area(s: Shape): number {",
    "  return s.w;",
    "}",
    "",
  ].join("\n"),
};

export interface RecipeCase {
  id: string;
  /** The file the recipe rewrites: its content before, and exactly what the tool makes of it. */
  hit: { path?: string; before: string; after: string };
  /** A near miss: similar code the recipe must not report or touch. */
  clean: string;
  compilerOptions?: Record<string, unknown>;
}

export function recipe(id: string): Recipe {
  const found = findRecipe(id);
  if (found === undefined) throw new Error(`no recipe ${id}`);
  return found;
}

/** For every case: the exact edit where the recipe applies, nothing where it does not, and findings that agree. */
export function describeRecipeCases(cases: readonly RecipeCase[]): void {
  for (const c of cases) {
    const hitPath = c.hit.path ?? "src/hit.ts";
    const cleanPath = "src/clean.ts";
    describe(c.id, () => {
      let fixture: Fixture;
      let result: Awaited<ReturnType<typeof planRecipe>>;

      beforeAll(async () => {
        fixture = createFixture(
          { ...LIB, [hitPath]: c.hit.before, [cleanPath]: c.clean },
          c.compilerOptions ? { compilerOptions: c.compilerOptions } : {},
        );
        result = await planRecipe(fixture.ws, recipe(c.id));
      });
      afterAll(() => fixture.cleanup());

      it("makes exactly the expected edit where it applies", () => {
        expect(result.skipped).toEqual([]);
        expect(result.edits).toEqual([{ path: hitPath, before: c.hit.before, after: c.hit.after }]);
        expect(result.findings.length).toBeGreaterThan(0);
        expect(new Set(result.findings.map((f) => f.file))).toEqual(new Set([hitPath]));
      });

      it("reports and changes nothing where it does not apply", async () => {
        expect(result.edits.some((e) => e.path === cleanPath || e.path === "lib.ts")).toBe(false);
        expect(result.findings.some((f) => f.file === cleanPath)).toBe(false);
        const family = getFamily(recipe(c.id).family);
        expect(await family.findings(fixture.ws, [recipe(c.id)], [cleanPath, "lib.ts"])).toEqual([]);
      });

      it("has fewer findings once the edit is applied", async () => {
        const family = getFamily(recipe(c.id).family);
        const before = await family.findings(fixture.ws, [recipe(c.id)], [hitPath]);
        expect(before).toEqual(result.findings);
        const patched = fixture.withOverrides({ [hitPath]: c.hit.after });
        const after = await family.findings(patched, [recipe(c.id)], [hitPath]);
        expect(after.length).toBeLessThan(before.length);
      });
    });
  }
}
