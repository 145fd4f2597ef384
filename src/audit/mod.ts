/**
 * Signed, tamper-evident audit log (`<stateDir>/deployments.log`).
 *
 * Every entry is one JSON line carrying `seq`, `ts`, `host`, `user`, `action`, the action's flat
 * fields, `status`, `prev` (SHA-256 of the previous line) and an Ed25519 signature (`kid`,
 * `sig`) over the domain-separated RFC 8785 form of every other field. Appends are serialized
 * across processes by an exclusive lock and fdatasynced before returning. See the README's audit section.
 *
 * @example
 * ```ts
 * import { appendAudit, generateSigningKey, verifyAuditLog } from "./mod.ts";
 * const dir = "/tmp/protocol-state";
 * await generateSigningKey(dir);
 * await appendAudit(dir, { action: "deploy", repo: "/opt/myapp", from: "v1.1.0", to: "v1.2.0" });
 * const result = await verifyAuditLog(dir);
 * console.log(result.ok, result.entries);
 * ```
 * @module
 */
export { appendAudit } from "./append.ts";
export type { AuditEntry, AuditFields, FieldValue } from "./entry.ts";
export { GENESIS_PREV } from "./entry.ts";
export { AuditInputError, AuditRefusedError, MissingSigningKeyError } from "./errors.ts";
export { generateSigningKey, hasSigningKey, rotateSigningKey } from "./signing.ts";
export { verifyAuditLog } from "./verify.ts";
export type { BadLine, FailReason, VerifyResult } from "./verdict.ts";
export type { Checkpoint } from "./checkpoint_core.ts";
export { parseCheckpoint } from "./checkpoint_core.ts";
export { rotateLog } from "./maintenance.ts";
export { writeCheckpoint } from "./checkpoint.ts";
export type { CheckpointOptions, CheckpointResult, PublishOutcome } from "./checkpoint.ts";
export type { VerifyOptions } from "./verify.ts";
export { checkpointOrigin, type WitnessSettings } from "./witness/mod.ts";
export { readAuditEntries } from "./history.ts";
export { formatSeedLine, toJsonlLine } from "./format.ts";
export { octetFrame, syslogRecord } from "./syslog.ts";
export { auditPaths } from "./paths.ts";
