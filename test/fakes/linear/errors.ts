import { GraphQLError } from "graphql";

/**
 * Linear-shaped GraphQL errors. Linear puts a machine code in `extensions.code` and a human/SDK type in
 * `extensions.type` (the SDK maps the latter, e.g. "ratelimited" -> LinearErrorType.Ratelimited).
 */
export type LinearErrorJson = {
  message: string;
  extensions: {
    code: string;
    type: string;
    userError?: boolean;
    userPresentableMessage?: string;
    statusCode?: number;
  };
  path?: ReadonlyArray<string | number>;
  locations?: ReadonlyArray<{ line: number; column: number }>;
};

export function errorJson(
  code: string,
  type: string,
  message: string,
  extra: { userPresentableMessage?: string; statusCode?: number; userError?: boolean } = {},
): LinearErrorJson {
  return { message, extensions: { code, type, userError: extra.userError ?? true, ...extra } };
}

export const authenticationError = (): LinearErrorJson =>
  errorJson("AUTHENTICATION_ERROR", "authentication error", "Authentication required, not authenticated", {
    userPresentableMessage: "You need to authenticate to access this operation.",
    statusCode: 401,
  });

export const ratelimitedError = (): LinearErrorJson =>
  errorJson("RATELIMITED", "ratelimited", "Rate limit exceeded", {
    userPresentableMessage: "You have exceeded the API rate limit. Please try again later.",
    statusCode: 429,
  });

export const internalError = (): LinearErrorJson =>
  errorJson("INTERNAL_SERVER_ERROR", "internal error", "Internal server error", {
    userError: false,
    statusCode: 500,
  });

/** Resolver error for an unknown id (as Linear: "Entity not found: Issue", code INVALID_INPUT). */
export function notFound(entity: string): GraphQLError {
  return new GraphQLError(`Entity not found: ${entity}`, {
    extensions: {
      code: "INVALID_INPUT",
      type: "invalid input",
      userError: true,
      userPresentableMessage: `Could not find referenced ${entity}.`,
      statusCode: 404,
    },
  });
}

/** Resolver error for bad mutation input. */
export function invalidInput(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: "INVALID_INPUT",
      type: "invalid input",
      userError: true,
      userPresentableMessage: message,
    },
  });
}

/**
 * A create whose client-chosen `id` is taken (e.g. "An issue with this id already exists."): INVALID_INPUT,
 * the message saying "already exists", which is what idempotent callers match on.
 */
export function duplicateId(entity: string): GraphQLError {
  const article = /^[aeiou]/i.test(entity) ? "An" : "A";
  return invalidInput(`${article} ${entity} with this id already exists.`);
}

/** Raised for root fields the fake has no resolver for, so gaps surface loudly instead of returning junk. */
export function notImplemented(field: string): GraphQLError {
  return new GraphQLError(`Linear fake: ${field} is not implemented`, {
    extensions: { code: "INTERNAL_SERVER_ERROR", type: "internal error", userError: false },
  });
}
