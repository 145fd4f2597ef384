/**
 * Executing one resolved step: a shell script on a target, an HTTP check, or a human gate.
 * Retries and timeouts live here; the order of steps and the failure path live in `run.ts`.
 *
 * @example
 * ```ts
 * import { executeStep } from "./execute.ts";
 * import { LocalTarget } from "../targets/local.ts";
 * // const outcome = await executeStep(resolved, { target: new LocalTarget() });
 * ```
 * @module
 */
import type { OutputListener, Target } from "../targets/target.ts";
import type { ResolvedStep } from "./resolve.ts";
import type { StepStatus } from "../state/runs.ts";
import type { OperationRunners } from "./operation.ts";
import type { GateTiming, StepOutcome } from "./outcome.ts";
import { healthVersion, versionProblem } from "../release/health.ts";
export type { StepOutcome } from "./outcome.ts";

/** A gate's answer: a person at a terminal, `--yes`, or no. */
export type Answer = "confirmed" | "acknowledged" | "declined";

/** What a confirmer is told about the gate it asks. */
export interface Gate {
  /** When the step before the gate ended: its `min_wait` counts from here. */
  since: Date;
  /** The gate's `min_wait` in milliseconds, and as written (`15m`); none without one. */
  minWaitMs?: number;
  minWait?: string;
  /** The run's stop signal: a wait ends at once when it aborts. */
  signal?: AbortSignal;
  /** The node the gate is asked for. */
  target: string;
}

/**
 * Asks a human to confirm; resolves to their answer. A terminal confirmer waits out the gate's
 * `min_wait` before it asks; the run refuses a confirmation that comes sooner.
 */
export type Confirmer = (question: string, gate?: Gate) => Promise<Answer>;

/** What executing a step needs from the run. */
export interface ExecuteOptions {
  target: Target;
  signal?: AbortSignal;
  confirm?: Confirmer;
  onOutput?: OutputListener;
  /** Runs operation steps (`policy:`, `secrets:`, ...; see `operations.ts`). */
  operations?: OperationRunners;
  /** When the step before this one ended (a gate's `min_wait` counts from here). */
  since?: Date;
}

/** Runs a step to its end, with its retries. Never throws for a failing step. */
export async function executeStep(
  step: ResolvedStep,
  options: ExecuteOptions,
): Promise<StepOutcome> {
  switch (step.kind) {
    case "run":
      return await withRetries(step, options.signal, () => runScript(step, options));
    case "http":
      return await checkHttp(step, options);
    case "confirm":
      return await askHuman(step.confirm!, options.confirm, {
        since: options.since ?? new Date(),
        minWaitMs: step.minWaitMs,
        minWait: step.minWait,
        signal: options.signal,
        target: options.target.name,
      });
    default: {
      // load.ts refuses reserved kinds before a run starts; reaching here is a bug.
      const operation = options.operations?.[step.kind];
      if (!operation) throw new Error(`step kind "${step.kind}" cannot run in this version`);
      return await operation(step.operand!, options.target);
    }
  }
}

/**
 * Asks a human, or reports that nobody can answer. A gate with `min_wait` keeps how long it
 * waited; a confirmation that came before its `min_wait` had passed fails the gate (only an
 * acknowledgement, `--yes`, may come early, and it is marked `early`); an answer that arrives
 * after the run was interrupted is `aborted`.
 *
 * @example
 * ```ts
 * import { askHuman } from "./execute.ts";
 * const since = new Date(Date.now() - 1000);
 * const outcome = await askHuman("Monitored?", () => Promise.resolve("acknowledged"),
 *   { since, minWaitMs: 60_000, minWait: "1m", target: "local" });
 * outcome.gate?.early; // true
 * ```
 */
export async function askHuman(
  question: string,
  confirm?: Confirmer,
  gate?: Gate,
): Promise<StepOutcome> {
  if (!confirm) {
    return {
      status: "failure",
      attempts: 1,
      stdout: "",
      stderr: "",
      error: `needs a human to confirm "${question}": run in a terminal or pass --yes`,
    };
  }
  const answer = await confirm(question, gate);
  const base = { attempts: 1, stdout: "", stderr: "" };
  const minWaitMs = gate?.minWaitMs;
  const waitedMs = gate && Date.now() - gate.since.getTime();
  const timing: GateTiming | undefined = minWaitMs === undefined || waitedMs === undefined
    ? undefined
    : {
      min_wait_ms: minWaitMs,
      waited_ms: waitedMs,
      early: answer === "acknowledged" && waitedMs < minWaitMs ? true : undefined,
    };
  if (gate?.signal?.aborted) {
    return { ...base, status: "aborted", error: `interrupted at: ${question}`, gate: timing };
  }
  if (answer === "confirmed" && timing && timing.waited_ms < timing.min_wait_ms) {
    return {
      ...base,
      status: "failure",
      error: `confirmed ${seconds(timing.waited_ms)} after the step before it, before its ` +
        `min_wait of ${gate!.minWait} had passed: ${question}`,
      gate: timing,
    };
  }
  return {
    ...base,
    status: answer,
    error: answer === "declined" ? `not confirmed: ${question}` : undefined,
    gate: timing,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

async function runScript(step: ResolvedStep, options: ExecuteOptions): Promise<StepOutcome> {
  try {
    const result = await options.target.exec({
      script: step.script!,
      env: step.env,
      cwd: step.cwd,
      timeoutMs: step.timeoutMs,
      signal: options.signal,
      onOutput: options.onOutput,
    });
    if (result.lost && !result.aborted) {
      const { lost } = result;
      return {
        status: "failure",
        attempts: 1,
        ...result,
        exitCode: result.code,
        error: lost,
        lost,
      };
    }
    const status: StepStatus = result.aborted
      ? "aborted"
      : result.timedOut
      ? "timed_out"
      : result.code === 0
      ? "success"
      : "failure";
    const error = status === "timed_out"
      ? `timed out after ${step.timeoutMs} ms`
      : status === "failure"
      ? `exited with code ${result.code}${lastLine(result.stderr || result.stdout)}`
      : undefined;
    return { status, attempts: 1, exitCode: result.code, ...result, error };
  } catch (error) {
    const message = error instanceof Deno.errors.NotFound && step.cwd
      ? `directory ${step.cwd} does not exist`
      : (error as Error).message;
    return { status: "failure", attempts: 1, stdout: "", stderr: "", error: message };
  }
}

async function checkHttp(step: ResolvedStep, options: ExecuteOptions): Promise<StepOutcome> {
  const http = step.http!;
  let lines: string[] = [];
  let attempts = 0;
  let error = "";
  for (; attempts <= http.retries; attempts++) {
    if (attempts > 0 && !await sleep(http.intervalMs, options.signal)) break;
    if (options.signal?.aborted) break;
    const started = performance.now();
    try {
      const signals = [AbortSignal.timeout(http.timeoutMs)];
      if (options.signal) signals.push(options.signal);
      const response = await fetch(http.url, { signal: AbortSignal.any(signals) });
      const body = await response.text();
      const ms = Math.round(performance.now() - started);
      // With `version:`, the release that answered shows too: a wrong one is seen at once.
      const named = http.version ? healthVersion(body) : undefined;
      const line = `GET ${http.url} → ${response.status}${named ? ` ${named}` : ""} (${ms} ms)`;
      // Show the first answer, every change, and every tenth try: progress without a flood.
      if (line.split(" (")[0] !== lines.at(-1)?.split(" (")[0] || attempts % 10 === 0) {
        options.onOutput?.(attempts ? `${line}, try ${attempts + 1}` : line, "stdout");
      }
      lines.push(line);
      const mismatch = versionProblem(named, http.version);
      if (response.status !== http.status) {
        error = `expected HTTP ${http.status}, got ${response.status}${lastLine(body)}`;
      } else if (http.contains !== undefined && !body.includes(http.contains)) {
        error = `response does not contain "${http.contains}"`;
      } else if (mismatch) {
        // 200 from the release before: the old app still holds the port, or the new one is
        // not up yet. Retried like any other wrong answer; in the end, a failure.
        error = mismatch;
      } else {
        return { status: "success", attempts: attempts + 1, stdout: lines.join("\n"), stderr: "" };
      }
    } catch (cause) {
      error = `GET ${http.url} failed: ${(cause as Error).message}`;
      options.onOutput?.(error, "stderr");
    }
    lines = lines.slice(-20);
  }
  const aborted = options.signal?.aborted ?? false;
  return {
    status: aborted ? "aborted" : "failure",
    attempts,
    stdout: lines.join("\n"),
    stderr: "",
    error: aborted ? "interrupted" : `${error} after ${attempts} attempt(s)`,
  };
}

async function withRetries(
  step: ResolvedStep,
  signal: AbortSignal | undefined,
  attempt: () => Promise<StepOutcome>,
): Promise<StepOutcome> {
  let outcome = await attempt();
  let attempts = 1;
  while (outcome.status === "failure" && !outcome.lost && attempts <= step.retries) {
    if (!await sleep(step.retryDelayMs, signal)) break;
    outcome = await attempt();
    attempts++;
  }
  return { ...outcome, attempts };
}

/** Waits, unless interrupted; resolves false when interrupted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function lastLine(text: string): string {
  const line = text.trim().split("\n").at(-1)?.trim();
  return line ? `: ${line.slice(0, 200)}` : "";
}
