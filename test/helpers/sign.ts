import { createHmac } from "node:crypto";

/** X-Hub-Signature-256 exactly as GitHub computes it. */
export function signGitHub(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Linear-Signature exactly as Linear computes it: hex HMAC-SHA256 of the raw body. */
export function signLinear(secret: string, body: string | Buffer): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}
