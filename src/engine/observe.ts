/**
 * Observe: what the repository is (files, tsconfig, strictness, size, tests) and how healthy it is at baseline
 * (TypeScript diagnostics, every recipe's findings, whether the tests pass).
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import ts from "typescript";
import type { RecipeWorkspace } from "../recipes/types.js";
import type { RepoFacts, TestStatus, TypeCheckCompiler } from "./types.js";

export class ObserveError extends Error {
  constructor(
    message: string,
    readonly root: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ObserveError";
  }
}

export interface TsconfigInfo {
  path: string | null;
  options: ts.CompilerOptions;
  /** Options as written (after `extends`), JSON-safe, for features and facts. */
  raw: Record<string, unknown>;
  /** Repository-relative files the tsconfig includes. */
  fileNames: string[];
  /**
   * Files the tsconfig includes (`include`, `files`) that lie outside the repository, as the tsconfig resolves
   * them: never candidates, never counted, and invisible to the sandboxed type checker.
   */
  outsideFiles: string[];
}

const TS_SOURCE = /\.(?:ts|tsx|mts|cts)$/;
const DECLARATION = /\.d\.(?:ts|mts|cts)$/;
const TEST_FILE = /(?:^|\/)(?:__tests__|tests?|spec)\/|\.(?:test|spec)\.[cm]?[jt]sx?$/;

function isSourceFile(path: string): boolean {
  return TS_SOURCE.test(path) && !DECLARATION.test(path);
}

function isTestFile(path: string): boolean {
  return TEST_FILE.test(path);
}

/**
 * The TypeScript sources a cycle works on: the tsconfig's files that the (safe) listing holds, or every listed
 * source file where there is no tsconfig.
 */
export function cycleSourceFiles(tsconfig: TsconfigInfo, listed: readonly string[]): string[] {
  const inListing = new Set(listed);
  return (tsconfig.path ? tsconfig.fileNames : listed).filter((f) => inListing.has(f) && isSourceFile(f));
}

/**
 * Reads the repository's tsconfig with our own TypeScript (a JSON file and what it extends: data, not code).
 * A broken tsconfig is an {@link ObserveError} that names the file and the problem.
 */
export function readTsconfig(root: string, files: readonly string[]): TsconfigInfo {
  const path = join(root, "tsconfig.json");
  if (!existsSync(path)) {
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    };
    return { path: null, options, raw: { strict: true }, fileNames: files.filter(isSourceFile), outsideFiles: [] };
  }
  const read = ts.readConfigFile(path, (p) => readFileSync(p, "utf8"));
  if (read.error) {
    throw new ObserveError(`tsconfig.json is not valid: ${flatten(read.error.messageText)}`, root);
  }
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, path);
  // "No inputs were found" (18003) is reported separately. An option or option value our TypeScript does not know
  // (5023, 5025, 6046: a newer TypeScript's, e.g. target es2025) is left unset by the parser and reported by the
  // type check, which says which compiler checked; other errors make the config unusable.
  const notFatal = new Set([18003, 5023, 5025, 6046]);
  const fatal = parsed.errors.filter((e) => e.category === ts.DiagnosticCategory.Error && !notFatal.has(e.code));
  if (fatal.length > 0) {
    const first = fatal[0] as ts.Diagnostic;
    throw new ObserveError(`tsconfig.json: ${flatten(first.messageText)}`, root);
  }
  const rel = (p: string) => relative(root, p).split(sep).join("/");
  const outside = (f: string) => f === ".." || f.startsWith("../") || isAbsolute(f);
  const fileNames = parsed.fileNames.map(rel);
  return {
    path,
    options: parsed.options,
    raw: jsonSafeOptions(parsed.options),
    fileNames: fileNames.filter((f) => !outside(f)),
    outsideFiles: parsed.fileNames.filter((_, i) => outside(fileNames[i] as string)),
  };
}

function jsonSafeOptions(options: ts.CompilerOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if (typeof v === "boolean" || typeof v === "number" || typeof v === "string") out[k] = v;
  }
  return out;
}

function flatten(message: string | ts.DiagnosticMessageChain): string {
  return ts.flattenDiagnosticMessageText(message, " ");
}

/** A workspace view whose reads can be overridden (patched contents) without touching disk. */
export function createRecipeWorkspace(
  root: string,
  files: readonly string[],
  tsconfigPath: string | null,
  overrides: ReadonlyMap<string, string> = new Map(),
  cache: Map<string, string> = new Map(),
): RecipeWorkspace {
  return {
    root,
    files,
    ...(tsconfigPath ? { tsconfigPath } : {}),
    read(path: string) {
      const o = overrides.get(path);
      if (o !== undefined) return o;
      let c = cache.get(path);
      if (c === undefined) {
        c = readFileSync(join(root, path), "utf8");
        cache.set(path, c);
      }
      return c;
    },
  };
}

export interface FactsInput {
  files: readonly string[];
  sourceFiles: readonly string[];
  read: (path: string) => string;
  tsconfig: TsconfigInfo;
  typescriptVersion: string | null;
  typeCheck?: TypeCheckCompiler | null;
  testCommand: string | null;
  testsPassing: TestStatus;
  baselineDiagnostics: number;
  baselineLintFindings: number;
  packageJson: Record<string, unknown> | null;
}

export function readPackageJson(root: string): Record<string, unknown> | null {
  const p = join(root, "package.json");
  if (!existsSync(p)) return null;
  try {
    const v = JSON.parse(readFileSync(p, "utf8")) as unknown;
    return v && typeof v === "object" ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const FRAMEWORKS = ["next", "react", "vue", "svelte", "@angular/core", "express", "fastify", "@nestjs/core", "vite"];

export function collectFacts(input: FactsInput): RepoFacts {
  const testFiles = input.files.filter(isTestFile);
  let linesOfCode = 0;
  for (const f of input.sourceFiles) {
    const text = input.read(f);
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) linesOfCode++;
  }
  const deps = {
    ...((input.packageJson?.dependencies as Record<string, string>) ?? {}),
    ...((input.packageJson?.devDependencies as Record<string, string>) ?? {}),
  };
  return {
    sourceFiles: input.sourceFiles.length,
    testFiles: testFiles.length,
    linesOfCode,
    hasTests: testFiles.length > 0 || input.testCommand !== null,
    testCommand: input.testCommand,
    testsPassing: input.testsPassing,
    strict: input.tsconfig.options.strict === true,
    compilerOptions: input.tsconfig.raw,
    typescriptVersion: input.typescriptVersion,
    typeCheck: input.typeCheck ?? null,
    baselineDiagnostics: input.baselineDiagnostics,
    baselineLintFindings: input.baselineLintFindings,
    framework: FRAMEWORKS.find((f) => f in deps) ?? null,
  };
}
