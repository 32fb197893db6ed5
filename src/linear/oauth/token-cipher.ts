import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12;
/** GCM tags are 16 bytes here; a shorter one would let a forger try far fewer guesses. */
const TAG_BYTES = 16;

/**
 * AES-256-GCM over the app's tokens at rest. Each value is bound to what it belongs to (the
 * organization id, as additional data), so a value copied under another organization's key
 * does not open there.
 */
export class TokenCipher {
  private readonly key: Buffer;
  /** A key of its own for signing install states, derived so one setting serves both purposes. */
  readonly stateKey: Buffer;

  constructor(base64Key: string) {
    const key = Buffer.from(base64Key, "base64");
    if (key.length !== 32) throw new Error("TOKEN_ENCRYPTION_KEY must be 32 bytes in base64");
    this.key = key;
    this.stateKey = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "agent-workforce linear oauth state", 32));
  }

  /** Encrypts `plain` bound to `context`: "v1.<iv>.<tag>.<ciphertext>", base64url parts. */
  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
  }

  /** Decrypts a value sealed for `context`; throws when the key, the context or the bytes differ. */
  open(sealed: string, context: string): string {
    const [version, iv, tag, body] = sealed.split(".");
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error("not a sealed token value");
    const tagBytes = Buffer.from(tag, "base64url");
    if (tagBytes.length !== TAG_BYTES) throw new Error("not a sealed token value: its authentication tag is not 16 bytes");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(tagBytes);
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      // The cause says nothing useful and must not carry bytes of the value into a log.
      throw new Error("stored Linear tokens could not be decrypted: TOKEN_ENCRYPTION_KEY differs from the one they were stored with");
    }
  }
}
