/** The check every GitHub mock applies: requests that break GitHub's REST description are caught, others pass. */
import { describe, expect, it } from "vitest";
import { checkedScope } from "./helpers/github-mock.js";
import { checkRequest, takeViolations } from "./helpers/openapi.js";

const API = "https://api.github.com";

describe("GitHub's REST description check", () => {
  it("passes requests as the app sends them", () => {
    expect(
      checkRequest(
        "POST",
        `${API}/repos/acme/demo/check-runs`,
        JSON.stringify({ name: "ODAVL", head_sha: "a".repeat(40), status: "in_progress" }),
      ),
    ).toEqual([]);
    expect(checkRequest("GET", `${API}/repos/acme/demo/pulls?state=open&per_page=100`, "")).toEqual([]);
    expect(checkRequest("GET", `${API}/repos/acme/demo/git/ref/heads%2Fmain`, "")).toEqual([]);
    expect(
      checkRequest("POST", `https://ghe.example/api/v3/app/installations/4/access_tokens`, "", "ghes-3.19"),
    ).toEqual([]);
  });

  it("fails unknown paths, wrong methods, unknown or ill-typed parameters and bodies that break the schema", () => {
    expect(checkRequest("GET", `${API}/repos/acme/demo/no-such-thing`, "")).toEqual([
      "GET /repos/acme/demo/no-such-thing: no such path in GitHub's REST description",
    ]);
    expect(checkRequest("DELETE", `${API}/repos/acme/demo/check-runs`, "")[0]).toContain("has no DELETE");
    expect(checkRequest("GET", `${API}/repos/acme/demo/pulls?colour=red`, "")).toEqual([
      'GET /repos/{owner}/{repo}/pulls: unknown query parameter "colour"',
    ]);
    expect(checkRequest("GET", `${API}/repos/acme/demo/pulls?state=merged`, "").join()).toContain("query state");
    const missingHead = checkRequest("POST", `${API}/repos/acme/demo/check-runs`, JSON.stringify({ name: "x" }));
    expect(missingHead.join()).toContain("head_sha");
    const badConclusion = checkRequest(
      "PATCH",
      `${API}/repos/acme/demo/check-runs/7`,
      JSON.stringify({ status: "completed", conclusion: "great" }),
    );
    expect(badConclusion.join()).toContain("body/conclusion");
    const badPath = checkRequest("PATCH", `${API}/repos/acme/demo/check-runs/seven`, JSON.stringify({}));
    expect(badPath.join()).toContain("path check_run_id");
  });

  it("is applied to every request a GitHub mock answers", async () => {
    const scope = checkedScope().post("/repos/acme/demo/check-runs").reply(201, { id: 1 });
    const answer = await fetch(`${API}/repos/acme/demo/check-runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "ODAVL" }),
    });
    expect(answer.status).toBe(201);
    expect(scope.isDone()).toBe(true);
    expect(takeViolations().join()).toContain("must have required property 'head_sha'");
  });
});
