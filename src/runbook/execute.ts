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
import type { StepOutcome } from "./outcome.ts";
import { healthVersion, versionProblem } from "../release/health.ts";
export type { StepOutcome } from "./outcome.ts";

/** Asks a human to confirm; resolves to their answer. */
export type Confirmer = (question: string) => Promise<"confirmed" | "acknowledged" | "declined">;

/** What executing a step needs from the run. */
export interface ExecuteOptions {
  target: Target;
  signal?: AbortSignal;
  confirm?: Confirmer;
  onOutput?: OutputListener;
  /** Runs operation steps (`policy:`, `secrets:`, ...; see `operations.ts`). */
  operations?: OperationRunners;
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
      return await askHuman(step.confirm!, options.confirm);
    default: {
      // load.ts refuses reserved kinds before a run starts; reaching here is a bug.
      const operation = options.operations?.[step.kind];
      if (!operation) throw new Error(`step kind "${step.kind}" cannot run in this version`);
      return await operation(step.operand!, options.target);
    }
  }
}

/** Asks a human, or reports that nobody can answer. */
export async function askHuman(question: string, confirm?: Confirmer): Promise<StepOutcome> {
  if (!confirm) {
    return {
      status: "failure",
      attempts: 1,
      stdout: "",
      stderr: "",
      error: `needs a human to confirm "${question}": run in a terminal or pass --yes`,
    };
  }
  const answer = await confirm(question);
  return {
    status: answer,
    attempts: 1,
    stdout: "",
    stderr: "",
    error: answer === "declined" ? `not confirmed: ${question}` : undefined,
  };
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
