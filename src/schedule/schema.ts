/**
 * The schedule file (`policies/schedule.yaml`): the seed's recurring controls, each with how
 * often it is due (an interval, every deployment, or both) and which audit entries prove it was
 * done. Loaded with positions, so a mistake is reported as `file:line:column` like a runbook's.
 *
 * @example
 * ```ts
 * import { loadSchedule } from "./schema.ts";
 * const schedule = await loadSchedule("policies/schedule.yaml");
 * console.log(schedule.controls.map((c) => `${c.id} every ${c.every ?? "deployment"}`));
 * ```
 * @module
 */
import { z } from "../source/zod.ts";
import { InvalidFileError, parseSource, schemaProblems } from "../source/mod.ts";

/** "12h", "7d", "90d", "365d": the units a schedule speaks in. */
const INTERVAL = /^(\d+)(m|h|d)$/;

/** An interval such as `7d`; see {@link intervalMs}. */
export const IntervalSchema = z.string().regex(INTERVAL, {
  error: 'expected an interval such as "24h", "7d" or "90d"',
});

/**
 * Audit-entry fields that must all match for an entry to count; a list means any of its values.
 * Values are compared as strings, so `status: [success, failure]` matches both outcomes.
 */
export const MatchSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]),
);

/** One recurring control. */
export const ControlSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  title: z.string(),
  /** The seed's wording, kept so the report reads like the SOP table. */
  frequency: z.string(),
  command: z.string().optional(),
  /** Due again this long after it was last done. */
  every: IntervalSchema.optional(),
  /** Due for each deployment: the latest deployment must have its own evidence. */
  per_deployment: z.boolean().default(false),
  /** Evidence found within this long of a deployment (or in its run) counts for it. */
  deployment_window: IntervalSchema.default("1h"),
  /** Audit entries that show the control was done. */
  evidence: MatchSchema,
  /**
   * The policy check that does this control (`dependencies`). A policy entry counts only when
   * that check ran, not when it was skipped; when it did not apply (listed in the entry's
   * `not_applicable`), the control is not applicable.
   */
  check: z.string().regex(/^[a-z][a-z0-9-]*$/).optional(),
  /**
   * Done outside this tool (a SIEM dashboard): only judged once something recorded it, so a
   * team that does not record it here is told so instead of being told it is overdue.
   */
  only_where_recorded: z.boolean().default(false),
}).refine((c) => c.every !== undefined || c.per_deployment, {
  error: "a control needs `every`, `per_deployment: true`, or both",
});

/** The whole schedule file. */
export const ScheduleSchema = z.strictObject({
  id: z.string(),
  title: z.string(),
  source: z.string().optional(),
  /** Which audit entries are deployments (for `per_deployment` controls). */
  deployment: MatchSchema,
  controls: z.array(ControlSchema).min(1),
});

/** A loaded schedule. */
export type Schedule = z.infer<typeof ScheduleSchema>;
/** One control of a schedule. */
export type Control = z.infer<typeof ControlSchema>;

/**
 * Milliseconds of an interval.
 *
 * @example
 * ```ts
 * intervalMs("7d"); // 604800000
 * ```
 */
export function intervalMs(interval: string): number {
  const match = INTERVAL.exec(interval);
  if (!match) throw new Error(`not an interval: ${interval}`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

/**
 * Parses schedule text; throws `InvalidFileError` (exit 2, `file:line:col`) when invalid.
 *
 * @example
 * ```ts
 * const schedule = parseSchedule("schedule.yaml", "id: s\ntitle: S\ndeployment: {action: deploy}\ncontrols: []");
 * ```
 */
export function parseSchedule(file: string, text: string): Schedule {
  const source = parseSource(file, text);
  if (source.problems.length) throw new InvalidFileError(source.problems);
  const parsed = ScheduleSchema.safeParse(source.data);
  if (!parsed.success) throw new InvalidFileError(schemaProblems(source, parsed.error.issues));
  return parsed.data;
}

/**
 * Reads and parses a schedule file.
 *
 * @example
 * ```ts
 * const schedule = await loadSchedule("/work/protocol/policies/schedule.yaml");
 * ```
 */
export async function loadSchedule(path: string): Promise<Schedule> {
  return parseSchedule(path, await Deno.readTextFile(path));
}
