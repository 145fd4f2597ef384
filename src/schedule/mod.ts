/**
 * The schedule of recurring controls (security audit, SOC 2 check, key rotation, dependency
 * audit, SIEM review, incident-response drill): read from `policies/schedule.yaml`, judged
 * against the signed audit log, reported as Markdown or JSON.
 *
 * @example
 * ```ts
 * import { evaluateSchedule, formatSchedule, loadSchedule } from "./mod.ts";
 * import { readAuditEntries } from "../audit/mod.ts";
 * const schedule = await loadSchedule("policies/schedule.yaml");
 * const report = evaluateSchedule(schedule, await readAuditEntries("/home/deploy/.protocol"), new Date());
 * console.log(report.overdue);
 * ```
 * @module
 */
export {
  type Control,
  intervalMs,
  loadSchedule,
  parseSchedule,
  type Schedule,
  ScheduleSchema,
} from "./schema.ts";
export {
  type ControlStatus,
  type ControlVerdict,
  evaluateSchedule,
  type EvidenceRef,
  judgeControl,
  matches,
  recordFields,
  runRoot,
  type ScheduleReport,
} from "./evaluate.ts";
export { formatSchedule, type LogState, type ScheduleOutput } from "./format.ts";
