/**
 * The language service's document registry across projects: TypeScript's lib files stay parsed for the next
 * project; a checkout's own files (its sources, its dependencies' declarations) do not; what is kept is parsed again
 * when it changed on disk, and let go beyond the registry's budget.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { afterEach, describe, expect, it } from "vitest";
import { disposeProject, projectFor, retainingRegistry } from "../../src/recipes/shared/ts-project.js";
import { createFixture, type Fixture } from "./fixture.js";

const DEP = "node_modules/dep/index.d.ts";

let fixture: Fixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

/** A repository whose one source file imports a dependency's declarations from its node_modules. */
function repoWithDependency(): Fixture {
  fixture = createFixture({
    "src/use.ts": 'import { dep } from "dep";\nexport const value: number = dep(1);\n',
    "node_modules/dep/package.json": JSON.stringify({ name: "dep", types: "index.d.ts" }),
  });
  writeFileSync(path.join(fixture.ws.root, DEP), "export declare function dep(n: number): number;\n");
  return fixture;
}

/** A fresh project's program (the one before is disposed, as at the end of a cycle). */
function freshProgram(f: Fixture): ts.Program {
  disposeProject(f.ws.root);
  const program = projectFor(f.ws).service.getProgram();
  if (!program) throw new Error("no program");
  return program;
}

const fileOf = (program: ts.Program, suffix: string): ts.SourceFile => {
  const sf = program.getSourceFiles().find((s) => s.fileName.endsWith(suffix));
  if (!sf) throw new Error(`no ${suffix} in the program`);
  return sf;
};

describe("the document registry across projects", () => {
  it("keeps TypeScript's lib files parsed for the next project; the checkout's sources and dependencies are not kept", () => {
    const f = repoWithDependency();
    const first = freshProgram(f);
    const [dep, lib, own] = [fileOf(first, DEP), fileOf(first, "lib.es5.d.ts"), fileOf(first, "src/use.ts")];
    const second = freshProgram(f);
    expect(fileOf(second, "lib.es5.d.ts")).toBe(lib);
    // A dependency's declarations may augment other modules, and then hold the whole program once checked.
    expect(fileOf(second, DEP)).not.toBe(dep);
    expect(fileOf(second, "src/use.ts")).not.toBe(own);
    expect(second.getSemanticDiagnostics()).toEqual([]);
  });

  it("parses a kept file again when it changed on disk: the next project sees the new declarations", () => {
    const f = repoWithDependency();
    // A registry that keeps this checkout's dependency, to see the version check at work.
    const registry = retainingRegistry(1_000_000, undefined, (name) => name.endsWith(DEP));
    const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022 };
    const key = registry.getKeyForCompilationSettings(options);
    const file = path.join(f.ws.root, DEP);
    const acquire = (text: string, version: string) =>
      registry.acquireDocumentWithKey(file, file as ts.Path, options, key, ts.ScriptSnapshot.fromString(text), version);
    const before = acquire("export declare function dep(n: number): number;\n", "a");
    registry.releaseDocumentWithKey(file as ts.Path, key, ts.ScriptKind.TS, before.impliedNodeFormat);
    expect(registry.retained()).toBe(1);
    expect(acquire("export declare function dep(n: number): number;\n", "a")).toBe(before);
    const changed = acquire("export declare function dep(n: string): number;\n", "b");
    expect(changed).not.toBe(before);
    expect(changed.text).toContain("n: string");
  });

  it("a checkout's changed dependency is seen by the next project", () => {
    const f = repoWithDependency();
    freshProgram(f);
    writeFileSync(path.join(f.ws.root, DEP), "export declare function dep(n: string): number;\n");
    const program = freshProgram(f);
    expect(fileOf(program, DEP).text).toContain("n: string");
    const messages = program.getSemanticDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.messageText, ""));
    expect(messages.join("\n")).toMatch(/not assignable to parameter of type 'string'/);
  });

  it("keeps at most its budget of text once no project uses the files, least recently used let go first", () => {
    const registry = retainingRegistry(1000, undefined, (name) => name.includes("/node_modules/"));
    const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022 };
    const key = registry.getKeyForCompilationSettings(options);
    const acquire = (name: string, text: string) =>
      registry.acquireDocumentWithKey(name, name as ts.Path, options, key, ts.ScriptSnapshot.fromString(text), "1");
    const release = (sf: ts.SourceFile) =>
      registry.releaseDocumentWithKey(sf.fileName as ts.Path, key, ts.ScriptKind.TS, sf.impliedNodeFormat);
    const text = (n: number) => `export declare const v${n}: number;${" ".repeat(400)}\n`;
    const names = [1, 2, 3].map((n) => `/repo/node_modules/p${n}/index.d.ts`);
    const first = names.map((name, i) => acquire(name, text(i)));
    for (const sf of first) release(sf);
    // Three files of ~440 characters against a budget of 1000: the first was let go, the other two are kept.
    expect(registry.retained()).toBe(2);
    expect(acquire(names[2] as string, text(2))).toBe(first[2]);
    expect(acquire(names[0] as string, text(0))).not.toBe(first[0]);
    // Outside a node_modules nothing is kept: the last project's release ends the file.
    const own = acquire("/repo/src/a.ts", text(9));
    release(own);
    expect(acquire("/repo/src/a.ts", text(9))).not.toBe(own);
  });
});
