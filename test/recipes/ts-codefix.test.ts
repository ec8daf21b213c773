import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECIPES } from "../../src/recipes/catalog.js";
import { planRecipe } from "../../src/recipes/index.js";
import { projectFor } from "../../src/recipes/shared/ts-project.js";
import { tsCodefixFamily } from "../../src/recipes/ts-codefix/index.js";
import { RecipeError } from "../../src/recipes/types.js";
import { describeRecipeCases, LIB, type RecipeCase, recipe } from "./cases.js";
import { createFixture, type Fixture } from "./fixture.js";

const lines = (...l: string[]): string => `${l.join("\n")}\n`;

const cases: RecipeCase[] = [
  {
    id: "ts/remove-unused-imports",
    hit: {
      before: lines(
        'import { used, unused } from "../lib";',
        'import { sum } from "../lib";',
        "",
        "export const value = used + 1;",
      ),
      after: lines('import { used } from "../lib";', "", "export const value = used + 1;"),
    },
    // An unused local is not an import: another recipe's business.
    clean: lines(
      'import { sum } from "../lib";',
      "",
      "export function three(): number {",
      "  const ignored = 0;",
      "  return sum(1, 2);",
      "}",
    ),
  },
  {
    id: "ts/organize-imports",
    hit: {
      before: lines(
        'import { used, sum } from "../lib";',
        'import { unused } from "../lib";',
        'import type { Shape } from "../lib";',
        "",
        "export const v: Shape = { w: sum(used, 1) };",
      ),
      after: lines(
        'import type { Shape } from "../lib";',
        'import { sum, used } from "../lib";',
        "",
        "export const v: Shape = { w: sum(used, 1) };",
      ),
    },
    clean: lines(
      'import type { Shape } from "../lib";',
      'import { area, sum } from "../lib";',
      "",
      "export const w = sum(area({ w: 1 } satisfies Shape), 1);",
    ),
  },
  {
    id: "ts/remove-unused-declarations",
    hit: {
      before: lines(
        "export function compute(input: number, unusedFactor: number): number {",
        "  const doubled = input * 2;",
        "  return input + 1;",
        "}",
        "",
        "function helper(): void {}",
      ),
      after: lines("export function compute(input: number): number {", "  return input + 1;", "}", ""),
    },
    // The unused import is left to the import recipes.
    clean: lines(
      'import { unused } from "../lib";',
      "",
      "export function compute(input: number): number {",
      "  const doubled = input * 2;",
      "  return doubled + 1;",
      "}",
    ),
  },
  {
    id: "ts/add-override",
    hit: {
      before: lines(
        "class Base {",
        "  greet(): string {",
        '    return "hi";',
        "  }",
        "}",
        "",
        "export class Child extends Base {",
        "  greet(): string {",
        '    return "hello";',
        "  }",
        "}",
      ),
      after: lines(
        "class Base {",
        "  greet(): string {",
        '    return "hi";',
        "  }",
        "}",
        "",
        "export class Child extends Base {",
        "  override greet(): string {",
        '    return "hello";',
        "  }",
        "}",
      ),
    },
    clean: lines(
      "class Base {",
      "  greet(): string {",
      '    return "hi";',
      "  }",
      "}",
      "",
      "export class Child extends Base {",
      "  override greet(): string {",
      '    return "hello";',
      "  }",
      "  wave(): string {",
      '    return "o/";',
      "  }",
      "}",
    ),
  },
  {
    id: "ts/type-only-imports",
    hit: {
      before: lines(
        'import { area, Shape } from "../lib";',
        'import { Shape as S2 } from "../lib";',
        "",
        "export const a: Shape = { w: 1 };",
        "export const n = area(a);",
        "export let s: S2 | undefined;",
      ),
      after: lines(
        'import { area, type Shape } from "../lib";',
        'import type { Shape as S2 } from "../lib";',
        "",
        "export const a: Shape = { w: 1 };",
        "export const n = area(a);",
        "export let s: S2 | undefined;",
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
    id: "ts/add-missing-await",
    hit: {
      before: lines(
        "async function load(): Promise<number> {",
        "  return 1;",
        "}",
        "",
        "export async function run(): Promise<number> {",
        "  const value = load();",
        "  return value + 1;",
        "}",
      ),
      after: lines(
        "async function load(): Promise<number> {",
        "  return 1;",
        "}",
        "",
        "export async function run(): Promise<number> {",
        "  const value = await load();",
        "  return value + 1;",
        "}",
      ),
    },
    // A type error with a generic code that no await can fix is not a finding.
    clean: lines(
      "async function load(): Promise<number> {",
      "  return 1;",
      "}",
      "",
      "export async function run(): Promise<number> {",
      "  const value = await load();",
      '  const label: number = "x";',
      "  return value + label;",
      "}",
    ),
  },
  {
    id: "ts/remove-unnecessary-await",
    hit: {
      before: lines("export async function run(): Promise<number> {", "  const n = await 42;", "  return n;", "}"),
      after: lines("export async function run(): Promise<number> {", "  const n = 42;", "  return n;", "}"),
    },
    clean: lines(
      "export async function run(p: Promise<number>): Promise<number> {",
      "  const n = await p;",
      "  return n;",
      "}",
    ),
  },
  {
    id: "ts/add-missing-imports",
    hit: {
      before: lines("export const total = sum(1, 2);"),
      after: lines('import { sum } from "../lib";', "", "export const total = sum(1, 2);"),
    },
    // Nothing in the repository exports this name, so there is nothing to import.
    clean: lines('import { sum } from "../lib";', "", "export const total = sum(1, 2) + notDeclaredAnywhere;"),
  },
  {
    id: "ts/infer-types-from-usage",
    compilerOptions: { noImplicitAny: false },
    hit: {
      before: lines("export function double(value) {", "  return value * 2;", "}"),
      after: lines("export function double(value: number) {", "  return value * 2;", "}"),
    },
    clean: lines("export function double(value: number) {", "  return value * 2;", "}"),
  },
  {
    id: "ts/remove-unreachable-code",
    hit: {
      before: lines("export function f(): number {", "  return 1;", "  const x = 2;", "  return x;", "}"),
      after: lines("export function f(): number {", "  return 1;", "}"),
    },
    clean: lines(
      "export function f(flag: boolean): number {",
      "  if (flag) return 1;",
      "  const x = 2;",
      "  return x;",
      "}",
    ),
  },
  {
    id: "ts/remove-unused-labels",
    hit: {
      before: lines(
        "export function f(items: number[]): number {",
        "  let total = 0;",
        "  outer: for (const item of items) {",
        "    total += item;",
        "  }",
        "  return total;",
        "}",
      ),
      after: lines(
        "export function f(items: number[]): number {",
        "  let total = 0;",
        "  for (const item of items) {",
        "    total += item;",
        "  }",
        "  return total;",
        "}",
      ),
    },
    clean: lines(
      "export function f(rows: number[][]): number {",
      "  let total = 0;",
      "  outer: for (const row of rows) {",
      "    for (const cell of row) {",
      "      if (cell < 0) break outer;",
      "      total += cell;",
      "    }",
      "  }",
      "  return total;",
      "}",
    ),
  },
  // Code fixes that repair type errors of the baseline.
  {
    id: "ts/fix-spelling",
    hit: {
      before: lines(
        'import { sum } from "../lib";',
        "export function f(text: string): number {",
        "  return sum(text.lenght, 1);",
        "}",
      ),
      after: lines(
        'import { sum } from "../lib";',
        "export function f(text: string): number {",
        "  return sum(text.length, 1);",
        "}",
      ),
    },
    clean: lines(
      'import { sum } from "../lib";',
      "export function f(text: string): number {",
      "  return sum(text.length, 1);",
      "}",
    ),
  },
  {
    id: "ts/remove-invalid-override",
    hit: {
      before: lines(
        "class Base {",
        "  run(): void {}",
        "}",
        "export class Child extends Base {",
        "  override stop(): void {}",
        "}",
      ),
      after: lines(
        "class Base {",
        "  run(): void {}",
        "}",
        "export class Child extends Base {",
        "  stop(): void {}",
        "}",
      ),
    },
    clean: lines(
      "class Base {",
      "  run(): void {}",
      "}",
      "export class Child extends Base {",
      "  override run(): void {}",
      "  stop(): void {}",
      "}",
    ),
  },
  {
    id: "ts/add-async-for-await",
    hit: {
      before: lines("export function load(p: Promise<number>) {", "  const n = await p;", "  return n + 1;", "}"),
      after: lines("export async function load(p: Promise<number>) {", "  const n = await p;", "  return n + 1;", "}"),
    },
    clean: lines("export async function load(p: Promise<number>) {", "  const n = await p;", "  return n + 1;", "}"),
  },
  {
    id: "ts/add-missing-new",
    hit: {
      before: lines("class Counter {", "  n = 0;", "}", "export const c = Counter();"),
      after: lines("class Counter {", "  n = 0;", "}", "export const c = new Counter();"),
    },
    clean: lines("class Counter {", "  n = 0;", "}", "export const c = new Counter();"),
  },
  {
    id: "ts/convert-through-unknown",
    hit: {
      before: lines("export function f(s: string): number {", "  return s as number;", "}"),
      after: lines("export function f(s: string): number {", "  return s as unknown as number;", "}"),
    },
    clean: lines("export function f(s: string | number): number {", "  return s as number;", "}"),
  },
  {
    id: "ts/add-void-to-promise",
    hit: {
      before: lines("export const done = new Promise((resolve) => {", "  resolve();", "});"),
      after: lines("export const done = new Promise<void>((resolve) => {", "  resolve();", "});"),
    },
    clean: lines("export const done = new Promise<void>((resolve) => {", "  resolve();", "});"),
  },
];

describe("ts-codefix recipes", () => {
  it("has a case for every ts-codefix recipe of the catalog", () => {
    const ids = RECIPES.filter((r) => r.family === "ts-codefix").map((r) => r.id);
    expect(cases.map((c) => c.id).sort()).toEqual([...ids].sort());
  });
  describeRecipeCases(cases);
});

describe("ts-codefix language service", () => {
  let fixture: Fixture;
  const hit = lines('import { used, unused } from "./lib";', "", "export const value = used + 1;");

  beforeAll(() => {
    fixture = createFixture({ ...LIB, "hit.ts": hit });
  });
  afterAll(() => fixture.cleanup());

  it("keeps one language service per root and reuses its program while contents are unchanged", async () => {
    await planRecipe(fixture.ws, recipe("ts/remove-unused-imports"));
    const project = projectFor(fixture.ws);
    const program = project.service.getProgram();
    await tsCodefixFamily.findings(fixture.ws, [recipe("ts/add-override")], fixture.ws.files);
    expect(projectFor(fixture.ws)).toBe(project);
    expect(project.service.getProgram()).toBe(program);
  });

  it("sees contents given through read, and sees them change back", async () => {
    const rule = [recipe("ts/remove-unused-imports")];
    expect(await tsCodefixFamily.findings(fixture.ws, rule, ["hit.ts"])).toHaveLength(1);
    const patched = fixture.withOverrides({
      "hit.ts": lines('import { used } from "./lib";', "export const v = used;"),
    });
    expect(await tsCodefixFamily.findings(patched, rule, ["hit.ts"])).toEqual([]);
    expect(await tsCodefixFamily.findings(fixture.ws, rule, ["hit.ts"])).toEqual([
      {
        file: "hit.ts",
        line: 1,
        column: 16,
        rule: "TS6133",
        message: "'unused' is declared but its value is never read.",
        recipeId: "ts/remove-unused-imports",
      },
    ]);
  });

  it("returns the findings of several recipes in one call", async () => {
    const findings = await tsCodefixFamily.findings(
      fixture.withOverrides({
        "hit.ts": lines(
          'import { used, unused } from "./lib";',
          "class A {",
          "  m(): number {",
          "    return used;",
          "  }",
          "}",
          "export class B extends A {",
          "  m(): number {",
          "    return 2;",
          "  }",
          "}",
        ),
      }),
      [recipe("ts/remove-unused-imports"), recipe("ts/add-override"), recipe("eslint/prefer-const")],
      ["hit.ts", "lib.ts"],
    );
    expect(findings.map((f) => `${f.rule}@${f.line}`)).toEqual(["TS6133@1", "TS4114@8"]);
  });

  it("gives one file another text for a program at a time, and the next sync puts the workspace's back", () => {
    const project = projectFor(fixture.ws);
    const textOf = (program: ReturnType<typeof project.programWith>, rel: string) =>
      program?.getSourceFile(project.abs(rel))?.text;
    const lib = fixture.ws.read("lib.ts");
    const first = project.programWith("hit.ts", "export const value = 1;\n");
    expect(textOf(first, "hit.ts")).toBe("export const value = 1;\n");
    // Another file's turn: hit.ts has its workspace text again.
    const second = project.programWith("lib.ts", `${lib}export const more = 2;\n`);
    expect(textOf(second, "hit.ts")).toBe(hit);
    expect(textOf(second, "lib.ts")).toBe(`${lib}export const more = 2;\n`);
    expect(project.programWith("outside.ts", "")).toBeUndefined();
    const synced = projectFor(fixture.ws).service.getProgram();
    expect([textOf(synced, "hit.ts"), textOf(synced, "lib.ts")]).toEqual([hit, lib]);
  });

  it("releases the language service on dispose", () => {
    const project = projectFor(fixture.ws);
    tsCodefixFamily.dispose?.(fixture.ws.root);
    expect(projectFor(fixture.ws)).not.toBe(project);
  });
});

describe("ts-codefix without a tsconfig", () => {
  it("analyses the workspace files with a strict default configuration", async () => {
    const fixture = createFixture(
      { ...LIB, "src/app.ts": lines('import { used, unused } from "../lib";', "export const v = used;") },
      { compilerOptions: false },
    );
    try {
      const result = await planRecipe(fixture.ws, recipe("ts/remove-unused-imports"));
      expect(result.edits).toEqual([
        {
          path: "src/app.ts",
          before: fixture.ws.read("src/app.ts"),
          after: lines('import { used } from "../lib";', "export const v = used;"),
        },
      ]);
    } finally {
      fixture.cleanup();
    }
  });
});

describe("ts-codefix errors", () => {
  it("raises a RecipeError naming the recipe when the tsconfig cannot be read", async () => {
    const fixture = createFixture({ "a.ts": "export const a = 1;\n" });
    try {
      const ws = { ...fixture.ws, tsconfigPath: `${fixture.ws.root}/missing/tsconfig.json` };
      const error = await planRecipe(ws, recipe("ts/add-override")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RecipeError);
      expect((error as RecipeError).recipeId).toBe("ts/add-override");
    } finally {
      fixture.cleanup();
    }
  });

  it("raises a RecipeError for a recipe with invalid params", async () => {
    const fixture = createFixture({ "a.ts": "export const a = 1;\n" });
    try {
      const bad = { ...recipe("ts/add-override"), id: "ts/bad", params: { kind: "codefix", fixId: "x", codes: [] } };
      await expect(planRecipe(fixture.ws, bad)).rejects.toBeInstanceOf(RecipeError);
    } finally {
      fixture.cleanup();
    }
  });
});

describe("ts-codefix where TypeScript's combined fix fails", () => {
  it("fixes the findings one at a time: `import type` for a declaration of types only, `type` for a mixed one", async () => {
    const fixture = createFixture(
      {
        "types.ts": "export type A = 1;\nexport type B = 2;\nexport const c = 3;\n",
        "src/only-types.ts": 'import { A, B } from "../types";\n\nexport const x: A | B = 1;\n',
        "src/mixed.ts": 'import { A, c } from "../types";\n\nexport const y: A = c === 3 ? 1 : 1;\n',
      },
      { compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", verbatimModuleSyntax: true } },
    );
    try {
      const project = projectFor(fixture.ws);
      const abs = project.abs("src/only-types.ts");
      // The combined fix trips over its own changes here (TypeScript's assertion, not ours).
      expect(() =>
        project.service.getCombinedCodeFix({ type: "file", fileName: abs }, "convertToTypeOnlyImport", {}, {}),
      ).toThrow(/Changes overlap/);
      const plan = await planRecipe(fixture.ws, recipe("ts/type-only-imports"));
      expect(plan.skipped).toEqual([]);
      expect(Object.fromEntries(plan.edits.map((e) => [e.path, e.after]))).toEqual({
        "src/mixed.ts": 'import { type A, c } from "../types";\n\nexport const y: A = c === 3 ? 1 : 1;\n',
        "src/only-types.ts": 'import type { A, B } from "../types";\n\nexport const x: A | B = 1;\n',
      });
      // After the fix, nothing is left for the recipe to find.
      const after = fixture.withOverrides(Object.fromEntries(plan.edits.map((e) => [e.path, e.after])));
      expect(await tsCodefixFamily.findings(after, [recipe("ts/type-only-imports")], after.files)).toEqual([]);
    } finally {
      fixture.cleanup();
    }
  });
});
