/**
 * Reads the module specifiers of source files, to test which parts of src/ a part may import: statically, as a
 * type, a re-export, `import x = require()` or a dynamic import() (a computed module name is refused as well).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";

const ROOT = resolve(import.meta.dirname, "../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(?:[cm]?ts|[cm]?js)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The source files under `src/<part>`, recursively. */
export function partFiles(part: string): string[] {
  return sourceFiles(join(ROOT, "src", part));
}

/** Every module specifier of a file: imports, re-exports, `import x = require()`, `import()` and `require()`. */
export function specifiers(file: string, text: string): string[] {
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

/**
 * The imports of every file under `src/<part>` that reach one of the `forbidden` folders of src/, as
 * "src/part/file.ts imports ../x/y.js (src/x)" lines; empty when there is none.
 */
export function forbiddenImports(part: string, forbidden: readonly string[]): string[] {
  const dirs = forbidden.map((d) => join(ROOT, "src", d));
  const files = partFiles(part);
  if (files.length === 0) throw new Error(`src/${part} has no source files`);
  return files.flatMap((file) =>
    specifiers(file, readFileSync(file, "utf8")).flatMap((spec) => {
      if (spec.startsWith("<computed")) return [`${relative(ROOT, file)} imports ${spec}`];
      if (!spec.startsWith(".")) return [];
      const target = resolve(join(file, ".."), spec);
      const hit = dirs.find((d) => target === d || target.startsWith(`${d}/`));
      return hit ? [`${relative(ROOT, file)} imports ${spec} (src/${relative(join(ROOT, "src"), hit)})`] : [];
    }),
  );
}
