CREATE TABLE "apply_clicks" (
	"id" serial PRIMARY KEY NOT NULL,
	"repository_id" integer NOT NULL,
	"delivery_id" text NOT NULL,
	"check_run_id" bigint NOT NULL,
	"head_sha" text NOT NULL,
	"recipe_id" text NOT NULL,
	"result" text,
	"pull_request_number" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fix_pull_requests" (
	"id" serial PRIMARY KEY NOT NULL,
	"repository_id" integer NOT NULL,
	"number" integer NOT NULL,
	"branch" text NOT NULL,
	"base" text NOT NULL,
	"title" text NOT NULL,
	"recipe_id" text NOT NULL,
	"cycle_id" uuid,
	"patch_hash" text NOT NULL,
	"head_sha" text NOT NULL,
	"commit_sha" text NOT NULL,
	"trust" double precision NOT NULL,
	"tier" text NOT NULL,
	"origin" text NOT NULL,
	"state" text DEFAULT 'open' NOT NULL,
	"merge_sha" text,
	"closed_at" timestamp with time zone,
	"revert_sha" text,
	"reverted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "apply_clicks" ADD CONSTRAINT "apply_clicks_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fix_pull_requests" ADD CONSTRAINT "fix_pull_requests_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fix_pull_requests" ADD CONSTRAINT "fix_pull_requests_cycle_id_cycles_id_fk" FOREIGN KEY ("cycle_id") REFERENCES "public"."cycles"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "apply_clicks_delivery_key" ON "apply_clicks" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "apply_clicks_repository_check_run_idx" ON "apply_clicks" USING btree ("repository_id","check_run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "fix_pull_requests_repository_number_key" ON "fix_pull_requests" USING btree ("repository_id","number");--> statement-breakpoint
CREATE INDEX "fix_pull_requests_repository_patch_idx" ON "fix_pull_requests" USING btree ("repository_id","patch_hash");