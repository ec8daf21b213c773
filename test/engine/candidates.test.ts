/**
 * The safety limits of Candidates, on a real recipe (ESLint's prefer-const) over a real repository: protected paths
 * from `.github/odavl.yml` (read and validated as in production) and both parts of the risk budget.
 */
import { afterAll, describe, expect, it } from "vitest";
import { buildCandidates, type CandidateOptions } from "../../src/engine/candidates.js";
import { matchesAny } from "../../src/engine/glob.js";
import { DEFAULT_REPO_CONFIG, parseRepoConfig, RepoConfigError } from "../../src/engine/repo-config.js";
import { findRecipe, getFamily, type Recipe } from "../../src/recipes/index.js";
import { createFixture } from "../recipes/fixture.js";

const LET = "let x = 1;\nexport { x };\n";
/** Five prefer-const findings in one file: a five-line change. */
const FIVE_LETS = "let a = 1;\nlet b = 2;\nlet c = 3;\nlet d = 4;\nlet e = 5;\nexport { a, b, c, d, e };\n";

const fixture = createFixture({
  "src/gen/a.ts": LET,
  "src/generated/b.ts": LET,
  "src/genx/c.ts": LET,
  "src/a.ts": LET,
  "src/b.ts": LET,
  "src/c.ts": LET,
  "src/many.ts": FIVE_LETS,
  "lib/d.ts": LET,
  "lib/.hidden/e.ts": LET,
});
/** Files under the built-in protected paths beside one that is not. */
const defaultsFixture = createFixture({
  "migrations/m.ts": LET,
  "packages/x/dist/d.ts": LET,
  "vendor/v.ts": LET,
  "packages/x/.github/a.ts": LET,
  "src/ok.ts": LET,
});
const UNUSED_IMPORT = (name: string) => `import { ${name} } from "./lib.js";\n`;
/** Five unused imports: removing them removes five lines and adds none. */
const removalFixture = createFixture({
  "src/lib.ts":
    "export const a = 1;\nexport const b = 2;\nexport const c = 3;\nexport const d = 4;\nexport const e = 5;\n",
  "src/unused.ts": `${["a", "b", "c", "d", "e"].map(UNUSED_IMPORT).join("")}export const z = 1;\n`,
});
afterAll(() => {
  fixture.cleanup();
  defaultsFixture.cleanup();
  removalFixture.cleanup();
});

const preferConst = findRecipe("eslint/prefer-const") as Recipe;

async function plan(
  yml: string,
  scopes: CandidateOptions["scopes"] = ["all"],
  on: { fixture: typeof fixture; recipe: Recipe } = { fixture, recipe: preferConst },
) {
  const config = parseRepoConfig(yml);
  const result = await buildCandidates(on.fixture.ws, [on.recipe], (r) => getFamily(r.family), {
    budget: config.budget,
    protectedPaths: config.protectedPaths,
    scopes,
    maxFileCandidatesPerRecipe: 100,
  });
  expect(result.errors).toEqual([]);
  const all = result.candidates.find((c) => c.scope === "all");
  const excluded = result.planned.flatMap((p) => p.excluded);
  return {
    files: (all?.files ?? []).map((f) => f.path),
    excluded: Object.fromEntries(excluded.map((e) => [e.file, e.reason])),
  };
}

const WIDE_BUDGET = "budget: { maxFiles: 100, maxLinesPerFile: 100 }\n";

describe("protected paths from .github/odavl.yml", () => {
  it("without any, every file with a finding is changed", async () => {
    const { files, excluded } = await plan(WIDE_BUDGET);
    expect(files).toHaveLength(9);
    expect(excluded).toEqual({});
  });

  it("braces protect each alternative, and only them", async () => {
    const { files, excluded } = await plan(`${WIDE_BUDGET}protectedPaths: ['src/{gen,generated}/**']`);
    expect(excluded).toEqual({ "src/gen/a.ts": "protected path", "src/generated/b.ts": "protected path" });
    expect(files).toContain("src/genx/c.ts");
    expect(files).toHaveLength(7);
  });

  it("a class protects the files it names", async () => {
    const { files, excluded } = await plan(`${WIDE_BUDGET}protectedPaths: ['src/[ab].ts']`);
    expect(excluded).toEqual({ "src/a.ts": "protected path", "src/b.ts": "protected path" });
    expect(files).toContain("src/c.ts");
  });

  it("a negation protects everything outside what it names, dot folders included", async () => {
    const { files, excluded } = await plan(`${WIDE_BUDGET}protectedPaths: ['!src/**']`);
    expect(excluded).toEqual({ "lib/d.ts": "protected path", "lib/.hidden/e.ts": "protected path" });
    expect(files.every((f) => f.startsWith("src/"))).toBe(true);
    expect(files).toHaveLength(7);
  });

  it("a protected folder protects its dot folders too", async () => {
    const { excluded } = await plan(`${WIDE_BUDGET}protectedPaths: ['lib/**']`);
    expect(excluded).toEqual({ "lib/d.ts": "protected path", "lib/.hidden/e.ts": "protected path" });
  });

  it("the defaults stay protected whatever the repository adds", async () => {
    expect(matchesAny("src/types.d.ts", ["**/*.d.ts"])).toBe(true);
    for (const yml of [WIDE_BUDGET, `${WIDE_BUDGET}protectedPaths: ['src/{gen,generated}/**']`]) {
      const { files, excluded } = await plan(yml, ["all"], { fixture: defaultsFixture, recipe: preferConst });
      expect(files, yml).toEqual(["src/ok.ts"]);
      expect(excluded, yml).toEqual({
        "migrations/m.ts": "protected path",
        "packages/x/dist/d.ts": "protected path",
        "vendor/v.ts": "protected path",
        "packages/x/.github/a.ts": "protected path",
      });
    }
  });

  it("a malformed pattern is refused when the config is read, naming the pattern and the key", () => {
    for (const [yml, pattern] of [
      ["protectedPaths: ['src/gen/**', 'src/{gen,generated/**']", "src/{gen,generated/**"],
      ["protectedPaths:\n  - 'src/[ab.ts'", "src/[ab.ts"],
      ["protectedPaths: ['/src/**']", "/src/**"],
      ["protectedPaths: ['src\\gen\\**']", "src\\gen\\**"],
    ] as const) {
      let error: unknown;
      try {
        parseRepoConfig(yml);
      } catch (err) {
        error = err;
      }
      expect(error, yml).toBeInstanceOf(RepoConfigError);
      const issues = (error as RepoConfigError).issues;
      expect(issues).toHaveLength(1);
      expect(issues[0]?.path).toMatch(/^protectedPaths\.\d$/);
      expect(issues[0]?.message).toContain(`"${pattern}"`);
      expect((error as Error).message).toContain("protectedPaths.");
    }
    const typo = (() => {
      try {
        parseRepoConfig("dataCollection: true\nprotectedPaths:\n  - 'src/[ab.ts'\n");
      } catch (err) {
        return err as RepoConfigError;
      }
    })();
    expect(typo?.issues[0]).toMatchObject({ path: "protectedPaths.0", line: 3 });
    expect(typo?.issues[0]?.message).toMatch(/invalid glob "src\/\[ab\.ts": .*closing/i);
  });
});

describe("the risk budget", () => {
  it("leaves out a file that changes more lines than budget.maxLinesPerFile", async () => {
    const { files, excluded } = await plan("budget: { maxFiles: 100, maxLinesPerFile: 4 }");
    expect(files).not.toContain("src/many.ts");
    expect(files).toHaveLength(8);
    expect(excluded).toEqual({ "src/many.ts": "changes more than 4 lines" });
    // At five lines the same file is in.
    expect((await plan("budget: { maxFiles: 100, maxLinesPerFile: 5 }")).files).toContain("src/many.ts");
  });

  it("counts a file's removed lines against budget.maxLinesPerFile as well as its added ones", async () => {
    const on = { fixture: removalFixture, recipe: findRecipe("ts/remove-unused-imports") as Recipe };
    const over = await plan("budget: { maxFiles: 100, maxLinesPerFile: 4 }", ["all"], on);
    expect(over.files).toEqual([]);
    expect(over.excluded).toEqual({ "src/unused.ts": "changes more than 4 lines" });
    expect((await plan("budget: { maxFiles: 100, maxLinesPerFile: 5 }", ["all"], on)).files).toEqual(["src/unused.ts"]);
  });

  it("keeps an all-scope candidate to budget.maxFiles files and names the rest", async () => {
    const { files, excluded } = await plan("budget: { maxFiles: 3, maxLinesPerFile: 100 }");
    expect(files).toEqual(["lib/.hidden/e.ts", "lib/d.ts", "src/a.ts"]);
    expect(Object.keys(excluded)).toHaveLength(6);
    for (const reason of Object.values(excluded)) expect(reason).toBe("over the budget of 3 files");
  });

  it("the defaults are the documented ones", () => {
    expect(DEFAULT_REPO_CONFIG.budget).toEqual({ maxFiles: 10, maxLinesPerFile: 40 });
  });
});
