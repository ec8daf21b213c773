/**
 * Whether a candidate changes what the tests run. A change that compiles to the same JavaScript as the baseline
 * (an `import type`, a removed inferrable annotation, a type assertion) cannot change a test's result where the
 * tests run compiled JavaScript and nothing else: the baseline suite's pass stands for it, and its run is skipped.
 *
 * Each changed file is compiled on its own (ts.transpileModule, the way vitest, tsx, esbuild and ts-jest's
 * isolatedModules mode compile it) with the repository's options, and const enums kept, so a change to a const
 * enum's values shows even where another file would inline them. Where the tests also type-check (tsc or tsd in the
 * test command, ts-jest or ts-node, a runner's typecheck mode), identical JavaScript proves nothing and the tests run.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

export interface ChangedFile {
  path: string;
  before: string;
  after: string;
}

const TYPESCRIPT_FILE = /\.(ts|tsx|mts|cts)$/;
/** Words in the test command, package.json or a runner's configuration that mean the tests type-check. */
const TYPE_CHECKING = /\b(tsc|tsgo|vue-tsc|tsd|ts-node|ts-jest|typecheck|type-check|expect-type|tstyche)\b/;
const RUNNER_CONFIG = /^(jest|vitest|vite|ava|mocha)\.config\.|^\.mocharc|^\.ava\.|^jest\.|^vitest\.workspace/;

/** Why the tests may type-check the code, or null when they only run it. */
export function typeCheckingInTests(root: string, commandLines: readonly string[]): string | null {
  for (const line of commandLines) {
    const m = TYPE_CHECKING.exec(line);
    if (m) return `the test command runs ${m[1]}`;
  }
  const texts: [string, string][] = [];
  const pkg = join(root, "package.json");
  if (existsSync(pkg)) texts.push(["package.json", readFileSync(pkg, "utf8")]);
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    names = [];
  }
  for (const name of names.filter((n) => RUNNER_CONFIG.test(n))) {
    try {
      texts.push([name, readFileSync(join(root, name), "utf8")]);
    } catch {
      // a directory or an unreadable entry says nothing
    }
  }
  for (const [name, text] of texts) {
    const m = TYPE_CHECKING.exec(text);
    if (m) return `${name} names ${m[1]}`;
  }
  return null;
}

/** The repository's compiler options for a per-file compile (tsconfig.json at the root, if any). */
export function emitOptions(root: string): ts.CompilerOptions {
  const path = join(root, "tsconfig.json");
  let options: ts.CompilerOptions = {};
  if (existsSync(path)) {
    const read = ts.readConfigFile(path, (p) => readFileSync(p, "utf8"));
    if (!read.error) options = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, path).options;
  }
  const target = options.target ?? ts.ScriptTarget.ES5;
  return {
    ...options,
    // The newest syntax, as written: test runners compile for the running Node (esbuild, tsx), not for the
    // repository's target, and an old target would make `let` and `const` the same `var`. Class fields keep the
    // semantics the repository's target gives them.
    target: ts.ScriptTarget.ESNext,
    useDefineForClassFields: options.useDefineForClassFields ?? target >= ts.ScriptTarget.ES2022,
    noEmit: false,
    emitDeclarationOnly: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    inlineSourceMap: false,
    inlineSources: false,
    isolatedModules: true,
    preserveConstEnums: true,
  };
}

/**
 * True when every changed file is TypeScript that compiles to the same JavaScript before and after (comments
 * included); any other changed file (JavaScript, JSON, a new or removed file) counts as a change.
 */
export function sameEmittedJavaScript(files: readonly ChangedFile[], options: ts.CompilerOptions): boolean {
  if (files.length === 0) return false;
  for (const f of files) {
    if (!TYPESCRIPT_FILE.test(f.path) || f.path.endsWith(".d.ts") || f.before === "" || f.after === "") return false;
    if (f.before === f.after) continue;
    const emit = (text: string) =>
      ts.transpileModule(text, { compilerOptions: options, fileName: f.path, reportDiagnostics: false }).outputText;
    if (emit(f.before) !== emit(f.after)) return false;
  }
  return true;
}
