/**
 * `schedule`: when each recurring control of `policies/schedule.yaml` was last done according to
 * the audit log, and what is overdue. Exit 0 when everything is current, 1 when something is
 * overdue or the log does not verify (its dates are then no evidence), 2 for bad input.
 *
 * @example
 * ```sh
 * deno task schedule                     # Markdown table
 * deno task schedule --format json       # for dashboards
 * deno task schedule --now 2026-01-01    # what will be overdue on that day
 * ```
 * @module
 */
import { requireAuditKey } from "../audit/journal.ts";
import { projectRoot } from "../config/root.ts";
import { UsageError } from "../errors.ts";
import { reviewEntry } from "../audit/actions.ts";
import { type Command, Option } from "commander";
import { join } from "node:path";
import { appendAudit, auditPaths, readAuditEntries, verifyAuditLog } from "../audit/mod.ts";
import {
  evaluateSchedule,
  formatSchedule,
  loadSchedule,
  type LogState,
  recordFields,
} from "../schedule/mod.ts";
import { resolveStateDir } from "../state/mod.ts";
import { formatRetroReviews, retroReviews } from "../approval/mod.ts";
import { entryHash, notifierFor } from "../notify/mod.ts";
import { findConfig, loadConfig } from "../config/mod.ts";
import type { AuditEntry } from "../audit/mod.ts";

/** Adds the `schedule` command to `program`. */
export function registerScheduleCommand(program: Command): void {
  program.command("schedule")
    .description("report when each recurring control was last done and what is overdue")
    .addOption(
      new Option("--format <format>", "output format").choices(["md", "json"]).default("md"),
    )
    .option("--file <path>", "schedule file (default: policies/schedule.yaml)")
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option("--now <time>", "judge as of this ISO-8601 time instead of now")
    .option(
      "--record <control>",
      "record a control done outside this tool (the SIEM review) in the audit log, then report",
    )
    .option("--notify", "tell the notify: webhooks of protocol.yaml about each overdue control")
    .option("--config <file>", "project configuration (for --notify)")
    .addOption(new Option("--root <dir>").hideHelp())
    .addHelpText(
      "after",
      "\nExit codes: 0 all current, 1 something overdue or the log does not verify, 2 bad input.",
    )
    .action(async (options: {
      format: "md" | "json";
      file?: string;
      stateDir?: string;
      now?: string;
      record?: string;
      root?: string;
      notify?: boolean;
      config?: string;
    }) => {
      const now = options.now ? new Date(options.now) : new Date();
      if (Number.isNaN(now.getTime())) {
        throw new UsageError(`--now expects an ISO-8601 time, got "${options.now}"`);
      }
      const root = projectRoot(options.root);
      const file = options.file ?? join(root, "policies", "schedule.yaml");
      const schedule = await loadSchedule(file);
      const stateDir = resolveStateDir(options);
      const path = auditPaths(stateDir).log;
      if (options.record) {
        const control = schedule.controls.find((c) => c.id === options.record);
        if (!control?.only_where_recorded) {
          const manual = schedule.controls.filter((c) => c.only_where_recorded).map((c) => c.id);
          throw new UsageError(
            `--record takes a control done outside this tool (${manual.join(", ")}); ` +
              `the others are recorded by the commands that do them`,
          );
        }
        requireAuditKey(stateDir);
        const entry = await appendAudit(
          stateDir,
          reviewEntry(control.id, recordFields(control)),
        );
        console.error(`recorded ${control.id} as audit entry seq ${entry.seq}`);
      }
      let log: LogState;
      let entries: Awaited<ReturnType<typeof readAuditEntries>> = [];
      try {
        const verified = await verifyAuditLog(stateDir);
        entries = await readAuditEntries(stateDir);
        const bad = verified.firstBad;
        log = {
          path,
          verified: verified.ok,
          entries: verified.entries,
          problem: bad ? `${bad.file}:${bad.line}: ${bad.reason}` : undefined,
        };
      } catch (error) {
        // No log at all: every control is judged as never done, which is the truth.
        log = { path, verified: false, entries: 0, problem: (error as Error).message };
      }
      const report = evaluateSchedule(schedule, entries, now);
      // Emergency changes owe a retro-review: one overdue is as overdue as any control.
      const retro = retroReviews(entries, now);
      const overdue = [
        ...report.overdue,
        ...retro.filter((r) => r.status === "overdue").map((r) => `retro-review ${r.request}`),
      ];
      const output = { ...report, overdue, retro_reviews: retro, log };
      const text = formatSchedule(output, options.format).trimEnd();
      console.log(options.format === "md" ? `${text}\n\n${formatRetroReviews(retro)}` : text);
      Deno.exitCode = overdue.length || !log.verified ? 1 : 0;
      if (overdue.length && options.notify) {
        await notifyOverdue(options, stateDir, entries, overdue);
      }
    });
}

/** One `control.overdue` message per overdue control, proven by the log's last entry. */
async function notifyOverdue(
  options: { config?: string },
  stateDir: string,
  entries: AuditEntry[],
  overdue: string[],
): Promise<void> {
  const path = await findConfig(options);
  const notifier = await notifierFor(path ? await loadConfig(path) : undefined, stateDir);
  const last = entries.at(-1);
  for (const control of overdue) {
    notifier.send({
      event: "control.overdue",
      status: "overdue",
      control,
      ts: new Date().toISOString(),
      audit_seq: last?.seq,
      audit_hash: last && entryHash(last),
    });
  }
  await notifier.flush();
}
