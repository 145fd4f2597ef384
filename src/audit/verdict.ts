/**
 * The vocabulary of a verification's outcome: the reasons a history can fail with, where it
 * failed, and the verdict `verifyHistory` (and `verifyAuditLog`, `audit:verify --json`) gives.
 *
 * @example
 * ```ts
 * import type { VerifyResult } from "./verdict.ts";
 * declare const r: VerifyResult;
 * if (!r.ok) console.log(r.firstBad!.line, r.firstBad!.reason);
 * ```
 * @module
 */

/** The fixed set of reasons a verification can fail with. */
export type FailReason =
  | "edited"
  | "re-encoded"
  | "downgraded"
  | "inserted"
  | "deleted"
  | "reordered"
  | "bad signature"
  | "unknown key"
  | "torn last line"
  | "shorter than the checkpoint"
  | "rewritten since the checkpoint";

/** Where and why verification stopped. `line` is 1-based within `file`. */
export interface BadLine {
  line: number;
  file: string;
  reason: FailReason;
  detail: string;
}

/** A verdict over the whole history. */
export interface VerifyResult {
  ok: boolean;
  /** Entries that verified before the first bad line (all of them when ok). */
  entries: number;
  files: string[];
  firstTs?: string;
  lastTs?: string;
  /** Key ids that signed verified entries, in order of first use. */
  keys: string[];
  /** SHA-256 of the last verified line (what a checkpoint records). */
  lastHash?: string;
  firstBad?: BadLine;
  /** Checkpoints the history matched (size and where each came from). */
  checkpoints: { size: number; kid: string; source: string }[];
}

/** The key trusted to sign the first entry. */
export interface TrustRoot {
  kid: string;
  publicKeyRaw: Uint8Array;
}
