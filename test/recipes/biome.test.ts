import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { biomeFamily } from "../../src/recipes/biome/index.js";
import { RECIPES } from "../../src/recipes/catalog.js";
import { planRecipe } from "../../src/recipes/index.js";
import { describeRecipeCases, type RecipeCase, recipe } from "./cases.js";
import { createFixture, type Fixture } from "./fixture.js";

const lines = (...l: string[]): string => `${l.join("\n")}\n`;

const cases: RecipeCase[] = [
  {
    id: "biome/use-const",
    hit: {
      before: lines("let count = 1;", "export const total = count + 1;"),
      after: lines("const count = 1;", "export const total = count + 1;"),
    },
    clean: lines("let count = 1;", "count++;", "export const total = count;"),
  },
  {
    id: "biome/use-template",
    hit: {
      before: lines("export function greet(name: string): string {", '  return "Hello, " + name + "!";', "}"),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: fixture source text, not a template
      after: lines("export function greet(name: string): string {", "  return `Hello, ${name}!`;", "}"),
    },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: fixture source text, not a template
    clean: lines("export function greet(name: string): string {", "  return `Hello, ${name}!`;", "}"),
  },
  {
    id: "biome/no-useless-else",
    hit: {
      before: lines(
        "export function sign(n: number): number {",
        "  if (n < 0) {",
        "    return -1;",
        "  } else {",
        "    return 1;",
        "  }",
        "}",
      ),
      // With the formatter off, Biome leaves the former else body at its old indentation.
      after: lines(
        "export function sign(n: number): number {",
        "  if (n < 0) {",
        "    return -1;",
        "  }",
        "    return 1;",
        "}",
      ),
    },
    clean: lines(
      "export function sign(n: number): number {",
      "  if (n < 0) {",
      "    n = -n;",
      "  } else {",
      "    n = n * 2;",
      "  }",
      "  return n;",
      "}",
    ),
  },
  {
    id: "biome/use-optional-chain",
    hit: {
      before: lines("export function f(o: { a?: { b: number } }): number | undefined {", "  return o.a && o.a.b;", "}"),
      after: lines("export function f(o: { a?: { b: number } }): number | undefined {", "  return o.a?.b;", "}"),
    },
    clean: lines("export function f(o: { a?: { b: number } }): number | undefined {", "  return o.a?.b;", "}"),
  },
  {
    id: "biome/use-literal-keys",
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
    id: "biome/no-unused-imports",
    hit: {
      before: lines(
        'import { unused } from "../lib";',
        'import { used } from "../lib";',
        "",
        "export const value = used + 1;",
      ),
      // The removed declaration's trailing line break stays behind (a formatter would take it away).
      after: lines("", 'import { used } from "../lib";', "", "export const value = used + 1;"),
    },
    clean: lines(
      'import { used } from "../lib";',
      "",
      "export function f(): number {",
      "  const local = 1;",
      "  return used;",
      "}",
    ),
  },
  {
    id: "biome/use-import-type",
    hit: {
      before: lines(
        'import { area, Shape } from "../lib";',
        "",
        "export const a: Shape = { w: 1 };",
        "export const n = area(a);",
      ),
      after: lines(
        'import { area, type Shape } from "../lib";',
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
    id: "biome/use-exponentiation-operator",
    hit: {
      before: lines("export const cube = Math.pow(3, 3);"),
      after: lines("export const cube = 3 ** 3;"),
    },
    clean: lines("export const cube = 3 ** 3;", "export const max = Math.max(1, 2);"),
  },
  {
    id: "biome/no-inferrable-types",
    hit: {
      before: lines("export function f(flag: boolean = true): boolean {", "  return flag;", "}"),
      after: lines("export function f(flag = true): boolean {", "  return flag;", "}"),
    },
    // On a const, the annotation widens the type of the literal: not inferrable, so not reported.
    clean: lines(
      "export const limit: number = 10;",
      "export function f(flag = true): boolean {",
      "  return flag;",
      "}",
    ),
  },
  {
    id: "biome/use-arrow-function",
    hit: {
      before: lines("export const doubled = [1, 2].map(function (x) {", "  return x * 2;", "});"),
      after: lines("export const doubled = [1, 2].map((x) => x * 2);"),
    },
    clean: lines(
      "export const doubled = [1, 2].map((x) => x * 2);",
      "export const obj = {",
      "  k: 2,",
      "  scale: function (this: { k: number }, x: number): number {",
      "    return x * this.k;",
      "  },",
      "};",
    ),
  },
  {
    id: "biome/no-non-null-assertion",
    hit: {
      before: lines("export function f(o: { a?: { b: number } }): number | undefined {", "  return o.a!.b;", "}"),
      after: lines("export function f(o: { a?: { b: number } }): number | undefined {", "  return o.a?.b;", "}"),
    },
    clean: lines("export function f(o: { a?: { b: number } }): number | undefined {", "  return o.a?.b;", "}"),
  },
  {
    id: "biome/no-unused-variables",
    hit: {
      before: lines("export function f(): number {", "  const unusedValue = 2;", "  return 1;", "}"),
      after: lines("export function f(): number {", "  const _unusedValue = 2;", "  return 1;", "}"),
    },
    clean: lines("export function f(): number {", "  const used = 2;", "  return used;", "}"),
  },
  {
    id: "biome/no-unused-function-parameters",
    hit: {
      before: lines("export function f(a: number, b: number): number {", "  return a;", "}"),
      after: lines("export function f(a: number, _b: number): number {", "  return a;", "}"),
    },
    clean: lines("export function f(a: number, b: number): number {", "  return a + b;", "}"),
  },
  {
    id: "biome/use-nodejs-import-protocol",
    hit: {
      before: lines('import { join } from "path";', 'export const p = join("a", "b");'),
      after: lines('import { join } from "node:path";', 'export const p = join("a", "b");'),
    },
    clean: lines('import { join } from "node:path";', 'export const p = join("a", "b");'),
  },
  {
    id: "biome/no-useless-ternary",
    hit: {
      before: lines("export function f(a: number): boolean {", "  return a > 1 ? true : false;", "}"),
      after: lines("export function f(a: number): boolean {", "  return a > 1;", "}"),
    },
    clean: lines("export function f(a: number): number {", "  return a > 1 ? 1 : 0;", "}"),
  },
  {
    id: "biome/no-useless-catch",
    hit: {
      before: lines(
        "export function f(g: () => number): number {",
        "  try {",
        "    return g();",
        "  } catch (error) {",
        "    throw error;",
        "  }",
        "}",
      ),
      after: lines("export function f(g: () => number): number {", "    return g();", "}"),
    },
    clean: lines(
      "export function f(g: () => number): number {",
      "  try {",
      "    return g();",
      "  } catch (error) {",
      '    throw new Error("g failed", { cause: error });',
      "  }",
      "}",
    ),
  },
  {
    id: "biome/use-is-nan",
    hit: {
      before: lines("export function f(x: number): boolean {", "  return x === NaN;", "}"),
      after: lines("export function f(x: number): boolean {", "  return Number.isNaN(x);", "}"),
    },
    clean: lines("export function f(x: number): boolean {", "  return Number.isNaN(x);", "}"),
  },
  {
    id: "biome/no-double-equals",
    hit: {
      before: lines("export function f(a: unknown, b: unknown): boolean {", "  return a == b;", "}"),
      after: lines("export function f(a: unknown, b: unknown): boolean {", "  return a === b;", "}"),
    },
    clean: lines("export function f(a: unknown, b: unknown): boolean {", "  return a === b || a == null;", "}"),
  },
  {
    id: "biome/use-date-now",
    hit: {
      before: lines("export function now(): number {", "  return new Date().getTime();", "}"),
      after: lines("export function now(): number {", "  return  Date.now();", "}"),
    },
    clean: lines("export function now(): number {", "  return Date.now();", "}"),
  },
  {
    id: "biome/use-flat-map",
    hit: {
      before: lines("export const out = [[1], [2]].map((x) => x).flat();"),
      after: lines("export const out = [[1], [2]].flatMap((x) => x);"),
    },
    clean: lines("export const out = [[1], [2]].map((x) => x).flat(2);"),
  },
  {
    id: "biome/use-shorthand-function-type",
    hit: {
      before: lines("export interface Fn {", "  (x: number): string;", "}"),
      after: lines("export type Fn = (x: number) => string"),
    },
    clean: lines("export interface Fn {", "  (x: number): string;", "  name: string;", "}"),
  },
  {
    id: "biome/no-useless-undefined-initialization",
    hit: {
      before: lines(
        "export function f(): number | undefined {",
        "  let value: number | undefined = undefined;",
        "  value ??= 1;",
        "  return value;",
        "}",
      ),
      after: lines(
        "export function f(): number | undefined {",
        "  let value: number | undefined ;",
        "  value ??= 1;",
        "  return value;",
        "}",
      ),
    },
    clean: lines(
      "export function f(): number | undefined {",
      "  let value: number | undefined;",
      "  value ??= 1;",
      "  return value;",
      "}",
    ),
  },
  {
    id: "biome/no-extra-boolean-cast",
    hit: {
      before: lines("export function f(x: unknown): number {", "  if (!!x) return 1;", "  return 0;", "}"),
      after: lines("export function f(x: unknown): number {", "  if (x) return 1;", "  return 0;", "}"),
    },
    clean: lines("export function f(x: unknown): boolean {", "  return !!x;", "}"),
  },
  {
    id: "biome/no-useless-constructor",
    hit: {
      before: lines("export class Point {", "  x = 0;", "  constructor() {}", "}"),
      after: lines("export class Point {", "  x = 0;", "}"),
    },
    clean: lines("export class Point {", "  constructor(readonly x: number) {}", "}"),
  },
];

describe("biome recipes", () => {
  it("has a case for every biome recipe of the catalog", () => {
    const ids = RECIPES.filter((r) => r.family === "biome").map((r) => r.id);
    expect(cases.map((c) => c.id).sort()).toEqual([...ids].sort());
  });
  describeRecipeCases(cases);
});

describe("biome family", () => {
  let fixture: Fixture;

  beforeAll(() => {
    fixture = createFixture({
      "src/a.ts": lines("let a = 1;", 'export const s = "x" + a;', 'export const t = { b: 1 }["b"];'),
      "src/emoji.ts": lines('const face = "😀"; let n = 1;', "export { face, n };"),
      "src/deep/dir/b.tsx": lines("let c = <div />;", "export { c };"),
    });
  });
  afterAll(() => fixture.cleanup());

  it("returns the findings of several rules from one run", async () => {
    const findings = await biomeFamily.findings(
      fixture.ws,
      [recipe("biome/use-const"), recipe("biome/use-template"), recipe("eslint/prefer-const")],
      fixture.ws.files,
    );
    expect(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.rule}`)).toEqual([
      "src/a.ts:1:1 lint/style/useConst",
      "src/a.ts:2:18 lint/style/useTemplate",
      "src/deep/dir/b.tsx:1:1 lint/style/useConst",
      "src/emoji.ts:1:20 lint/style/useConst",
    ]);
  });

  it("reports columns in UTF-16 code units, like the other families", async () => {
    const [finding] = await biomeFamily.findings(fixture.ws, [recipe("biome/use-const")], ["src/emoji.ts"]);
    const line = fixture.ws.read("src/emoji.ts").split("\n")[0] ?? "";
    expect(line.slice((finding?.column ?? 0) - 1)).toBe("let n = 1;");
  });

  it("applies a safe rule without touching what other rules would report", async () => {
    const result = await planRecipe(fixture.ws, recipe("biome/use-const"));
    expect(result.edits.find((e) => e.path === "src/a.ts")?.after).toBe(
      lines("const a = 1;", 'export const s = "x" + a;', 'export const t = { b: 1 }["b"];'),
    );
    expect(result.edits.map((e) => e.path)).toEqual(["src/a.ts", "src/deep/dir/b.tsx", "src/emoji.ts"]);
  });
});
