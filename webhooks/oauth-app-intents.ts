import type { OAuthAppWebhookPayload } from "@linear/sdk/webhooks";
import { type Decision, type DeliveryContext, ignore } from "./intents.js";

/**
 * Maps a verified `OAuthApp` webhook to an intent: `revoked` (a workspace uninstalled the app) →
 * `app-revoked` for that organization. Pure: no I/O, no clock. `clientId` is this deployment's
 * LINEAR_CLIENT_ID; a revocation of another app is not ours to act on.
 */
export function mapOAuthAppEvent(payload: OAuthAppWebhookPayload, ctx: DeliveryContext, clientId: string | undefined): Decision {
  if (payload.action !== "revoked") return ignore(`OAuthApp action "${payload.action}" is not acted on`);
  if (typeof payload.organizationId !== "string" || !payload.organizationId) return ignore("OAuthApp revoked without an organizationId");
  if (!clientId) return ignore("OAuthApp revoked, but this deployment runs no Linear OAuth app (LINEAR_CLIENT_ID is not set)");
  if (payload.oauthClientId && payload.oauthClientId !== clientId) return ignore("OAuthApp revoked for another OAuth client");
  // The route checks the shape; a direct caller with a bad date is told, not thrown at.
  const at = new Date(payload.createdAt as unknown as string | Date);
  if (Number.isNaN(at.getTime())) return ignore("OAuthApp revoked without a valid createdAt");
  return {
    act: true,
    intent: {
      kind: "app-revoked",
      data: {
        kind: "app-revoked",
        organizationId: payload.organizationId,
        oauthClientId: payload.oauthClientId,
        // A string on the wire; the SDK types it as a Date.
        revokedAt: typeof payload.createdAt === "string" ? payload.createdAt : at.toISOString(),
        source: ctx,
      },
    },
  };
}
