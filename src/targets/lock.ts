/**
 * Deploy locks: one run at a time per node. The lock is a file on the node itself, created
 * atomically (a hard link of a complete file: it either appears whole or not at all), holding
 * the run id, runbook, operator, host and time. Releasing removes it only if this run holds it.
 *
 * @example
 * ```ts
 * import { acquireLock, releaseLock } from "./lock.ts";
 * import { LocalTarget } from "./local.ts";
 * const target = new LocalTarget();
 * const info = { run: "r1", runbook: "deploy", operator: "alice", host: "ops", since: new Date().toISOString() };
 * await acquireLock(target, "/opt/app/.protocol.lock", info); // throws LockedError when held
 * await releaseLock(target, "/opt/app/.protocol.lock", "r1");
 * ```
 * @module
 */
import { FailureError } from "../errors.ts";
import { shellQuote } from "../shell/quote.ts";
import type { Target } from "./target.ts";
import type { Config } from "../config/mod.ts";
import { type InventoryNode, LOCAL_NODE, nodeApp } from "./inventory.ts";

/** Who holds a lock, written into the lock file as one JSON line. */
export interface LockInfo {
  run: string;
  runbook: string;
  operator: string;
  host: string;
  since: string;
}

/** The lock of an app directory. */
export function lockPath(appDir: string): string {
  return `${appDir.replace(/\/+$/, "")}/.protocol.lock`;
}

/**
 * Where `node`'s deploy lock lives: in its own app directory.
 *
 * @example
 * ```ts
 * import { nodeLockPath } from "./lock.ts";
 * nodeLockPath({ app: { dir: "/opt/app" } } as never); // "/opt/app/.protocol.lock"
 * ```
 */
export function nodeLockPath(
  config: Pick<Config, "app">,
  node: InventoryNode = LOCAL_NODE,
): string {
  return lockPath(nodeApp(config, node).dir);
}

/** Exit code of the acquire script when another run holds the lock. */
const HELD = 3;

/** Creates the lock or prints its holder and exits {@link HELD}. */
export function acquireScript(path: string, info: LockInfo): string {
  return [
    `lock=${shellQuote(path)}`,
    `mkdir -p -- "$(dirname -- "$lock")" || exit 2`,
    `tmp="$lock.$$"`,
    `printf '%s\\n' ${shellQuote(JSON.stringify(info))} > "$tmp" || exit 2`,
    `if ln -- "$tmp" "$lock" 2>/dev/null; then rm -f -- "$tmp"; exit 0; fi`,
    `rm -f -- "$tmp"; cat -- "$lock" 2>/dev/null; exit ${HELD}`,
  ].join("\n");
}

/** Removes the lock if (and only if) `run` holds it. */
export function releaseScript(path: string, run: string): string {
  const mine = JSON.stringify({ run }).slice(1, -1); // "run":"<id>"
  return `lock=${shellQuote(path)}\n` +
    `if grep -qF -- ${shellQuote(mine)} "$lock" 2>/dev/null; then rm -f -- "$lock"; fi`;
}

/** Prints the lock's holder (nothing when free) and removes it. */
export function forceUnlockScript(path: string): string {
  return `lock=${shellQuote(path)}\ncat -- "$lock" 2>/dev/null\nrm -f -- "$lock"`;
}

/** Prints the lock's holder, or nothing when it is free. */
export function readLockScript(path: string): string {
  return `cat -- ${shellQuote(path)} 2>/dev/null || true`;
}

/** Another run holds the lock. */
export class LockedError extends FailureError {
  constructor(readonly node: string, readonly holder: LockInfo | undefined, raw: string) {
    super(
      `${node}: locked by ${
        holder
          ? `run ${holder.run} (${holder.runbook}, ${holder.operator}@${holder.host}) since ${holder.since} (${
            age(holder.since)
          } ago)`
          : `an unreadable lock (${raw.trim() || "empty"})`
      }; if that run is gone, rerun with --force-unlock "<reason>"`,
    );
    this.name = "LockedError";
  }
}

/** The lock could not be taken for another reason (no permission, no disk, no connection). */
export class LockFailedError extends FailureError {
  constructor(node: string, detail: string) {
    super(`${node}: could not take the deploy lock: ${detail}`);
    this.name = "LockFailedError";
  }
}

/** Takes the lock on `target`; throws {@link LockedError} when another run holds it. */
export async function acquireLock(target: Target, path: string, info: LockInfo): Promise<void> {
  const result = await target.exec({ script: acquireScript(path, info), timeoutMs: 30_000 });
  if (result.code === 0) return;
  if (result.code === HELD) {
    throw new LockedError(target.name, parseLock(result.stdout), result.stdout);
  }
  throw new LockFailedError(
    target.name,
    (result.stderr || result.stdout).trim() || `exit ${result.code}`,
  );
}

/** Releases the lock if this run holds it; reports (never throws) when it cannot. */
export async function releaseLock(
  target: Target,
  path: string,
  run: string,
): Promise<string | undefined> {
  const result = await target.exec({ script: releaseScript(path, run), timeoutMs: 30_000 });
  return result.code === 0 ? undefined : (result.stderr.trim() || `exit ${result.code}`);
}

/** Removes whatever lock is there; returns who held it. */
export async function forceUnlock(target: Target, path: string): Promise<LockInfo | undefined> {
  const result = await target.exec({ script: forceUnlockScript(path), timeoutMs: 30_000 });
  if (result.code !== 0) throw new LockFailedError(target.name, result.stderr.trim());
  return parseLock(result.stdout);
}

/** Who holds the lock now, if anyone. */
export async function readLock(target: Target, path: string): Promise<LockInfo | undefined> {
  const result = await target.exec({ script: readLockScript(path), timeoutMs: 30_000 });
  return parseLock(result.stdout);
}

/** Reads a lock file's JSON line; undefined when empty or not ours. */
export function parseLock(text: string): LockInfo | undefined {
  try {
    const value = JSON.parse(text.trim().split("\n")[0] ?? "");
    return typeof value?.run === "string" ? value as LockInfo : undefined;
  } catch {
    return undefined;
  }
}

function age(since: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
  if (Number.isNaN(seconds)) return "unknown time";
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
