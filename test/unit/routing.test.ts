import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { routeIssue } from "../../src/routing/route-issue.js";
import { loadRouting, parseRouting, RoutingConfigError } from "../../src/routing/routing-config.js";

const routing = parseRouting(
  {
    defaults: { maxAgents: 1 },
    repos: { "acme/api": { baseBranch: "develop", checkCommand: "npm test", maxAgents: 3 } },
    routes: [
      { team: "ENG", repo: "acme/api" },
      { project: "Billing revamp", repo: "acme/billing" },
    ],
  },
  "acme/fallback",
);

describe("routeIssue", () => {
  it("a repo: label wins over project, team and default", () => {
    const r = routeIssue(
      { teamKey: "ENG", projectName: "Billing revamp", labelNames: ["agent", "repo:acme/billing"] },
      routing,
    );
    expect(r).toMatchObject({
      ok: true,
      via: 'label "repo:acme/billing"',
      repo: { owner: "acme", name: "billing", maxAgents: 1 },
    });
  });

  it("a repo: label may name any repository of the routing file or DEFAULT_REPO, in any case", () => {
    const targets = ["repo:ACME/Api", "repo: acme/fallback", "repo:acme/billing"].map((label) =>
      routeIssue({ teamKey: "OPS", projectName: null, labelNames: [label] }, routing),
    );
    // The configured spelling is used, so one repository never gets two mirrors or slot keys.
    expect(targets.map((r) => r.ok && `${r.repo.owner}/${r.repo.name}`)).toEqual([
      "acme/api",
      "acme/fallback",
      "acme/billing",
    ]);
    expect(targets[0]).toMatchObject({ repo: { baseBranch: "develop", maxAgents: 3 } });
  });

  it("refuses a repo: label naming a repository the routing file does not list, saying how to add it", () => {
    const r = routeIssue(
      { teamKey: "ENG", projectName: "Billing revamp", labelNames: ["agent", "repo:evil/secrets"] },
      routing,
    );
    expect(r.ok).toBe(false);
    const reason = r.ok ? "" : r.reason;
    expect(reason).toContain("evil/secrets");
    expect(reason).toContain("acme/api, acme/billing, acme/fallback");
    expect(reason).toMatch(/AGENT_WORKFORCE_CONFIG/);
    expect(reason).toMatch(/repos:/);
    expect(reason).toMatch(/re-add the agent label/);

    const onlyDefault = routeIssue(
      { teamKey: null, projectName: null, labelNames: ["repo:acme/api"] },
      parseRouting({}, "acme/fallback"),
    );
    expect(onlyDefault.ok).toBe(false);
    expect(!onlyDefault.ok && onlyDefault.reason).toContain("allowed: acme/fallback");

    const nothing = routeIssue(
      { teamKey: null, projectName: null, labelNames: ["repo:acme/api"] },
      parseRouting({}, undefined),
    );
    expect(!nothing.ok && nothing.reason).toMatch(/No repository is allowed yet/);
  });

  it("a project route wins over the team route", () => {
    const r = routeIssue({ teamKey: "ENG", projectName: "billing REVAMP", labelNames: [] }, routing);
    expect(r).toMatchObject({ ok: true, repo: { owner: "acme", name: "billing" } });
  });

  it("a team route carries the repository's settings", () => {
    const r = routeIssue({ teamKey: "eng", projectName: null, labelNames: [] }, routing);
    expect(r).toEqual({
      ok: true,
      via: "team eng",
      repo: { owner: "acme", name: "api", baseBranch: "develop", checkCommand: "npm test", maxAgents: 3 },
    });
  });

  it("falls back to DEFAULT_REPO, and says how to route when there is none", () => {
    expect(routeIssue({ teamKey: "OPS", projectName: null, labelNames: [] }, routing)).toMatchObject({
      ok: true,
      via: "DEFAULT_REPO",
      repo: { owner: "acme", name: "fallback" },
    });
    const none = routeIssue(
      { teamKey: "OPS", projectName: null, labelNames: [] },
      parseRouting({}, undefined),
    );
    expect(none.ok).toBe(false);
    expect(!none.ok && none.reason).toMatch(/repo:owner\/name.*AGENT_WORKFORCE_CONFIG.*DEFAULT_REPO/s);
  });
});

describe("loadRouting", () => {
  it("reads YAML and names every problem of an invalid file", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "awf-routing-"));
    const good = path.join(dir, "routing.yaml");
    await writeFile(
      good,
      "repos:\n  acme/api:\n    checkCommand: npm test\nroutes:\n  - team: ENG\n    repo: acme/api\n",
    );
    const r = await loadRouting(good, undefined);
    expect(r.repos["acme/api"]?.checkCommand).toBe("npm test");

    const bad = path.join(dir, "bad.yaml");
    await writeFile(bad, "repos:\n  not-a-repo:\n    maxAgents: 0\nroutes:\n  - repo: acme/api\nextra: 1\n");
    const err = await loadRouting(bad, undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RoutingConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain(bad);
    expect(msg).toMatch(/must look like owner\/name/);
    expect(msg).toMatch(/maxAgents/);
    expect(msg).toMatch(/a route needs a team or a project/);
    expect(msg).toMatch(/extra/);
    await expect(loadRouting(path.join(dir, "missing.yaml"), undefined)).rejects.toThrow(
      /cannot read the file/,
    );
  });
});
