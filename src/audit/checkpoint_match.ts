/**
 * A verified history against the checkpoints it must still contain: each checkpoint must be
 * signed by a key of this history (else it is bad input, never evidence), and the history's
 * first `size` entries must hash to the root it recorded.
 *
 * @example
 * ```ts
 * import type { Checkpoint } from "./checkpoint_core.ts";
 * import type { VerifiedPrefix } from "./checkpoint_match.ts";
 * declare const cps: Checkpoint[];
 * declare const prefix: VerifiedPrefix;
 * import { matchCheckpoints } from "./checkpoint_match.ts";
 * const m = matchCheckpoints(cps, prefix);
 * if (m.bad) console.log(m.bad.reason); // "shorter than the checkpoint"
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { type Checkpoint, checkpointSigner } from "./checkpoint_core.ts";
import { AuditInputError } from "./errors.ts";
import { type Hash, rootsAtSizes } from "./merkle.ts";
import type { FailReason, VerifyResult } from "./verdict.ts";

/** The verified part of a history, as far as checkpoints need it. */
export interface VerifiedPrefix {
  /** How many entries verified. */
  entries: number;
  /** The Merkle leaf hash of each verified entry, in order. */
  leaves(): Iterable<Hash>;
  /** Every key the chain introduced (the trust root first). */
  known: Map<string, Uint8Array>;
  keyObject(kid: string, raw: Uint8Array): KeyObject;
}

/** The checkpoints matched, and the first mismatch (`entry`: the entry index to blame). */
export interface CheckpointMatch {
  matched: VerifyResult["checkpoints"];
  bad?: { entry: number; reason: FailReason; detail: string };
}

/**
 * Matches checkpoints in order, stopping at the first that the history does not contain.
 * Throws `AuditInputError` for a checkpoint no key of this history signed, or whose signature
 * does not verify.
 *
 * @example
 * ```ts
 * import type { Checkpoint } from "./checkpoint_core.ts";
 * declare const cp: Checkpoint;
 * declare const prefix: VerifiedPrefix;
 * matchCheckpoints([cp], prefix).matched; // [{ size, kid, source }]
 * ```
 */
export function matchCheckpoints(
  checkpoints: Checkpoint[],
  prefix: VerifiedPrefix,
): CheckpointMatch {
  const matched: VerifyResult["checkpoints"] = [];
  let roots: Map<number, Hash> | undefined;
  for (const cp of checkpoints) {
    const where = cp.source ?? "checkpoint";
    const signer = checkpointSigner(cp, prefix.known, prefix.keyObject);
    if (!signer) {
      throw new AuditInputError(
        `${where} (${cp.origin}, size ${cp.size}) is signed by no key of this history: ` +
          "it belongs to another log, or this log was cut before the key that signed it was introduced",
      );
    }
    if (!signer.valid) {
      throw new AuditInputError(`${where}: signature does not verify under key ${signer.kid}`);
    }
    if (prefix.entries < cp.size) {
      const detail = `the log has ${prefix.entries} entries but ${where} recorded ${cp.size}: ` +
        "entries were cut from the end";
      return {
        matched,
        bad: { entry: prefix.entries, reason: "shorter than the checkpoint", detail },
      };
    }
    // One pass over the leaves gives the root at every size a checkpoint asks for.
    roots ??= rootsAtSizes(
      prefix.leaves(),
      checkpoints.map((c) => c.size).filter((n) => n <= prefix.entries),
    );
    if (Buffer.compare(roots.get(cp.size)!, cp.root) !== 0) {
      const detail = `the first ${cp.size} entries do not hash to the root ${where} recorded: ` +
        "the history up to there was replaced after the checkpoint";
      return {
        matched,
        bad: { entry: Math.max(0, cp.size - 1), reason: "rewritten since the checkpoint", detail },
      };
    }
    matched.push({ size: cp.size, kid: signer.kid, source: where });
  }
  return { matched };
}
