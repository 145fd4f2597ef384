/**
 * Every collector, by kind. Adding a collector is one file in this folder (its spec and
 * `defineCollector`) and one entry in {@link COLLECTORS}; the policy schema follows.
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
import type { z } from "../../source/zod.ts";
import { auditLog } from "./audit_log.ts";
import { composerAudit } from "./composer_audit.ts";
import { composeServices } from "./compose_services.ts";
import { configKey } from "./config.ts";
import { crontab } from "./crontab.ts";
import { fileContent } from "./file_content.ts";
import { fileStat } from "./file_stat.ts";
import { findFiles } from "./find_files.ts";
import { gitState } from "./git_state.ts";
import { patternScan } from "./pattern_scan.ts";
import { processes } from "./processes.ts";
import { releaseManifest } from "./release_manifest.ts";
import type { CollectContext, Facts, KindSpec, RegisteredCollector } from "./types.ts";

export { type CollectContext, type Facts, NotCollected } from "./types.ts";

/**
 * The registry: every collector, one entry each (made by `defineCollector` in its own file).
 * The policy schema's `collect:` union, the JSON Schema and dispatch by `kind` all derive
 * from this list.
 */
export const COLLECTORS = [
  fileStat,
  fileContent,
  configKey,
  crontab,
  processes,
  gitState,
  composeServices,
  patternScan,
  findFiles,
  composerAudit,
  auditLog,
  releaseManifest,
] as const;

/** The spec schema of every registered collector, in registry order. */
export const COLLECTOR_SPECS = COLLECTORS.map((c) => c.spec) as unknown as SpecsOf<
  typeof COLLECTORS
>;

/** The tuple of the specs of a tuple of collectors (what `z.discriminatedUnion` takes). */
type SpecsOf<T extends readonly unknown[]> = {
  -readonly [K in keyof T]: T[K] extends { spec: infer S } ? S : never;
};

/** A parsed collector spec of any kind. */
export type CollectorSpec = z.output<(typeof COLLECTORS)[number]["spec"]>;

/** The collector of each kind. */
const BY_KIND = new Map<string, RegisteredCollector<KindSpec>>(
  COLLECTORS.map((c) => [c.spec.shape.kind.value, c as unknown as RegisteredCollector<KindSpec>]),
);

/** Gathers the facts a (rendered) spec asks for; throws `NotCollected` for skip/n.a./error. */
export function collect(spec: CollectorSpec, ctx: CollectContext): Promise<Facts> {
  return BY_KIND.get(spec.kind)!(spec, ctx);
}
