/**
 * The state machine of one runbook on one node: prerequisites (all of them, before anything
 * changes), the human items before, the steps, the success criteria, the human items after —
 * and on a failure the failure path, but only once a step that changes the node has started:
 * a run that fails or is declined before that ends saying nothing was changed. An interrupted
 * run (a signal, a lost connection) stops at once; a node it had changed without passing its
 * success criteria goes back through its failure path unless told not to.
 *
 * What a run is given is `run_options.ts`; carrying out one step or gate and recording it is
 * `step_runner.ts`; the template context lives in `context.ts`, the record entries in
 * `record.ts`.
 *
 * @example
 * ```ts
 * import { runRunbook } from "./run.ts";
 * import { exitCodeOf } from "./record.ts";
 * import type { LoadedRunbook } from "./load.ts";
 * import type { Config } from "../config/mod.ts";
 * import { LocalTarget } from "../targets/local.ts";
 * declare const loaded: LoadedRunbook, config: Config;
 * const record = await runRunbook(loaded, {
 *   root: ".", params: {}, config, stateDir: "/tmp/state", target: new LocalTarget(),
 * });
 * Deno.exitCode = exitCodeOf(record);
 * ```
 * @module
 */
import type { Journal } from "../journal.ts";
import { type LoadedRunbook, loadRunbook } from "./load.ts";
import { bindParameters } from "./params.ts";
import { flatten, type Plan, type RunContext } from "./plan.ts";
import { newRunId, type RunRecord, saveRunRecord } from "../state/runs.ts";
import { SecretMasker } from "../secrets/masking.ts";
import { renderValues } from "../template.ts";
import { maskedJournal, runContext } from "./context.ts";
import { isFailure, newRunRecord, runSubject, unmetReason } from "./record.ts";
import { describeInterruption, interruptionOf } from "./interrupt.ts";
import { runbookEntry, runEntry } from "../audit/actions.ts";
import { StepRunner } from "./step_runner.ts";
import type { RunOptions } from "./run_options.ts";

export type { RunObserver, RunOptions } from "./run_options.ts";

/**
 * Runs a loaded runbook to its end and returns its record. Never throws for a failing step.
 *
 * @example
 * ```ts
 * import { runRunbook } from "./run.ts";
 * import type { RunOptions } from "./run.ts";
 * import type { LoadedRunbook } from "./load.ts";
 * declare const loaded: LoadedRunbook, options: RunOptions;
 * const record = await runRunbook(loaded, options);
 * console.log(record.status);
 * ```
 */
export async function runRunbook(loaded: LoadedRunbook, options: RunOptions): Promise<RunRecord> {
  return await new Run(loaded, options).execute(true);
}

/**
 * One runbook on one node: {@link Run.execute} runs it, {@link Run.refuse} records why not,
 * {@link Run.checkPrerequisites} runs the prerequisites alone (a rollout's preflight).
 *
 * @example
 * ```ts
 * import { Run } from "./run.ts";
 * import type { RunOptions } from "./run.ts";
 * import type { LoadedRunbook } from "./load.ts";
 * declare const loaded: LoadedRunbook, options: RunOptions;
 * const run = new Run(loaded, options);
 * const unmet = await run.checkPrerequisites();
 * const record = unmet.length ? await run.refuse(unmet.join("; ")) : await run.execute(true, true);
 * ```
 */
export class Run {
  readonly context: RunContext;
  readonly record: RunRecord;
  readonly #plan: Plan;
  /** Masks secrets in everything the run prints (observer), stores (record) and audits. */
  readonly #masker: SecretMasker;
  readonly #journal?: Journal;
  readonly #steps: StepRunner;
  #started = false;
  #criteriaPassed = false;

  constructor(readonly loaded: LoadedRunbook, readonly options: RunOptions) {
    const id = options.runId ?? newRunId();
    this.#plan = flatten(loaded);
    this.context = runContext(loaded, options.params, options.config, id, options.node);
    this.record = newRunRecord(loaded, options, this.context, options.target.name);
    this.record.batch = options.batch;
    const masker = this.#masker = options.masker ?? new SecretMasker();
    const output = options.observer?.output?.bind(options.observer);
    this.#journal = options.journal && maskedJournal(options.journal, masker);
    this.#steps = new StepRunner({
      loaded,
      options,
      context: this.context,
      record: this.record,
      masker,
      journal: this.#journal,
      onOutput: output && ((line, stream) => output(masker.mask(line), stream)),
      signal: () => this.#signal,
    });
  }

  get #signal(): AbortSignal | undefined {
    return this.options.signal ?? this.options.interrupter?.signal;
  }

  /** Whether a step that changes the node has started. */
  get changed(): boolean {
    return this.#steps.changed;
  }

  /** Records a run that could not start on its node (unreachable, locked), with why. */
  async refuse(reason: string, status: RunRecord["status"] = "failure"): Promise<RunRecord> {
    await this.#start(false);
    return await this.#finish(status, reason);
  }

  /**
   * Runs the prerequisites (every one, even after one failed) and returns what is unmet;
   * `["interrupted"]` when the run was interrupted meanwhile.
   */
  async checkPrerequisites(): Promise<string[]> {
    await this.#start(false);
    this.options.observer?.phase?.("Prerequisites");
    const unmet: string[] = [];
    for (const item of this.#plan.prerequisites) {
      const step = await this.#steps.run(item);
      if (this.#signal?.aborted) return ["interrupted"];
      if (step && isFailure(step.status)) unmet.push(unmetReason(item, step));
    }
    return unmet;
  }

  /**
   * Runs the runbook to its end; never throws for a failing step. `preflighted`: the
   * prerequisites already passed (see {@link checkPrerequisites}).
   */
  async execute(followFailurePath: boolean, preflighted = false): Promise<RunRecord> {
    const { observer } = this.options;
    const { runbook } = this.loaded;
    await this.#start(!followFailurePath);
    if (!preflighted) {
      const unmet = await this.checkPrerequisites();
      if (this.#signal?.aborted) return await this.#aborted(followFailurePath);
      if (unmet.length) {
        return await this.#finish(
          "failure",
          `prerequisites not met: ${unmet.join("; ")}; ${this.#unchanged()}`,
        );
      }
    }

    let failed = await this.#steps.human("before", runbook.checklist.before);
    if (this.#signal?.aborted) return await this.#aborted(followFailurePath);
    if (!failed) {
      observer?.phase?.("Steps");
      for (const item of this.#plan.steps) {
        const step = await this.#steps.run(item);
        if (this.#signal?.aborted) return await this.#aborted(followFailurePath);
        if (step && isFailure(step.status) && !item.step.continue_on_error) {
          failed = {
            reason: `step ${step.number} "${step.name}" failed: ${step.message}`,
            declined: step.status === "declined",
          };
          break;
        }
      }
    }
    if (!failed) {
      observer?.phase?.("Success criteria");
      const missed: string[] = [];
      for (const item of this.#plan.success) {
        const step = await this.#steps.run(item);
        if (this.#signal?.aborted) return await this.#aborted(followFailurePath);
        if (step && isFailure(step.status)) missed.push(`${step.name}: ${step.message}`);
      }
      if (missed.length) {
        failed = { reason: `success criteria not met: ${missed.join("; ")}`, declined: false };
      } else this.#criteriaPassed = true;
    }
    if (!failed) failed = await this.#steps.human("after", runbook.checklist.after);
    if (this.#signal?.aborted) return await this.#aborted(followFailurePath);
    if (!failed) return await this.#finish("success");
    if (!this.changed) {
      return await this.#finish(
        failed.declined ? "declined" : "failure",
        `${failed.reason}; ${this.#unchanged()}`,
      );
    }
    let reason = failed.reason;
    if (followFailurePath && runbook.on_failure) {
      // Under the cleanup signal, as after an interruption: a first Ctrl-C while the node goes
      // back stops the rollout, not the undo under way (a second signal stops that too).
      reason += await this.#failurePath(this.options.interrupter?.cleanup ?? this.#signal);
    }
    return await this.#finish("failure", reason);
  }

  /** Ends an interrupted run: undoes an unconfirmed change if it may, and says what it did. */
  async #aborted(followFailurePath: boolean): Promise<RunRecord> {
    const interruption = interruptionOf(this.#signal)!;
    this.record.interruption = interruption;
    const name = this.record.target;
    let reason = describeInterruption(interruption);
    const failure = this.loaded.runbook.on_failure;
    if (!this.changed) reason += `; ${this.#unchanged()}`;
    else if (this.#criteriaPassed) reason += `; ${name} had passed its success criteria`;
    else if (!followFailurePath || !failure) {
      reason += `; ${name} was changed and its success criteria had not passed`;
    } else if (this.options.rollbackOnAbort === false) {
      reason += `; ${name} was changed before its success criteria passed and is left as it ` +
        `is (--no-rollback-on-abort)`;
    } else {
      let reachable = true;
      if (interruption.kind === "connection" && interruption.what === name) {
        try {
          await this.options.recover?.(this.options.target);
        } catch (error) {
          reachable = false;
          reason += `; ${name} was changed but cannot be reached to undo it: ` +
            (error as Error).message;
        }
      }
      if (reachable) {
        reason += `; ${name} had changed before its success criteria passed, so it goes back:`;
        reason += await this.#failurePath(this.options.interrupter?.cleanup);
      }
    }
    return await this.#finish("aborted", reason);
  }

  #unchanged(): string {
    return `nothing was changed on ${this.record.target}, so nothing is undone`;
  }

  async #start(failurePath: boolean): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.options.observer?.runStarted?.(this.record, failurePath);
    await this.#save();
    await this.#journal?.record(
      runEntry(runSubject(this.record), {
        status: "initiated",
        params: JSON.stringify(this.options.params),
      }),
    );
  }

  /** Runs the failure path under `signal`; returns what to add to the run's reason. */
  async #failurePath(signal: AbortSignal | undefined): Promise<string> {
    const failure = this.loaded.runbook.on_failure!;
    try {
      this.options.observer?.phase?.(`Failure path: runbook ${failure.runbook}`);
      const named = renderValues(failure.with, this.#steps.lookup(), () => "");
      const loaded = await loadRunbook(this.options.root, failure.runbook);
      const params = bindParameters(loaded.runbook.parameters, [], named);
      const child = new Run(loaded, {
        ...this.options,
        signal: signal ?? new AbortController().signal,
        masker: this.#masker,
        params,
        runId: `${this.record.id}.${failure.runbook}`,
      });
      // The record carries the failure path's outcome; the reason stays this run's own.
      this.record.failure_path = await child.execute(false);
      return "";
    } catch (error) {
      return `; failure path ${failure.runbook} could not start: ${(error as Error).message}`;
    }
  }

  async #finish(status: RunRecord["status"], reason?: string): Promise<RunRecord> {
    const { runbook } = this.loaded;
    this.record.status = status;
    this.record.reason = reason && this.#masker.mask(reason);
    this.record.finished = new Date().toISOString();
    this.record.duration_ms = Date.parse(this.record.finished) - Date.parse(this.record.started);
    await this.#save();
    const journal = this.#journal;
    await journal?.record(runEntry(runSubject(this.record), {
      status,
      reason: this.record.reason,
      interrupted_by: this.record.interruption &&
        describeInterruption(this.record.interruption),
    }));
    // The runbook's own entry (deploy from → to) only when the run got as far as a change:
    // a run refused before it changed anything deployed nothing from anywhere to anywhere.
    if (runbook.audit && (this.changed || status === "success")) {
      const fields = renderValues(runbook.audit.fields, this.#steps.lookup(), () => "");
      await journal?.record(
        runbookEntry(runbook.audit.action, fields, {
          target: this.record.target,
          run: this.record.id,
        }, status),
      );
    }
    this.options.observer?.runFinished?.(this.record);
    return this.record;
  }

  async #save(): Promise<void> {
    await saveRunRecord(this.options.stateDir, this.record);
  }
}
