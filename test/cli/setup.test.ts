/**
 * The first hour of an operator (items 8 and 12): `engines` and `.npmrc` that match the dependency tree and draw no
 * warning, and a compose file, `.env.example` and documentation that agree with the settings the code reads.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { envSchema, readEnv } from "../../src/config/env.js";

const ROOT = resolve(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const semver = createRequire(import.meta.url)("semver") as {
  subset(sub: string, dom: string): boolean;
  satisfies(version: string, range: string): boolean;
};

describe("engines and .npmrc (item 8)", () => {
  const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;

  it("every installed runtime dependency accepts every Node version our engines field admits", () => {
    const lock = JSON.parse(read("package-lock.json")) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; engines?: { node?: string } | string[] }>;
    };
    expect(lock.packages[""]?.engines).toEqual({ node: engines });
    const refused: string[] = [];
    for (const [path, p] of Object.entries(lock.packages)) {
      const node = !path || p.dev || Array.isArray(p.engines) ? undefined : p.engines?.node;
      if (node && !semver.subset(engines, node)) refused.push(`${path} (${node})`);
    }
    expect(refused).toEqual([]);
    // content-type 3.1.1 (probot → @octokit/request) needs Node 22: 20 must not be admitted.
    expect(semver.satisfies("20.19.0", engines)).toBe(false);
    expect(semver.satisfies("22.13.0", engines)).toBe(true);
    expect(semver.satisfies("24.0.0", engines)).toBe(true);
  });

  it("npm reads .npmrc without an unknown-key warning", () => {
    const r = spawnSync("npm", ["config", "get", "fund"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("false");
    expect(r.stderr).not.toMatch(/Unknown (project|user) config/);
  });

  it("every dependency's install script is reviewed in allowScripts (none runs unreviewed, none warns)", () => {
    const r = spawnSync("npm", ["install-scripts", "ls"], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0 && /Unknown command|unknown command/i.test(`${r.stdout}${r.stderr}`)) {
      // npm before 11.x has no install-scripts command; the allowScripts field is then read by nothing.
      expect(JSON.parse(read("package.json")).allowScripts?.["onnxruntime-node"]).toBe(false);
      return;
    }
    expect(r.stdout).toMatch(/No packages with unreviewed install scripts/);
    expect(r.status).toBe(0);
    // onnxruntime-node's script only downloads a CUDA provider; the CPU provider it ships is the one used.
    expect(JSON.parse(read("package.json")).allowScripts?.["onnxruntime-node"]).toBe(false);
  });

  it("the image and CI skip onnxruntime-node's CUDA download through the environment too (older npm)", () => {
    expect(read("Dockerfile")).toMatch(/ENV ONNXRUNTIME_NODE_INSTALL=skip/);
    expect(read("Dockerfile")).toMatch(/^FROM node:22-slim/m);
    expect(read(".ci/run")).toMatch(/export ONNXRUNTIME_NODE_INSTALL=skip/);
  });
});

describe("a development installation (item 12)", () => {
  const settings = Object.keys(envSchema.shape);

  it("compose.yaml brings up Postgres, Redis, web, worker and the webhook relay, with valid URLs", () => {
    const compose = parse(read("compose.yaml"), { merge: true }) as {
      services: Record<string, { command?: string[]; environment?: Record<string, string>; env_file?: string }>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(["postgres", "redis", "smee", "web", "worker"]);
    for (const role of ["web", "worker"] as const) {
      const s = compose.services[role];
      expect(s?.command).toEqual(["node", "bin/odavl.js", role]);
      expect(s?.env_file).toBe(".env");
      expect(() => readEnv(s?.environment ?? {})).not.toThrow();
    }
    expect(compose.services.smee?.command?.join(" ")).toContain("http://web:3000/api/github/webhooks");
  });

  it(".env.example names only settings the code reads, and its values pass the start-up check", () => {
    const lines = read(".env.example").split("\n");
    const keys = lines.map((l) => /^#? ?([A-Z][A-Z0-9_]+)=/.exec(l)?.[1]).filter((k): k is string => !!k);
    expect(keys.filter((k) => k !== "SMEE_URL" && !settings.includes(k))).toEqual([]);
    const values = Object.fromEntries(
      lines.map((l) => /^([A-Z][A-Z0-9_]+)=(.*)$/.exec(l)).flatMap((m) => (m ? [[m[1], m[2]]] : [])),
    );
    expect(() => readEnv(values)).not.toThrow();
    for (const k of ["APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET", "SMEE_URL", "ML_TIME_BUDGET_MS"]) {
      expect(keys).toContain(k);
    }
  });

  it("docs/operations.md documents every SANDBOX_* setting and ML_TIME_BUDGET_MS, and walks the setup in order", () => {
    const ops = read("docs/operations.md");
    for (const k of [...settings.filter((k) => k.startsWith("SANDBOX_")), "ML_TIME_BUDGET_MS"]) {
      expect(ops, k).toContain(`\`${k}\``);
      expect(read(".env.example"), k).toContain(`${k}=`);
    }
    const steps = [
      "cp .env.example .env",
      "https://smee.io/new",
      "openssl rand -hex 32",
      "**Register the GitHub App**",
      "**App ID**",
      "docker compose up --build",
      "/readyz",
      "**Install the app**",
      "push a commit",
    ].map((s) => ops.indexOf(s));
    expect(steps.every((i) => i >= 0)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    // Production: the app is registered before the deploy that needs its id.
    expect(ops.indexOf("## 1b. Register the production app")).toBeLessThan(ops.indexOf("fly deploy"));
    const readme = read("README.md");
    expect(readme).toContain("docker compose up --build");
    expect(readme).toContain("ML_TIME_BUDGET_MS");
  });
});
