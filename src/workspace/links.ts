import { type Dirent, readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Packages in the checkout's node_modules that are symlinks to directories outside it (a linked workspace
 * package, or the demo's link to our TypeScript): the sandbox must expose their targets read-only for the links
 * to resolve.
 */
export function linkedPackageTargets(root: string): string[] {
  const nm = join(root, "node_modules");
  const out: string[] = [];
  const visit = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isSymbolicLink()) {
        try {
          const target = realpathSync(full);
          if (!target.startsWith(`${root}/`) && statSync(target).isDirectory()) out.push(target);
        } catch {
          // A broken link resolves to nothing to expose.
        }
      } else if (e.isDirectory() && depth === 0 && e.name.startsWith("@")) visit(full, 1);
    }
  };
  visit(nm, 0);
  return out;
}
