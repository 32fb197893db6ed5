import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type DocumentNode, execute, GraphQLError, Kind, parse, validate } from "graphql";
import { createFieldResolver, type FakeContext, typeResolver } from "./defaults.js";
import {
  authenticationError,
  errorJson,
  internalError,
  type LinearErrorJson,
  ratelimitedError,
} from "./errors.js";
import { connectionScopes, resolvers } from "./resolvers.js";
import { getLinearSchema } from "./schema.js";
import { FakeOAuth } from "./oauth.js";
import { LinearStore } from "./store.js";

export type FaultKind = "ratelimited" | "internal";

export interface LinearFakeRequest {
  operationName?: string;
  query: string;
  variables: Record<string, unknown>;
  /** The Authorization header it carried (tests check which token a call used). */
  authorization?: string;
  /** When it arrived (ms since the epoch), for tests of request pacing. */
  at: number;
}

export interface LinearFake {
  /** e.g. http://127.0.0.1:PORT/graphql — pass as `apiUrl` to `LinearClient`. */
  url: string;
  /** The key the fake accepts, as `Authorization: <key>` or `Authorization: Bearer <key>`. */
  apiKey: string;
  store: LinearStore;
  /** The OAuth side: /oauth/token, /oauth/authorize and app tokens (see oauth.ts). */
  oauth: FakeOAuth;
  /** Every POST received (including faulted/unauthenticated ones), in order. Clear with `requests.length = 0`. */
  requests: LinearFakeRequest[];
  /**
   * The next `n` requests fail: "ratelimited" → HTTP 400, errors[0].extensions.code "RATELIMITED" (type
   * "ratelimited", as Linear; the SDK throws RatelimitedLinearError); "internal" → HTTP 500 (InternalLinearError).
   * Faults queue up in call order. `opts.retryAfterSeconds` adds a Retry-After header to rate-limit answers;
   * `opts.operation` makes a fault wait for a request of that GraphQL operation, letting others pass;
   * `opts.status` answers a rate limit with that HTTP status (429 as well as Linear's 400);
   * `opts.when` makes a fault wait for a request whose variables it accepts (a fault it never
   * accepts stays queued and harms nothing).
   */
  failNext(n: number, kind: FaultKind, opts?: { retryAfterSeconds?: number; operation?: string; status?: 400 | 429; when?: (variables: unknown) => boolean }): void;
  /** Called with each executed request before its answer is sent (tests use it to act while a call is in flight). */
  beforeAnswer?: ((operationName: string | undefined, variables: unknown) => Promise<void>) | undefined;
  close(): Promise<void>;
}

type Fault = { kind: FaultKind; retryAfterSeconds?: number; operation?: string; status?: 400 | 429; when?: (variables: unknown) => boolean };

const JSON_TYPE = "application/json; charset=utf-8";

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": JSON_TYPE, ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function operationNameOf(doc: DocumentNode | undefined): string | undefined {
  const op = doc?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return op && op.kind === Kind.OPERATION_DEFINITION ? op.name?.value : undefined;
}

function tryParse(query: string): DocumentNode | GraphQLError {
  try {
    return parse(query);
  } catch (error) {
    return error instanceof GraphQLError ? error : new GraphQLError(String(error));
  }
}

/** Give every error Linear's `extensions.{code,type}` so the SDK classifies it. */
function toLinearError(error: GraphQLError, code: string, type: string): LinearErrorJson {
  const json = error.toJSON() as LinearErrorJson;
  if (!json.extensions?.type) {
    json.extensions = { ...json.extensions, code, type, userError: code !== "INTERNAL_SERVER_ERROR" };
  }
  return json;
}

/** Start a loopback fake of Linear's GraphQL API on 127.0.0.1 (random port), executing against the real schema. */
export async function startLinearFake(
  opts: { apiKey?: string; store?: LinearStore } = {},
): Promise<LinearFake> {
  const schema = getLinearSchema();
  const apiKey = opts.apiKey ?? "lin_api_fake_0123456789";
  const store = opts.store ?? new LinearStore();
  const requests: LinearFakeRequest[] = [];
  const faults: Fault[] = [];
  const validated = new Map<string, DocumentNode>();
  const fieldResolver = createFieldResolver(resolvers, connectionScopes);
  const oauth = new FakeOAuth(store);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "POST" && path === "/oauth/token") return oauth.token(req, await readBody(req), res);
    if (req.method === "GET" && path === "/oauth/authorize") return oauth.authorizeRedirect(new URL(req.url ?? "/", "http://fake"), res);
    if (req.method !== "POST" || path !== "/graphql") {
      send(res, 404, { errors: [errorJson("NOT_FOUND", "unknown", "Not found")] });
      return;
    }
    let body: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      send(res, 400, { errors: [errorJson("BAD_REQUEST", "graphql error", "Invalid JSON body")] });
      return;
    }
    const query = typeof body.query === "string" ? body.query : "";
    const variables = (body.variables ?? {}) as Record<string, unknown>;
    const parsed = validated.get(query) ?? tryParse(query);
    const document = parsed instanceof GraphQLError ? undefined : parsed;
    const givenName = typeof body.operationName === "string" ? body.operationName : undefined;
    const operationName = givenName ?? operationNameOf(document);
    requests.push({ ...(operationName ? { operationName } : {}), query, variables, authorization: req.headers.authorization, at: Date.now() });

    const at = faults.findIndex((f) => (f.operation === undefined || f.operation === operationName) && (!f.when || f.when(variables)));
    const fault = at === -1 ? undefined : faults.splice(at, 1)[0];
    if (fault?.kind === "ratelimited") {
      const headers: Record<string, string> = {
        "x-ratelimit-requests-limit": "5000",
        "x-ratelimit-requests-remaining": "0",
        "x-ratelimit-requests-reset": String(Date.now() + (fault.retryAfterSeconds ?? 0) * 1000),
      };
      if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
      send(res, fault.status ?? 400, { errors: [ratelimitedError()] }, headers);
      return;
    }
    if (fault?.kind === "internal") {
      send(res, 500, { errors: [internalError()] });
      return;
    }

    const auth = req.headers.authorization ?? "";
    // An app token acts as the app user; an expired or replaced one is refused with a 401.
    const bearer = oauth.bearer(auth);
    if (bearer && !bearer.ok) {
      send(res, 401, { errors: [authenticationError()] });
      return;
    }
    if (!bearer && auth !== apiKey && auth !== `Bearer ${apiKey}`) {
      send(res, 400, { errors: [authenticationError()] });
      return;
    }
    if (!document) {
      send(res, 400, {
        errors: [toLinearError(parsed as GraphQLError, "GRAPHQL_PARSE_FAILED", "graphql error")],
      });
      return;
    }
    if (!validated.has(query)) {
      const errors = validate(schema, document);
      if (errors.length > 0) {
        const json = errors.map((e) => toLinearError(e, "GRAPHQL_VALIDATION_FAILED", "graphql error"));
        send(res, 400, { errors: json });
        return;
      }
      validated.set(query, document);
    }
    const contextValue: FakeContext = { store, ...(bearer?.ok ? { viewerId: bearer.userId } : {}) };
    const result = await execute({
      schema,
      document,
      variableValues: variables,
      operationName: givenName,
      contextValue,
      fieldResolver,
      typeResolver,
    });
    const out: Record<string, unknown> = { data: result.data ?? null };
    // Variable/operation errors abort before execution (no `data` key): Linear answers 400 for those.
    const executed = "data" in result;
    if (result.errors?.length) {
      out.errors = result.errors.map((e) =>
        executed
          ? toLinearError(e, "INTERNAL_SERVER_ERROR", "internal error")
          : toLinearError(e, "BAD_USER_INPUT", "graphql error"),
      );
    }
    if (executed) await fake.beforeAnswer?.(operationName, variables);
    send(res, executed ? 200 : 400, out);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        send(res, 500, { errors: [{ ...internalError(), message: String(error) }] });
      } else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const fake: LinearFake = {
    url: `http://127.0.0.1:${port}/graphql`,
    apiKey,
    store,
    oauth,
    requests,
    beforeAnswer: undefined,
    failNext(n, kind, failOpts) {
      for (let i = 0; i < n; i++) faults.push({ kind, retryAfterSeconds: failOpts?.retryAfterSeconds, operation: failOpts?.operation, status: failOpts?.status, when: failOpts?.when });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
  return fake;
}
