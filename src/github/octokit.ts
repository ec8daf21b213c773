/**
 * The Octokit class of the web and worker processes: Probot's (app authentication, throttling and retry plugins)
 * with a rate-limit policy that honours GitHub's `retry-after` on every 403 and 429.
 *
 * Why a plugin of our own: the throttling plugin only waits on a 403/429 whose message says "secondary rate" or
 * whose `x-ratelimit-remaining` is 0, and the retry plugin retries a 429 after 1, 4 and 9 seconds whatever
 * `retry-after` says. GitHub asks integrators to wait for `retry-after` seconds before retrying
 * (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api), so the retry
 * plugin leaves 429 alone and this plugin waits as long as the header says.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ProbotOctokit } from "probot";

/** What this module counts (the process's Prometheus series fit). */
export interface OctokitSeries {
  githubCalls: { inc(labels: { method: string; status: string }): void };
  rateLimitWaits: { inc(labels: { kind: string }): void };
}

export interface OctokitPolicy {
  /** The throttling plugin (queueing of writes at one a second, waits on rate limits). Off in tests only. */
  throttle: boolean;
  /** The retry plugin (5xx and network errors). Off in tests only. */
  retry: boolean;
  /** Retries after a rate-limit answer before giving up. */
  rateLimitRetries?: number;
  /**
   * Longest wait honoured in-process. A longer `retry-after` fails the request with {@link GitHubRateLimitError},
   * and the job is retried by the queue after its backoff instead of holding a worker slot for minutes.
   */
  maxRetryAfterSeconds?: number;
}

export const PRODUCTION_OCTOKIT_POLICY: OctokitPolicy = { throttle: true, retry: true };

/** The retry plugin's default list with 429 added: 429 is ours to retry, after `retry-after`. */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

export class GitHubRateLimitError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    readonly endpoint: string,
  ) {
    super(`GitHub rate limit on ${endpoint}: retry after ${retryAfterSeconds} s`);
    this.name = "GitHubRateLimitError";
  }
}

interface RequestErrorLike {
  status: number;
  message: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

function asRequestError(err: unknown): RequestErrorLike | null {
  if (typeof err !== "object" || err === null) return null;
  const status = (err as { status?: unknown }).status;
  return typeof status === "number" ? (err as RequestErrorLike) : null;
}

/** Seconds to wait when the answer is a 403/429 that carries `retry-after`; null otherwise. */
export function retryAfterSeconds(err: unknown): number | null {
  const e = asRequestError(err);
  if (!e || (e.status !== 403 && e.status !== 429)) return null;
  const raw = e.response?.headers?.["retry-after"];
  if (raw === undefined) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  // retry-after may also be an HTTP date.
  const at = Date.parse(String(raw));
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Answers the throttling plugin waits on by itself when it is on (so they are not waited for twice). */
function handledByThrottling(err: unknown): boolean {
  const e = asRequestError(err);
  if (!e) return false;
  return /\bsecondary rate\b/i.test(e.message) || String(e.response?.headers?.["x-ratelimit-remaining"]) === "0";
}

type Hook = InstanceType<typeof ProbotOctokit>["hook"];
type RequestOptions = { method?: string; url?: string };

function honourRetryAfter(policy: Required<OctokitPolicy>, series: OctokitSeries | undefined) {
  return (octokit: { hook: Hook }) => {
    octokit.hook.wrap("request", async (request, options) => {
      const method = (options as RequestOptions).method ?? "GET";
      const endpoint = `${method} ${(options as RequestOptions).url ?? ""}`;
      for (let attempt = 0; ; attempt++) {
        try {
          const response = await request(options);
          series?.githubCalls.inc({ method, status: `${String(response.status).charAt(0)}xx` });
          return response;
        } catch (err) {
          const status = asRequestError(err)?.status;
          series?.githubCalls.inc({
            method,
            status: status === undefined ? "error" : `${String(status).charAt(0)}xx`,
          });
          const wait = retryAfterSeconds(err);
          if (wait === null || (policy.throttle && handledByThrottling(err)) || attempt >= policy.rateLimitRetries) {
            throw err;
          }
          if (wait > policy.maxRetryAfterSeconds) throw new GitHubRateLimitError(wait, endpoint);
          series?.rateLimitWaits.inc({ kind: "retry-after" });
          await sleep(wait * 1000);
        }
      }
    });
    return {};
  };
}

type ThrottleHandler = (retryAfter: number, options: unknown, octokit: unknown, retryCount: number) => boolean;

/** Probot's Octokit with our rate-limit policy. Pass it to `new Probot({ Octokit })`. */
export function createOctokitClass(
  policy: OctokitPolicy = PRODUCTION_OCTOKIT_POLICY,
  series?: OctokitSeries,
): typeof ProbotOctokit {
  const full: Required<OctokitPolicy> = { rateLimitRetries: 2, maxRetryAfterSeconds: 60, ...policy };
  // Probot's own handler gives up on secondary limits; ours retries twice, after the wait GitHub asked for.
  const retryTwice =
    (kind: string): ThrottleHandler =>
    (_retryAfter, _options, _octokit, retryCount) => {
      const retry = retryCount < full.rateLimitRetries;
      if (retry) series?.rateLimitWaits.inc({ kind });
      return retry;
    };
  return ProbotOctokit.plugin(honourRetryAfter(full, series)).defaults((instanceOptions: Record<string, unknown>) => ({
    ...instanceOptions,
    // Probot turns throttling off on installation clients unless `enabled` is set explicitly; it is ours to decide.
    throttle: {
      ...(instanceOptions.throttle as object | undefined),
      enabled: full.throttle,
      onRateLimit: retryTwice("primary"),
      onSecondaryRateLimit: retryTwice("secondary"),
    },
    retry: { ...(instanceOptions.retry as object | undefined), enabled: full.retry, doNotRetry: DO_NOT_RETRY },
  })) as typeof ProbotOctokit;
}

/**
 * The app's private key as GitHub gives it (PEM). Deployments often store it with escaped newlines or base64
 * encoded, to fit in one environment variable; both are accepted.
 */
export function privateKeyFrom(value: string): string {
  const text = value.includes("-----BEGIN") ? value : Buffer.from(value, "base64").toString("utf8");
  return text.replace(/\\n/g, "\n");
}

/**
 * Where repositories are cloned from, for an API base URL: github.com for GitHub's API, the server itself for a
 * GitHub Enterprise Server (`https://HOST/api/v3` -> `https://HOST`).
 */
export function cloneBaseFor(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === "api.github.com") return "https://github.com";
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/api\/v3\/?$/, "").replace(/\/+$/, "")}`;
}

/** A repository's `clone_url` as GitHub gave it, when it is an http(s) URL; otherwise null. */
export function httpCloneUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? value : null;
  } catch {
    return null;
  }
}

/**
 * Where a repository is cloned from: the `clone_url` GitHub gave for it (webhook payload or API), or, when there
 * is none, `<server>/<owner>/<name>.git` on the server of the API base URL.
 */
export function cloneUrlFor(apiUrl: string, owner: string, name: string, fromGitHub?: string | null): string {
  return httpCloneUrl(fromGitHub) ?? `${cloneBaseFor(apiUrl)}/${owner}/${name}.git`;
}
