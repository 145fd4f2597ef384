/**
 * Waivers: a check (or one file or item of it) accepted by a named approver, for a reason,
 * until a date. The expiry is required; on the day after it the waiver stops waiving and the
 * report says so — an accepted risk must be looked at again, not forgotten.
 *
 * @example
 * ```ts
 * import { applyWaivers } from "./waivers.ts";
 * const waiver = { check: "compose-risks", match: "web", justification: "needs host net",
 *   approver: "alice", expires: "2099-12-31" };
 * applyWaivers("compose-risks", [{ message: "privileged", item: "web" }], [waiver], "2026-01-01");
 * // { remaining: [], waived: [{ ..., waiver }], notes: [] }
 * ```
 * @module
 */
import type { Finding } from "./matchers.ts";
import type { Waiver } from "./schema.ts";

/** A finding a waiver accepted. */
export interface WaivedFinding extends Finding {
  waiver: { approver: string; justification: string; expires: string };
}

/** Today as YYYY-MM-DD in UTC, the form waiver expiries are written in. */
export function today(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

function globMatches(glob: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (!glob.includes("*")) return value === glob || value.endsWith(`/${glob}`);
  const regex = new RegExp(
    `(^|/)${
      glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("**", "\0").replaceAll("*", "[^/]*")
        .replaceAll("\0", ".*")
    }$`,
  );
  return regex.test(value);
}

/** Whether a waiver covers a finding of a check (ignoring its expiry). */
export function covers(waiver: Waiver, checkId: string, finding: Finding): boolean {
  if (waiver.check !== checkId) return false;
  if (waiver.match === undefined) return true;
  return globMatches(waiver.match, finding.file) || globMatches(waiver.match, finding.item);
}

/** Splits findings into those still standing and those waived; expired waivers leave notes. */
export function applyWaivers(
  checkId: string,
  findings: Finding[],
  waivers: Waiver[],
  on: string = today(),
): { remaining: Finding[]; waived: WaivedFinding[]; notes: string[] } {
  const remaining: Finding[] = [];
  const waived: WaivedFinding[] = [];
  const notes = new Set<string>();
  for (const finding of findings) {
    const applicable = waivers.filter((w) => covers(w, checkId, finding));
    const valid = applicable.find((w) => w.expires >= on);
    for (const w of applicable.filter((w) => w.expires < on)) {
      notes.add(
        `waiver expired on ${w.expires} (approved by ${w.approver}: ${w.justification}); ` +
          `no longer waived${w.match ? ` for ${w.match}` : ""}`,
      );
    }
    if (valid) {
      const { approver, justification, expires } = valid;
      waived.push({ ...finding, waiver: { approver, justification, expires } });
    } else {
      remaining.push(finding);
    }
  }
  return { remaining, waived, notes: [...notes] };
}
