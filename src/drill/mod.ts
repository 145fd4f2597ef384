/**
 * Drills: SOP 8 (or any runbook) run against a sandbox with real faults injected — a webshell,
 * a miner process, a privileged container, a world-readable key, an edited audit line, a
 * failing release, a malicious dependency — and a report of what was detected, when, how long
 * each phase took against the P1–P4 response targets, what was cleaned, and what to follow up.
 *
 * @example
 * ```ts
 * import { formatDrillReport, loadDrill, runDrill } from "./mod.ts";
 * import { localEngine } from "../runbook/local_engine.ts";
 * const root = Deno.cwd();
 * const drill = await loadDrill(root, "incident-response");
 * const report = await runDrill(drill, { engine: localEngine(root), stateDir: "/tmp/s" });
 * console.log(formatDrillReport(report, "md"));
 * ```
 * @module
 */
export {
  type Drill,
  drillPath,
  DrillSchema,
  FAULT_TYPES,
  type FaultSpec,
  loadDrill,
  parseDrill,
  RESPONSE_TARGETS_MS,
} from "./schema.ts";
export { addPrivileged } from "./fault_scripts.ts";
export {
  cleanFault,
  DETECTED_BY,
  type FaultSite,
  type InjectedFault,
  injectFault,
  leftover,
  running,
  SANDBOX_ONLY,
} from "./faults.ts";
export {
  buildDrillReport,
  checksIn,
  detection,
  type DrillObservation,
  type DrillReport,
  type FaultOutcome,
  formatDrillReport,
  formatMs,
  type ObservedStep,
  type Phase,
  phaseOf,
  PHASES,
  type PhaseTiming,
} from "./report.ts";
export { createSandbox, drillJournal, type Sandbox } from "./sandbox.ts";
export {
  type DrillOptions,
  runDrill,
  saveDrillReport,
  stagingRefusal,
  type StagingSite,
} from "./run.ts";
