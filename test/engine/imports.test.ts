/**
 * The engine depends on its ports only: no file under src/engine/ imports the database, GitHub, the queue, the
 * sandbox or the workspace, statically, as a type, a re-export or a dynamic import().
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const ENGINE = join(ROOT, "src/engine");
const FORBIDDEN = ["db", "github", "queue", "sandbox", "workspace"].map((d) => join(ROOT, "src", d));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(?:[cm]?ts|[cm]?js)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Every module specifier of a file: imports, re-exports, `import x = require()`, `import()` and `require()`. */
function specifiers(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteralLike(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteralLike(e)) out.push(e.text);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const dynamic =
        callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === "require");
      const [arg] = node.arguments;
      if (dynamic && arg) out.push(ts.isStringLiteralLike(arg) ? arg.text : `<computed: ${arg.getText(source)}>`);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg) && ts.isStringLiteralLike(arg.literal)) out.push(arg.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function violations(file: string): string[] {
  return specifiers(file, readFileSync(file, "utf8")).flatMap((spec) => {
    // A module name the file computes cannot be checked: refused as well.
    if (spec.startsWith("<computed")) return [`${relative(ROOT, file)} imports ${spec}`];
    if (!spec.startsWith(".")) return [];
    const target = resolve(join(file, ".."), spec);
    const hit = FORBIDDEN.find((d) => target === d || target.startsWith(`${d}/`));
    return hit ? [`${relative(ROOT, file)} imports ${spec} (src/${relative(join(ROOT, "src"), hit)})`] : [];
  });
}

describe("src/engine's imports", () => {
  it("reads every kind of import", () => {
    const text = [
      'import a from "./a.js";',
      'import type { B } from "./b.js";',
      'export { c } from "./c.js";',
      'import d = require("./d.js");',
      'const e = await import("./e.js");',
      'type F = import("./f.js").F;',
      "const g = await import(name);",
    ].join("\n");
    expect(specifiers("x.ts", text)).toEqual([
      "./a.js",
      "./b.js",
      "./c.js",
      "./d.js",
      "./e.js",
      "./f.js",
      "<computed: name>",
    ]);
  });

  it("reaches none of db, github, queue, sandbox, workspace", () => {
    const files = sourceFiles(ENGINE);
    expect(files.length).toBeGreaterThan(10);
    expect(files.flatMap(violations)).toEqual([]);
  });
});
