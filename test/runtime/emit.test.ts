/** The emitted-JavaScript comparison that lets a candidate skip its test run, with the product's real TypeScript. */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { emitOptions, sameEmittedJavaScript, typeCheckingInTests } from "../../src/runtime/emit.js";
import { removeTempDirs, tempDir, writeRepo } from "../helpers/engine.js";

afterAll(() => removeTempDirs());

const change = (before: string, after: string, path = "src/a.ts") => [{ path, before, after }];

describe("sameEmittedJavaScript", () => {
  const options = emitOptions("/nonexistent");

  it("holds for changes TypeScript erases", () => {
    const cases: [string, string][] = [
      ["const n: number = 1;\nexport { n };\n", "const n = 1;\nexport { n };\n"],
      [
        'import { T } from "./t";\nexport const x = (v: T) => v;\n',
        'import type { T } from "./t";\nexport const x = (v: T) => v;\n',
      ],
      ["export const xs: Array<string> = [];\n", "export const xs: string[] = [];\n"],
      ["export interface P { a: number }\n", "export type P = { a: number };\n"],
    ];
    for (const [before, after] of cases) expect(sameEmittedJavaScript(change(before, after), options)).toBe(true);
  });

  it("fails for changes the JavaScript keeps, const enum values and non-TypeScript files included", () => {
    const cases: [string, string][] = [
      ["let n = 1;\nexport { n };\n", "const n = 1;\nexport { n };\n"],
      ["export const f = (c?: { h: number }) => c && c.h;\n", "export const f = (c?: { h: number }) => c?.h;\n"],
      ["export const enum E { A = 1 }\n", "export const enum E { A = 2 }\n"],
      ["// one\nexport const a = 1;\n", "// two\nexport const a = 1;\n"],
    ];
    for (const [before, after] of cases) expect(sameEmittedJavaScript(change(before, after), options)).toBe(false);
    expect(sameEmittedJavaScript(change("const a = 1;\n", "const a = 1; \n", "src/a.js"), options)).toBe(false);
    expect(sameEmittedJavaScript(change("", "export type A = 1;\n"), options)).toBe(false);
    expect(sameEmittedJavaScript([], options)).toBe(false);
  });

  it("compiles with the repository's options (a decorator's metadata depends on the annotation)", () => {
    const dir = join(tempDir(), "decorators");
    writeRepo(dir, {
      "tsconfig.json": JSON.stringify({
        compilerOptions: { experimentalDecorators: true, emitDecoratorMetadata: true },
      }),
      "src/a.ts": "export {};\n",
    });
    const before = "declare const d: any;\nexport class C { @d n: number = 1; }\n";
    const after = "declare const d: any;\nexport class C { @d n = 1; }\n";
    expect(sameEmittedJavaScript(change(before, after), emitOptions(dir))).toBe(false);
    expect(sameEmittedJavaScript(change(before, after), emitOptions("/nonexistent"))).toBe(true);
  });
});

describe("typeCheckingInTests", () => {
  it("names what type-checks: the command, package.json, a runner's configuration", () => {
    const plain = join(tempDir(), "plain");
    writeRepo(plain, {
      "package.json": JSON.stringify({ devDependencies: { vitest: "4" } }),
      "vitest.config.ts": "export default {};\n",
    });
    expect(typeCheckingInTests(plain, ["vitest run"])).toBeNull();
    expect(typeCheckingInTests(plain, ["tsc -p . && node --test"])).toBe("the test command runs tsc");

    const jest = join(tempDir(), "jest");
    writeRepo(jest, { "package.json": JSON.stringify({ devDependencies: { "ts-jest": "29" } }) });
    expect(typeCheckingInTests(jest, ["jest"])).toBe("package.json names ts-jest");

    const typecheck = join(tempDir(), "typecheck");
    writeRepo(typecheck, {
      "package.json": "{}",
      "vitest.config.ts": "export default { test: { typecheck: { enabled: true } } };\n",
    });
    expect(typeCheckingInTests(typecheck, ["vitest run"])).toBe("vitest.config.ts names typecheck");
  });
});
