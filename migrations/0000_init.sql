CREATE TABLE "collection_errors" (
	"id" serial PRIMARY KEY NOT NULL,
	"repository" text NOT NULL,
	"ref" text,
	"error" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consent_events" (
	"id" serial PRIMARY KEY NOT NULL,
	"repository_id" integer NOT NULL,
	"field" text NOT NULL,
	"value" boolean NOT NULL,
	"source" text NOT NULL,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cycles" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"repository_id" integer NOT NULL,
	"run_key" text NOT NULL,
	"sha" text,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"data_stored" boolean DEFAULT false NOT NULL,
	"check_run_id" bigint,
	"candidates" integer DEFAULT 0 NOT NULL,
	"durations_ms" jsonb,
	"facts" jsonb,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"event" text NOT NULL,
	"action" text,
	"installation_id" bigint,
	"repository" text,
	"job_id" text,
	"result" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "installations" (
	"id" bigint PRIMARY KEY NOT NULL,
	"account_login" text NOT NULL,
	"account_type" text DEFAULT 'Organization' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" serial PRIMARY KEY NOT NULL,
	"version" text NOT NULL,
	"kind" text NOT NULL,
	"path" text NOT NULL,
	"feature_schema_version" integer NOT NULL,
	"metrics" jsonb NOT NULL,
	"card" jsonb NOT NULL,
	"status" text DEFAULT 'candidate' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"promoted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "outcomes" (
	"id" serial PRIMARY KEY NOT NULL,
	"prediction_id" integer NOT NULL,
	"success" boolean NOT NULL,
	"status" text NOT NULL,
	"diagnostics_before" integer NOT NULL,
	"diagnostics_after" integer NOT NULL,
	"new_diagnostics" integer NOT NULL,
	"lint_before" integer NOT NULL,
	"lint_after" integer NOT NULL,
	"new_lint_findings" integer NOT NULL,
	"target_before" integer NOT NULL,
	"target_after" integer NOT NULL,
	"tests" text NOT NULL,
	"tests_reason" text,
	"verification_score" double precision NOT NULL,
	"failure_cause" text,
	"durations_ms" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "predictions" (
	"id" serial PRIMARY KEY NOT NULL,
	"cycle_id" uuid NOT NULL,
	"repository_id" integer NOT NULL,
	"sha" text,
	"candidate_key" text NOT NULL,
	"recipe_id" text NOT NULL,
	"family" text NOT NULL,
	"safety" text NOT NULL,
	"scope" text NOT NULL,
	"files" jsonb NOT NULL,
	"lines_added" integer NOT NULL,
	"lines_removed" integer NOT NULL,
	"patch_hash" text NOT NULL,
	"feature_schema_version" integer NOT NULL,
	"features" double precision[] NOT NULL,
	"ml_trust" double precision,
	"heuristic_trust" double precision NOT NULL,
	"trust" double precision NOT NULL,
	"tier" text NOT NULL,
	"used_ml" boolean NOT NULL,
	"fallback_cause" text,
	"model_version" text,
	"latency_ms" double precision NOT NULL,
	"confidence" double precision NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "repositories" (
	"id" serial PRIMARY KEY NOT NULL,
	"github_id" bigint,
	"installation_id" bigint,
	"owner" text NOT NULL,
	"name" text NOT NULL,
	"mode" text NOT NULL,
	"source" text,
	"default_branch" text DEFAULT 'main' NOT NULL,
	"data_collection" boolean DEFAULT false NOT NULL,
	"auto_apply" boolean DEFAULT false NOT NULL,
	"config" jsonb,
	"config_sha" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "consent_events" ADD CONSTRAINT "consent_events_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cycles" ADD CONSTRAINT "cycles_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outcomes" ADD CONSTRAINT "outcomes_prediction_id_predictions_id_fk" FOREIGN KEY ("prediction_id") REFERENCES "public"."predictions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_cycle_id_cycles_id_fk" FOREIGN KEY ("cycle_id") REFERENCES "public"."cycles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repositories" ADD CONSTRAINT "repositories_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "consent_events_repository_idx" ON "consent_events" USING btree ("repository_id");--> statement-breakpoint
CREATE UNIQUE INDEX "cycles_run_key_key" ON "cycles" USING btree ("run_key");--> statement-breakpoint
CREATE INDEX "cycles_repository_sha_idx" ON "cycles" USING btree ("repository_id","sha");--> statement-breakpoint
CREATE INDEX "cycles_started_idx" ON "cycles" USING btree ("started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "models_version_key" ON "models" USING btree ("version");--> statement-breakpoint
CREATE UNIQUE INDEX "models_one_current" ON "models" USING btree ("status") WHERE status = 'current';--> statement-breakpoint
CREATE UNIQUE INDEX "outcomes_prediction_key" ON "outcomes" USING btree ("prediction_id");--> statement-breakpoint
CREATE UNIQUE INDEX "predictions_cycle_candidate_key" ON "predictions" USING btree ("cycle_id","candidate_key");--> statement-breakpoint
CREATE INDEX "predictions_repo_sha_recipe_idx" ON "predictions" USING btree ("repository_id","sha","recipe_id");--> statement-breakpoint
CREATE INDEX "predictions_recipe_idx" ON "predictions" USING btree ("recipe_id");--> statement-breakpoint
CREATE INDEX "predictions_created_idx" ON "predictions" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "repositories_owner_name_key" ON "repositories" USING btree ("owner","name");--> statement-breakpoint
CREATE UNIQUE INDEX "repositories_github_id_key" ON "repositories" USING btree ("github_id");--> statement-breakpoint
CREATE INDEX "repositories_installation_idx" ON "repositories" USING btree ("installation_id");