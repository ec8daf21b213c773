/**
 * A generated TypeScript repository of a given size with planted, fixable problems spread over a few files:
 * the shape of a real library (modules importing each other, interfaces, classes, tests).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { commitAll, linkTypeScript } from "../src/cli/demo-repo.js";

export interface GenOptions {
  files: number;
  /** Every n-th module gets planted problems. */
  problemEvery?: number;
}

export function generateRepo(dir: string, options: GenOptions): { sha: string; files: number } {
  const n = options.files;
  const every = options.problemEvery ?? 20;
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write(
    "package.json",
    `${JSON.stringify({ name: "generated", version: "1.0.0", type: "module", private: true }, null, 2)}\n`,
  );
  write(
    "tsconfig.json",
    `${JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
        },
        include: ["src"],
      },
      null,
      2,
    )}\n`,
  );
  for (let i = 0; i < n; i++) {
    const dep = i > 0 ? `import { compute${i - 1}, type Shape${i - 1} } from "./module${i - 1}.js";\n` : "";
    const planted = i % every === 3;
    const unused = planted && i > 1 ? `import { compute0 } from "./module0.js";\n` : "";
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the generated source contains a template literal.
    const templated = "  return `shape ${shape.name} #${shape.id}`;";
    const lines = [
      dep + unused,
      `export interface Shape${i} {`,
      "  id: number;",
      "  name: string;",
      `  tags: readonly string[];`,
      "}",
      "",
      `export function compute${i}(input: number): number {`,
      planted ? "  let factor = 3;" : "  const factor = 3;",
      i > 0 ? `  return compute${i - 1}(input) + factor * ${i};` : "  return input * factor;",
      "}",
      "",
      `export function describe${i}(shape: Shape${i}): string {`,
      planted ? `  return "shape " + shape.name + " #" + shape.id;` : templated,
      "}",
      "",
      `export class Registry${i} {`,
      `  private readonly items = new Map<number, Shape${i}>();`,
      `  add(shape: Shape${i}): void {`,
      "    this.items.set(shape.id, shape);",
      "  }",
      `  find(id: number): Shape${i} | undefined {`,
      planted ? "    var found = this.items.get(id);\n    return found;" : "    return this.items.get(id);",
      "  }",
      "}",
      i > 0 ? `\nexport type Pair${i} = [Shape${i}, Shape${i - 1}];` : "",
      "",
    ];
    write(`src/module${i}.ts`, lines.join("\n"));
  }
  linkTypeScript(dir);
  writeFileSync(join(dir, ".gitignore"), "node_modules/\n");
  const { sha } = commitAll(dir, "generated repository");
  return { sha, files: n };
}
