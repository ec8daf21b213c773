/**
 * Every request the app sends to the GitHub mocks is checked against GitHub's published REST description
 * (`@octokit/openapi`): the path must name an operation, the method must be one of its methods, path and query
 * parameters must be declared and match their schemas, and a JSON body must match the operation's request body
 * schema. What does not is collected as a violation; `useStrictNock` fails the test on any.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

// biome-ignore lint/suspicious/noExplicitAny: the description is plain JSON.
type Json = any;

const require = createRequire(import.meta.url);

/** Which description: GitHub.com, or a GitHub Enterprise Server release. */
export type ApiDescription = "api.github.com" | "ghes-3.19";

const loaded = new Map<ApiDescription, Description>();

interface Operation {
  template: string;
  pattern: RegExp;
  literalLength: number;
  names: string[];
  methods: Record<string, Json>;
  shared: Json[];
}

class Description {
  readonly spec: Json;
  readonly operations: Operation[];
  readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(file: ApiDescription) {
    const root = dirname(require.resolve("@octokit/openapi/package.json"));
    this.spec = JSON.parse(readFileSync(join(root, "generated", `${file}.json`), "utf8"));
    this.ajv = new Ajv({ strict: false, allErrors: true, logger: false });
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: "github", components: { schemas: this.spec.components.schemas } });
    this.operations = Object.entries(this.spec.paths as Record<string, Json>).map(([template, item]) => {
      const names: string[] = [];
      const source = template
        .split("/")
        .map((segment) =>
          segment.replace(/\{([^}]+)\}|[^{}]+/g, (m, name?: string) => {
            if (name) {
              names.push(name);
              return "([^/]+)";
            }
            return m.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          }),
        )
        .join("/");
      const { parameters, ...methods } = item as Record<string, Json>;
      return {
        template,
        pattern: new RegExp(`^${source}$`),
        literalLength: template.replace(/\{[^}]+\}/g, "").length,
        names,
        methods,
        shared: parameters ?? [],
      };
    });
  }

  resolve(node: Json): Json {
    let n = node;
    while (n && typeof n.$ref === "string" && n.$ref.startsWith("#/")) {
      n = n.$ref
        .slice(2)
        .split("/")
        .reduce((o: Json, k: string) => o?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], this.spec);
    }
    return n;
  }

  validator(key: string, schema: Json): ValidateFunction {
    let v = this.validators.get(key);
    if (!v) {
      v = this.ajv.compile(rebase(schema));
      this.validators.set(key, v);
    }
    return v;
  }
}

/** Points the description's local references at the schema registered as "github". */
function rebase(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema === null || typeof schema !== "object") return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `github${v}` : rebase(v);
  }
  return out;
}

function description(name: ApiDescription): Description {
  let d = loaded.get(name);
  if (!d) {
    d = new Description(name);
    loaded.set(name, d);
  }
  return d;
}

/** A query or path value (always text) as its schema's type, so that it can be validated. */
function coerce(value: string, schema: Json): unknown {
  const type = Array.isArray(schema?.type) ? schema.type[0] : schema?.type;
  if (type === "integer" || type === "number") return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (type === "boolean") return value === "true" ? true : value === "false" ? false : value;
  if (type === "array") return value.split(",");
  return value;
}

function ajvProblems(v: ValidateFunction, where: string): string[] {
  return (v.errors ?? []).slice(0, 5).map((e) => `${where}${e.instancePath || ""}: ${e.message ?? "invalid"}`);
}

/**
 * The problems of one request against the description (empty when it conforms). `url` is the full URL; on GitHub
 * Enterprise Server the API lives under `/api/v3`, which is taken off first.
 */
export function checkRequest(
  method: string,
  url: string,
  body: string | null | undefined,
  api: ApiDescription = "api.github.com",
): string[] {
  const d = description(api);
  const parsed = new URL(url);
  // Matched as sent (encoded): a parameter's own slashes are %2F (`git/ref/heads%2Fmain`), never a separator.
  const path = parsed.pathname.replace(/^\/api\/v3(?=\/)/, "");
  const candidates = d.operations
    .map((op) => ({ op, match: op.pattern.exec(path) }))
    .filter((c): c is { op: Operation; match: RegExpExecArray } => c.match !== null)
    .sort((a, b) => b.op.literalLength - a.op.literalLength);
  if (candidates.length === 0) return [`${method} ${path}: no such path in GitHub's REST description`];
  const verb = method.toLowerCase();
  const found = candidates.find((c) => c.op.methods[verb]);
  if (!found) return [`${method} ${path}: ${candidates[0]?.op.template} has no ${method}`];
  const { op, match } = found;
  const operation = op.methods[verb];
  const where = `${method} ${op.template}`;
  const problems: string[] = [];
  const parameters: Json[] = [...op.shared, ...(operation.parameters ?? [])].map((p) => d.resolve(p));

  op.names.forEach((name, i) => {
    const param = parameters.find((p) => p.in === "path" && p.name === name);
    if (!param) return;
    const v = d.validator(`${where} path ${name}`, param.schema ?? {});
    if (!v(coerce(decodeURIComponent(match[i + 1] as string), param.schema)))
      problems.push(...ajvProblems(v, `${where} path ${name}`));
  });

  const query = parameters.filter((p) => p.in === "query");
  for (const [name, value] of parsed.searchParams) {
    const param = query.find((p) => p.name === name);
    if (!param) {
      problems.push(`${where}: unknown query parameter "${name}"`);
      continue;
    }
    const v = d.validator(`${where} query ${name}`, param.schema ?? {});
    if (!v(coerce(value, param.schema))) problems.push(...ajvProblems(v, `${where} query ${name}`));
  }
  for (const p of query) {
    if (p.required && !parsed.searchParams.has(p.name)) problems.push(`${where}: query parameter "${p.name}" missing`);
  }

  const requestBody = d.resolve(operation.requestBody);
  const text = body ?? "";
  if (!requestBody) {
    if (text.length > 0 && verb !== "get") problems.push(`${where}: takes no request body`);
    return problems;
  }
  if (text.length === 0) {
    if (requestBody.required) problems.push(`${where}: request body missing`);
    return problems;
  }
  const schema = requestBody.content?.["application/json"]?.schema;
  if (!schema) return problems;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [...problems, `${where}: request body is not JSON`];
  }
  const v = d.validator(`${where} body`, schema);
  if (!v(json)) problems.push(...ajvProblems(v, `${where} body`));
  return problems;
}

/** Violations seen since the last {@link takeViolations}, across every mock. */
const violations: string[] = [];

export function noteRequest(method: string, url: string, body: string | null | undefined, api?: ApiDescription) {
  for (const p of checkRequest(method, url, body, api)) violations.push(p);
}

export function takeViolations(): string[] {
  return violations.splice(0);
}
