/**
 * What a node records about its releases, read in one round trip: the active and previous
 * release, every release ever active there (history), the release directories, the last
 * switch to the active release (when, by whom, how), the deploy lock and whether the app runs.
 * The script is built here and parsed here; the caller runs it on a target.
 *
 * @example
 * ```ts
 * import { nodeStateRequest, parseNodeState } from "./node_state.ts";
 * import { LocalTarget } from "../targets/local.ts";
 * const request = nodeStateRequest("/opt/myapp", "test -f app.pid");
 * const result = await new LocalTarget().exec(request);
 * const state = parseNodeState(result.stdout);
 * console.log(state?.current ?? "nothing deployed");
 * parseNodeState("current=v1.2.0\nprevious=v1.1.0\n")?.current; // "v1.2.0"
 * ```
 * @module
 */
import type { ExecRequest } from "../targets/target.ts";
import { type LockInfo, parseLock } from "../targets/lock.ts";

/** One switch recorded in `<dir>/deploys.log`. */
export interface Switch {
  at: string;
  kind: string;
  version: string;
  from: string;
  operator: string;
  run: string;
}

/** A node's release record. */
export interface NodeState {
  /** The active release (the `current` link), if any. */
  current?: string;
  /** Where a rollback without a version goes (`<dir>/previous`). */
  previous?: string;
  /** Every release that was ever active, oldest first, each once. */
  history: string[];
  /** Release directories present (fetched, perhaps never active). */
  releases: string[];
  /** The last switch to the active release. */
  deployed?: Switch;
  lock?: LockInfo;
  /** Raw lock text when it is not ours to parse. */
  lockRaw?: string;
  running: "yes" | "no" | "unknown";
  /**
   * The node runs blue-green: the tool's front proxy (`<dir>/shadow/proxy.pid`) is alive and
   * holds the live port, so only the shadow commands change what clients get.
   */
  blueGreen: boolean;
}

/**
 * Reads the record. `dir` and the running check reach the script as environment variables, so
 * no value is ever spliced into its text.
 */
export const NODE_STATE_SCRIPT = [
  'cd -- "$APP_DIR" 2>/dev/null || { echo "missing=1"; exit 0; }',
  'current=""; if [ -L current ]; then current=$(basename "$(readlink current)"); fi',
  'echo "current=$current"',
  'echo "previous=$(head -n 1 previous 2>/dev/null)"',
  "echo \"history=$(cat history 2>/dev/null | tr '\\n' ' ')\"",
  "echo \"releases=$(ls -1 releases 2>/dev/null | grep -v '\\.partial$' | tr '\\n' ' ')\"",
  "echo \"deployed=$(awk -F '\\t' -v v=\"$current\" '$3 == v { line = $0 } END { print line }' deploys.log 2>/dev/null)\"",
  'echo "lock=$(head -n 1 .protocol.lock 2>/dev/null)"',
  "proxy=$(cat shadow/proxy.pid 2>/dev/null)",
  'if [ -n "$proxy" ] && kill -0 "$proxy" 2>/dev/null; then echo "proxy=running"; else echo "proxy=none"; fi',
  'if [ -z "$RUNNING" ]; then echo "running=unknown"',
  'elif [ -n "$current" ] && (cd current && sh -c "$RUNNING") >/dev/null 2>&1; then echo "running=yes"',
  'else echo "running=no"; fi',
].join("\n");

/**
 * The request that reads a node's record under `dir`; `running` is the app's running check.
 *
 * @example
 * ```ts
 * nodeStateRequest("/opt/app").env; // { APP_DIR: "/opt/app", RUNNING: "" }
 * ```
 */
export function nodeStateRequest(dir: string, running?: string): ExecRequest {
  return {
    script: NODE_STATE_SCRIPT,
    env: { APP_DIR: dir, RUNNING: running ?? "" },
    timeoutMs: 30_000,
  };
}

/** The app directory does not exist on the node. */
export const MISSING_DIR = "missing";

/**
 * Parses the script's output; `undefined` when the app directory does not exist.
 *
 * @example
 * ```ts
 * parseNodeState("missing=1"); // undefined
 * ```
 */
export function parseNodeState(stdout: string): NodeState | undefined {
  const fields = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  if (fields.has(MISSING_DIR)) return undefined;
  const words = (key: string) => (fields.get(key) ?? "").split(/\s+/).filter(Boolean);
  const lockRaw = fields.get("lock") || undefined;
  const running = fields.get("running");
  return {
    current: fields.get("current") || undefined,
    previous: fields.get("previous") || undefined,
    history: [...new Set(words("history"))],
    releases: words("releases"),
    deployed: parseSwitch(fields.get("deployed") ?? ""),
    lock: lockRaw ? parseLock(lockRaw) : undefined,
    lockRaw,
    running: running === "yes" || running === "no" ? running : "unknown",
    blueGreen: fields.get("proxy") === "running",
  };
}

/**
 * One `deploys.log` line: time, kind, version, from, operator, run — tab-separated.
 *
 * @example
 * ```ts
 * parseSwitch("2026-01-15T10:30:01Z\tdeploy\tv1.2.0\tv1.1.0\talice\tr1")?.operator; // "alice"
 * ```
 */
export function parseSwitch(line: string): Switch | undefined {
  const [at, kind, version, from, operator, run] = line.split("\t");
  if (!at || !version) return undefined;
  return {
    at,
    kind: kind ?? "",
    version,
    from: from ?? "",
    operator: operator ?? "",
    run: run ?? "",
  };
}

/** Why a rollback to `requested` (or to the previous release) cannot happen on a node. */
export function rollbackRefusal(
  node: string,
  state: NodeState | undefined,
  requested?: string,
): string | undefined {
  if (!state?.current) return `${node}: nothing is deployed there: there is nothing to roll back`;
  if (state.blueGreen) {
    return `${node} runs blue-green (its front proxy holds the live port): a plain rollback ` +
      "would switch current while clients keep getting the live slot; use shadow:rollback " +
      "(back to the standby) there";
  }
  if (requested) {
    if (!state.history.includes(requested) || !state.releases.includes(requested)) {
      return `${node}: ${requested} was never deployed there (its history: ${
        state.history.join(", ") || "empty"
      }): refusing to roll back to it`;
    }
    return undefined;
  }
  if (!state.previous) {
    return `${node}: no previous release is recorded there: name the version to roll back to`;
  }
  if (!state.releases.includes(state.previous)) {
    return `${node}: the previous release ${state.previous} is no longer in its releases`;
  }
  return undefined;
}
