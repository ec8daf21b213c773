/**
 * Real `typescript` packages of versions the product does not ship (TypeScript 7's native compiler, 3.9), installed
 * from the npm registry once into node_modules/.cache and reused (npm's own cache makes later installs offline).
 * Install scripts never run.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../../src/sandbox/paths.js";

/** The newest TypeScript on npm (a native compiler: no lib/typescript.js, no language-service API). */
export const NATIVE_TYPESCRIPT = "7.0.2";
/** The last 3.x release, still common in older repositories. */
export const OLD_TYPESCRIPT = "3.9.10";

/** Directory of the installed package `typescript@version`; installs it on first use. */
export function typescriptPackage(version: string): string {
  const prefix = path.join(projectRoot(), "node_modules", ".cache", "odavl-test-typescript", version);
  const dir = path.join(prefix, "node_modules", "typescript");
  const manifest = path.join(dir, "package.json");
  if (!existsSync(manifest)) {
    mkdirSync(prefix, { recursive: true });
    try {
      execFileSync(
        "npm",
        [
          "install",
          "--prefix",
          prefix,
          "--no-save",
          "--ignore-scripts",
          "--no-audit",
          "--no-fund",
          "--prefer-offline",
          `typescript@${version}`,
        ],
        { stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 },
      );
    } catch (error) {
      throw new Error(
        `could not install typescript@${version} from the npm registry into ${prefix} (the test needs it once): ${(error as Error).message}`,
      );
    }
  }
  const installed = (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
  if (installed !== version) throw new Error(`${dir} holds typescript ${installed}, not ${version}`);
  return dir;
}

/** Links `typescript@version` into the repository's node_modules, as installing its dependencies would. */
export function installTypeScript(repo: string, version: string): void {
  mkdirSync(path.join(repo, "node_modules"), { recursive: true });
  symlinkSync(typescriptPackage(version), path.join(repo, "node_modules", "typescript"), "dir");
}
