/**
 * Retro-reviews: an emergency change runs without prior approval and owes an approver's
 * signature (`approve CR_ID --retro`) within two business days. Judged from the audit log.
 *
 * @example
 * ```ts
 * import { addBusinessDays } from "./retro.ts";
 * addBusinessDays(new Date("2026-07-03T17:00:00Z"), 2).toISOString(); // Friday → Tuesday
 * // "2026-07-07T17:00:00.000Z"
 * ```
 * @module
 */
import { ACTION } from "../audit/actions.ts";
import { approvalsFromLog } from "./from_log.ts";

/** Business days an emergency change has to be reviewed. */
export const RETRO_REVIEW_BUSINESS_DAYS = 2;

/** Where a retro-review stands. */
export type RetroStatus = "reviewed" | "pending" | "overdue";

/** One emergency change and its review. */
export interface RetroReview {
  request: string;
  runbook: string;
  operator: string;
  reason: string;
  /** When the emergency request was recorded. */
  opened: string;
  due: string;
  status: RetroStatus;
  reviewedBy?: string;
  reviewedAt?: string;
  /** The audit seq of the emergency request. */
  seq: number;
}

/** The audit entry fields this module reads. */
type Entry = Record<string, string | number | boolean>;

/**
 * `start` plus `days` business days (Monday to Friday, UTC), same time of day. A change made on
 * a weekend starts counting on Monday morning.
 *
 * @example
 * ```ts
 * addBusinessDays(new Date("2026-07-01T10:00:00Z"), 2).toISOString(); // "2026-07-03T10:00:00.000Z"
 * ```
 */
export function addBusinessDays(start: Date, days: number): Date {
  const at = new Date(start);
  const weekend = (d: Date) => d.getUTCDay() === 0 || d.getUTCDay() === 6;
  if (weekend(at)) {
    at.setUTCHours(0, 0, 0, 0);
    while (weekend(at)) at.setUTCDate(at.getUTCDate() + 1);
  }
  let left = days;
  while (left > 0) {
    at.setUTCDate(at.getUTCDate() + 1);
    if (!weekend(at)) left--;
  }
  return at;
}

/**
 * When the retro-review of an emergency change opened at `opened` (ISO time) is due.
 *
 * @example
 * ```ts
 * retroDue("2026-07-01T10:00:00.000Z"); // "2026-07-03T10:00:00.000Z"
 * ```
 */
export function retroDue(opened: string): string {
  return addBusinessDays(new Date(opened), RETRO_REVIEW_BUSINESS_DAYS).toISOString();
}

/**
 * Every emergency change in `entries` with its review status at `now`. A retro approval by
 * the operator does not close a review (the approve command refuses it; a forged entry would
 * not verify).
 *
 * @example
 * ```ts
 * // const open = retroReviews(await readAuditEntries(dir), new Date()).filter((r) => r.status !== "reviewed");
 * ```
 */
export function retroReviews(entries: readonly Entry[], now: Date): RetroReview[] {
  const reviews = new Map<string, RetroReview>();
  // Only a review whose signature verifies from the log counts: any program can write an entry.
  const signed = approvalsFromLog(entries).approvals;
  for (const entry of entries) {
    if (entry.action === ACTION.changeRequest && entry.emergency === true) {
      const opened = String(entry.ts);
      reviews.set(String(entry.request), {
        request: String(entry.request),
        runbook: String(entry.runbook),
        operator: String(entry.operator),
        reason: String(entry.reason ?? ""),
        opened,
        due: retroDue(opened),
        status: "pending",
        seq: Number(entry.seq),
      });
    }
    if (entry.action === ACTION.changeApproval && entry.kind === "retro") {
      const review = reviews.get(String(entry.request));
      const valid = signed.get(String(entry.request))?.some((a) =>
        a.kind === "retro" && a.approver === entry.approver && a.at === entry.approved_at &&
        a.approver_key === entry.approver_key
      );
      if (review && review.status !== "reviewed" && valid) {
        review.status = "reviewed";
        review.reviewedBy = String(entry.approver);
        review.reviewedAt = String(entry.ts);
      }
    }
  }
  for (const review of reviews.values()) {
    if (review.status === "pending" && now.getTime() > Date.parse(review.due)) {
      review.status = "overdue";
    }
  }
  return [...reviews.values()];
}

const STATUS_MARK: Record<RetroStatus, string> = {
  reviewed: "reviewed",
  pending: "pending",
  overdue: "**OVERDUE**",
};

/**
 * The retro-reviews as a Markdown section for `schedule`.
 *
 * @example
 * ```ts
 * formatRetroReviews([]); // "No emergency changes: no retro-reviews owed.\n"
 * ```
 */
export function formatRetroReviews(reviews: readonly RetroReview[]): string {
  if (!reviews.length) return "No emergency changes: no retro-reviews owed.\n";
  const lines = [
    "### Retro-reviews of emergency changes",
    "",
    "| Request | Runbook | Operator | Reason | Due | Status |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of reviews) {
    const status = r.status === "reviewed"
      ? `reviewed by ${r.reviewedBy} at ${r.reviewedAt}`
      : STATUS_MARK[r.status];
    const reason = r.reason.replaceAll("|", "\\|");
    lines.push(
      `| ${r.request} (seq ${r.seq}) | ${r.runbook} | ${r.operator} | ${reason} | ${r.due} | ${status} |`,
    );
  }
  const open = reviews.filter((r) => r.status !== "reviewed");
  if (open.length) {
    lines.push("", ...open.map((r) => `- sign it: \`deno task approve ${r.request} --retro\``));
  }
  return lines.join("\n") + "\n";
}
