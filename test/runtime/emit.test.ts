/** The emitted-JavaScript comparison that lets a candidate skip its test run, with the product's real TypeScript. */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  compiler,
  emitOptions,
  emittedJavaScriptKey,
  sameEmittedJavaScript,
  typeCheckingInTests,
} from "../../src/runtime/emit.js";
import { removeTempDirs, tempDir, writeRepo } from "../helpers/engine.js";

afterAll(() => removeTempDirs());

const change = (before: string, after: string, path = "src/a.ts") => [{ path, before, after }];

describe("sameEmittedJavaScript", () => {
  const compile = compiler(emitOptions("/nonexistent"));

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
    for (const [before, after] of cases) expect(sameEmittedJavaScript(change(before, after), compile)).toBe(true);
  });

  it("fails for changes the JavaScript keeps, const enum values and non-TypeScript files included", () => {
    const cases: [string, string][] = [
      ["let n = 1;\nexport { n };\n", "const n = 1;\nexport { n };\n"],
      ["export const f = (c?: { h: number }) => c && c.h;\n", "export const f = (c?: { h: number }) => c?.h;\n"],
      ["export const enum E { A = 1 }\n", "export const enum E { A = 2 }\n"],
      ["// one\nexport const a = 1;\n", "// two\nexport const a = 1;\n"],
    ];
    for (const [before, after] of cases) expect(sameEmittedJavaScript(change(before, after), compile)).toBe(false);
    expect(sameEmittedJavaScript(change("const a = 1;\n", "const a = 1; \n", "src/a.js"), compile)).toBe(false);
    expect(sameEmittedJavaScript(change("", "export type A = 1;\n"), compile)).toBe(false);
    expect(sameEmittedJavaScript([], compile)).toBe(false);
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
    expect(sameEmittedJavaScript(change(before, after), compiler(emitOptions(dir)))).toBe(false);
    expect(sameEmittedJavaScript(change(before, after), compiler(emitOptions("/nonexistent")))).toBe(true);
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

    // An assertion library for types is checked only by a checker the tests do not run here.
    const types = join(tempDir(), "types");
    writeRepo(types, {
      "package.json": JSON.stringify({
        scripts: { test: "vitest run" },
        devDependencies: { "expect-type": "1", tsd: "0" },
      }),
    });
    expect(typeCheckingInTests(types, ["vitest run"])).toBeNull();
    // A script the tests run counts (and the scripts it runs); a type-check script of its own does not.
    const scripted = join(tempDir(), "scripted");
    writeRepo(scripted, {
      "package.json": JSON.stringify({
        scripts: { test: "vitest run && npm run types", types: "tsd", check: "tsgo --noEmit" },
        devDependencies: { tsd: "0" },
      }),
    });
    expect(typeCheckingInTests(scripted, ["npm test"])).toBe("package.json names tsd");
    expect(typeCheckingInTests(scripted, ["vitest run"])).toBeNull();
    expect(typeCheckingInTests(scripted, ["pnpm check"])).toBe("package.json names tsgo");

    const typecheck = join(tempDir(), "typecheck");
    writeRepo(typecheck, {
      "package.json": "{}",
      "vitest.config.ts": "export default { test: { typecheck: { enabled: true } } };\n",
    });
    expect(typeCheckingInTests(typecheck, ["vitest run"])).toBe("vitest.config.ts names typecheck");
  });
});

describe("emittedJavaScriptKey", () => {
  const compile = compiler(emitOptions("/nonexistent"));
  const before = 'export const greet = (name: string) => "hi " + name;\nexport const n: number = 1;\n';

  it("is the same for two changes that write the same JavaScript, however the TypeScript differs", () => {
    const eslintWay = `export const greet = (name: string) => \`hi \${name}\`;\nexport const n: number = 1;\n`;
    // Another tool's fix of the same line, plus an erased annotation: the tests would run the same code.
    const biomeWay = `export const greet = (name: string): string => \`hi \${name}\`;\nexport const n = 1;\n`;
    const a = emittedJavaScriptKey(change(before, eslintWay), compile);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(emittedJavaScriptKey(change(before, biomeWay), compile)).toBe(a);
    // A file whose JavaScript stays as it was does not make the change another one.
    const withErasedOnly = [
      ...change(before, eslintWay),
      ...change("let x: number = 1;\n", "let x = 1;\n", "src/b.ts"),
    ];
    expect(emittedJavaScriptKey(withErasedOnly, compile)).toBe(a);
  });

  it("differs when the JavaScript differs, and is null where the JavaScript cannot stand for the change", () => {
    const a = emittedJavaScriptKey(change(before, before.replace('"hi "', '"hello "')), compile);
    const b = emittedJavaScriptKey(change(before, before.replace('"hi "', '"hey "')), compile);
    expect(a).not.toBeNull();
    expect(b).not.toBe(a);
    // The same JavaScript in another file is another change.
    const moved = emittedJavaScriptKey(change(before, before.replace('"hi "', '"hello "'), "src/c.ts"), compile);
    expect(moved).not.toBe(a);
    expect(emittedJavaScriptKey(change("const a = 1;\n", "const a = 2;\n", "src/a.js"), compile)).toBeNull();
    expect(emittedJavaScriptKey(change("", "export const a = 1;\n"), compile)).toBeNull();
    expect(emittedJavaScriptKey(change("let n: number = 1;\n", "let n = 1;\n"), compile)).toBeNull();
  });
});
