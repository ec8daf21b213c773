#!/usr/bin/env node
// The migration journal must be ordered, every entry must have its SQL file, and no SQL file may be unknown to it
// (hand-written SQL that the journal does not know is drift).
import { readdirSync, readFileSync } from "node:fs";

const journal = JSON.parse(readFileSync("migrations/meta/_journal.json", "utf8"));
const problems = [];
let lastIdx = -1;
let lastWhen = 0;
const known = new Set();
for (const e of journal.entries) {
  if (e.idx !== lastIdx + 1) problems.push(`entry ${e.tag}: idx ${e.idx} follows ${lastIdx}`);
  if (e.when < lastWhen) problems.push(`entry ${e.tag}: created before the entry it follows`);
  lastIdx = e.idx;
  lastWhen = e.when;
  known.add(`${e.tag}.sql`);
}
const files = readdirSync("migrations").filter((f) => f.endsWith(".sql"));
for (const f of files) if (!known.has(f)) problems.push(`${f} is not in the journal`);
for (const k of known) if (!files.includes(k)) problems.push(`journal entry ${k} has no file`);
if (problems.length) {
  console.error(`migrations: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`migrations: ${journal.entries.length} in order, all files known`);
