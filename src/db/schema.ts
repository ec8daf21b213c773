/**
 * The stored data. Stored: ids, shas, paths, recipe ids, counts, features, scores, outcomes.
 * Never stored: source code, test logs, tokens.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const installations = pgTable("installations", {
  /** GitHub's installation id. */
  id: bigint("id", { mode: "number" }).primaryKey(),
  accountLogin: text("account_login").notNull(),
  accountType: text("account_type").notNull().default("Organization"),
  /** Set while GitHub has the installation suspended (installation.suspend): nothing is scheduled or run. */
  suspendedAt: timestamp("suspended_at", { withTimezone: true }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const repositories = pgTable(
  "repositories",
  {
    id: serial("id").primaryKey(),
    /** GitHub's repository id (null for shadow repositories given by URL or path). */
    githubId: bigint("github_id", { mode: "number" }),
    installationId: bigint("installation_id", { mode: "number" }).references(() => installations.id, {
      onDelete: "cascade",
    }),
    owner: text("owner").notNull(),
    name: text("name").notNull(),
    /** "installed": a GitHub App installation; "shadow": read-only, run by the operators. */
    mode: text("mode", { enum: ["installed", "shadow"] }).notNull(),
    /** Where to clone from: a git URL or a local path (shadow and local runs). */
    source: text("source"),
    defaultBranch: text("default_branch").notNull().default("main"),
    dataCollection: boolean("data_collection").notNull().default(false),
    autoApply: boolean("auto_apply").notNull().default(false),
    /** The last valid `.github/odavl.yml`, parsed. */
    config: jsonb("config"),
    configSha: text("config_sha"),
    /**
     * Set when GitHub refused the repository for good (403 suspended, 404 no longer visible): it is neither
     * scheduled nor run until an event about it (unsuspend, added again, a push) clears it. Why, in `pausedReason`.
     */
    pausedAt: timestamp("paused_at", { withTimezone: true }),
    pausedReason: text("paused_reason"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("repositories_owner_name_key").on(t.owner, t.name),
    uniqueIndex("repositories_github_id_key").on(t.githubId),
    index("repositories_installation_idx").on(t.installationId),
  ],
);

export const consentEvents = pgTable(
  "consent_events",
  {
    id: serial("id").primaryKey(),
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    field: text("field", { enum: ["dataCollection", "autoApply"] }).notNull(),
    value: boolean("value").notNull(),
    /** "config" (.github/odavl.yml), "operator", "cli", "install". */
    source: text("source").notNull(),
    actor: text("actor").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("consent_events_repository_idx").on(t.repositoryId)],
);

export const deliveries = pgTable(
  "deliveries",
  {
    /** GitHub's X-GitHub-Delivery. */
    id: text("id").primaryKey(),
    event: text("event").notNull(),
    action: text("action"),
    installationId: bigint("installation_id", { mode: "number" }),
    repository: text("repository"),
    jobId: text("job_id"),
    result: text("result").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  },
  // Old deliveries are cleared by time (docs/operations.md, "Retention").
  (t) => [index("deliveries_received_idx").on(t.receivedAt)],
);

export const cycles = pgTable(
  "cycles",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    /** Identity of the run: the queue job id for queued cycles (a retried job reuses its cycle), random for the CLI. */
    runKey: text("run_key").notNull(),
    sha: text("sha"),
    trigger: text("trigger").notNull(),
    status: text("status", { enum: ["running", "completed", "failed", "superseded"] }).notNull(),
    /** Whether features, predictions and outcomes were stored (data-collection consent). */
    dataStored: boolean("data_stored").notNull().default(false),
    checkRunId: bigint("check_run_id", { mode: "number" }),
    candidates: integer("candidates").notNull().default(0),
    durationsMs: jsonb("durations_ms").$type<Record<string, number>>(),
    facts: jsonb("facts"),
    error: text("error"),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("cycles_run_key_key").on(t.runKey),
    index("cycles_repository_sha_idx").on(t.repositoryId, t.sha),
    index("cycles_started_idx").on(t.startedAt),
  ],
);

export const predictions = pgTable(
  "predictions",
  {
    id: serial("id").primaryKey(),
    cycleId: uuid("cycle_id")
      .notNull()
      .references(() => cycles.id, { onDelete: "cascade" }),
    /** Denormalised for resumable collection and per-repository history. */
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    sha: text("sha"),
    candidateKey: text("candidate_key").notNull(),
    recipeId: text("recipe_id").notNull(),
    family: text("family").notNull(),
    safety: text("safety").notNull(),
    scope: text("scope").notNull(),
    /** Repository-relative paths the candidate changes (paths only, never contents). */
    files: jsonb("files").$type<string[]>().notNull(),
    linesAdded: integer("lines_added").notNull(),
    linesRemoved: integer("lines_removed").notNull(),
    patchHash: text("patch_hash").notNull(),
    featureSchemaVersion: integer("feature_schema_version").notNull(),
    features: doublePrecision("features").array().notNull(),
    mlTrust: doublePrecision("ml_trust"),
    heuristicTrust: doublePrecision("heuristic_trust").notNull(),
    trust: doublePrecision("trust").notNull(),
    tier: text("tier", { enum: ["auto-apply", "review-suggested", "manual-only"] }).notNull(),
    usedMl: boolean("used_ml").notNull(),
    fallbackCause: text("fallback_cause"),
    modelVersion: text("model_version"),
    latencyMs: doublePrecision("latency_ms").notNull(),
    confidence: doublePrecision("confidence").notNull(),
    reason: text("reason").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("predictions_cycle_candidate_key").on(t.cycleId, t.candidateKey),
    index("predictions_repo_sha_recipe_idx").on(t.repositoryId, t.sha, t.recipeId),
    index("predictions_recipe_idx").on(t.recipeId),
    index("predictions_created_idx").on(t.createdAt),
  ],
);

export const outcomes = pgTable(
  "outcomes",
  {
    id: serial("id").primaryKey(),
    predictionId: integer("prediction_id")
      .notNull()
      .references(() => predictions.id, { onDelete: "cascade" }),
    success: boolean("success").notNull(),
    status: text("status", { enum: ["verified", "error"] }).notNull(),
    diagnosticsBefore: integer("diagnostics_before").notNull(),
    diagnosticsAfter: integer("diagnostics_after").notNull(),
    newDiagnostics: integer("new_diagnostics").notNull(),
    lintBefore: integer("lint_before").notNull(),
    lintAfter: integer("lint_after").notNull(),
    newLintFindings: integer("new_lint_findings").notNull(),
    targetBefore: integer("target_before").notNull(),
    targetAfter: integer("target_after").notNull(),
    tests: text("tests", { enum: ["pass", "fail", "unknown"] }).notNull(),
    testsReason: text("tests_reason"),
    verificationScore: doublePrecision("verification_score").notNull(),
    failureCause: text("failure_cause"),
    durationsMs: jsonb("durations_ms").$type<Record<string, number>>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("outcomes_prediction_key").on(t.predictionId),
    // Rolling accuracy (check-data, the dashboard) reads outcomes by time.
    index("outcomes_created_idx").on(t.createdAt),
  ],
);

export const models = pgTable(
  "models",
  {
    id: serial("id").primaryKey(),
    version: text("version").notNull(),
    kind: text("kind").notNull(),
    path: text("path").notNull(),
    featureSchemaVersion: integer("feature_schema_version").notNull(),
    /** Held-out metrics from the model card (pooled), used for promotion. */
    metrics: jsonb("metrics").$type<Record<string, number>>().notNull(),
    card: jsonb("card").notNull(),
    status: text("status", { enum: ["candidate", "current", "retired"] })
      .notNull()
      .default("candidate"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    promotedAt: timestamp("promoted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("models_version_key").on(t.version),
    // At most one current model.
    uniqueIndex("models_one_current").on(t.status).where(sql`status = 'current'`),
  ],
);

/** Errors of shadow collection runs (one failing repository never stops a run). */
export const collectionErrors = pgTable("collection_errors", {
  id: serial("id").primaryKey(),
  repository: text("repository").notNull(),
  ref: text("ref"),
  error: text("error").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Recipes the operator let out of probation (`odavl recipes probation --override`): never shown manual-only for
 * their failure rate, never muted in a repository.
 */
export const recipeOverrides = pgTable("recipe_overrides", {
  recipeId: text("recipe_id").primaryKey(),
  actor: text("actor").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The pull requests opened for fixes (a maintainer's Apply, or auto-apply) and what became of them: the
 * maintainers' answer, a label for every stored prediction of the repository with the same patch (`patchHash`).
 * Stored, like outcomes, only while the repository consents to data collection.
 */
export const fixPullRequests = pgTable(
  "fix_pull_requests",
  {
    id: serial("id").primaryKey(),
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    number: integer("number").notNull(),
    /** The fix's branch (`odavl/<recipe>-<sha7>`) and the branch it merges into. */
    branch: text("branch").notNull(),
    base: text("base").notNull(),
    title: text("title").notNull(),
    recipeId: text("recipe_id").notNull(),
    /** The cycle that verified the fix just before the pull request was opened (its predictions are the fix's). */
    cycleId: uuid("cycle_id").references(() => cycles.id, { onDelete: "set null" }),
    patchHash: text("patch_hash").notNull(),
    /** The commit the fix was made on, and the fix's own commit (the pull request's head). */
    headSha: text("head_sha").notNull(),
    commitSha: text("commit_sha").notNull(),
    /** The trust and tier the pull request showed (the check run's, for the same patch). */
    trust: doublePrecision("trust").notNull(),
    tier: text("tier", { enum: ["auto-apply", "review-suggested", "manual-only"] }).notNull(),
    /** "apply": a maintainer pressed Apply; "auto-apply": the repository's autoApply consent opened it. */
    origin: text("origin", { enum: ["apply", "auto-apply"] }).notNull(),
    state: text("state", { enum: ["open", "merged", "closed", "reverted"] })
      .notNull()
      .default("open"),
    /** The commit GitHub merged it as (pull_request.closed with merged: true). */
    mergeSha: text("merge_sha"),
    closedAt: timestamp("closed_at", { withTimezone: true }),
    /** The commit of the base branch that reverted it (docs/operations.md, "Maintainers' answers"). */
    revertSha: text("revert_sha"),
    revertedAt: timestamp("reverted_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("fix_pull_requests_repository_number_key").on(t.repositoryId, t.number),
    index("fix_pull_requests_repository_patch_idx").on(t.repositoryId, t.patchHash),
  ],
);

/**
 * Every press of an Apply button (one per delivery), and what it came to. The prediction it answered is the one
 * the check run's cycle stored for the recipe. Stored only while the repository consents to data collection.
 */
export const applyClicks = pgTable(
  "apply_clicks",
  {
    id: serial("id").primaryKey(),
    repositoryId: integer("repository_id")
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    /** GitHub's X-GitHub-Delivery of the check_run.requested_action event. */
    deliveryId: text("delivery_id").notNull(),
    checkRunId: bigint("check_run_id", { mode: "number" }).notNull(),
    headSha: text("head_sha").notNull(),
    recipeId: text("recipe_id").notNull(),
    /** What the apply job answered: "opened", "exists", "not-applied", "skipped"; null while it runs. */
    result: text("result"),
    /** The pull request it opened, or found open already. */
    pullRequestNumber: integer("pull_request_number"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("apply_clicks_delivery_key").on(t.deliveryId),
    index("apply_clicks_repository_check_run_idx").on(t.repositoryId, t.checkRunId),
  ],
);
