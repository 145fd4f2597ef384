/**
 * A shadow operation as an audited action: it takes the node's deploy lock when it changes the
 * node (unless the run it belongs to holds it already), runs, releases the lock, and writes one
 * signed `shadow` entry with the operation, node, from, to and status — failures included.
 * The command line and runbook steps both come through here.
 *
 * @example
 * ```ts
 * import { runShadow } from "./run.ts";
 * // const result = await runShadow({ kind: "start" }, {
 * //   target, settings, journal, run: "20260101T000000Z-ab12cd", operator: "alice", host: "ops",
 * // });
 * // console.log(result.status, result.from, "→", result.to);
 * ```
 * @module
 */
import { safeMessage, shadowEntry } from "../audit/actions.ts";
import {
  acquireLock,
  LockedError,
  LockFailedError,
  lockPath,
  releaseLock,
} from "../targets/lock.ts";
import { performShadow, type ShadowContext, ShadowFailure } from "./execute.ts";
import { changesNode, operationLabel, type ShadowOperation } from "./operation.ts";
import type { ShadowState } from "./state.ts";
import type { Journal } from "../journal.ts";

/** What an audited operation needs besides its context. */
export interface ShadowRunOptions extends ShadowContext {
  journal?: Journal;
  /** The run this operation belongs to: the lock holder's id and `run` in the audit entry. */
  run: string;
  /** Who runs it, from where: written into the lock. */
  operator: string;
  host: string;
  /** The lock's `runbook` field: the runbook, or the command. */
  by?: string;
}

/** The report of one operation on one node. */
export interface ShadowResult {
  node: string;
  operation: ShadowOperation["kind"];
  /** `shadow:build v1.2.0` */
  label: string;
  status: "success" | "failure";
  from?: string;
  to?: string;
  slot?: string;
  port?: number;
  switch_ms?: number;
  message: string;
  ms: number;
  state?: ShadowState;
}

/** Runs `operation` on the options' target, locked and audited. Never throws for a failure. */
export async function runShadow(
  operation: ShadowOperation,
  options: ShadowRunOptions,
): Promise<ShadowResult> {
  const started = performance.now();
  const node = options.target.name;
  const label = operationLabel(operation);
  let result: ShadowResult;
  const lock = changesNode(operation) ? await takeLock(options, label) : { ours: false };
  if (lock.refused) {
    result = {
      node,
      operation: operation.kind,
      label,
      status: "failure",
      message: lock.refused,
      ms: 0,
    };
  } else {
    try {
      const outcome = await performShadow(operation, options);
      result = {
        node,
        operation: operation.kind,
        label,
        status: "success",
        from: outcome.from,
        to: outcome.to,
        slot: outcome.slot,
        port: outcome.port,
        switch_ms: outcome.switchMs,
        message: outcome.message,
        ms: 0,
        state: outcome.state,
      };
    } catch (error) {
      if (!(error instanceof ShadowFailure)) throw error;
      result = {
        node,
        operation: operation.kind,
        label,
        status: "failure",
        from: error.from,
        to: error.to ?? (operation.kind === "build" ? operation.version : undefined),
        message: error.message,
        ms: 0,
        state: error.state,
      };
    } finally {
      if (lock.ours) {
        const problem = await releaseLock(
          options.target,
          lockPath(options.settings.appDir),
          options.run,
        );
        if (problem) options.say?.(`the deploy lock was not released: ${problem}`);
      }
    }
  }
  result.ms = Math.round(performance.now() - started);
  await options.journal?.record(shadowEntry({
    operation: operation.kind,
    version: operation.kind === "build" ? operation.version : undefined,
    target: node,
    repo: options.settings.appDir,
    from: result.from,
    to: result.to,
    slot: result.slot,
    port: result.port,
    switch_ms: result.switch_ms,
    run: options.run,
  }, {
    status: result.status,
    reason: result.status === "failure" ? safeMessage(result.message) : undefined,
  }));
  return result;
}

/**
 * Takes the node's deploy lock for this operation. A lock held by the same run (a runbook with
 * `lock: true` runs its shadow steps under its own lock) counts as ours but is not released here.
 */
async function takeLock(
  options: ShadowRunOptions,
  label: string,
): Promise<{ ours: boolean; refused?: string }> {
  const path = lockPath(options.settings.appDir);
  const info = {
    run: options.run,
    runbook: options.by ?? label,
    operator: options.operator,
    host: options.host,
    since: new Date().toISOString(),
  };
  try {
    await acquireLock(options.target, path, info);
    return { ours: true };
  } catch (error) {
    if (error instanceof LockedError && error.holder?.run === options.run) return { ours: false };
    if (error instanceof LockedError || error instanceof LockFailedError) {
      return { ours: false, refused: error.message };
    }
    throw error;
  }
}
