/**
 * The collection ledger: which recipes a completed shadow cycle already ran at a repository's commit, kept in a
 * plain file beside the committed dataset (one `owner/name<TAB>sha<TAB>recipe` a line). The database says the same
 * thing, but the database does not outlive a machine; with the ledger committed, collection on a fresh machine
 * resumes where the last one stopped instead of running every cycle again, including the ones that found nothing
 * (which leave no row in the dataset).
 */
import { existsSync, readFileSync } from "node:fs";
import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";

export class LedgerError extends Error {
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = "LedgerError";
  }
}

export interface Ledger {
  readonly path: string;
  /** Recipes recorded as run at this repository ("owner/name") and commit. */
  done(repository: string, sha: string): ReadonlySet<string>;
  /** Appends recipes a completed cycle ran; written at once, so a stopped run keeps what it did. */
  record(repository: string, sha: string, recipeIds: readonly string[]): Promise<void>;
}

const LINE = /^([\w.-]+\/[\w.-]+)\t([0-9a-f]{7,64})\t(\S+)$/;

/** Opens a ledger file (a missing file is an empty ledger); a malformed line is refused with its number. */
export function openLedger(path: string): Ledger {
  const entries = new Map<string, Set<string>>();
  const key = (repository: string, sha: string) => `${repository}@${sha}`;
  const add = (repository: string, sha: string, recipe: string) => {
    const k = key(repository, sha);
    let set = entries.get(k);
    if (!set) {
      set = new Set();
      entries.set(k, set);
    }
    const isNew = !set.has(recipe);
    set.add(recipe);
    return isNew;
  };
  if (existsSync(path)) {
    readFileSync(path, "utf8")
      .split("\n")
      .forEach((raw, i) => {
        const line = raw.trimEnd();
        if (line === "" || line.startsWith("#")) return;
        const m = LINE.exec(line);
        if (!m) {
          throw new LedgerError(
            `${path}:${i + 1}: expected "owner/name<TAB>commit sha<TAB>recipe id", got ${JSON.stringify(line.slice(0, 120))}`,
          );
        }
        add(m[1] as string, m[2] as string, m[3] as string);
      });
  }
  return {
    path,
    done: (repository, sha) => entries.get(key(repository, sha)) ?? new Set(),
    async record(repository, sha, recipeIds) {
      const fresh = [...recipeIds].sort().filter((r) => add(repository, sha, r));
      if (fresh.length === 0) return;
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, fresh.map((r) => `${repository}\t${sha}\t${r}\n`).join(""));
    },
  };
}
