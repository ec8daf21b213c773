import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDemoRepo } from "../../src/cli/demo-repo.js";
import { detectBubblewrap } from "../../src/sandbox/index.js";
import { odavl } from "../helpers/cli.js";
import { removeTempDirs, tempDir } from "../helpers/engine.js";
import {
  installTypeScript,
  NATIVE_TYPESCRIPT,
  OLD_TYPESCRIPT,
  typescriptPackage,
} from "../helpers/typescript-packages.js";

// The repository's TypeScript is only ever looked at in the sandbox; without bubblewrap there is nothing to test.
const hasBwrap = detectBubblewrap().available;

const ours = (
  JSON.parse(readFileSync(join(process.cwd(), "node_modules", "typescript", "package.json"), "utf8")) as {
    version: string;
  }
).version;

interface CycleJson {
  cycle: { status: string; error: string | null };
  facts: {
    typescriptVersion: string;
    baselineDiagnostics: number;
    typeCheck: { version: string; source: string; repositoryVersion: string; reason: string; notes: string[] };
  };
  candidates: { outcome: { success: boolean; newDiagnostics: number } }[];
}

/** The demo repository with a real `typescript@version` installed and its tsconfig's compiler options changed. */
function repoWith(version: string | null, compilerOptions: Record<string, unknown>): string {
  const dir = join(tempDir("odavl-ts-versions-"), "repo");
  buildDemoRepo(dir);
  if (version) {
    rmSync(join(dir, "node_modules", "typescript"));
    installTypeScript(dir, version);
  }
  const tsconfig = JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8")) as {
    compilerOptions: Record<string, unknown>;
  };
  Object.assign(tsconfig.compilerOptions, compilerOptions);
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  return dir;
}

async function cycle(dir: string): Promise<{ json: CycleJson; text: string }> {
  const env = { ODAVL_DATA_DIR: tempDir(), ML_ENABLE: "false" };
  const args = ["--no-store", "--no-tests", "--allow-dirty", "--recipes", "eslint/prefer-const"];
  const r = await odavl(env, "cycle", dir, "--json", ...args);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const text = await odavl(env, "cycle", dir, ...args);
  return { json: JSON.parse(r.stdout) as CycleJson, text: text.stdout };
}

beforeAll(() => {
  // Installed from the npm registry once (see the helper); done here so no test's own time limit pays for it.
  typescriptPackage(NATIVE_TYPESCRIPT);
  typescriptPackage(OLD_TYPESCRIPT);
}, 600_000);
afterAll(() => removeTempDirs());

describe.skipIf(!hasBwrap)("odavl cycle on repositories whose TypeScript the checker cannot load", () => {
  it(`TypeScript ${NATIVE_TYPESCRIPT} (native, no language-service API): ours checks, with TypeScript 6's defaults`, async () => {
    // A TypeScript 7 configuration: types listed (7 includes none by default), a target 5.x does not know.
    const dir = repoWith(NATIVE_TYPESCRIPT, { types: ["node"], target: "es2025" });
    const { json, text } = await cycle(dir);
    expect(json.cycle.status).toBe("completed");
    expect(json.facts.typescriptVersion).toBe(NATIVE_TYPESCRIPT);
    expect(json.facts.typeCheck).toMatchObject({
      version: ours,
      source: "product",
      repositoryVersion: NATIVE_TYPESCRIPT,
      reason: "has no language-service API",
    });
    expect(json.facts.typeCheck.notes.join("\n")).toMatch(/ignored, unknown to TypeScript .*: target/);
    // The demo sets strict itself; what it leaves unset gets TypeScript 6's default.
    expect(json.facts.typeCheck.notes.join("\n")).toMatch(
      /TypeScript 7 defaults applied: .*noUncheckedSideEffectImports/,
    );
    expect(json.facts.baselineDiagnostics).toBe(0);
    expect(json.candidates.length).toBeGreaterThan(0);
    expect(json.candidates[0]?.outcome.newDiagnostics).toBe(0);
    expect(text).toContain(
      `Type check: TypeScript ${ours} (the product's; the repository's ${NATIVE_TYPESCRIPT} has no language-service API).`,
    );
  }, 300_000);

  it(`TypeScript ${OLD_TYPESCRIPT}: ours checks, and options it no longer supports are dropped with a note`, async () => {
    const old = { importsNotUsedAsValues: "preserve", keyofStringsOnly: true, suppressImplicitAnyIndexErrors: true };
    const dir = repoWith(OLD_TYPESCRIPT, old);
    const { json, text } = await cycle(dir);
    expect(json.cycle.status).toBe("completed");
    expect(json.facts.typescriptVersion).toBe(OLD_TYPESCRIPT);
    expect(json.facts.typeCheck).toMatchObject({ version: ours, source: "product", repositoryVersion: OLD_TYPESCRIPT });
    expect(json.facts.typeCheck.reason).toMatch(/older than 4\.5/);
    const notes = json.facts.typeCheck.notes.join("\n");
    for (const option of Object.keys(old)) expect(notes).toContain(option);
    // The dropped options leave no diagnostic behind: the same baseline as the repository without them.
    expect(json.facts.baselineDiagnostics).toBe(0);
    expect(json.candidates[0]?.outcome.success).toBe(true);
    expect(text).toMatch(
      new RegExp(
        `Type check: TypeScript ${ours.replaceAll(".", "\\.")} \\(the product's; the repository's 3\\.9\\.10 is older than 4\\.5`,
      ),
    );
    expect(text).toContain("importsNotUsedAsValues");
  }, 300_000);

  it("a repository TypeScript with the API checks itself, and the summary says so", async () => {
    const { json, text } = await cycle(repoWith(null, {}));
    expect(json.facts.typeCheck).toMatchObject({ version: ours, source: "repository", reason: null, notes: [] });
    expect(text).toContain(`Type check: TypeScript ${ours} (the repository's own).`);
  }, 300_000);
});
