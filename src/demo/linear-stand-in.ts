import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** A Linear issue as the demo keeps it. */
export interface DemoIssue {
  id: string;
  identifier: string;
  title: string;
  description: string;
  url: string;
  stateId: string;
  labelIds: string[];
  updatedAt: string;
}

/**
 * A small stand-in for Linear's GraphQL API, answering only the operations agent-workforce
 * sends (by operation name), so the offline demo needs nothing but Redis. The tests use a fake
 * that executes Linear's full schema instead.
 */
export async function startLinearStandIn(apiKey: string) {
  const team = { id: randomUUID(), key: "DEMO", name: "Demo team" };
  const states = [
    ["Backlog", "backlog"],
    ["Todo", "unstarted"],
    ["In Progress", "started"],
    ["In Review", "started"],
    ["Done", "completed"],
    ["Canceled", "canceled"],
  ].map(([name, type], position) => ({ id: randomUUID(), name: name as string, type: type as string, position }));
  const agentLabel = { id: randomUUID(), name: "agent" };
  const issues = new Map<string, DemoIssue>();
  const comments = new Map<string, { id: string; issueId: string; body: string; createdAt: string }>();
  const attachments = new Map<string, { id: string; issueId: string; url: string; title: string }>();

  const stateOf = (i: DemoIssue) => states.find((s) => s.id === i.stateId) ?? states[0]!;
  const issueJson = (i: DemoIssue) => ({
    ...i,
    team,
    project: null,
    state: stateOf(i),
    labels: { nodes: i.labelIds.map((id) => (id === agentLabel.id ? agentLabel : { id, name: "?" })) },
    comments: {
      nodes: [...comments.values()]
        .filter((c) => c.issueId === i.id)
        .map((c) => ({ body: c.body, createdAt: c.createdAt, user: { name: "agent-workforce", displayName: "agent-workforce" }, botActor: null })),
    },
  });
  const notFound = (what: string) => ({ errors: [{ message: `Entity not found: ${what}`, extensions: { code: "INVALID_INPUT", type: "invalid input" } }] });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- GraphQL variables are free-form JSON here
  function answer(op: string, v: Record<string, any>): unknown {
    const now = new Date().toISOString();
    switch (op) {
      case "AgentIssueContext": {
        const i = issues.get(v.id) ?? [...issues.values()].find((x) => x.identifier === v.id);
        return i ? { data: { issue: issueJson(i) } } : notFound("Issue");
      }
      case "AgentTeamStates":
        return { data: { team: { states: { nodes: states } } } };
      case "AgentLabelledIssues":
        return { data: { issues: { nodes: [...issues.values()].filter((i) => i.labelIds.includes(agentLabel.id)).map(issueJson), pageInfo: { hasNextPage: false, endCursor: null } } } };
      case "updateIssue": {
        const i = issues.get(v.id);
        if (!i) return notFound("Issue");
        if (v.input?.stateId) i.stateId = v.input.stateId;
        i.updatedAt = now;
        return { data: { issueUpdate: { success: true, lastSyncId: 1, issue: { id: i.id } } } };
      }
      case "createComment": {
        const c = { id: v.input.id ?? randomUUID(), issueId: v.input.issueId, body: v.input.body, createdAt: now };
        comments.set(c.id, c);
        return { data: { commentCreate: { success: true, lastSyncId: 1, comment: { id: c.id } } } };
      }
      case "updateComment": {
        const c = comments.get(v.id);
        if (!c) return notFound("Comment");
        c.body = v.input.body;
        return { data: { commentUpdate: { success: true, lastSyncId: 1, comment: { id: c.id } } } };
      }
      case "createAttachment": {
        const existing = [...attachments.values()].find((a) => a.issueId === v.input.issueId && a.url === v.input.url);
        const a = existing ?? { id: randomUUID(), issueId: v.input.issueId, url: v.input.url, title: v.input.title };
        attachments.set(a.id, { ...a, title: v.input.title });
        return { data: { attachmentCreate: { success: true, lastSyncId: 1, attachment: { id: a.id } } } };
      }
      default:
        return { errors: [{ message: `the demo's Linear stand-in does not implement ${op}` }] };
    }
  }

  const server = createServer(async (req, res) => {
    const body = JSON.parse((await read(req)) || "{}") as { query?: string; variables?: Record<string, unknown> };
    const auth = req.headers.authorization;
    const reply = auth !== apiKey && auth !== `Bearer ${apiKey}`
      ? { errors: [{ message: "Authentication required", extensions: { code: "AUTHENTICATION_ERROR" } }] }
      : answer(/^\s*(?:query|mutation)\s+(\w+)/.exec(body.query ?? "")?.[1] ?? "", body.variables ?? {});
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/graphql`,
    team,
    agentLabel,
    states,
    issues,
    comments,
    attachments,
    /** Adds an issue carrying the agent label, in Todo. */
    addIssue(p: { title: string; description: string }): DemoIssue {
      const n = issues.size + 1;
      const issue: DemoIssue = {
        id: randomUUID(),
        identifier: `${team.key}-${n}`,
        title: p.title,
        description: p.description,
        url: `https://linear.app/demo/issue/${team.key}-${n}`,
        stateId: states[1]!.id,
        labelIds: [agentLabel.id],
        updatedAt: new Date().toISOString(),
      };
      issues.set(issue.id, issue);
      return issue;
    },
    stateName: (issueId: string) => stateOf(issues.get(issueId) as DemoIssue).name,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
