import { type Dirent, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * Packages in the checkout's node_modules that are symlinks to directories outside it (a linked workspace
 * package, or the demo's link to our TypeScript): the sandbox must expose their targets read-only for the links
 * to resolve. A package linked to an entry of another node_modules directory (a working copy's links to the
 * user's checkout) also exposes that directory: the links there are hops on the way to the package.
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
          if (!target.startsWith(`${root}/`) && statSync(target).isDirectory()) {
            out.push(target);
            const via = linkingNodeModules(resolve(dir, readlinkSync(full)));
            if (via && !via.startsWith(`${root}/`)) out.push(via);
          }
        } catch {
          // A broken link resolves to nothing to expose.
        }
      } else if (e.isDirectory() && depth === 0 && e.name.startsWith("@")) visit(full, 1);
    }
  };
  visit(nm, 0);
  return [...new Set(out)];
}

/** The node_modules directory a path is an entry of (`…/node_modules/name` or `…/node_modules/@scope/name`). */
function linkingNodeModules(p: string): string | null {
  const parent = dirname(p);
  if (basename(parent) === "node_modules") return parent;
  if (basename(parent).startsWith("@") && basename(dirname(parent)) === "node_modules") return dirname(parent);
  return null;
}
