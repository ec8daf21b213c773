import { RECIPES, type Recipe } from "../../recipes/index.js";
import type { CommandContext } from "../main.js";
import { parseFlags, UsageError } from "../main.js";

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

/** `odavl recipes [--json] [--family F]`: the recipe catalog. */
export async function recipesCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(ctx.argv, { json: { type: "boolean" }, family: { type: "string" } });
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
