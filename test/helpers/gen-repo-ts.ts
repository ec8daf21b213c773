/**
 * Generates a TypeScript repository of a given size for type-checker tests and benchmarks: type modules, utilities,
 * services and features importing each other in layers, as real code does. Generated, not copied from anywhere.
 * Every function body holds a `// @body:<n>` line where edits can insert statements, and every utility's return
 * type is marked so an edit can change a module's exported shape.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface GenRepoOptions {
  /** Approximate number of source files (default 200). */
  files?: number;
  /** Seed of the deterministic choice of imports (default 1). */
  seed?: number;
  /** Type errors to plant in the baseline (default 0). */
  baselineErrors?: number;
}

export interface GeneratedRepo {
  /** Repository-relative paths of all source files. */
  files: string[];
  utils: string[];
  services: string[];
  features: string[];
  /** The planted baseline errors' files. */
  errorFiles: string[];
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[], count: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) {
    const index = Math.floor(random() * pool.length);
    out.push(pool.splice(index, 1)[0] as T);
  }
  return out;
}

function typesModule(k: number): string {
  return `export interface Entity${k} {
  id: string;
  value: number;
  tags: readonly string[];
  createdAt: Date;
  meta?: Record<string, unknown>;
}

export type Status${k} = "new" | "active" | "archived" | "deleted";

export interface Page${k}<T> {
  items: T[];
  total: number;
  next: string | null;
}

export type Handler${k}<T extends Entity${k} = Entity${k}> = (item: T, index: number) => T | undefined;

export const defaults${k}: Readonly<Pick<Entity${k}, "value" | "tags">> = { value: ${k}, tags: [] };

export function isEntity${k}(x: unknown): x is Entity${k} {
  return typeof x === "object" && x !== null && "id" in x && "value" in x;
}
`;
}

function utilModule(k: number, typeDeps: number[]): string {
  const [a = 0, b = a] = typeDeps;
  const imports = [...new Set([a, b])]
    .map((t) => `import { type Entity${t}, type Page${t}, isEntity${t} } from "../types/t${t}.js";`)
    .join("\n");
  const fns: string[] = [];
  for (let i = 0; i < 6; i++) {
    fns.push(`export function sum${k}_${i}(items: readonly Entity${a}[], weight = ${i + 1}): /* @ret */ number {
  let total = 0;
  for (const item of items) {
    if (item.tags.includes("skip-${i}")) continue;
    total += item.value * weight;
  }
  // @body:${i}
  return total;
}

export function page${k}_${i}<T extends Entity${b}>(items: T[], size: number, cursor?: string): Page${b}<T> {
  const start = cursor ? items.findIndex((x) => x.id === cursor) + 1 : 0;
  const slice = items.slice(start, start + size);
  const last = slice.at(-1);
  return { items: slice, total: items.length, next: last && start + size < items.length ? last.id : null };
}

export function filter${k}_${i}(values: unknown[]): Entity${a}[] {
  return values.filter(isEntity${a}).filter((e) => e.value > ${i});
}`);
  }
  return `${imports}\n\n${fns.join("\n\n")}\n`;
}

function serviceModule(k: number, utilDeps: number[], typeDep: number): string {
  const imports = utilDeps.map((u) => `import { filter${u}_1, page${u}_2, sum${u}_0 } from "../util/u${u}.js";`);
  imports.push(
    `import { type Entity${typeDep}, type Status${typeDep}, defaults${typeDep} } from "../types/t${typeDep}.js";`,
  );
  const methods = utilDeps
    .map(
      (u, i) => `  total${i}(): number {
    const values = filter${u}_1(this.items as unknown[]);
    const result = sum${u}_0(values as never[]);
    // @body:${i}
    return result + this.items.length;
  }

  page${i}(size: number): string[] {
    return page${u}_2(this.items as never[], size).items.map((x: { id: string }) => x.id);
  }`,
    )
    .join("\n\n");
  return `${imports.join("\n")}

export interface ServiceOptions${k} {
  name: string;
  limit?: number;
  status?: Status${typeDep};
}

export class Service${k} {
  private readonly items: Entity${typeDep}[] = [];
  readonly options: Required<ServiceOptions${k}>;

  constructor(options: ServiceOptions${k}) {
    this.options = { limit: 100, status: "new", ...options };
  }

  add(id: string, value = defaults${typeDep}.value): Entity${typeDep} {
    const entity: Entity${typeDep} = { id, value, tags: [...defaults${typeDep}.tags], createdAt: new Date(0) };
    if (this.items.length < this.options.limit) this.items.push(entity);
    return entity;
  }

  find(id: string): Entity${typeDep} | undefined {
    return this.items.find((e) => e.id === id);
  }

${methods}
}

export function createService${k}(name: string): Service${k} {
  return new Service${k}({ name });
}
`;
}

function featureModule(k: number, serviceDeps: number[], plantError: boolean): string {
  const imports = serviceDeps.map((s) => `import { createService${s}, type Service${s} } from "../services/s${s}.js";`);
  const uses = serviceDeps
    .map(
      (s, i) => `  const s${i}: Service${s} = createService${s}("feature-${k}-${i}");
  s${i}.add("a-${i}");
  s${i}.add("b-${i}", ${i + 2});
  const found${i} = s${i}.find("a-${i}");
  total += (found${i}?.value ?? 0) + s${i}.total0();
  // @body:${i}`,
    )
    .join("\n");
  const error = plantError ? `\nexport const planted${k}: string = ${k} as number;\n` : "";
  return `${imports.join("\n")}

export interface FeatureResult${k} {
  name: string;
  total: number;
  ids: string[];
}

export function runFeature${k}(): FeatureResult${k} {
  let total = 0;
${uses}
  return { name: "feature-${k}", total, ids: [] };
}

export async function runFeatureLater${k}(delayMs: number): Promise<number> {
  const waited = await Promise.resolve(delayMs);
  return runFeature${k}().total + waited;
}
${error}`;
}

export function generateTsRepo(dir: string, options: GenRepoOptions = {}): GeneratedRepo {
  const target = options.files ?? 200;
  const random = rng(options.seed ?? 1);
  const nTypes = Math.max(2, Math.round(target * 0.1));
  const nUtils = Math.max(2, Math.round(target * 0.2));
  const nServices = Math.max(2, Math.round(target * 0.35));
  const nFeatures = Math.max(2, target - nTypes - nUtils - nServices - 1);
  const files = new Map<string, string>();
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  for (const k of range(nTypes)) files.set(`src/types/t${k}.ts`, typesModule(k));
  for (const k of range(nUtils)) files.set(`src/util/u${k}.ts`, utilModule(k, pick(random, range(nTypes), 2)));
  for (const k of range(nServices)) {
    const utils = pick(random, range(nUtils), 3);
    files.set(`src/services/s${k}.ts`, serviceModule(k, utils, Math.floor(random() * nTypes)));
  }
  const errors = new Set(pick(random, range(nFeatures), options.baselineErrors ?? 0));
  for (const k of range(nFeatures)) {
    files.set(`src/features/f${k}.ts`, featureModule(k, pick(random, range(nServices), 3), errors.has(k)));
  }
  files.set(
    "src/index.ts",
    `${range(Math.min(nFeatures, 10))
      .map((k) => `export { runFeature${k} } from "./features/f${k}.js";`)
      .join("\n")}\n`,
  );

  for (const [file, content] of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  writeFileSync(
    path.join(dir, "tsconfig.json"),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2023"],
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          noEmit: true,
        },
        include: ["src"],
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name: "generated-repo", private: true, type: "module" }, null, 2)}\n`,
  );
  const all = [...files.keys()];
  return {
    files: all,
    utils: all.filter((f) => f.startsWith("src/util/")),
    services: all.filter((f) => f.startsWith("src/services/")),
    features: all.filter((f) => f.startsWith("src/features/")),
    errorFiles: [...errors].map((k) => `src/features/f${k}.ts`),
  };
}

/** Inserts a statement at a function's `// @body` line: no change to the module's exported shape. */
export function insertAtBody(content: string, statement: string, occurrence = 0): string {
  let seen = -1;
  return content.replace(/^(\s*)\/\/ @body:\d+$/gm, (line, indent: string) => {
    seen++;
    return seen === occurrence ? `${indent}${statement}\n${line}` : line;
  });
}

/** Changes the first utility's return type from number to string-or-number: its importers see a new shape. */
export function changeExportedShape(content: string): string {
  return content.replace("/* @ret */ number {", "/* @ret */ number | string {");
}
