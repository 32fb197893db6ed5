import { LinearClient } from "@linear/sdk";

/** A LinearClient bound to one job's AbortSignal: the SDK passes extra options to every fetch. */
export function createLinearClient(p: {
  apiKey: string;
  apiUrl: string;
  signal?: AbortSignal;
}): LinearClient {
  return new LinearClient({ apiKey: p.apiKey, apiUrl: p.apiUrl, ...(p.signal ? { signal: p.signal } : {}) });
}
