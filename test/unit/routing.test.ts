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

describe("thinking and effort in the routing file", () => {
  const doc = {
    defaults: { effort: "medium" },
    repos: {
      "acme/api": { thinking: "adaptive", effort: "xhigh" },
      "acme/legacy": { thinking: 4096 },
      "acme/plain": { checkCommand: "make" },
    },
  };

  it("puts them on the repository's settings, defaults first, undefined where nothing is set", () => {
    const r = parseRouting(doc, "acme/fallback");
    const route = (label: string) => routeIssue({ teamKey: null, projectName: null, labelNames: [label] }, r);
    expect(route("repo:acme/api")).toMatchObject({ ok: true, repo: { thinking: "adaptive", effort: "xhigh" } });
    expect(route("repo:acme/legacy")).toMatchObject({ ok: true, repo: { thinking: 4096, effort: "medium" } });
    expect(route("repo:acme/plain")).toMatchObject({ ok: true, repo: { thinking: undefined, effort: "medium" } });
    expect(route("repo:acme/fallback")).toMatchObject({ ok: true, repo: { thinking: undefined, effort: "medium" } });
    const bare = parseRouting({}, "acme/x").defaults;
    expect(bare.thinking).toBeUndefined();
    expect(bare.effort).toBeUndefined();
  });

  it("names the path and the allowed values of every bad setting", () => {
    const err = (() => {
      try {
        parseRouting(
          { defaults: { thinking: "fast" }, repos: { "acme/api": { thinking: 512, effort: "extreme" }, "acme/b": { thinking: 2.5 } } },
          undefined,
        );
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(RoutingConfigError);
    const lines = err!.message.split("\n").slice(1);
    const allowed = "must be adaptive, between-tools, off or a budget of thinking tokens (a whole number of at least 1024)";
    expect(lines).toEqual([
      `  - defaults.thinking: ${allowed}, not "fast"`,
      `  - repos.acme/api.thinking: ${allowed}, not 512`,
      '  - repos.acme/api.effort: must be one of low, medium, high, xhigh, max, not "extreme"',
      `  - repos.acme/b.thinking: ${allowed}, not 2.5`,
    ]);
  });

  it("refuses, under the key that asked, what the agent's model would answer with a 400", () => {
    const agent = { model: "claude-sonnet-5-5", maxTokens: 16_000 };
    const err = (() => {
      try {
        parseRouting(doc, undefined, "routing.yaml", agent);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(RoutingConfigError);
    expect(err!.message).toBe(
      "Invalid AGENT_WORKFORCE_CONFIG (routing.yaml):\n" +
        "  - repos.acme/legacy: claude-sonnet-5-5 does not accept a thinking budget (4096 tokens); it accepts adaptive, between-tools (or leave thinking unset for its default)",
    );
    // The same file suits a model that takes budgets but not xhigh... except for acme/api's xhigh.
    expect(() => parseRouting(doc, undefined, "routing.yaml", { model: "claude-sonnet-4-6", maxTokens: 16_000 })).toThrow(
      /repos\.acme\/api: claude-sonnet-4-6 does not accept effort xhigh/,
    );
    expect(() => parseRouting({ defaults: { thinking: "off" } }, undefined, "r", { model: "claude-opus-5-5", maxTokens: 16_000 })).toThrow(
      /defaults: claude-opus-5-5 does not accept thinking: off; it accepts adaptive/,
    );
    expect(() => parseRouting({ defaults: { thinking: 20_000 } }, undefined, "r", { model: "claude-sonnet-4-5", maxTokens: 16_000 })).toThrow(
      /defaults: a thinking budget \(20000 tokens\) must be less than AGENT_MAX_TOKENS \(16000\)/,
    );
    expect(parseRouting({ defaults: { thinking: "between-tools", effort: "low" } }, undefined, "r", agent).defaults).toMatchObject({
      thinking: "between-tools",
      effort: "low",
    });
  });

  it("checks the file against the model when loaded, as start-up and doctor do", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "awf-routing-"));
    const file = path.join(dir, "routing.yaml");
    await writeFile(file, "defaults:\n  thinking: 8000\n");
    await expect(loadRouting(file, undefined, { model: "claude-fable-5-2", maxTokens: 32_000 })).rejects.toThrow(
      /defaults: claude-fable-5-2 does not accept a thinking budget/,
    );
    expect((await loadRouting(file, undefined, { model: "claude-haiku-4-5", maxTokens: 32_000 })).defaults.thinking).toBe(8000);
  });
});

