/**
 * Error reporting to Sentry, for the web and worker processes. Only when SENTRY_DSN is set: otherwise the Sentry
 * SDK is not even loaded, and nothing leaves the process.
 *
 * Reported: failed jobs (with their delivery id, job id, repository and sha as tags; a failure that will be
 * retried as a warning, the last one as an error) and the process's uncaught exceptions and unhandled rejections
 * (which still stop the process, as they would without Sentry). Nothing else is sent: no tracing, no request
 * bodies, no personal data.
 */
import type { Logger } from "pino";

/** What identifies a job in a report (and in its log lines). */
export interface JobTags {
  deliveryId: string | null;
  jobId: string | null;
  repository: string | null;
  sha: string | null;
}

export interface ErrorReporter {
  /** A job failed; `final`: it will not be retried. */
  captureJobFailure(err: unknown, tags: JobTags & { jobName: string; attempt: number; final: boolean }): void;
  /** Any other error worth a report, with tags. */
  captureException(err: unknown, tags?: Record<string, string | number | boolean | null>): void;
  /** Sends what is queued (at shutdown); resolves false when the time ran out. */
  close(timeoutMs?: number): Promise<boolean>;
}

export interface ErrorReportingOptions {
  /** `web` or `worker`: a tag on every event. */
  role: string;
  logger?: Logger;
  /** The release (default: the package version). */
  release?: string;
  environment?: string;
}

/**
 * Initialises Sentry when `env.SENTRY_DSN` is set and returns the reporter; returns null (and loads nothing)
 * when it is not. Call it once per process, early.
 */
export async function initErrorReporting(
  env: { SENTRY_DSN?: string | undefined },
  o: ErrorReportingOptions,
): Promise<ErrorReporter | null> {
  const dsn = env.SENTRY_DSN?.trim();
  if (!dsn) return null;
  const Sentry = await import("@sentry/node");
  Sentry.init({
    dsn,
    release: o.release ?? process.env.npm_package_version ?? "odavl-autopilot",
    ...(o.environment ? { environment: o.environment } : {}),
    // Errors only: no performance tracing, no request data, no personal data.
    tracesSampleRate: 0,
    integrations: (defaults) => [
      // Every failed attempt is an event of its own, even when it failed like the one before (Dedupe would drop it).
      ...defaults.filter((i) => i.name !== "OnUnhandledRejection" && i.name !== "Dedupe"),
      // Node stops the process on an unhandled rejection; Sentry's default would only warn and keep it running.
      Sentry.onUnhandledRejectionIntegration({ mode: "strict" }),
    ],
    initialScope: { tags: { role: o.role } },
  });
  o.logger?.info("error reporting to Sentry is on");
  const tagValues = (tags: Record<string, string | number | boolean | null | undefined>) =>
    Object.fromEntries(
      Object.entries(tags)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
  return {
    captureJobFailure(err, tags) {
      Sentry.withScope((scope) => {
        scope.setTags(tagValues({ ...tags, attempt: tags.attempt, final: tags.final }));
        scope.setLevel(tags.final ? "error" : "warning");
        Sentry.captureException(err);
      });
    },
    captureException(err, tags = {}) {
      Sentry.withScope((scope) => {
        scope.setTags(tagValues(tags));
        Sentry.captureException(err);
      });
    },
    close: (timeoutMs = 2_000) => Sentry.close(timeoutMs),
  };
}

/** The tags of a job of the cycles queue, from its payload (whatever its name; absent fields are null). */
export function jobTags(job: { id?: string | undefined; data?: unknown } | undefined): JobTags {
  const data = (job?.data && typeof job.data === "object" ? job.data : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
  return {
    deliveryId: str(data.deliveryId),
    jobId: job?.id ?? null,
    repository: str(data.repository),
    // Apply jobs name the commit their check run was on.
    sha: str(data.sha) ?? str(data.headSha),
  };
}
