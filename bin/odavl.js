#!/usr/bin/env node
// The `odavl` command. Runs the compiled CLI (dist/) when it is in step with the sources: always in an installed
// package or the Docker image (no src/ beside it), and in a checkout only when dist/ was built after the last
// change to src/ (`npm run build`). Otherwise it runs the TypeScript sources through tsx, so that an edit to src/
// is never ignored. ODAVL_FROM_SOURCE=1 forces the sources.
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// ONNX Runtime's telemetry writes /tmp/mat-debug-<pid>.log and /tmp/.ses in every process that loads it.
process.env.ORT_DISABLE_TELEMETRY ??= "1";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const compiled = join(root, "dist", "cli", "main.js");
const sources = join(root, "src");

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** The newest modification time under `dir` (files and directories: a deleted file changes its directory). */
function newest(dir) {
  let latest = mtime(dir) ?? 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : (mtime(path) ?? 0));
  }
  return latest;
}

function useCompiled() {
  if (process.env.ODAVL_FROM_SOURCE) return false;
  const built = mtime(compiled);
  if (built === null) return false;
  if (mtime(sources) === null) return true;
  return built >= newest(sources);
}

if (useCompiled()) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(sources, "cli", "main.ts")).href);
}
