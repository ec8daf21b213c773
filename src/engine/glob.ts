/**
 * Protected-path globs, matched by picomatch: `**` crosses directories, `*` and `?` do not, braces
 * (`src/{gen,generated}/**`), classes (`src/[ab].ts`) and extglobs work, and a pattern starting with `!` matches
 * every path the rest does not match (`!src/**`: everything outside src/). Dot files and folders match like any
 * other (a protected folder protects its `.eslintrc.cjs` too). Paths are repository-relative with `/`.
 */
import picomatch from "picomatch";

const OPTIONS: picomatch.PicomatchOptions = { dot: true, strictBrackets: true };
const cache = new Map<string, (path: string) => boolean>();

/** Why `glob` is not a usable protected-path pattern, or null when it is. */
export function globProblem(glob: string): string | null {
  if (glob.trim() === "") return "must not be empty";
  if (glob.includes("\\")) return "must use / between folders (no backslashes)";
  const body = glob.startsWith("!") ? glob.slice(1) : glob;
  if (body.startsWith("/")) return "must be relative to the repository root (no leading /)";
  if (body.startsWith("./") || body.startsWith("../")) return "must be relative to the repository root (no ./ or ../)";
  try {
    picomatch.makeRe(glob, OPTIONS);
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).replace(/ - use .*$/, "");
  }
  return null;
}

/** A matcher for one glob. Throws with the pattern named when it is malformed (configs are validated before). */
function globMatcher(glob: string): (path: string) => boolean {
  const cached = cache.get(glob);
  if (cached) return cached;
  const problem = globProblem(glob);
  if (problem) throw new Error(`invalid glob "${glob}": ${problem}`);
  const matcher = picomatch(glob, OPTIONS);
  cache.set(glob, matcher);
  return matcher;
}

export function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.some((g) => globMatcher(g)(path));
}
