/** Where this project's own files are. */
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

/** Root of this project (the worker's own tree): the nearest directory above this file with a package.json. */
export function projectRoot(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  let dir = start;
  for (;;) {
    try {
      statSync(path.join(dir, "package.json"));
      return dir;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return start;
      dir = parent;
    }
  }
}

/** Directory of this project's `typescript` package (exposed read-only to the type checker). */
export function ourTypeScriptDir(): string {
  return path.dirname(require.resolve("typescript/package.json"));
}
