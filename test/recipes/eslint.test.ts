import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECIPES } from "../../src/recipes/catalog.js";
import { eslintFamily } from "../../src/recipes/eslint/index.js";
import { planRecipe } from "../../src/recipes/index.js";
import { describeRecipeCases, type RecipeCase, recipe } from "./cases.js";
import { createFixture, type Fixture } from "./fixture.js";

const lines = (...l: string[]): string => `${l.join("\n")}\n`;

const cases: RecipeCase[] = [
  {
    id: "eslint/prefer-const",
    hit: {
      before: lines("let count = 1;", "let [a, b] = [1, 2];", "export const total = count + a + b;"),
      after: lines("const count = 1;", "const [a, b] = [1, 2];", "export const total = count + a + b;"),
    },
    // One of the destructured names is reassigned, so the declaration must stay `let`.
    clean: lines(
      "let count = 1;",
      "count += 1;",
      "let [a, b] = [1, 2];",
      "b = a;",
      "export const total = count + a + b;",
    ),
  },
  {
    id: "eslint/no-var",
    hit: {
      before: lines(
        "var limit = 10;",
        "export function f(): number {",
        "  var n = limit;",
        "  n++;",
        "  return n;",
        "}",
      ),
      after: lines(
        "let limit = 10;",
        "export function f(): number {",
        "  let n = limit;",
        "  n++;",
        "  return n;",
        "}",
      ),
    },
    clean: lines(
      "const limit = 10;",
      "export function f(): number {",
      "  let n = limit;",
      "  n++;",
      "  return n;",
      "}",
    ),
  },
  {
    id: "eslint/object-shorthand",
    hit: {
      before: lines('const name = "x";', "export const o = { name: name, f: function () { return 1; } };"),
      after: lines('const name = "x";', "export const o = { name, f: function () { return 1; } };"),
    },
    clean: lines('const name = "x";', "export const o = { label: name, f: function () { return 1; } };"),
  },
  {
    id: "eslint/prefer-template",
    hit: {
      before: lines("export function greet(name: string): string {", '  return "Hello, " + name + "!";', "}"),
      // ESLint keeps the whitespace that surrounded the operators inside the substitution.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: fixture source text, not a template
      after: lines("export function greet(name: string): string {", "  return `Hello, ${  name  }!`;", "}"),
    },
    clean: lines(
      "export function greet(name: string): string {",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: fixture source text, not a template
      "  return `Hello, ${name}!`;",
      "}",
      'export const joined = "a" + "b";',
    ),
  },
  {
    id: "eslint/eqeqeq",
    hit: {
      before: lines(
        "export function f(a: unknown, b: unknown): boolean {",
        '  if (typeof a == "string") return true;',
        "  if (a == null) return false;",
        "  return a != b;",
        "}",
      ),
      // The typeof comparison is ESLint's fix; `a != b` is its suggestion, applied because the recipe is unsafe.
      after: lines(
        "export function f(a: unknown, b: unknown): boolean {",
        '  if (typeof a === "string") return true;',
        "  if (a == null) return false;",
        "  return a !== b;",
        "}",
      ),
    },
    clean: lines(
      "export function f(a: unknown, b: unknown): boolean {",
      "  if (a != null) return false;",
      "  return a === b;",
      "}",
    ),
  },
  {
    id: "eslint/dot-notation",
    hit: {
      before: lines("export function f(o: { a: number }): number {", '  return o["a"];', "}"),
      after: lines("export function f(o: { a: number }): number {", "  return o.a;", "}"),
    },
    clean: lines(
      "export function f(o: Record<string, number>, key: string): number {",
      '  return (o[key] ?? 0) + (o["not-an-identifier"] ?? 0);',
      "}",
    ),
  },
  {
    id: "eslint/no-useless-rename",
    hit: {
      before: lines(
        'import { used as used } from "../lib";',
        "const { a: a } = { a: 1 };",
        "export { used as used, a };",
      ),
      after: lines('import { used } from "../lib";', "const { a } = { a: 1 };", "export { used, a };"),
    },
    clean: lines('import { used as u } from "../lib";', "const { a: b } = { a: 1 };", "export { u, b };"),
  },
  {
    id: "eslint/prefer-arrow-callback",
    hit: {
      before: lines("export const doubled = [1, 2].map(function (x) {", "  return x * 2;", "});"),
      after: lines("export const doubled = [1, 2].map((x) => {", "  return x * 2;", "});"),
    },
    // The callback uses its own `this`, which an arrow function would not have.
    clean: lines(
      "export const doubled = [1, 2].map((x) => x * 2);",
      "export function scaled(xs: number[], ctx: { k: number }): number[] {",
      "  return xs.map(function (this: { k: number }, x) {",
      "    return x * this.k;",
      "  }, ctx);",
      "}",
    ),
  },
  {
    id: "eslint/consistent-type-imports",
    hit: {
      before: lines(
        'import { area, Shape } from "../lib";',
        "",
        "export const a: Shape = { w: 1 };",
        "export const n = area(a);",
      ),
      after: lines(
        'import type { Shape } from "../lib";',
        'import { area } from "../lib";',
        "",
        "export const a: Shape = { w: 1 };",
        "export const n = area(a);",
      ),
    },
    clean: lines(
      'import type { Shape } from "../lib";',
      'import { area } from "../lib";',
      "",
      "export const n = area({ w: 1 } as Shape);",
    ),
  },
  {
    id: "eslint/no-inferrable-types",
    hit: {
      before: lines(
        "export const limit: number = 10;",
        "export function f(flag: boolean = true): boolean {",
        "  return flag;",
        "}",
      ),
      after: lines("export const limit = 10;", "export function f(flag = true): boolean {", "  return flag;", "}"),
    },
    clean: lines(
      "export const limit = 10;",
      "export let count: number;",
      "export function f(flag = true): boolean {",
      "  return flag;",
      "}",
    ),
  },
  {
    id: "eslint/array-type",
    hit: {
      before: lines("export const xs: Array<number> = [];", "export const ys: ReadonlyArray<string> = [];"),
      after: lines("export const xs: number[] = [];", "export const ys: readonly string[] = [];"),
    },
    clean: lines("export const xs: number[] = [];", "export const ys: readonly string[] = [];"),
  },
  {
    id: "eslint/consistent-type-definitions",
    hit: {
      before: lines("export type Point = {", "  x: number;", "  y: number;", "};"),
      after: lines("export interface Point {", "  x: number;", "  y: number;", "}"),
    },
    clean: lines("export interface Point {", "  x: number;", "}", "export type Id = string | number;"),
  },
];

describe("eslint recipes", () => {
  it("has a case for every eslint recipe of the catalog", () => {
    const ids = RECIPES.filter((r) => r.family === "eslint").map((r) => r.id);
    expect(cases.map((c) => c.id).sort()).toEqual([...ids].sort());
  });
  describeRecipeCases(cases);
});

describe("eslint family", () => {
  let fixture: Fixture;

  beforeAll(() => {
    fixture = createFixture({
      "a.ts": lines("var a = 1;", "let b = 2;", "export const o = { a: a, b: b };"),
      "kept.ts": lines("// eslint-disable-next-line prefer-const", "let kept = 1;", "export { kept };"),
      "legacy.cjs": lines("var fs = require('node:fs');", "module.exports = { fs: fs };"),
    });
  });
  afterAll(() => fixture.cleanup());

  it("returns the findings of several rules from one lint per file", async () => {
    const findings = await eslintFamily.findings(
      fixture.ws,
      [
        recipe("eslint/no-var"),
        recipe("eslint/prefer-const"),
        recipe("eslint/object-shorthand"),
        recipe("biome/use-const"),
      ],
      fixture.ws.files,
    );
    expect(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.rule}`)).toEqual([
      "a.ts:1:1 no-var",
      "a.ts:2:5 prefer-const",
      "a.ts:3:20 object-shorthand",
      "a.ts:3:26 object-shorthand",
      "legacy.cjs:1:1 no-var",
      "legacy.cjs:2:20 object-shorthand",
    ]);
  });

  it("follows contents given through read as they change and change back", async () => {
    const rules = [recipe("eslint/prefer-const")];
    const original = await eslintFamily.findings(fixture.ws, rules, ["a.ts"]);
    const patched = fixture.withOverrides({
      "a.ts": lines("var a = 1;", "const b = 2;", "export const o = { a, b };"),
    });
    expect(await eslintFamily.findings(patched, rules, ["a.ts"])).toEqual([]);
    expect(await eslintFamily.findings(fixture.ws, rules, ["a.ts"])).toEqual(original);
    expect(original).toHaveLength(1);
  });

  it("honours the repository's inline disable comments", async () => {
    const result = await planRecipe(fixture.ws, recipe("eslint/prefer-const"));
    expect(result.edits.map((e) => e.path)).toEqual(["a.ts"]);
  });

  it("lints CommonJS files as scripts", async () => {
    const result = await planRecipe(fixture.ws, recipe("eslint/no-var"));
    expect(result.edits.find((e) => e.path === "legacy.cjs")?.after).toBe(
      lines("let fs = require('node:fs');", "module.exports = { fs: fs };"),
    );
  });
});
