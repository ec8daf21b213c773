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
  // typescript-eslint rules that need type information (run with the project service).
  {
    id: "eslint/no-unnecessary-type-assertion",
    hit: {
      before: lines("export function f(s: string): number {", "  const t = s as string;", "  return t.length;", "}"),
      after: lines("export function f(s: string): number {", "  const t = s;", "  return t.length;", "}"),
    },
    clean: lines("export function f(s: unknown): number {", "  const t = s as string;", "  return t.length;", "}"),
  },
  {
    id: "eslint/prefer-nullish-coalescing",
    hit: {
      before: lines("export function f(s: string | undefined): string {", '  return s || "none";', "}"),
      after: lines("export function f(s: string | undefined): string {", '  return s ?? "none";', "}"),
    },
    clean: lines(
      "export function f(s: string | undefined, b: boolean): string | boolean {",
      '  return (s ?? "none") || b;',
      "}",
    ),
  },
  {
    id: "eslint/prefer-optional-chain",
    hit: {
      before: lines(
        "export function f(o: { a?: { b: number } } | undefined): number | undefined {",
        "  return o && o.a && o.a.b;",
        "}",
      ),
      after: lines(
        "export function f(o: { a?: { b: number } } | undefined): number | undefined {",
        "  return o?.a?.b;",
        "}",
      ),
    },
    clean: lines(
      "export function f(o: { a?: { b: number } } | undefined, x: number): number | undefined {",
      "  return o?.a?.b ?? (x && x + 1);",
      "}",
    ),
  },
  {
    id: "eslint/no-unnecessary-condition",
    hit: {
      before: lines("export function f(o: { a: { b: number } }): number {", "  return o?.a.b;", "}"),
      after: lines("export function f(o: { a: { b: number } }): number {", "  return o.a.b;", "}"),
    },
    clean: lines(
      "export function f(o: { a: { b: number } } | undefined): number | undefined {",
      "  return o?.a.b;",
      "}",
    ),
  },
  {
    id: "eslint/non-nullable-type-assertion-style",
    hit: {
      before: lines("export function f(s: string | undefined): number {", "  return (s as string).length;", "}"),
      after: lines("export function f(s: string | undefined): number {", "  return (s!).length;", "}"),
    },
    clean: lines("export function f(s: string | number): number {", "  return (s as string).length;", "}"),
  },
  {
    id: "eslint/prefer-includes",
    hit: {
      before: lines("export function f(list: string[], s: string): boolean {", "  return list.indexOf(s) !== -1;", "}"),
      after: lines("export function f(list: string[], s: string): boolean {", "  return list.includes(s);", "}"),
    },
    clean: lines("export function f(list: string[], s: string): boolean {", "  return list.indexOf(s) > 0;", "}"),
  },
  {
    id: "eslint/prefer-string-starts-ends-with",
    hit: {
      before: lines("export function f(s: string): boolean {", '  return s.indexOf("a") === 0 || s[0] === "b";', "}"),
      after: lines("export function f(s: string): boolean {", '  return s.startsWith("a") || s.startsWith("b");', "}"),
    },
    clean: lines("export function f(s: string): boolean {", '  return s.indexOf("a") === 1 || s[1] === "b";', "}"),
  },
  {
    id: "eslint/prefer-reduce-type-parameter",
    hit: {
      before: lines("export const total = [1, 2].reduce((acc, n) => [...acc, n], [] as number[]);"),
      after: lines("export const total = [1, 2].reduce<number[]>((acc, n) => [...acc, n], []);"),
    },
    clean: lines("export const total = [1, 2].reduce<number[]>((acc, n) => [...acc, n], []);"),
  },
  {
    id: "eslint/prefer-return-this-type",
    hit: {
      before: lines(
        "export class Builder {",
        "  private n = 0;",
        "  add(): Builder {",
        "    this.n++;",
        "    return this;",
        "  }",
        "}",
      ),
      after: lines(
        "export class Builder {",
        "  private n = 0;",
        "  add(): this {",
        "    this.n++;",
        "    return this;",
        "  }",
        "}",
      ),
    },
    clean: lines(
      "export class Builder {",
      "  private n = 0;",
      "  add(): this {",
      "    this.n++;",
      "    return this;",
      "  }",
      "}",
    ),
  },
  {
    id: "eslint/no-unnecessary-type-arguments",
    hit: {
      before: lines(
        "function make<T = string>(x?: T): T | undefined {",
        "  return x;",
        "}",
        "export const v = make<string>();",
      ),
      after: lines("function make<T = string>(x?: T): T | undefined {", "  return x;", "}", "export const v = make();"),
    },
    clean: lines(
      "function make<T = string>(x?: T): T | undefined {",
      "  return x;",
      "}",
      "export const v = make<number>();",
    ),
  },
  {
    id: "eslint/no-unnecessary-boolean-literal-compare",
    hit: {
      before: lines("export function f(b: boolean): boolean {", "  return b === true;", "}"),
      after: lines("export function f(b: boolean): boolean {", "  return b;", "}"),
    },
    clean: lines("export function f(b: boolean | undefined): boolean {", "  return b === true;", "}"),
  },
  {
    id: "eslint/no-unnecessary-template-expression",
    hit: {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: fixture source text, not a template
      before: lines("export function f(s: string): string {", "  return `${s}`;", "}"),
      after: lines("export function f(s: string): string {", "  return s;", "}"),
    },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: fixture source text, not a template
    clean: lines("export function f(n: number): string {", "  return `${n}`;", "}"),
  },
  {
    id: "eslint/prefer-as-const",
    hit: {
      before: lines('export const kind = "circle" as "circle";'),
      after: lines('export const kind = "circle" as const;'),
    },
    clean: lines('export const kind = "circle" as string;'),
  },
  {
    id: "eslint/no-non-null-assertion",
    hit: {
      before: lines("export function f(o: { a?: { b: number } }): number {", "  return o.a!.b;", "}"),
      after: lines("export function f(o: { a?: { b: number } }): number {", "  return o.a?.b;", "}"),
    },
    clean: lines("export function f(o: { a?: { b: number } }): number | undefined {", "  return o.a?.b;", "}"),
  },
  {
    id: "eslint/no-explicit-any",
    hit: {
      before: lines("export function f(x: any): string {", "  return String(x);", "}"),
      after: lines("export function f(x: unknown): string {", "  return String(x);", "}"),
    },
    clean: lines("export function f(x: unknown): string {", "  return String(x);", "}"),
  },
  {
    id: "eslint/consistent-type-assertions",
    hit: {
      before: lines("export function f(x: unknown): string {", "  return <string>x;", "}"),
      after: lines("export function f(x: unknown): string {", "  return x as string;", "}"),
    },
    clean: lines("export function f(x: unknown): string {", "  return x as string;", "}"),
  },
  {
    id: "eslint/method-signature-style",
    hit: {
      before: lines("export interface Api {", "  get(id: string): number;", "}"),
      after: lines("export interface Api {", "  get: (id: string) => number;", "}"),
    },
    clean: lines("export interface Api {", "  get: (id: string) => number;", "}"),
  },
  {
    id: "eslint/prefer-function-type",
    hit: {
      before: lines("export interface Fn {", "  (x: number): string;", "}"),
      after: lines("export type Fn = (x: number) => string;"),
    },
    clean: lines("export interface Fn {", "  (x: number): string;", "  name: string;", "}"),
  },
  {
    id: "eslint/consistent-indexed-object-style",
    hit: {
      before: lines("export interface Dict {", "  [key: string]: number;", "}"),
      after: lines("export type Dict = Record<string, number>;"),
    },
    clean: lines(
      "export type Dict = Record<string, number>;",
      "export interface Named {",
      "  [key: string]: number;",
      "  size: number;",
      "}",
    ),
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

describe("type-aware rules see the workspace's other files", () => {
  let fixture: Fixture;

  beforeAll(() => {
    fixture = createFixture({
      "value.ts": lines("export function value(): string {", '  return "x";', "}"),
      "use.ts": lines('import { value } from "./value";', "export const v = value() as string;"),
    });
  });
  afterAll(() => fixture.cleanup());

  it("as the workspace gives them, not as they are on disk", async () => {
    const rules = [recipe("eslint/no-unnecessary-type-assertion")];
    const original = await eslintFamily.findings(fixture.ws, rules, ["use.ts"]);
    expect(original.map((f) => `${f.file}:${f.line} ${f.rule}`)).toEqual([
      "use.ts:2 @typescript-eslint/no-unnecessary-type-assertion",
    ]);
    // A candidate that widens value()'s type makes the assertion in use.ts necessary, though use.ts is unchanged.
    const widened = fixture.withOverrides({
      "value.ts": lines("export function value(): string | number {", '  return "x";', "}"),
    });
    expect(await eslintFamily.findings(widened, rules, ["use.ts"])).toEqual([]);
    expect(await eslintFamily.findings(fixture.ws, rules, ["use.ts"])).toEqual(original);
  });
});
