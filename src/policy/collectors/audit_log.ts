/**
 * `audit_log`: the signed audit log (`deployments.log` in this machine's state directory):
 * whether it exists, its mode, and whether every entry's hash chain and signature verify
 * (`verifyAuditLog`). The tool is agentless, so the log that records a node's deploys is the
 * one on the machine that ran them: it is read here whatever the target.
 *
 * @example
 * ```yaml
 * collect: { kind: audit_log }
 * expect: [{ fact: exists, eq: true }, { fact: world_readable, eq: false }, { fact: verified, eq: true }]
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { auditPaths, verifyAuditLog } from "../../audit/mod.ts";
import { LocalTarget } from "../../targets/local.ts";
import { defineCollector, runOnTarget } from "./types.ts";
import { fileStatCommand, parseFileStat } from "./file_stat.ts";

/** The spec of an `audit_log` collector. */
export const AuditLogSpec = z.strictObject({ kind: z.literal("audit_log") });

/** Collects the log's stat facts plus `verified`, `entries` and `reason`. */
export const auditLog = defineCollector(AuditLogSpec, async (_spec, ctx) => {
  const stateDir = ctx.auditStateDir ?? ctx.stateDir;
  const path = auditPaths(stateDir).log;
  const here = { ...ctx, target: new LocalTarget() };
  const stat = parseFileStat(path, await runOnTarget(here, fileStatCommand(path)));
  if (!stat.exists) return { ...stat, verified: false, reason: "no audit log" };
  try {
    const result = await verifyAuditLog(stateDir);
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
});
