import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { getFamily } from "../../src/recipes/registry.js";
import type { RecipeWorkspace } from "../../src/recipes/types.js";

/** Compiler options of generated fixture repositories: strict, ESM, no ambient @types to load. */
const FIXTURE_COMPILER_OPTIONS = {
  target: "ES2022",
  module: "ESNext",
  moduleResolution: "Bundler",
  lib: ["ES2022"],
  types: [],
  strict: true,
  skipLibCheck: true,
  noEmit: true,
} as const;

export interface FixtureOptions {
  /** Extra or overriding compiler options; `false` writes no tsconfig at all. */
  compilerOptions?: Record<string, unknown> | false;
}

export interface Fixture {
  ws: RecipeWorkspace;
  /** The same repository seen with some files' contents replaced, as verification sees a patched tree. */
  withOverrides(overrides: Record<string, string>): RecipeWorkspace;
  cleanup(): void;
}

/**
 * Writes a small repository (tsconfig.json and sources) into a fresh temporary directory and returns a workspace
 * whose `read` serves the sources from memory.
 */
export function createFixture(files: Record<string, string>, options: FixtureOptions = {}): Fixture {
  const root = mkdtempSync(path.join(os.tmpdir(), "odavl-recipes-"));
  let tsconfigPath: string | undefined;
  if (options.compilerOptions !== false) {
    tsconfigPath = path.join(root, "tsconfig.json");
    const compilerOptions = { ...FIXTURE_COMPILER_OPTIONS, ...options.compilerOptions };
    writeFileSync(tsconfigPath, JSON.stringify({ compilerOptions, include: ["**/*"] }, null, 2));
  }
  for (const [rel, text] of Object.entries(files)) {
    const target = path.join(root, rel);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  const make = (contents: Map<string, string>): RecipeWorkspace => ({
    root,
    files: [...contents.keys()].sort(),
    ...(tsconfigPath === undefined ? {} : { tsconfigPath }),
    read(rel: string): string {
      const text = contents.get(rel);
      if (text === undefined) throw new Error(`fixture has no file ${rel}`);
      return text;
    },
  });
  const base = new Map(Object.entries(files));
  return {
    ws: make(base),
    withOverrides: (overrides) => make(new Map([...base, ...Object.entries(overrides)])),
    cleanup() {
      for (const id of ["ts-codefix", "eslint", "biome"] as const) getFamily(id).dispose?.(root);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
