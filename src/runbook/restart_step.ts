/**
 * `restart: rolling`: the engine's rolling restart. A step with `on: app` and `restart: rolling`
 * reaches the nodes one at a time — or a batch at a time with a batch spec after the word:
 * `rolling 2`, `rolling 25%`, `rolling [1, 10%, 50%]` (the same sizes as a strategy's `batch`,
 * see `batch_spec.ts`). The run sends the step to a batch's nodes at once and stops after the
 * first batch in which one fails; on each node this stops the app, starts it from the active
 * release, and waits until the node's own health check (`app.health`) answers 200 before the
 * step returns there. So the next batch only stops once this one serves again, and the fleet
 * is never down at once — as long as a batch is smaller than the fleet.
 *
 * @example
 * ```ts
 * import { restartScript } from "./restart_step.ts";
 * restartScript({ dir: "/opt/app", stop: "./stop.sh", start: "./start.sh" });
 * // "cd -- '/opt/app/current' || exit 1\nsh -c './stop.sh' || exit $?\nsh -c './start.sh'"
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import { z } from "../source/zod.ts";
import { nodeApp } from "../targets/inventory.ts";
import type { OutputListener, Target } from "../targets/target.ts";
import { shellQuote } from "../shell/quote.ts";
import type { StepOutcome } from "./outcome.ts";
import { type BatchSpec, parseBatchText } from "./batch_spec.ts";

/** How many times, and how often, a restarted node's health is asked before giving up. */
export const RESTART_HEALTH = { tries: 120, intervalMs: 250, timeoutMs: 5000 } as const;

/** What the restart needs from the run (a subset of the operations' context). */
export interface RestartContext {
  config: Config;
  signal?: AbortSignal;
  /** What stops a node's restart once begun (see `OperationContext.cleanup`). */
  cleanup?: AbortSignal;
  onOutput?: OutputListener;
}

/**
 * The script that restarts the app in its active release: stop, then start.
 *
 * @example
 * ```ts
 * import { restartScript } from "./restart_step.ts";
 * restartScript({ dir: "/srv/shop", stop: "true", start: "./run.sh" }).startsWith("cd -- "); // true
 * ```
 */
export function restartScript(app: { dir: string; stop?: string; start?: string }): string {
  return [
    `cd -- ${shellQuote(`${app.dir.replace(/\/+$/, "")}/current`)} || exit 1`,
    `sh -c ${shellQuote(app.stop ?? "true")} || exit $?`,
    `sh -c ${shellQuote(app.start ?? "true")}`,
  ].join("\n");
}

/** The batches of a `restart:` operand: `rolling` alone is one node at a time. */
export function restartBatches(operand: string): BatchSpec | undefined {
  const match = /^rolling(?:\s+(.+))?$/s.exec(operand.trim());
  if (!match) return undefined;
  return match[1] === undefined ? [{ count: 1 }] : parseBatchText(match[1]);
}

const EXPECTED = "expected `restart: rolling`, optionally with a batch size: `rolling 2`, " +
  "`rolling 25%` or `rolling [1, 10%, 50%]`";

/**
 * The `restart` operation: `problem` for `validate`, `runner` for a run.
 *
 * @example
 * ```ts
 * import { restartOperation } from "./restart_step.ts";
 * restartOperation.problem("rolling"); // undefined
 * restartOperation.problem("rolling 25%"); // undefined
 * ```
 */
export const restartOperation = {
  operand: z.string().regex(/^rolling(\s.*)?$/s, { error: EXPECTED }).refine(
    (operand) => restartBatches(operand) !== undefined,
    { error: EXPECTED },
  ).describe(
    "Restart the app on each node of the step's `on:`, one node at a time (`rolling`) or a " +
      "batch at a time (`rolling 2`, `rolling 25%`, `rolling [1, 10%, 50%]`): stop, start, and " +
      "wait for its health check (app.health) to pass before the next batch stops. A node " +
      "that does not come back stops the step, so the rest of the fleet keeps serving.",
  ),
  problem(operand: string): string | undefined {
    return restartBatches(operand) ? undefined : `${EXPECTED}, got "${operand}"`;
  },
  runner(context: RestartContext) {
    return (_operand: string, target: Target) => restartNode(context, target);
  },
};

/**
 * Restarts the app on `target` and waits until its health check passes. An interruption starts
 * no restart; one begun (the app stopped, or stopping) runs to its start and its health check,
 * which only a second interruption stops: an interrupt must not leave the node's app down.
 */
async function restartNode(context: RestartContext, target: Target): Promise<StepOutcome> {
  if (context.signal?.aborted) {
    return { attempts: 0, stdout: "", stderr: "", status: "aborted", error: "interrupted" };
  }
  const begun = context.cleanup ?? context.signal;
  const node = context.config.nodes[target.name];
  const app = nodeApp(context.config, { name: target.name, groups: [], ssh: node });
  const result = await target.exec({
    script: restartScript(app),
    timeoutMs: 180_000,
    signal: begun,
    onOutput: context.onOutput,
  });
  const base = { attempts: 1, exitCode: result.code, stdout: result.stdout, stderr: result.stderr };
  if (result.aborted) return { ...base, status: "aborted", error: "interrupted" };
  if (result.lost) return { ...base, status: "failure", error: result.lost, lost: result.lost };
  if (result.code !== 0) {
    return {
      ...base,
      status: result.timedOut ? "timed_out" : "failure",
      error: `${target.name}: restart exited with code ${result.code}`,
    };
  }
  if (!app.health) return { ...base, status: "success" };
  const health = await waitHealthy(app.health, begun);
  context.onOutput?.(
    `${target.name}: ${app.health} → ${health.answer} after ${health.tries} tr${
      health.tries === 1 ? "y" : "ies"
    }`,
    health.ok ? "stdout" : "stderr",
  );
  if (health.ok) return { ...base, status: "success" };
  if (begun?.aborted) return { ...base, status: "aborted", error: "interrupted" };
  return {
    ...base,
    status: "failure",
    error: `${target.name} did not pass its health check after the restart (${health.answer}): ` +
      "the next nodes were not restarted",
  };
}

/** Polls `url` until it answers 200, the tries run out, or the run is interrupted. */
async function waitHealthy(
  url: string,
  signal?: AbortSignal,
): Promise<{ ok: boolean; tries: number; answer: string }> {
  let answer = "no answer";
  for (let tries = 1; tries <= RESTART_HEALTH.tries; tries++) {
    if (signal?.aborted) return { ok: false, tries, answer: "interrupted" };
    try {
      const signals = [AbortSignal.timeout(RESTART_HEALTH.timeoutMs)];
      if (signal) signals.push(signal);
      const response = await fetch(url, { signal: AbortSignal.any(signals) });
      await response.body?.cancel();
      answer = `HTTP ${response.status}`;
      if (response.status === 200) return { ok: true, tries, answer };
    } catch (error) {
      answer = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, RESTART_HEALTH.intervalMs));
  }
  return { ok: false, tries: RESTART_HEALTH.tries, answer };
}
