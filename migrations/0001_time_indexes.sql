CREATE INDEX "deliveries_received_idx" ON "deliveries" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "outcomes_created_idx" ON "outcomes" USING btree ("created_at");