import path from "node:path";

const TS_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts"] as const;
const JS_EXTENSIONS = [".js", ".jsx", ".mjs", ".cjs"] as const;

export function isTypeScriptFile(file: string): boolean {
  return TS_EXTENSIONS.some((ext) => file.endsWith(ext));
}

export function isJavaScriptFile(file: string): boolean {
  return JS_EXTENSIONS.some((ext) => file.endsWith(ext));
}

export function isSourceFile(file: string): boolean {
  return isTypeScriptFile(file) || isJavaScriptFile(file);
}

/** A relative path that stays below its base directory once resolved (no `..` escape, not absolute). */
export function isContainedPath(file: string): boolean {
  if (file === "" || path.isAbsolute(file) || path.win32.isAbsolute(file)) return false;
  return !file.split(/[\\/]/).includes("..");
}

/** Repository-relative POSIX path to an absolute path with forward slashes (the form TypeScript uses). */
export function toAbsolute(root: string, file: string): string {
  return path.resolve(root, file).replace(/\\/g, "/");
}

/** Glob patterns covering every source extension, for tools that select files by pattern. */
export const SOURCE_GLOBS: readonly string[] = [...TS_EXTENSIONS, ...JS_EXTENSIONS].map((ext) => `**/*${ext}`);
