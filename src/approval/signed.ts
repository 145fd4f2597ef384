/**
 * Signatures of people (not of the audit log): Ed25519 over a domain string followed by the
 * RFC 8785 canonical JSON of a document, so a signature made for a change request can never be
 * replayed as an approval, an audit entry or anything else, and does not depend on how the
 * document was written to disk.
 *
 * Public keys travel as `ed25519:<base64 of the raw 32 bytes>`, the form `identity:keygen`
 * prints and `approvers.yaml` lists.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from "node:crypto";
 * import { publicKeyText, signDocument, verifyDocument } from "./signed.ts";
 * const { privateKey, publicKey } = generateKeyPairSync("ed25519");
 * const sig = signDocument("protocol-example-v1\n", { a: 1 }, privateKey);
 * verifyDocument("protocol-example-v1\n", { a: 1 }, sig, publicKeyText(publicKey)); // true
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import canonicalize from "canonicalize";

/** Domain of a change request's operator signature. */
export const REQUEST_DOMAIN = "protocol-change-request-v1\n";
/** Domain of an approval (prior or retro) of a change request. */
export const APPROVAL_DOMAIN = "protocol-change-approval-v1\n";

const PUBLIC_KEY = /^ed25519:([A-Za-z0-9+/]{43}=)$/;
// SubjectPublicKeyInfo prefix of an Ed25519 key: the raw 32 bytes follow it.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * The bytes a signature covers: the domain, then the canonical JSON of `document`.
 *
 * @example
 * ```ts
 * new TextDecoder().decode(signedBytes("d\n", { b: 1, a: 2 })); // 'd\n{"a":2,"b":1}'
 * ```
 */
export function signedBytes(domain: string, document: unknown): Uint8Array {
  const text = canonicalize(document);
  if (text === undefined) throw new TypeError("document has no canonical JSON form");
  return new TextEncoder().encode(domain + text);
}

/**
 * SHA-256 (hex) of a document's canonical JSON: the id an approval signs to name its request.
 *
 * @example
 * ```ts
 * documentHash({ a: 1 }) === documentHash({ a: 1 }); // true
 * ```
 */
export function documentHash(document: unknown): string {
  return createHash("sha256").update(signedBytes("", document)).digest("hex");
}

/**
 * Signs a document with a person's private key; the signature is base64.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from "node:crypto";
 * const { privateKey } = generateKeyPairSync("ed25519");
 * signDocument(REQUEST_DOMAIN, { id: "CR-1" }, privateKey).length; // 88
 * ```
 */
export function signDocument(domain: string, document: unknown, key: KeyObject): string {
  return sign(null, signedBytes(domain, document), key).toString("base64");
}

/**
 * True when `signature` is a valid signature of `document` under `publicKey`
 * (`ed25519:...`); false for a malformed key or signature, never an exception.
 *
 * @example
 * ```ts
 * verifyDocument(REQUEST_DOMAIN, { id: "CR-1" }, "bogus", "ed25519:bogus"); // false
 * ```
 */
export function verifyDocument(
  domain: string,
  document: unknown,
  signature: string,
  publicKey: string,
): boolean {
  const key = publicKeyObject(publicKey);
  if (!key) return false;
  const sig = Buffer.from(signature, "base64");
  if (sig.length !== 64 || sig.toString("base64") !== signature) return false;
  return verify(null, signedBytes(domain, document), key, sig);
}

/**
 * A public key in the `ed25519:<base64>` form.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from "node:crypto";
 * publicKeyText(generateKeyPairSync("ed25519").publicKey).startsWith("ed25519:"); // true
 * ```
 */
export function publicKeyText(key: KeyObject): string {
  const der = key.export({ format: "der", type: "spki" });
  return `ed25519:${Buffer.from(der.subarray(SPKI_PREFIX.length)).toString("base64")}`;
}

/**
 * A person's key id: the first 16 hex characters of the SHA-256 of the raw 32-byte public key
 * (the audit signing keys' \`kid\` rule), short enough to print beside a name in evidence.
 *
 * @example
 * ```ts
 * personKeyId("ed25519:" + "A".repeat(43) + "="); // 16 hex characters
 * ```
 */
export function personKeyId(publicKey: string): string {
  const match = PUBLIC_KEY.exec(publicKey);
  const raw = match ? Buffer.from(match[1], "base64") : Buffer.from(publicKey);
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}

/**
 * True when `text` is a well-formed `ed25519:<base64>` public key.
 *
 * @example
 * ```ts
 * isPublicKeyText("ed25519:abc"); // false
 * ```
 */
export function isPublicKeyText(text: string): boolean {
  return publicKeyObject(text) !== undefined;
}

function publicKeyObject(text: string): KeyObject | undefined {
  const match = PUBLIC_KEY.exec(text);
  if (!match) return undefined;
  const raw = Buffer.from(match[1], "base64");
  if (raw.length !== 32) return undefined;
  try {
    return createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, raw]),
      format: "der",
      type: "spki",
    });
  } catch {
    return undefined;
  }
}
