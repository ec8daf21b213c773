/**
 * The engine depends on its ports only: no file under src/engine/ imports the database, GitHub, the queue, the
 * sandbox or the workspace, statically, as a type, a re-export or a dynamic import().
 */
import { describe, expect, it } from "vitest";
import { forbiddenImports, partFiles, specifiers } from "../helpers/imports.js";

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
    expect(partFiles("engine").length).toBeGreaterThan(10);
    expect(forbiddenImports("engine", ["db", "github", "queue", "sandbox", "workspace"])).toEqual([]);
  });
});
