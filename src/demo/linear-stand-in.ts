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
  parentId: string | null;
  creatorId: string;
}

/** A comment: the service's own (written as the API key's user) or a person's. */
export interface DemoComment {
  id: string;
  issueId: string;
  body: string;
  createdAt: string;
  userId: string;
  parentId: string | null;
}

/** A person or the service's own user, as Linear names them. */
export interface DemoUser {
  id: string;
  name: string;
  displayName: string;
}

/**
 * A small stand-in for Linear's GraphQL API, answering only the operations agent-workforce
 * sends (by operation name), so the offline demo needs nothing but Redis. The tests use a fake
 * that executes Linear's full schema instead. An operation it does not know is reported through
 * `onUnknown` (the demo prints it loudly) and answered with an error.
 */
export async function startLinearStandIn(apiKey: string, opts: { onUnknown?: (op: string) => void } = {}) {
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
  const service: DemoUser = { id: randomUUID(), name: "agent-workforce", displayName: "agent-workforce" };
  const ada: DemoUser = { id: randomUUID(), name: "Ada Lovelace", displayName: "ada" };
  const users = new Map([service, ada].map((u) => [u.id, u]));
  const issues = new Map<string, DemoIssue>();
  const comments = new Map<string, DemoComment>();
  const attachments = new Map<string, { id: string; issueId: string; url: string; title: string }>();
  const relations = new Map<string, { id: string; type: string; issueId: string; relatedIssueId: string }>();
  /** Every operation answered, by name, for the demo's summary. */
  const operations = new Map<string, number>();

  const stateOf = (i: DemoIssue) => states.find((s) => s.id === i.stateId) ?? states[0]!;
  const find = (id: unknown) => issues.get(String(id)) ?? [...issues.values()].find((x) => x.identifier === id);
  const userJson = (id: string) => users.get(id) ?? null;
  const brief = (i: DemoIssue) => ({ id: i.id, identifier: i.identifier, title: i.title, url: i.url, state: stateOf(i) });
  const labelsJson = (i: DemoIssue) => ({ nodes: i.labelIds.map((id) => (id === agentLabel.id ? agentLabel : { id, name: "?" })) });
  const relationsOf = (i: DemoIssue) => ({
    nodes: [...relations.values()].filter((r) => r.issueId === i.id).map((r) => ({ id: r.id, type: r.type, relatedIssue: { id: r.relatedIssueId } })),
  });
  const inverseOf = (i: DemoIssue) => ({
    nodes: [...relations.values()].filter((r) => r.relatedIssueId === i.id).map((r) => ({ id: r.id, type: r.type, issue: { id: r.issueId } })),
  });
  const childJson = (c: DemoIssue) => ({ ...brief(c), labels: labelsJson(c), relations: relationsOf(c), inverseRelations: inverseOf(c) });
  const issueJson = (i: DemoIssue) => {
    const parent = i.parentId ? issues.get(i.parentId) : undefined;
    return {
      ...i,
      team,
      project: null,
      state: stateOf(i),
      creator: userJson(i.creatorId),
      parent: parent ? { id: parent.id, identifier: parent.identifier } : null,
      labels: labelsJson(i),
      comments: {
        nodes: [...comments.values()]
          .filter((c) => c.issueId === i.id)
          .map((c) => ({ id: c.id, body: c.body, createdAt: c.createdAt, user: userJson(c.userId), botActor: null })),
      },
      children: { nodes: [...issues.values()].filter((c) => c.parentId === i.id).map(childJson) },
      relations: relationsOf(i),
      inverseRelations: inverseOf(i),
    };
  };
  const notFound = (what: string) => ({ errors: [{ message: `Entity not found: ${what}`, extensions: { code: "INVALID_INPUT", type: "invalid input" } }] });

  function addIssue(p: { title: string; description: string; parentId?: string | null; labelIds?: string[]; id?: string; creatorId?: string }): DemoIssue {
    const n = issues.size + 1;
    const issue: DemoIssue = {
      id: p.id ?? randomUUID(),
      identifier: `${team.key}-${n}`,
      title: p.title,
      description: p.description,
      url: `https://linear.app/demo/issue/${team.key}-${n}`,
      stateId: states[1]!.id,
      labelIds: p.labelIds ?? [agentLabel.id],
      updatedAt: new Date().toISOString(),
      parentId: p.parentId ?? null,
      creatorId: p.creatorId ?? ada.id,
    };
    issues.set(issue.id, issue);
    return issue;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- GraphQL variables are free-form JSON here
  function answer(op: string, v: Record<string, any>): unknown {
    const now = new Date().toISOString();
    switch (op) {
      case "AgentIssueContext":
      case "AgentSubIssue":
      case "AgentBlockedBy":
      case "AgentChildren":
      case "AgentSubIssueTree": {
        const i = find(v.id);
        return i ? { data: { issue: issueJson(i) } } : notFound("Issue");
      }
      case "AgentPlanParent": {
        const i = find(v.id);
        if (!i) return notFound("Issue");
        const wanted = String(v.label ?? "").toLowerCase();
        const labels = agentLabel.name.toLowerCase() === wanted ? [{ ...agentLabel, team: null }] : [];
        return { data: { issue: issueJson(i), issueLabels: { nodes: labels } } };
      }
      case "AgentSelf":
        return { data: { viewer: { id: service.id } } };
      case "AgentTeamStates":
        return { data: { team: { states: { nodes: states } } } };
      case "AgentLabelledIssues":
        return { data: { issues: { nodes: [...issues.values()].filter((i) => i.labelIds.includes(agentLabel.id)).map(issueJson), pageInfo: { hasNextPage: false, endCursor: null } } } };
      case "AgentCreateSubIssue": {
        const input = v.input ?? {};
        if (input.id && issues.has(input.id)) return { errors: [{ message: "Entity already exists", extensions: { code: "INVALID_INPUT" } }] };
        const i = addIssue({ id: input.id, title: input.title, description: input.description ?? "", parentId: input.parentId ?? null, labelIds: input.labelIds ?? [], creatorId: service.id });
        return { data: { issueCreate: { success: true, issue: brief(i) } } };
      }
      case "AgentRelateBlocks": {
        const input = v.input ?? {};
        if (relations.has(input.id)) return { errors: [{ message: "Entity already exists", extensions: { code: "INVALID_INPUT" } }] };
        const [from, to] = [find(input.issueId), find(input.relatedIssueId)];
        if (!from || !to) return notFound("Issue");
        const r = { id: input.id ?? randomUUID(), type: input.type ?? "blocks", issueId: from.id, relatedIssueId: to.id };
        relations.set(r.id, r);
        return { data: { issueRelationCreate: { success: true, issueRelation: { id: r.id } } } };
      }
      case "updateIssue": {
        const i = issues.get(v.id);
        if (!i) return notFound("Issue");
        if (v.input?.stateId) i.stateId = v.input.stateId;
        i.updatedAt = now;
        return { data: { issueUpdate: { success: true, lastSyncId: 1, issue: { id: i.id } } } };
      }
      case "createComment": {
        const c: DemoComment = { id: v.input.id ?? randomUUID(), issueId: v.input.issueId, body: v.input.body, createdAt: now, userId: service.id, parentId: v.input.parentId ?? null };
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
        opts.onUnknown?.(op);
        return { errors: [{ message: `the demo's Linear stand-in does not implement ${op}` }] };
    }
  }

  const server = createServer(async (req, res) => {
    const body = JSON.parse((await read(req)) || "{}") as { query?: string; variables?: Record<string, unknown> };
    const auth = req.headers.authorization;
    const op = /^\s*(?:query|mutation)\s+(\w+)/.exec(body.query ?? "")?.[1] ?? "(unnamed)";
    operations.set(op, (operations.get(op) ?? 0) + 1);
    const reply = auth !== apiKey && auth !== `Bearer ${apiKey}`
      ? { errors: [{ message: "Authentication required", extensions: { code: "AUTHENTICATION_ERROR" } }] }
      : answer(op, body.variables ?? {});
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
    relations,
    operations,
    /** The person who files the demo's issues and answers its questions. */
    ada,
    /** Adds an issue carrying the agent label, in Todo, filed by Ada. */
    addIssue: (p: { title: string; description: string }) => addIssue(p),
    /** A person's comment on an issue (a reply when `parentId` is set), as Linear would store it before its webhook. */
    addHumanComment(p: { issueId: string; body: string; parentId: string | null }): DemoComment {
      const c: DemoComment = { id: randomUUID(), issueId: p.issueId, body: p.body, createdAt: new Date().toISOString(), userId: ada.id, parentId: p.parentId };
      comments.set(c.id, c);
      return c;
    },
    byIdentifier: (identifier: string) => [...issues.values()].find((i) => i.identifier === identifier),
    childrenOf: (issueId: string) => [...issues.values()].filter((i) => i.parentId === issueId),
    stateName: (issueId: string) => stateOf(issues.get(issueId) as DemoIssue).name,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The running stand-in. */
export type LinearStandIn = Awaited<ReturnType<typeof startLinearStandIn>>;

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
