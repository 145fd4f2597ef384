/**
 * The secrets envelope, compatible with the original Protocol tool (PHP `openssl_encrypt`):
 * `base64( nonce(12) ‖ tag(16) ‖ ciphertext )`, AES-256-GCM, empty AAD, no header, no newline.
 * WebCrypto returns `ciphertext ‖ tag`, so the tag is moved to the front on the way out and back
 * on the way in.
 *
 * @example
 * ```ts
 * import { decryptEnvelope, encryptEnvelope } from "./cipher.ts";
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const envelope = await encryptEnvelope(key, new TextEncoder().encode("DB_PASSWORD=hunter22"));
 * const plain = await decryptEnvelope(key, envelope);
 * ```
 * @module
 */
import { AuthenticationError, SecretsInputError } from "./errors.ts";

/** Bytes of the random nonce at the front of every envelope. */
export const NONCE_BYTES = 12;
/** Bytes of the GCM authentication tag that follows the nonce. */
export const TAG_BYTES = 16;
/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;

// A plain character-class loop (linear, no backtracking stack on multi-megabyte envelopes).
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

async function importKey(key: Uint8Array, usage: KeyUsage): Promise<CryptoKey> {
  if (key.length !== KEY_BYTES) {
    throw new SecretsInputError(`an AES-256 key is ${KEY_BYTES} bytes, got ${key.length}`);
  }
  return await crypto.subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
    usage,
  ]);
}

/**
 * Encrypts `plaintext` (an empty one is valid) with a fresh random nonce and returns the
 * envelope as base64 text, without a newline.
 *
 * @example
 * ```ts
 * import { readKey } from "./key_file.ts";
 * const key = await readKey("/home/deploy/.protocol");
 * const envelope = await encryptEnvelope(key, new TextEncoder().encode("A=1\n"));
 * await Deno.writeTextFile(".env.enc", envelope);
 * ```
 */
export async function encryptEnvelope(key: Uint8Array, plaintext: Uint8Array): Promise<string> {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, tagLength: TAG_BYTES * 8 },
      await importKey(key, "encrypt"),
      plaintext as Uint8Array<ArrayBuffer>,
    ),
  );
  const cipherLength = sealed.length - TAG_BYTES;
  const out = new Uint8Array(NONCE_BYTES + sealed.length);
  out.set(nonce, 0);
  out.set(sealed.subarray(cipherLength), NONCE_BYTES); // tag
  out.set(sealed.subarray(0, cipherLength), NONCE_BYTES + TAG_BYTES); // ciphertext
  return out.toBase64();
}

/**
 * Decrypts an envelope. Surrounding whitespace is tolerated (a file edited by hand may end in
 * a newline); anything else that is not base64, or shorter than nonce + tag, is a
 * {@link SecretsInputError}; a wrong key or a changed byte is an {@link AuthenticationError}.
 * `what` names the input in error messages.
 *
 * @example
 * ```ts
 * import { readKey } from "./key_file.ts";
 * const key = await readKey("/home/deploy/.protocol");
 * const plain = await decryptEnvelope(key, await Deno.readTextFile(".env.enc"), ".env.enc");
 * ```
 */
export async function decryptEnvelope(
  key: Uint8Array,
  envelope: string,
  what = "the envelope",
): Promise<Uint8Array> {
  const text = envelope.trim();
  if (!BASE64.test(text) || text.length % 4 !== 0) {
    throw new SecretsInputError(`${what} is not base64 text`);
  }
  const bytes = Uint8Array.fromBase64(text);
  if (bytes.length < NONCE_BYTES + TAG_BYTES) {
    throw new SecretsInputError(
      `${what} is too short: ${bytes.length} bytes, an envelope has at least ${
        NONCE_BYTES + TAG_BYTES
      } (nonce + tag)`,
    );
  }
  const nonce = bytes.subarray(0, NONCE_BYTES);
  const tag = bytes.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES);
  const ciphertext = bytes.subarray(NONCE_BYTES + TAG_BYTES);
  const sealed = new Uint8Array(ciphertext.length + TAG_BYTES);
  sealed.set(ciphertext, 0);
  sealed.set(tag, ciphertext.length);
  const cryptoKey = await importKey(key, "decrypt");
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce, tagLength: TAG_BYTES * 8 },
        cryptoKey,
        sealed,
      ),
    );
  } catch {
    throw new AuthenticationError(what);
  }
}
