/** What the Dockerfile and fly.toml run exists: every `node bin/odavl.js <command>` is a CLI command. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

function commandsIn(text: string): string[] {
  const found = new Set<string>();
  // Shell form (fly.toml) and exec form (Dockerfile's CMD ["node", "bin/odavl.js", "web"]).
  for (const m of text.matchAll(/bin\/odavl\.js"?\s*,?\s*"?([a-z][a-z-]*)/g)) found.add(m[1] as string);
  return [...found].sort();
}

describe("deployment files", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const fly = readFileSync(join(ROOT, "fly.toml"), "utf8");
  const help = execFileSync(process.execPath, ["bin/odavl.js", "--help"], { cwd: ROOT, encoding: "utf8" });
  const cliCommands = new Set([...help.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1] as string));
  const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts;

  it("runs only commands the CLI has", () => {
    const used = commandsIn(`${dockerfile}\n${fly}`);
    expect(used).toEqual(expect.arrayContaining(["migrate", "web", "worker"]));
    for (const c of used) expect(cliCommands, `odavl ${c}`).toContain(c);
  });

  it("has npm scripts for the web and worker processes", () => {
    expect(scripts.start).toBe("node bin/odavl.js web");
    expect(scripts.worker).toBe("node bin/odavl.js worker");
    for (const script of Object.values(scripts)) {
      for (const c of commandsIn(script)) expect(cliCommands, `npm script runs odavl ${c}`).toContain(c);
    }
  });

  it("runs the build output that bin/odavl.js loads, and checks the endpoints the web process serves", () => {
    expect(dockerfile).toContain("/healthz");
    expect(fly).toMatch(/path = "\/readyz"/);
    expect(fly).toMatch(/\[\[metrics\]\]\s+port = 3000\s+path = "\/metrics"\s+processes = \["web"\]/);
    expect(fly).toMatch(/\[\[metrics\]\]\s+port = 9464\s+path = "\/metrics"\s+processes = \["worker"\]/);
    expect(fly).toMatch(/METRICS_PORT = "9464"/);
  });
});
