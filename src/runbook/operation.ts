/**
 * What an operation step kind is: how `validate` checks its operand, how `plan` describes it,
 * and how a run builds the runner that executes it on a step's target — plus what the kinds
 * share (the audited envelope, splitting an operand into words). The kinds themselves are
 * registered in `operations.ts`; each kind's file imports only this one.
 *
 * @example
 * ```ts
 * import { operandWords } from "./operation.ts";
 * operandWords("build ${{ params.version }}"); // ["build", ["${{params.version}}"]]
 * ```
 * @module
 */
import type { Journal, JournalFields } from "../journal.ts";
import type { z } from "../source/zod.ts";
import type { Config } from "../config/mod.ts";
import type { SecretMasker } from "../secrets/masking.ts";
import type { OutputListener, Target } from "../targets/target.ts";
import type { StepOutcome } from "./outcome.ts";
import { TEMPLATE_PATTERN } from "../template.ts";
import { type Ending, type Entry, failed, succeeded } from "../audit/actions.ts";

/** Executes one operation step on a target: the operand is the step's rendered value. */
export type OperationRunner = (operand: string, target: Target) => Promise<StepOutcome>;

/** What a run gives the operations of its steps. */
export interface OperationContext {
  /** Project root: `runbooks/`, `policies/`. */
  root: string;
  stateDir: string;
  /** The configuration as the node sees it (its own app settings). */
  config: Config;
  journal?: Journal;
  /** The run's id, for audit entries. */
  run: string;
  signal?: AbortSignal;
  /**
   * What stops a change already under way on a node (a restart's stop and start): only a
   * second interruption (`Interrupter.cleanup`); unset, {@link signal}.
   */
  cleanup?: AbortSignal;
  onOutput?: OutputListener;
  /** Learns every secret value the run decrypts, so nothing prints or stores it. */
  masker?: SecretMasker;
}

/** One operation step kind. */
export interface Operation {
  /**
   * The schema of the step's operand (`shadow: build v1.2.0`), with its description for
   * editors: the runbook schema takes it from here.
   */
  operand: z.ZodType<string>;
  /**
   * Why an operand cannot run, checked by `validate` before any step runs; undefined when it
   * can. Operands with `${{ }}` are checked with the template left in place.
   */
  problem(operand: string, root: string): Promise<string | undefined> | string | undefined;
  /** Builds the runner for one run. */
  runner(context: OperationContext): OperationRunner;
}

/** The runners of one run, built once and shared by its steps and targets. */
export type OperationRunners = Partial<Record<string, OperationRunner>>;

/** What an audited operation did: one sentence, and the audit fields it adds. */
export interface OperationDone {
  summary: string;
  fields?: JournalFields;
}

/**
 * Runs an operation's work as a step: its summary (or error) is the step's output, and one
 * audit entry — built by `entry` from `audit/actions.ts`, the same builder the CLI command
 * uses — says how it ended. Never throws for a failing operation.
 *
 * @example
 * ```ts
 * import { auditedOperation } from "./operation.ts";
 * import { secretsEntry } from "../audit/actions.ts";
 * const outcome = await auditedOperation(
 *   { root: ".", stateDir: "/tmp/state", config: {} as never, run: "r1" },
 *   (ending) => secretsEntry({ operation: "setup", target: "local", run: "r1" }, ending),
 *   () => Promise.resolve({ summary: "kept the key" }),
 * );
 * outcome.status; // "success"
 * ```
 */
export async function auditedOperation(
  context: OperationContext,
  entry: (ending: Ending) => Entry,
  work: () => Promise<OperationDone>,
): Promise<StepOutcome> {
  try {
    const done = await work();
    context.onOutput?.(done.summary, "stdout");
    await context.journal?.record(entry(succeeded(done.fields)));
    return { status: "success", attempts: 1, exitCode: 0, stdout: `${done.summary}\n`, stderr: "" };
  } catch (error) {
    const message = (error as Error).message;
    context.onOutput?.(message, "stderr");
    const mask = (text: string) => context.masker?.mask(text) ?? text;
    await context.journal?.record(entry(failed(error, mask)));
    return {
      status: "failure",
      attempts: 1,
      exitCode: 1,
      stdout: "",
      stderr: `${message}\n`,
      error: message,
    };
  }
}

/** Splits an operand into its subcommand and arguments: `key --scp` → ["key", ["--scp"]]. */
export function operandWords(operand: string): [string, string[]] {
  // Before a run renders it, a template (`${{ params.env }}`) stands for one word.
  const words = operand.replace(TEMPLATE_PATTERN, (ref) => ref.replace(/\s+/g, ""));
  const [verb = "", ...args] = words.trim().split(/\s+/);
  return [verb, args];
}
