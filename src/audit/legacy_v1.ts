/**
 * Format v1, the signing input of logs written before format v2: read-only support so a log kept
 * across an upgrade still verifies. v1 lines are `JSON.stringify` of the entry in the order the
 * writer built it (caller fields unsorted), and `sig` is Ed25519 over `protocol-audit-v1\n` +
 * the RFC 8785 (JCS) form of every field but `sig`. Nothing writes v1 any more: the first append
 * of the current code after a v1 line writes a `format.upgraded` entry, and from the first v2
 * entry on the verifier accepts no v1 entry again (no downgrade).
 *
 * @example
 * ```ts
 * import { checkV1Signature } from "./legacy_v1.ts";
 * import { publicKeyFromRaw } from "./keys.ts";
 * import type { AuditEntry } from "./entry.ts";
 * declare const entry: AuditEntry;
 * declare const raw: Uint8Array;
 * checkV1Signature(entry, publicKeyFromRaw(raw)); // true for an entry the old code signed
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { type KeyObject, verify as edVerify } from "node:crypto";
import canonicalize from "canonicalize";
import { ACTION } from "./actions.ts";
import type { AuditEntry } from "./entry.ts";
import { signedBytesOfLine } from "./signed_bytes.ts";
import { parseKeyring, publicKeyFromRaw } from "./keys.ts";
import { auditPaths } from "./paths.ts";

/** The v1 domain prefix of every signed message. */
export const V1_SIGNING_DOMAIN = "protocol-audit-v1\n";

/** The format the current writer signs; `format.upgraded` records the move to it. */
export const CURRENT_FORMAT = 2;

const encoder = new TextEncoder();

/**
 * The bytes a v1 signature covers: the v1 domain + JCS of every field except `sig`.
 *
 * @example
 * ```ts
 * import type { AuditEntry } from "./entry.ts";
 * declare const entry: AuditEntry;
 * const message = v1SignedBytes(entry);
 * ```
 */
export function v1SignedBytes(entry: AuditEntry): Uint8Array {
  const { sig: _sig, ...unsigned } = entry;
  return encoder.encode(V1_SIGNING_DOMAIN + canonicalize(unsigned));
}

/**
 * Checks an entry's signature under the v1 signing input.
 *
 * @example
 * ```ts
 * import type { AuditEntry } from "./entry.ts";
 * import type { KeyObject } from "node:crypto";
 * declare const entry: AuditEntry;
 * declare const key: KeyObject;
 * if (checkV1Signature(entry, key)) console.log("signed by the old code");
 * ```
 */
export function checkV1Signature(entry: AuditEntry, key: KeyObject): boolean {
  try {
    return edVerify(null, v1SignedBytes(entry), key, Buffer.from(entry.sig, "base64"));
  } catch {
    return false;
  }
}

/**
 * The fields of the entry that closes a v1 history: written (signed v2) by the first append of
 * the current code after a v1 line, before anything else.
 *
 * @example
 * ```ts
 * upgradeEntry(); // { action: "format.upgraded", from_format: 1, to_format: 2, status: "success" }
 * ```
 */
export function upgradeEntry(): { action: string; [field: string]: string | number } {
  return {
    action: ACTION.formatUpgraded,
    from_format: 1,
    to_format: CURRENT_FORMAT,
    status: "success",
  };
}

/**
 * True when the log's last line (bytes and parsed entry) is a v1 entry: its v2 signature fails
 * and its v1 signature verifies under the keyring's key for its kid. Decided by signature, not
 * layout, because a v1 line whose fields happen to be sorted looks exactly like a v2 line.
 *
 * @example
 * ```ts
 * import type { AuditEntry } from "./entry.ts";
 * declare const bytes: Uint8Array;
 * declare const last: AuditEntry;
 * if (await lastLineIsV1("/srv/state", bytes, last)) console.log("write format.upgraded first");
 * ```
 */
export async function lastLineIsV1(
  stateDir: string,
  bytes: Uint8Array,
  last: AuditEntry,
): Promise<boolean> {
  let text: string;
  try {
    text = await Deno.readTextFile(auditPaths(stateDir).keyring);
  } catch {
    return false; // no keyring: nothing to tell the formats apart by; appends fail later anyway
  }
  const raw = parseKeyring(text, auditPaths(stateDir).keyring).keys[last.kid]?.public_key;
  if (!raw) return false;
  const key = publicKeyFromRaw(Buffer.from(raw, "base64"));
  const v2 = signedBytesOfLine(bytes);
  if (v2 && edVerify(null, v2.message, key, v2.sig)) return false;
  return checkV1Signature(last, key);
}
