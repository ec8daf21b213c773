import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDemoRepo, commitAll } from "../../src/cli/demo-repo.js";
import { odavl } from "../helpers/cli.js";
import { tempDir } from "../helpers/engine.js";

describe("odavl cycle", () => {
  it("says clearly when the path does not exist, is not a directory, or is not a git repository", async () => {
    const dir = tempDir();
    const env = { ODAVL_DATA_DIR: dir };
    const missing = await odavl(env, "cycle", join(dir, "nope"), "--no-store");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
    writeFileSync(join(dir, "file.txt"), "x");
    const file = await odavl(env, "cycle", join(dir, "file.txt"), "--no-store");
    expect(file.stderr).toMatch(/is not a directory/);
    mkdirSync(join(dir, "plain"));
    const plain = await odavl(env, "cycle", join(dir, "plain"), "--no-store");
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/is not a git repository/);
  });

  it("rejects unknown recipes and flags with the reason", async () => {
    const dir = tempDir();
    buildDemoRepo(join(dir, "repo"));
    const r = await odavl(
      { ODAVL_DATA_DIR: dir },
      "cycle",
      join(dir, "repo"),
      "--recipes",
      "eslint/nope",
      "--no-store",
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown recipe: eslint\/nope/);
    const f = await odavl({ ODAVL_DATA_DIR: dir }, "cycle", join(dir, "repo"), "--bogus");
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/bogus/);
  });

  it("prints the JSON the issue promises, and stores into the embedded database", async () => {
    const dir = tempDir();
    buildDemoRepo(join(dir, "repo"));
    const env = { ODAVL_DATA_DIR: dir, ML_ENABLE: "false" };
    const r = await odavl(
      env,
      "cycle",
      join(dir, "repo"),
      "--json",
      "--no-tests",
      "--recipes",
      "eslint/prefer-const,eslint/dot-notation",
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      cycle: { id: string; status: string; durationsMs: Record<string, number>; stored: boolean };
      candidates: Record<string, unknown>[];
    };
    expect(j.cycle.status).toBe("completed");
    expect(j.cycle.stored).toBe(true);
    expect(Object.keys(j.cycle.durationsMs)).toEqual(
      expect.arrayContaining(["observe", "candidates", "decide", "verify", "total"]),
    );
    expect(j.candidates).toHaveLength(2);
    for (const c of j.candidates) {
      expect(Object.keys(c)).toEqual(
        expect.arrayContaining([
          "recipe",
          "family",
          "safety",
          "files",
          "linesAdded",
          "linesRemoved",
          "trust",
          "heuristicTrust",
          "usedML",
          "tier",
          "outcome",
        ]),
      );
      expect(Object.keys(c.outcome as object)).toEqual(
        expect.arrayContaining(["success", "diagnosticsBefore", "diagnosticsAfter", "tests", "verificationScore"]),
      );
      expect((c.outcome as { tests: string }).tests).toBe("unknown");
    }
    const dot = j.candidates.find((c) => c.recipe === "eslint/dot-notation");
    expect((dot?.outcome as { success: boolean } | undefined)?.success).toBe(false);

    const text = await odavl(env, "cycle", join(dir, "repo"), "--no-tests", "--recipes", "eslint/prefer-const");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^1\. .* \[eslint\/prefer-const\] 2 files, \+2 -2$/m);
  }, 400_000);

  it("runs the shipped model by default (it decides when its card's gate is open), and only the heuristic when ML_ENABLE=false", async () => {
    const dir = tempDir();
    buildDemoRepo(join(dir, "repo"));
    const args = ["cycle", join(dir, "repo"), "--json", "--no-tests", "--no-store", "--recipes", "eslint/prefer-const"];
    const ml = JSON.parse((await odavl({ ODAVL_DATA_DIR: dir }, ...args)).stdout) as {
      candidates: {
        usedML: boolean;
        modelVersion: string | null;
        mlTrust: number | null;
        fallbackCause: string | null;
      }[];
    };
    const shipped = JSON.parse(
      readFileSync(join(import.meta.dirname, "../../models/trust-predictor.json"), "utf8"),
    ) as {
      modelVersion: string;
      gate: { open: boolean };
    };
    expect(ml.candidates[0]).toMatchObject({
      usedML: shipped.gate.open,
      fallbackCause: shipped.gate.open ? null : "not-promoted",
      modelVersion: shipped.modelVersion,
    });
    expect(ml.candidates[0]?.mlTrust).toBeGreaterThan(0);
    const heuristic = JSON.parse((await odavl({ ODAVL_DATA_DIR: dir, ML_ENABLE: "false" }, ...args)).stdout) as {
      candidates: { usedML: boolean; fallbackCause: string | null }[];
    };
    expect(heuristic.candidates[0]).toMatchObject({ usedML: false, fallbackCause: "disabled" });
  }, 400_000);
  it("offers recipes of the wider catalog: type-aware ESLint rules, Biome's unsafe fixes, TypeScript repairs", async () => {
    const dir = tempDir();
    const repo = join(dir, "repo");
    buildDemoRepo(repo);
    writeFileSync(
      join(repo, "src", "pick.ts"),
      [
        "export function pick(s: string | undefined, o: { a?: { b: number } }): string {",
        "  const t = s as string | undefined;",
        '  return (t || "none") + String(o.a!.b);',
        "}",
        'export const size = "abc".lenght;',
        "",
      ].join("\n"),
    );
    commitAll(repo, "pick");
    const wanted = [
      "eslint/no-unnecessary-type-assertion",
      "eslint/prefer-nullish-coalescing",
      "biome/no-non-null-assertion",
      "ts/fix-spelling",
    ];
    const r = await odavl(
      { ODAVL_DATA_DIR: dir, ML_ENABLE: "false" },
      "cycle",
      repo,
      "--json",
      "--no-tests",
      "--no-store",
      "--recipes",
      wanted.join(","),
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { candidates: { recipe: string; safety: string; files: unknown }[] };
    // Recipes that touch the same lines are offered as a bundle as well ("a+b").
    const offered = new Set(j.candidates.flatMap((c) => c.recipe.split("+")));
    expect([...offered].sort()).toEqual([...wanted].sort());
    expect(j.candidates.every((c) => c.safety === "unsafe")).toBe(true);
  }, 400_000);
});
