#!/usr/bin/env node
// Runs the compiled CLI when it exists (installed package, Docker image), the TypeScript sources otherwise.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const compiled = join(root, "dist", "cli", "main.js");
if (existsSync(compiled) && !process.env.ODAVL_FROM_SOURCE) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
