/**
 * Removing a node's lock on purpose, on the record: `--force-unlock REASON` on a run and
 * `deno task unlock` both go through here, so the audit log always says whose lock was removed,
 * by which run and why.
 *
 * @example
 * ```ts
 * import { forceUnlockRecorded } from "./force_unlock.ts";
 * import { LocalTarget } from "../targets/local.ts";
 * const holder = await forceUnlockRecorded(new LocalTarget(), "/tmp/app.lock", "stale", undefined);
 * console.log(holder?.run ?? "no lock was held");
 * ```
 * @module
 */
import { lockForceEntry } from "../audit/actions.ts";
import type { Journal } from "../journal.ts";
import { forceUnlock, type LockInfo } from "../targets/lock.ts";
import type { Target } from "../targets/target.ts";

/**
 * Removes a node's lock, whoever holds it, and records who held it and why it was removed
 * (`--force-unlock` on a run, and `deno task unlock`). Returns the holder, if there was one.
 */
export async function forceUnlockRecorded(
  target: Target,
  path: string,
  reason: string,
  journal: Journal | undefined,
  run?: string,
): Promise<LockInfo | undefined> {
  const holder = await forceUnlock(target, path);
  await journal?.record(lockForceEntry({
    run,
    target: target.name,
    lock: path,
    holder: holder ? `${holder.run} (${holder.operator}@${holder.host}, ${holder.since})` : "none",
    reason,
  }));
  return holder;
}
