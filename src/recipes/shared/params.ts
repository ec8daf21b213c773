import type { z } from "zod";
import { type Recipe, RecipeError } from "../types.js";

/** Validates a recipe's family-specific params; a catalog entry with bad params is a programming error. */
export function parseParams<T extends z.ZodType>(schema: T, recipe: Recipe): z.infer<T> {
  const result = schema.safeParse(recipe.params);
  if (!result.success) {
    throw new RecipeError(`invalid params for family ${recipe.family}: ${result.error.message}`, recipe.id, {
      cause: result.error,
    });
  }
  return result.data;
}
