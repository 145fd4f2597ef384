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
  for (const entry of entries) {
    if (entry.action === "change.request" && entry.emergency === true) {
      const opened = String(entry.ts);
      reviews.set(String(entry.request), {
        request: String(entry.request),
        runbook: String(entry.runbook),
        operator: String(entry.operator),
        reason: String(entry.reason ?? ""),
        opened,
        due: addBusinessDays(new Date(opened), RETRO_REVIEW_BUSINESS_DAYS).toISOString(),
        status: "pending",
        seq: Number(entry.seq),
      });
    }
    if (entry.action === "change.approval" && entry.kind === "retro") {
      const review = reviews.get(String(entry.request));
      if (review && review.status !== "reviewed" && entry.approver !== review.operator) {
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
