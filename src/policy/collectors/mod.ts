/**
 * Every collector, by kind. Adding a collector is one file in this folder and one line here;
 * the policy schema picks its spec up from {@link COLLECTOR_SPECS}.
 *
 * @example
 * ```ts
 * import { collect } from "./mod.ts";
 * import { LocalTarget } from "../../targets/local.ts";
 * const facts = await collect({ kind: "file_stat", path: "/etc/passwd" },
 *   { target: new LocalTarget(), stateDir: "/tmp/state" });
 * console.log(facts.mode); // "0644"
 * ```
 * @module
 */
import type { z } from "zod";
import { auditLog, AuditLogSpec } from "./audit_log.ts";
import { composerAudit, ComposerAuditSpec } from "./composer_audit.ts";
import { composeServices, ComposeServicesSpec } from "./compose_services.ts";
import { configKey, ConfigSpec } from "./config.ts";
import { crontab, CrontabSpec } from "./crontab.ts";
import { fileContent, FileContentSpec } from "./file_content.ts";
import { fileStat, FileStatSpec } from "./file_stat.ts";
import { findFiles, FindFilesSpec } from "./find_files.ts";
import { gitState, GitStateSpec } from "./git_state.ts";
import { patternScan, PatternScanSpec } from "./pattern_scan.ts";
import { processes, ProcessesSpec } from "./processes.ts";
import { releaseManifest, ReleaseManifestSpec } from "./release_manifest.ts";
import type { CollectContext, Collector, Facts } from "./types.ts";

export { type CollectContext, type Facts, NotCollected } from "./types.ts";

/** The spec schema of every collector (a discriminated union on `kind`). */
export const COLLECTOR_SPECS = [
  FileStatSpec,
  FileContentSpec,
  ConfigSpec,
  CrontabSpec,
  ProcessesSpec,
  GitStateSpec,
  ComposeServicesSpec,
  PatternScanSpec,
  FindFilesSpec,
  ComposerAuditSpec,
  AuditLogSpec,
  ReleaseManifestSpec,
] as const;

/** A parsed collector spec of any kind. */
export type CollectorSpec = z.infer<(typeof COLLECTOR_SPECS)[number]>;

// deno-lint-ignore no-explicit-any
const COLLECTORS: Record<CollectorSpec["kind"], Collector<any>> = {
  file_stat: fileStat,
  file_content: fileContent,
  config: configKey,
  crontab,
  processes,
  git_state: gitState,
  compose_services: composeServices,
  pattern_scan: patternScan,
  find_files: findFiles,
  composer_audit: composerAudit,
  audit_log: auditLog,
  release_manifest: releaseManifest,
};

/** Gathers the facts a (rendered) spec asks for; throws `NotCollected` for skip/n.a./error. */
export function collect(spec: CollectorSpec, ctx: CollectContext): Promise<Facts> {
  return COLLECTORS[spec.kind](spec, ctx);
}
