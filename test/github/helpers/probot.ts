/** A Probot for tests: a generated key, throttling and retries off, silent logs; and signed deliveries. */
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { pino } from "pino";
import { Probot } from "probot";
import { createGitHubApi, type GitHubApi } from "../../../src/github/api.js";
import { createOctokitClass, type OctokitPolicy } from "../../../src/github/octokit.js";
import type { Payload } from "./payloads.js";

export const WEBHOOK_SECRET = "test-webhook-secret";
export const APP_ID = 1;

let key: string | null = null;

/** One RSA key per test process (generating one takes a moment). */
export function testPrivateKey(): string {
  key ??= generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs1", format: "pem" })
    .toString();
  return key;
}

export const silentLogger = pino({ level: "silent" });

export function testProbot(): Probot {
  return new Probot({
    appId: APP_ID,
    privateKey: testPrivateKey(),
    secret: WEBHOOK_SECRET,
    Octokit: createOctokitClass({ throttle: false, retry: false }),
    log: silentLogger,
  });
}

/**
 * Our GitHub API over an installation-token Octokit, for tests whose GitHub is nock: throttling and retries off
 * unless a test gives its own policy.
 */
export async function tokenGitHubApi(policy: OctokitPolicy = { throttle: false, retry: false }): Promise<GitHubApi> {
  const probot = new Probot({ githubToken: "test-token", Octokit: createOctokitClass(policy), log: silentLogger });
  return createGitHubApi(await probot.auth());
}

/** Delivers a payload to the app's handlers the way Probot does after verifying a signature. */
export async function receive(
  probot: Probot,
  name: string,
  payload: Payload,
  id: string = randomUUID(),
): Promise<string> {
  await probot.receive({ id, name, payload } as unknown as Parameters<Probot["receive"]>[0]);
  return id;
}

export function sign(body: string, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** POSTs a webhook over HTTP, signed (or with the given signature, or none). */
export async function postWebhook(
  url: string,
  event: string,
  payload: Payload,
  o: { id?: string; signature?: string | null } = {},
): Promise<Response> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": o.id ?? randomUUID(),
  };
  const signature = o.signature === undefined ? sign(body) : o.signature;
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  return fetch(url, { method: "POST", headers, body });
}
