/**
 * `restart: rolling`: the engine's rolling restart. A step with `on: app` and `restart: rolling`
 * reaches the nodes one at a time (the run sends a step to its nodes in order and stops at the
 * first that fails); on each node this stops the app, starts it from the active release, and
 * waits until the node's own health check (`app.health`) answers 200 before the step returns.
 * So the next node only stops once this one serves again, and the fleet is never down at once.
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
import { z } from "zod";
import { nodeApp } from "../targets/inventory.ts";
import type { OutputListener, Target } from "../targets/target.ts";
import { shellQuote } from "../shell/quote.ts";
import type { StepOutcome } from "./outcome.ts";

/** How many times, and how often, a restarted node's health is asked before giving up. */
export const RESTART_HEALTH = { tries: 120, intervalMs: 250, timeoutMs: 5000 } as const;

/** What the restart needs from the run (a subset of the operations' context). */
export interface RestartContext {
  config: Config;
  signal?: AbortSignal;
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

/**
 * The `restart` operation: `problem` for `validate`, `runner` for a run.
 *
 * @example
 * ```ts
 * import { restartOperation } from "./restart_step.ts";
 * restartOperation.problem("rolling"); // undefined
 * ```
 */
export const restartOperation = {
  operand: z.literal("rolling", { error: "expected `restart: rolling`" }).describe(
    "Restart the app on each node of the step's `on:`, one node at a time: stop, start, and " +
      "wait for its health check (app.health) to pass before the next node stops. A node " +
      "that does not come back stops the step, so the rest of the fleet keeps serving.",
  ),
  problem(operand: string): string | undefined {
    return operand === "rolling" ? undefined : `expected \`restart: rolling\`, got "${operand}"`;
  },
  runner(context: RestartContext) {
    return (_operand: string, target: Target) => restartNode(context, target);
  },
};

/** Restarts the app on `target` and waits until its health check passes. */
async function restartNode(context: RestartContext, target: Target): Promise<StepOutcome> {
  const node = context.config.nodes[target.name];
  const app = nodeApp(context.config, { name: target.name, groups: [], ssh: node });
  const result = await target.exec({
    script: restartScript(app),
    timeoutMs: 180_000,
    signal: context.signal,
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
  const health = await waitHealthy(app.health, context.signal);
  context.onOutput?.(
    `${target.name}: ${app.health} → ${health.answer} after ${health.tries} tr${
      health.tries === 1 ? "y" : "ies"
    }`,
    health.ok ? "stdout" : "stderr",
  );
  if (health.ok) return { ...base, status: "success" };
  if (context.signal?.aborted) return { ...base, status: "aborted", error: "interrupted" };
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
