import { describe, expect, it } from "vitest";
import { odavl } from "../helpers/cli.js";

describe("odavl recipes", () => {
  it("lists the whole catalog with safety and counts", async () => {
    const r = await odavl({}, "recipes");
    expect(r.code).toBe(0);
    const [header] = r.stdout.split("\n");
    const match = /^(\d+) recipes \((\d+) safe, (\d+) unsafe\)$/.exec(header ?? "");
    expect(match, header).not.toBeNull();
    expect(Number(match?.[1])).toBeGreaterThanOrEqual(60);
    expect(Number(match?.[3])).toBeGreaterThanOrEqual(20);
    expect(r.stdout).toMatch(/^ {2}eslint\/no-unnecessary-type-assertion +unsafe +types +Remove type assertions/m);
    expect(r.stdout).toMatch(/^ {2}biome\/no-non-null-assertion +unsafe /m);
    expect(r.stdout).toMatch(/^ {2}ts\/fix-spelling +unsafe /m);
  });

  it("prints JSON and filters by family", async () => {
    const r = await odavl({}, "recipes", "--json", "--family", "biome");
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; family: string; safety: string }[];
    expect(rows.length).toBeGreaterThanOrEqual(20);
    expect(rows.every((row) => row.family === "biome")).toBe(true);
    expect(rows.find((row) => row.id === "biome/no-unused-variables")).toMatchObject({ safety: "unsafe" });
  });

  it("names the families when given an unknown one", async () => {
    const r = await odavl({}, "recipes", "--family", "tslint");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--family must be one of ts-codefix, eslint, biome \(got "tslint"\)/);
  });
});
