/**
 * `audit_log`: the signed audit log (`deployments.log` in the state directory): whether it
 * exists, its mode, and — on the local target, where this tool keeps and can read it — whether
 * every entry's hash chain and signature verify (`verifyAuditLog`).
 *
 * @example
 * ```yaml
 * collect: { kind: audit_log }
 * expect: [{ fact: exists, eq: true }, { fact: world_readable, eq: false }, { fact: verified, eq: true }]
 * ```
 * @module
 */
import { z } from "zod";
import { auditPaths, verifyAuditLog } from "../../audit/mod.ts";
import { type Collector, runOnTarget } from "./types.ts";
import { fileStatCommand, parseFileStat } from "./file_stat.ts";

/** The spec of an `audit_log` collector. */
export const AuditLogSpec = z.strictObject({ kind: z.literal("audit_log") });

/** Collects the log's stat facts plus `verified`, `entries` and `reason`. */
export const auditLog: Collector<z.infer<typeof AuditLogSpec>> = async (_spec, ctx) => {
  const path = auditPaths(ctx.stateDir).log;
  const stat = parseFileStat(path, await runOnTarget(ctx, fileStatCommand(path)));
  if (!stat.exists) return { ...stat, verified: false, reason: "no audit log" };
  if (ctx.target.name !== "local") {
    return { ...stat, reason: `verify on ${ctx.target.name} with audit:verify` };
  }
  try {
    const result = await verifyAuditLog(ctx.stateDir);
    const bad = result.firstBad;
    return {
      ...stat,
      verified: result.ok,
      entries: result.entries,
      reason: bad ? `line ${bad.line}: ${bad.reason}${bad.detail ? ` (${bad.detail})` : ""}` : "",
    };
  } catch (error) {
    return { ...stat, verified: false, reason: (error as Error).message };
  }
};
