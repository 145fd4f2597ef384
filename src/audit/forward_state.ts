/**
 * What `audit:forward` remembers per destination: the last seq the receiver took and the
 * SHA-256 of that entry's line, in `<stateDir>/forward/<host>_<port>.json` (0600). The hash makes
 * the file a small checkpoint too: a log cut or rewritten below that seq is refused, not re-sent.
 *
 * @example
 * ```ts
 * import { forwardStatePath, readForwardState } from "./forward_state.ts";
 * const path = forwardStatePath("/srv/state", { hostname: "127.0.0.1", port: 514 });
 * const state = await readForwardState(path); // { seq: 0 } before the first forward
 * ```
 * @module
 */
import { join } from "node:path";
import { AuditInputError } from "./errors.ts";
import { writePrivateFileAtomic } from "./fs.ts";
import { type Destination, formatDestination } from "./syslog_tcp.ts";

/** The last entry a destination received; `seq: 0` means nothing yet. */
export interface ForwardState {
  seq: number;
  /** SHA-256 hex of that entry's line. */
  hash?: string;
  /** When it was sent (ISO-8601 UTC). */
  ts?: string;
  destination?: string;
}

/**
 * The state file of one destination.
 *
 * @example
 * ```ts
 * forwardStatePath("/srv/state", { hostname: "::1", port: 514 }); // "/srv/state/forward/__1_514.json"
 * ```
 */
export function forwardStatePath(stateDir: string, dest: Destination): string {
  return join(
    stateDir,
    "forward",
    `${dest.hostname.replace(/[^A-Za-z0-9.-]/g, "_")}_${dest.port}.json`,
  );
}

/**
 * Reads a state file; a missing file is `{ seq: 0 }`, a malformed one an `AuditInputError`.
 *
 * @example
 * ```ts
 * const { seq } = await readForwardState("/srv/state/forward/siem_514.json");
 * ```
 */
export async function readForwardState(path: string): Promise<ForwardState> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { seq: 0 };
    throw err;
  }
  let value: ForwardState;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AuditInputError(`${path} is not valid JSON (remove it to forward from the start)`);
  }
  if (
    !Number.isSafeInteger(value?.seq) || value.seq < 0 ||
    (value.seq > 0 && !/^[0-9a-f]{64}$/.test(String(value.hash)))
  ) {
    throw new AuditInputError(
      `${path} must hold {seq, hash} (remove it to forward from the start)`,
    );
  }
  return value;
}

/**
 * Records that `dest` has every entry up to `seq` (atomic write, 0600).
 *
 * @example
 * ```ts
 * const dest = { hostname: "siem", port: 514 };
 * await writeForwardState(forwardStatePath("/srv/state", dest), dest, 42, "ab".repeat(32));
 * ```
 */
export async function writeForwardState(
  path: string,
  dest: Destination,
  seq: number,
  hash: string,
): Promise<void> {
  const state: ForwardState = {
    destination: formatDestination(dest),
    seq,
    hash,
    ts: new Date().toISOString(),
  };
  await writePrivateFileAtomic(path, JSON.stringify(state) + "\n");
}

/**
 * Runs `fn` holding an exclusive lock for `path`, so two forwards to one destination (an
 * overlapping cron run) send each entry once.
 *
 * @example
 * ```ts
 * const sent = await withForwardLock("/srv/state/forward/siem_514.json", () => Promise.resolve(3));
 * ```
 */
export async function withForwardLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
  const lock = await Deno.open(`${path}.lock`, { write: true, create: true, mode: 0o600 });
  try {
    await lock.lock(true);
    return await fn();
  } finally {
    lock.close();
  }
}
