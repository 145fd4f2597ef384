/**
 * The signed bytes of an entry, read straight from its canonical line: the domain prefix, the
 * line without its final `sig` field, and the 64 signature bytes, with no JSON parsing (the
 * verifier does this for every line).
 *
 * @example
 * ```ts
 * import { signedBytesOfLine } from "./signed_bytes.ts";
 * declare const lineBytes: Uint8Array;
 * const m = signedBytesOfLine(lineBytes); // { message, kid, sig } | undefined
 * ```
 * @module
 */

/**
 * Prefix of every signed message, so an entry signature can never be replayed as anything else
 * (a checkpoint's signed text starts with its origin line, never with this).
 */
export const SIGNING_DOMAIN = "protocol-audit-v2\n";

const encoder = new TextEncoder();

// `,"sig":"` + 88 base64 chars + `"}`: the fixed-length end of every canonical line.
const SIG_SUFFIX = 98;
// `,"kid":"` + 16 hex + `"` just before it.
const KID_FIELD = 25;
const DOMAIN_BYTES = encoder.encode(SIGNING_DOMAIN);

/**
 * The signed message and key id of a canonical line, straight from its bytes (no JSON parsing).
 * Undefined when the line does not end the canonical way; the sequential pass rejects such a
 * line anyway.
 *
 * @example
 * ```ts
 * declare const lineBytes: Uint8Array;
 * const m = signedBytesOfLine(lineBytes); // { message, kid, sig } | undefined
 * ```
 */
export function signedBytesOfLine(
  line: Uint8Array,
): { message: Uint8Array; kid: string; sig: Uint8Array } | undefined {
  const scratch = {
    message: new Uint8Array(DOMAIN_BYTES.length + line.length),
    sig: new Uint8Array(64),
  };
  const m = signedPartsInto(line, scratch);
  return m &&
    { message: scratch.message.subarray(0, m.messageLength), kid: m.kid, sig: scratch.sig };
}

/**
 * `signedBytesOfLine` into reusable buffers (the signature workers' hot loop: no allocation
 * per line). `scratch.message` must hold the domain plus the line; `scratch.sig` is 64 bytes.
 *
 * @example
 * ```ts
 * declare const lineBytes: Uint8Array;
 * const scratch = { message: new Uint8Array(70_000), sig: new Uint8Array(64) };
 * const m = signedPartsInto(lineBytes, scratch); // { messageLength, kid } | undefined
 * ```
 */
export function signedPartsInto(
  line: Uint8Array,
  scratch: { message: Uint8Array; sig: Uint8Array },
): { messageLength: number; kid: string } | undefined {
  const messageLength = signedMessageInto(line, scratch);
  if (messageLength < 0) return undefined;
  const cut = line.length - SIG_SUFFIX;
  return { messageLength, kid: latin1.decode(line.subarray(cut - 17, cut - 1)) };
}

/**
 * `signedPartsInto` without the kid (which the caller read already): the signed message's
 * length in `scratch.message`, or -1 when the line does not end the canonical way.
 *
 * @example
 * ```ts
 * declare const lineBytes: Uint8Array;
 * const scratch = { message: new Uint8Array(70_000), sig: new Uint8Array(64) };
 * const length = signedMessageInto(lineBytes, scratch); // -1: not a canonical ending
 * ```
 */
export function signedMessageInto(
  line: Uint8Array,
  scratch: { message: Uint8Array; sig: Uint8Array },
): number {
  const n = line.length;
  const cut = n - SIG_SUFFIX;
  if (cut < KID_FIELD + 1 || line[n - 1] !== 0x7d || line[n - 2] !== 0x22) return -1;
  if (scratch.message.length < DOMAIN_BYTES.length + cut + 1) return -1;
  scratch.message.set(DOMAIN_BYTES);
  scratch.message.set(line.subarray(0, cut), DOMAIN_BYTES.length);
  scratch.message[DOMAIN_BYTES.length + cut] = 0x7d; // "}"
  if (!decodeSig(line, cut + 8, scratch.sig)) return -1;
  return DOMAIN_BYTES.length + cut + 1;
}

const latin1 = new TextDecoder("latin1");

/** Each byte's base64 digit value, -1 for a byte that is no base64 digit. */
export const BASE64_VALUE: Int16Array = new Int16Array(256).fill(-1);
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("").forEach((c, i) =>
  BASE64_VALUE[c.charCodeAt(0)] = i
);

// Decodes the 86 significant base64 characters of a signature (then "==") into 64 bytes.
function decodeSig(line: Uint8Array, at: number, out: Uint8Array): boolean {
  let o = 0;
  for (let i = 0; i < 84; i += 4) {
    const a = BASE64_VALUE[line[at + i]], b = BASE64_VALUE[line[at + i + 1]];
    const c = BASE64_VALUE[line[at + i + 2]], d = BASE64_VALUE[line[at + i + 3]];
    if ((a | b | c | d) < 0) return false;
    out[o++] = (a << 2) | (b >> 4);
    out[o++] = ((b & 15) << 4) | (c >> 2);
    out[o++] = ((c & 3) << 6) | d;
  }
  const a = BASE64_VALUE[line[at + 84]], b = BASE64_VALUE[line[at + 85]];
  if ((a | b) < 0 || line[at + 86] !== 0x3d || line[at + 87] !== 0x3d) return false;
  out[o] = (a << 2) | (b >> 4);
  return true;
}
