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
import { createHash } from "node:crypto";
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
  if (existsSync(pkg)) texts.push(["package.json", testSettings(readFileSync(pkg, "utf8"), commandLines)]);
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

/**
 * What of package.json can make the tests type-check: the scripts the test command runs (through npm, pnpm or yarn,
 * and the scripts those run), the runners' settings it holds, and a dependency on a compiler a runner loads by
 * configuration (ts-jest, ts-node). Not its other scripts (a separate `typecheck` script is not part of the tests)
 * nor its other dependencies: a type assertion library (expect-type) type-checks nothing unless a checker runs.
 * Unreadable JSON is taken whole.
 */
function testSettings(text: string, commandLines: readonly string[]): string {
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return text;
  }
  if (typeof pkg !== "object" || pkg === null) return text;
  const deps = { ...(pkg.dependencies as object | undefined), ...(pkg.devDependencies as object | undefined) };
  const loaded = ["ts-jest", "ts-node"].filter((name) => Object.hasOwn(deps, name));
  const scripts = (typeof pkg.scripts === "object" && pkg.scripts !== null ? pkg.scripts : {}) as Record<
    string,
    unknown
  >;
  return JSON.stringify([loaded, ranScripts(scripts, commandLines), pkg.jest, pkg.mocha, pkg.ava]);
}

/** A package manager running a script: `npm test`, `npm run x`, `pnpm x`, `yarn run x`, `run-s x y`. */
const SCRIPT_CALL =
  /\b(?:npm|pnpm|yarn|bun)\s+(?:run(?:-script)?\s+|-s\s+)?([\w:.-]+)|\b(?:run-s|run-p|npm-run-all)((?:\s+[\w:.*-]+)+)/g;

/** The texts of the scripts the lines run, and of the scripts those run. */
function ranScripts(scripts: Record<string, unknown>, lines: readonly string[]): string[] {
  const texts: string[] = [];
  const seen = new Set<string>();
  const queue = [...lines];
  for (let line = queue.shift(); line !== undefined; line = queue.shift()) {
    for (const m of line.matchAll(SCRIPT_CALL)) {
      const names = m[1] !== undefined ? [m[1] === "t" ? "test" : m[1]] : (m[2] ?? "").trim().split(/\s+/);
      for (const name of names) {
        const text = scripts[name];
        if (seen.has(name) || typeof text !== "string") continue;
        seen.add(name);
        texts.push(text);
        queue.push(text);
      }
    }
  }
  return texts;
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

/** Compiles one file as the tests' runner would (see {@link emitOptions}); a file's text is compiled once. */
export type Compile = (path: string, text: string) => string;

/** A {@link Compile} with the given options that remembers its most recent results (a file's original text recurs). */
export function compiler(options: ts.CompilerOptions, keep = 256): Compile {
  const cache = new Map<string, string>();
  return (path, text) => {
    const key = `${path}\u0000${createHash("sha256").update(text).digest("hex")}`;
    let out = cache.get(key);
    if (out === undefined) {
      out = ts.transpileModule(text, { compilerOptions: options, fileName: path, reportDiagnostics: false }).outputText;
      if (cache.size >= keep) cache.delete(cache.keys().next().value as string);
      cache.set(key, out);
    }
    return out;
  };
}

/** A changed file whose JavaScript can stand for it: TypeScript (not a declaration file) before and after. */
function compilable(f: ChangedFile): boolean {
  return TYPESCRIPT_FILE.test(f.path) && !f.path.endsWith(".d.ts") && f.before !== "" && f.after !== "";
}

/**
 * True when every changed file is TypeScript that compiles to the same JavaScript before and after (comments
 * included); any other changed file (JavaScript, JSON, a new or removed file) counts as a change.
 */
export function sameEmittedJavaScript(files: readonly ChangedFile[], compile: Compile): boolean {
  if (files.length === 0) return false;
  for (const f of files) {
    if (!compilable(f)) return false;
    if (f.before !== f.after && compile(f.path, f.before) !== compile(f.path, f.after)) return false;
  }
  return true;
}

/**
 * What the tests would run after a change, as a key: the JavaScript of each changed file whose JavaScript changed
 * (files that compile as before leave the code under test as it was). Two changes with the same key give the tests
 * the same code, so one run stands for both (twin recipes of two tools, a fix written two ways). Null when some
 * changed file cannot be compiled on its own (see {@link sameEmittedJavaScript}) or nothing changes.
 */
export function emittedJavaScriptKey(files: readonly ChangedFile[], compile: Compile): string | null {
  const h = createHash("sha256");
  let changed = 0;
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if (!compilable(f)) return null;
    const after = compile(f.path, f.after);
    if (f.before === f.after || compile(f.path, f.before) === after) continue;
    h.update(f.path).update("\u0000").update(after).update("\u0000");
    changed++;
  }
  return changed === 0 ? null : h.digest("hex");
}
