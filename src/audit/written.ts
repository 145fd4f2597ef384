/**
 * Which audit logs this process wrote to, so whatever dispatches a command can seal them at its
 * end (key evolved, checkpoint signed and published) without each command remembering to.
 * `appendAudit` reports every write here; a checkpoint reports the log sealed. Imports nothing
 * but `node:path`, so the dispatcher can load it before it knows which command runs.
 *
 * @example
 * ```ts
 * import { watchAuditWrites } from "./written.ts";
 * const writes = watchAuditWrites();
 * // ... run a command that appends audit entries ...
 * for (const stateDir of writes.close()) console.log(`seal ${stateDir}`);
 * ```
 * @module
 */

import { resolve } from "node:path";

const open = new Set<Set<string>>();

/** Writes seen since `watchAuditWrites` was called. */
export interface AuditWrites {
  /** Stops watching; returns the state dirs written to and not sealed since, in write order. */
  close(): string[];
}

/**
 * Starts collecting the state dirs this process appends audit entries to. Watches may nest
 * (a command that runs another command): each sees every write made while it is open.
 *
 * @example
 * ```ts
 * const writes = watchAuditWrites();
 * const dirs = writes.close(); // [] when nothing was written
 * ```
 */
export function watchAuditWrites(): AuditWrites {
  const dirs = new Set<string>();
  open.add(dirs);
  return {
    close() {
      open.delete(dirs);
      return [...dirs];
    },
  };
}

/**
 * Records that an entry was appended to the log of `stateDir`.
 *
 * @example
 * ```ts
 * noteAuditWrite("/srv/state");
 * ```
 */
export function noteAuditWrite(stateDir: string): void {
  for (const dirs of open) dirs.add(resolve(stateDir));
}

/**
 * Records that the log of `stateDir` was sealed (a checkpoint over everything written so far):
 * no open watch needs to seal it again.
 *
 * @example
 * ```ts
 * noteAuditSealed("/srv/state");
 * ```
 */
export function noteAuditSealed(stateDir: string): void {
  for (const dirs of open) dirs.delete(resolve(stateDir));
}
