/**
 * Checkpoints as data: a signed statement "the log had `count` entries and entry `count` hashed
 * to `last_hash`". Kept off the host, it turns silent tail truncation and history rewrites
 * (by someone holding the signing key) into detectable failures.
 *
 * @example
 * ```ts
 * import { makeCheckpoint, parseCheckpoint } from "./checkpoint_core.ts";
 * const cp = makeCheckpoint({ count: 10, last_hash: h, ts: new Date().toISOString() }, signer);
 * parseCheckpoint(JSON.stringify(cp)); // same object back
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { type KeyObject, verify as edVerify } from "node:crypto";
import canonicalize from "canonicalize";
import type { Signer } from "./entry.ts";
import { AuditInputError } from "./errors.ts";

/** Separate domain from entries, so a checkpoint signature can never pass as an entry's. */
export const CHECKPOINT_DOMAIN = "protocol-audit-checkpoint-v1\n";

/** A signed checkpoint. */
export interface Checkpoint {
  count: number;
  last_hash: string;
  ts: string;
  kid: string;
  sig: string;
}

/**
 * Signs a checkpoint.
 *
 * @example
 * ```ts
 * makeCheckpoint({ count: 3, last_hash: "ab…", ts: "2024-01-15T10:30:01.000Z" }, signer);
 * ```
 */
export function makeCheckpoint(
  body: { count: number; last_hash: string; ts: string },
  signer: Signer,
): Checkpoint {
  const unsigned = { count: body.count, last_hash: body.last_hash, ts: body.ts, kid: signer.kid };
  return { ...unsigned, sig: signer.sign(checkpointBytes(unsigned)) };
}

/**
 * True when the checkpoint's signature verifies under `key`.
 *
 * @example
 * ```ts
 * checkpointSignatureValid(cp, publicKeyFromRaw(raw));
 * ```
 */
export function checkpointSignatureValid(cp: Checkpoint, key: KeyObject): boolean {
  const { sig, ...unsigned } = cp;
  try {
    return edVerify(null, checkpointBytes(unsigned), key, Buffer.from(sig, "base64"));
  } catch {
    return false;
  }
}

/**
 * Parses checkpoint JSON text; throws `AuditInputError` when it is not one.
 *
 * @example
 * ```ts
 * const cp = parseCheckpoint(await Deno.readTextFile("cp.json"));
 * ```
 */
export function parseCheckpoint(text: string): Checkpoint {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text);
  } catch {
    throw new AuditInputError("checkpoint is not valid JSON");
  }
  const ok = v && Number.isSafeInteger(v.count) && (v.count as number) >= 0 &&
    typeof v.last_hash === "string" && typeof v.ts === "string" && typeof v.kid === "string" &&
    typeof v.sig === "string";
  if (!ok) throw new AuditInputError("checkpoint must have count, last_hash, ts, kid and sig");
  return {
    count: v.count as number,
    last_hash: v.last_hash as string,
    ts: v.ts as string,
    kid: v.kid as string,
    sig: v.sig as string,
  };
}

function checkpointBytes(unsigned: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(CHECKPOINT_DOMAIN + canonicalize(unsigned));
}
