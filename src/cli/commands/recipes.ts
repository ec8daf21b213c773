/**
 * `odavl recipes [--json] [--family F]`: the recipe catalog.
 * `odavl recipes probation`: the recipes on probation (shown manual-only) and muted in a repository, with why; the
 * operator lets one through with `--override <id>` and puts it back under probation with `--clear <id>`.
 */

import { userInfo } from "node:os";
import { join } from "node:path";
import { readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { clearOverride, listProbation, setOverride } from "../../db/queries/probation.js";
import { PROBATION } from "../../engine/probation.js";
import { findRecipe, RECIPES, type Recipe } from "../../recipes/index.js";
import { dataDir } from "../../runtime/create-runtime.js";
import { type CommandContext, parseFlags } from "../command.js";
import { UsageError } from "../usage-error.js";

const USAGE =
  "usage: odavl recipes [--json] [--family F] | odavl recipes probation [--json] [--override <recipe-id> | --clear <recipe-id>]";

async function probationCommand(ctx: CommandContext, rest: string[]): Promise<number> {
  const { values } = parseFlags(rest, {
    json: { type: "boolean" },
    override: { type: "string" },
    clear: { type: "string" },
  });
  if (values.override !== undefined && values.clear !== undefined) {
    throw new UsageError(`--override and --clear are exclusive\n${USAGE}`);
  }
  const target = values.override ?? values.clear;
  if (target !== undefined) checkRecipeId(target, values.override !== undefined ? "--override" : "--clear");
  const env = readEnv(ctx.env);
  const handle = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: join(dataDir(env), "pgdata") });
  try {
    if (values.override !== undefined) {
      await setOverride(handle.db, values.override, actor());
      ctx.stdout.write(`${values.override}: overridden, never on probation nor muted until --clear\n`);
      return 0;
    }
    if (values.clear !== undefined) {
      const had = await clearOverride(handle.db, values.clear);
      ctx.stdout.write(
        had ? `${values.clear}: override cleared, under probation again\n` : `${values.clear}: had no override\n`,
      );
      return 0;
    }
    const listing = await listProbation(handle.db);
    if (values.json) {
      ctx.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
      return 0;
    }
    const out: string[] = [
      `Probation: a verified failure rate above ${PROBATION.maxFailureRate * 100}% over the latest ${PROBATION.globalWindow} runs (at least ${PROBATION.globalMinRuns}), or in a repository with at least ${PROBATION.repoMinRuns} runs there; muted in a repository after ${PROBATION.muteAfter} failures in a row by the type check or the tests.`,
      "",
      "Across all repositories:",
      ...(listing.global.length === 0
        ? ["  none"]
        : listing.global.map((s) => `  ${s.recipeId}  manual-only: ${s.reason}`)),
      "",
      "In one repository:",
      ...(listing.repositories.length === 0
        ? ["  none"]
        : listing.repositories.flatMap((r) =>
            r.standings.map(
              (s) => `  ${r.repository}  ${s.recipeId}  ${s.status === "muted" ? "muted" : "manual-only"}: ${s.reason}`,
            ),
          )),
      "",
      "Overrides:",
      ...(listing.overrides.length === 0
        ? ["  none"]
        : listing.overrides.map((o) => `  ${o.recipeId}  by ${o.actor} on ${o.createdAt.toISOString().slice(0, 10)}`)),
    ];
    ctx.stdout.write(`${out.join("\n")}\n`);
    return 0;
  } finally {
    await handle.close();
  }
}

/** A catalog recipe, or a bundle of them joined by "+". */
function checkRecipeId(id: string, flag: string): void {
  const unknown = id.split("+").filter((part) => !findRecipe(part));
  if (id === "" || unknown.length > 0) {
    throw new UsageError(`${flag}: unknown recipe "${unknown[0] ?? id}" (see the catalog in src/recipes/catalog.ts)`);
  }
}

function actor(): string {
  try {
    return userInfo().username;
  } catch {
    return "operator";
  }
}

const FAMILIES = ["ts-codefix", "eslint", "biome"] as const;

function render(recipes: readonly Recipe[]): string {
  const unsafe = recipes.filter((r) => r.safety === "unsafe").length;
  const out = [`${recipes.length} recipes (${recipes.length - unsafe} safe, ${unsafe} unsafe)`];
  for (const family of FAMILIES) {
    const own = recipes.filter((r) => r.family === family);
    if (own.length === 0) continue;
    out.push("", `${family} (${own.length})`);
    const width = Math.max(...own.map((r) => r.id.length));
    for (const r of own)
      out.push(`  ${r.id.padEnd(width)}  ${r.safety.padEnd(6)}  ${r.category.padEnd(11)}  ${r.title}`);
  }
  return out.join("\n");
}

/** The catalog, for `odavl recipes` without a subcommand. */
function listCommand(ctx: CommandContext, argv: string[]): number {
  const { values } = parseFlags(argv, { json: { type: "boolean" }, family: { type: "string" } });
  const family = values.family;
  if (family !== undefined && !(FAMILIES as readonly string[]).includes(family)) {
    throw new UsageError(`--family must be one of ${FAMILIES.join(", ")} (got "${family}")`);
  }
  const recipes = family === undefined ? RECIPES : RECIPES.filter((r) => r.family === family);
  if (values.json) {
    const rows = recipes.map(({ id, family, title, category, safety }) => ({ id, family, title, category, safety }));
    ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    ctx.stdout.write(`${render(recipes)}\n`);
  }
  return 0;
}

export async function recipesCommand(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.argv;
  if (sub === "probation") return probationCommand(ctx, rest);
  if (sub === undefined || sub.startsWith("-")) return listCommand(ctx, ctx.argv);
  throw new UsageError(`unknown subcommand "${sub}"; ${USAGE}`);
}
