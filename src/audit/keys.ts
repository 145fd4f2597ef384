/**
 * Ed25519 keys: generation, key ids, signers and the keyring file format.
 *
 * kid = first 16 hex chars of SHA-256 of the raw 32-byte public key, so anyone holding the
 * public key can recompute it.
 *
 * @example
 * ```ts
 * import { newKeyPair, signerFromPem } from "./keys.ts";
 * const kp = newKeyPair();
 * const signer = signerFromPem(kp.privatePem);
 * signer.kid === kp.kid; // true
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign,
} from "node:crypto";
import { sha256Hex, type Signer } from "./entry.ts";
import { AuditInputError } from "./errors.ts";

/** A signer that also knows its public key, as the writer and key rotation need. */
export interface KeySigner extends Signer {
  publicKeyRaw: Uint8Array;
  /** Raw public key, base64 (the form stored in the keyring and in key.rotated entries). */
  publicKeyB64: string;
  publicKeyPem: string;
}

/** One key in `audit-keyring.json`: the public key and the seq range it may sign. */
export interface KeyringKey {
  public_key: string;
  from_seq: number;
  /** Last seq the key may sign; null while it is the current key. */
  to_seq: number | null;
  created: string;
}

/** `audit-keyring.json`: kid → public key and validity range. */
export interface Keyring {
  version: 1;
  keys: Record<string, KeyringKey>;
}

/**
 * The key id of a raw Ed25519 public key.
 *
 * @example
 * ```ts
 * kidOf(new Uint8Array(32)); // 16 hex chars
 * ```
 */
export function kidOf(publicKeyRaw: Uint8Array): string {
  return sha256Hex(publicKeyRaw).slice(0, 16);
}

/**
 * A fresh Ed25519 key pair as PKCS8 PEM plus the public forms.
 *
 * @example
 * ```ts
 * const { privatePem, kid, publicKeyPem } = newKeyPair();
 * ```
 */
export function newKeyPair(): {
  privatePem: string;
  kid: string;
  publicKeyRaw: Uint8Array;
  publicKeyPem: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const raw = rawOf(publicKey);
  return {
    privatePem: privateKey.export({ format: "pem", type: "pkcs8" }) as string,
    kid: kidOf(raw),
    publicKeyRaw: raw,
    publicKeyPem: publicKey.export({ format: "pem", type: "spki" }) as string,
  };
}

const signerCache = new Map<string, KeySigner>();

/**
 * A signer from a PKCS8 PEM private key. Cached by PEM text: the writer re-reads the key file on
 * every append (so a rotation is seen at once) but should not re-parse it.
 *
 * @example
 * ```ts
 * const path = "/srv/state/audit-signing.key";
 * const s = signerFromPem(await Deno.readTextFile(path));
 * s.sign(new TextEncoder().encode("x")); // base64 signature
 * ```
 */
export function signerFromPem(pem: string): KeySigner {
  const cached = signerCache.get(pem);
  if (cached) return cached;
  let priv: KeyObject;
  try {
    priv = createPrivateKey(pem);
  } catch {
    throw new AuditInputError("audit signing key is not a valid PKCS8 PEM private key");
  }
  if (priv.asymmetricKeyType !== "ed25519") {
    throw new AuditInputError("audit signing key is not Ed25519");
  }
  const pub = createPublicKey(priv);
  const raw = rawOf(pub);
  const signer: KeySigner = {
    kid: kidOf(raw),
    publicKeyRaw: raw,
    publicKeyB64: Buffer.from(raw).toString("base64"),
    publicKeyPem: pub.export({ format: "pem", type: "spki" }) as string,
    sign: (data) => sign(null, data, priv).toString("base64"),
  };
  signerCache.set(pem, signer);
  return signer;
}

/**
 * Drops a key from the signer cache, so a destroyed key does not live on in this process.
 *
 * @example
 * ```ts
 * declare const pemText: string;
 * forgetSigner(pemText);
 * ```
 */
export function forgetSigner(pem: string): void {
  signerCache.delete(pem);
}

/**
 * A node:crypto public key from raw bytes (what the verifier builds once per kid).
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * declare const b64: string;
 * const key = publicKeyFromRaw(Buffer.from(b64, "base64"));
 * ```
 */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new AuditInputError("an Ed25519 public key is 32 bytes");
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") },
    format: "jwk",
  });
}

/**
 * A lookup that builds each kid's key object once (a verification meets the same few keys on
 * thousands of lines).
 *
 * @example
 * ```ts
 * declare const kid: string;
 * declare const raw: Uint8Array;
 * const keyObject = keyObjectCache();
 * keyObject(kid, raw) === keyObject(kid, raw); // true
 * ```
 */
export function keyObjectCache(): (kid: string, raw: Uint8Array) => KeyObject {
  const cache = new Map<string, KeyObject>();
  return (kid, raw) => {
    let k = cache.get(kid);
    if (!k) cache.set(kid, k = publicKeyFromRaw(raw));
    return k;
  };
}

/**
 * Raw public key from text an operator may hand to `--pubkey`: SPKI PEM or base64 of the
 * 32 raw bytes. `file` (where the text came from) opens the error message.
 *
 * @example
 * ```ts
 * parsePublicKeyText("-----BEGIN PUBLIC KEY-----\n...", "/safe/audit-root.pub");
 * ```
 */
export function parsePublicKeyText(text: string, file?: string): Uint8Array {
  const t = text.trim();
  try {
    if (t.startsWith("-----BEGIN")) {
      const key = createPublicKey(t);
      if (key.asymmetricKeyType !== "ed25519") throw new Error("not ed25519");
      return rawOf(key);
    }
    const raw = Buffer.from(t, "base64");
    if (raw.length === 32 && raw.toString("base64") === t) return new Uint8Array(raw);
  } catch {
    // fall through to the uniform error below
  }
  throw new AuditInputError(
    `${file ? `${file}: ` : ""}public key must be an Ed25519 SPKI PEM or base64 of 32 raw bytes`,
  );
}

/**
 * Parses `audit-keyring.json` text, checking that each kid matches its key. `file` (where the
 * text came from) opens every error message.
 *
 * @example
 * ```ts
 * const path = "/srv/state/audit-keyring.json";
 * const ring = parseKeyring(await Deno.readTextFile(path), path);
 * ```
 */
export function parseKeyring(text: string, file?: string): Keyring {
  try {
    return parseKeyringText(text);
  } catch (err) {
    if (!file || !(err instanceof AuditInputError)) throw err;
    throw new AuditInputError(`${file}: ${err.message}`);
  }
}

function parseKeyringText(text: string): Keyring {
  let ring: Keyring;
  try {
    ring = JSON.parse(text);
  } catch {
    throw new AuditInputError("keyring is not valid JSON");
  }
  if (ring?.version !== 1 || typeof ring.keys !== "object" || ring.keys === null) {
    throw new AuditInputError("keyring must be {version: 1, keys: {...}}");
  }
  for (const [kid, k] of Object.entries(ring.keys)) {
    if (
      typeof k !== "object" || k === null || typeof k.public_key !== "string" ||
      !Number.isSafeInteger(k.from_seq) || !(k.to_seq === null || Number.isSafeInteger(k.to_seq))
    ) {
      throw new AuditInputError(
        `keyring entry ${kid} needs public_key (base64), from_seq and to_seq (integer or null)`,
      );
    }
    const raw = Buffer.from(String(k.public_key), "base64");
    if (raw.length !== 32 || kidOf(raw) !== kid) {
      throw new AuditInputError(`keyring entry ${kid} does not match its public key`);
    }
  }
  return ring;
}

/**
 * The keyring key that may sign `seq` (the trust root for a history starting there).
 *
 * @example
 * ```ts
 * declare const ring: Keyring;
 * keyForSeq(ring, 1); // { kid, publicKeyRaw } or undefined
 * ```
 */
export function keyForSeq(
  ring: Keyring,
  seq: number,
): { kid: string; publicKeyRaw: Uint8Array } | undefined {
  for (const [kid, k] of Object.entries(ring.keys)) {
    if (k.from_seq <= seq && (k.to_seq === null || seq <= k.to_seq)) {
      return { kid, publicKeyRaw: new Uint8Array(Buffer.from(k.public_key, "base64")) };
    }
  }
  return undefined;
}

function rawOf(pub: KeyObject): Uint8Array {
  const jwk = pub.export({ format: "jwk" });
  return new Uint8Array(Buffer.from(jwk.x as string, "base64url"));
}
