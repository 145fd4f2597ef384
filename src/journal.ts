/**
 * Where the record of what happened goes. Runs, steps and every feature's operations report
 * their audit entries to a {@link Journal}; the CLI connects it to the signed audit log
 * (`audit/journal.ts`), tests to an array.
 *
 * @example
 * ```ts
 * import type { Journal } from "./journal.ts";
 * const entries: Record<string, unknown>[] = [];
 * const journal: Journal = { record: async (fields) => void entries.push(fields) };
 * await journal.record({ action: "deploy", to: "v1.2.0", status: "success" });
 * ```
 * @module
 */

/** A flat audit entry's fields; `undefined` fields are left out. */
export type JournalFields = Record<string, string | number | boolean | undefined>;

/** Where audit entries go; the CLI connects it to the signed audit log. */
export interface Journal {
  record(fields: JournalFields): Promise<void>;
}
