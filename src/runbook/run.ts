/**
 * The state machine of one runbook on one node: prerequisites (all of them, before anything
 * changes), the human items before, the steps, the success criteria, the human items after —
 * and on a failure the failure path, but only once a step that changes the node has started:
 * a run that fails or is declined before that ends saying nothing was changed. An interrupted
 * run (a signal, a lost connection) stops at once; a node it had changed without passing its
 * success criteria goes back through its failure path unless told not to.
 *
 * The template context lives in `context.ts`, the record entries in `record.ts`.
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
import type { Config } from "../config/mod.ts";
import type { Journal } from "../journal.ts";
import type { Target } from "../targets/target.ts";
import { type InventoryNode, nodeApp } from "../targets/inventory.ts";
import { type Confirmer, executeStep, type StepOutcome } from "./execute.ts";
import { type LoadedRunbook, loadRunbook } from "./load.ts";
import { bindParameters } from "./params.ts";
import { flatten, guardsHold, lookupFor, type Plan, type PlannedStep } from "./plan.ts";
import type { RunContext } from "./plan.ts";
import {
  appendRunStep,
  newRunId,
  type RunRecord,
  saveRunRecord,
  type StepRecord,
} from "../state/runs.ts";
import { type ResolvedStep, resolveStep } from "./resolve.ts";
import { type OperationRunners, operationRunners } from "./operations.ts";
import { SecretMasker } from "../secrets/masking.ts";
import { renderTemplate, renderValues, TemplateError, type TemplateValue } from "../template.ts";
import { maskedJournal, runContext } from "./context.ts";
import { isFailure, newRunRecord, stepRecord, unmetReason } from "./record.ts";
import { describeInterruption, type Interrupter, interruptionOf } from "./interrupt.ts";
import { runbookEntry, runEntry, type RunSubject, stepEntry } from "../audit/actions.ts";
import { type ChecklistItem, durationMs, durationText } from "./schema.ts";
import { type BatchSpec, inBatches } from "./batch_spec.ts";
import { restartBatches } from "./restart_step.ts";

/** How a step sent to several nodes reaches them unless it says otherwise. */
const ONE_AT_A_TIME: BatchSpec = [{ count: 1 }];

/** Hears about a run as it happens (progress output, JSON reports). */
export interface RunObserver {
  runStarted?(record: RunRecord, failurePath: boolean): void;
  phase?(title: string): void;
  stepStarted?(step: ResolvedStep): void;
  output?(line: string, stream: "stdout" | "stderr"): void;
  stepFinished?(step: StepRecord, outcome: StepOutcome): void;
  runFinished?(record: RunRecord): void;
}

/** What a run needs. */
export interface RunOptions {
  /** Project root: where `runbooks/` and `tasks/` are. */
  root: string;
  params: Record<string, TemplateValue>;
  config: Config;
  stateDir: string;
  /** Where the steps run. */
  target: Target;
  /** The node `target` reaches (default: local); its vars and app settings apply. */
  node?: InventoryNode;
  /** Targets of steps that say `on:` themselves; by default they run on `target`. */
  targetsFor?: (selector: string) => { node: InventoryNode; target: Target }[];
  /** The rollout batch this node is in, for the record. */
  batch?: number;
  confirm?: Confirmer;
  /** Stops the run (default: the interrupter's signal). */
  signal?: AbortSignal;
  /**
   * Signals, lost connections and the cleanup after them (see `interrupt.ts`). Without one, a
   * lost connection fails the step like any other failure.
   */
  interrupter?: Interrupter;
  /** `false` (`--no-rollback-on-abort`): an interrupted node keeps what it had changed. */
  rollbackOnAbort?: boolean;
  /** Reconnects to a target whose connection was lost, before its failure path runs. */
  recover?: (target: Target) => Promise<void>;
  observer?: RunObserver;
  journal?: Journal;
  runId?: string;
  /**
   * Knows every secret value decrypted so far; shared by a rollout's node runs and failure
   * paths so a value one of them decrypted is masked in all of them.
   */
  masker?: SecretMasker;
}

/**
 * The items a human must confirm in this runbook, in the order they are asked.
 *
 * @example
 * ```ts
 * import { humanItems } from "./run.ts";
 * import type { LoadedRunbook } from "./load.ts";
 * declare const loaded: LoadedRunbook;
 * console.log(humanItems(loaded).length);
 * ```
 */
export function humanItems(loaded: LoadedRunbook): string[] {
  const plan = flatten(loaded);
  return [
    ...loaded.runbook.checklist.before.map((gate) => gate.item),
    ...plan.steps.filter((item) => item.kind === "confirm").map((item) => item.step.confirm!),
    ...loaded.runbook.checklist.after.map((gate) => gate.item),
  ];
}

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
  readonly #onOutput: RunObserver["output"];
  readonly #plan: Plan;
  #operations?: OperationRunners;
  /** Masks secrets in everything the run prints (observer), stores (record) and audits. */
  readonly #masker: SecretMasker;
  readonly #journal?: Journal;
  #started = false;
  /** A step that changes the node has started: from here on, a failure is undone. */
  #changed = false;
  #criteriaPassed = false;
  /** When the last step ended: a gate's `min_wait` counts from here. */
  #lastEnded = new Date();

  constructor(readonly loaded: LoadedRunbook, readonly options: RunOptions) {
    const id = options.runId ?? newRunId();
    this.#plan = flatten(loaded);
    this.context = runContext(loaded, options.params, options.config, id, options.node);
    this.record = newRunRecord(loaded, options, this.context, options.target.name);
    this.record.batch = options.batch;
    const masker = this.#masker = options.masker ?? new SecretMasker();
    const output = options.observer?.output?.bind(options.observer);
    this.#onOutput = output && ((line, stream) => output(masker.mask(line), stream));
    this.#journal = options.journal && maskedJournal(options.journal, masker);
  }

  get #signal(): AbortSignal | undefined {
    return this.options.signal ?? this.options.interrupter?.signal;
  }

  /** Whether a step that changes the node has started. */
  get changed(): boolean {
    return this.#changed;
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
      const step = await this.#runStep(item);
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

    let failed = await this.#human("before", runbook.checklist.before);
    if (this.#signal?.aborted) return await this.#aborted(followFailurePath);
    if (!failed) {
      observer?.phase?.("Steps");
      for (const item of this.#plan.steps) {
        const step = await this.#runStep(item);
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
        const step = await this.#runStep(item);
        if (this.#signal?.aborted) return await this.#aborted(followFailurePath);
        if (step && isFailure(step.status)) missed.push(`${step.name}: ${step.message}`);
      }
      if (missed.length) {
        failed = { reason: `success criteria not met: ${missed.join("; ")}`, declined: false };
      } else this.#criteriaPassed = true;
    }
    if (!failed) failed = await this.#human("after", runbook.checklist.after);
    if (this.#signal?.aborted) return await this.#aborted(followFailurePath);
    if (!failed) return await this.#finish("success");
    if (!this.#changed) {
      return await this.#finish(
        failed.declined ? "declined" : "failure",
        `${failed.reason}; ${this.#unchanged()}`,
      );
    }
    let reason = failed.reason;
    if (followFailurePath && runbook.on_failure) {
      reason += await this.#failurePath(this.#signal);
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
    if (!this.#changed) reason += `; ${this.#unchanged()}`;
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
      runEntry(this.#subject(), {
        status: "initiated",
        params: JSON.stringify(this.options.params),
      }),
    );
  }

  /** Runs one planned step; undefined for `uses` headers, which only group. */
  async #runStep(item: PlannedStep): Promise<StepRecord | undefined> {
    const started = new Date();
    let resolved: ResolvedStep;
    try {
      resolved = resolveStep(item, this.context);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      const partial = { number: item.number, name: item.step.name, kind: item.kind };
      this.options.observer?.stepStarted?.(partial as ResolvedStep);
      return await this.#finishStep(
        partial as ResolvedStep,
        item.phase,
        started,
        { status: "failure", attempts: 0, stdout: "", stderr: "", error: error.message },
      );
    }
    if (!guardsHold(item, this.context)) {
      return await this.#finishStep(resolved, item.phase, started, {
        status: "skipped",
        attempts: 0,
        stdout: "",
        stderr: "",
      }, item);
    }
    this.options.observer?.stepStarted?.(resolved);
    if (item.kind === "uses") return undefined;
    if (item.changes) this.#changed = this.record.changed = true;
    const elsewhere = item.on && this.options.targetsFor?.(item.on);
    // A step sent to several nodes reaches them a batch at a time (one node, unless a
    // `restart: rolling 25%` says otherwise) and stops after the first batch where one fails:
    // what makes `restart: rolling` rolling.
    const batches = item.kind === "restart" && resolved.operand !== undefined
      ? restartBatches(resolved.operand) ?? ONE_AT_A_TIME
      : ONE_AT_A_TIME;
    const outcomes = await inBatches(
      elsewhere || [{ node: this.options.node, target: this.options.target }],
      batches,
      async ({ node, target }) => {
        // A step sent to other nodes reads their settings (`app.dir`, `target.name`), not ours.
        const step = elsewhere ? resolveStep(item, this.#contextOn(node!)) : resolved;
        const outcome = await executeStep(step, {
          target,
          signal: this.#signal,
          confirm: this.options.confirm,
          onOutput: this.#onOutput,
          operations: this.#operationRunners(),
          since: this.#lastEnded,
        });
        if (outcome.lost) {
          this.options.interrupter?.interrupt({
            kind: "connection",
            what: target.name,
            detail: outcome.lost,
          });
        }
        if (elsewhere && elsewhere.length > 1 && outcome.error) {
          outcome.error = `on ${target.name}: ${outcome.error}`;
        }
        return outcome;
      },
      (outcome) => outcome.status !== "success",
    );
    const outcome = outcomes.find((o) => o.status !== "success") ?? outcomes.at(-1)!;
    return await this.#finishStep(resolved, item.phase, started, outcome, item);
  }

  /** Built on first use; operations find a node's own settings by its target's name. */
  #operationRunners(): OperationRunners {
    return this.#operations ??= operationRunners({
      root: this.options.root,
      stateDir: this.options.stateDir,
      config: { ...this.options.config, app: nodeApp(this.options.config, this.options.node) },
      journal: this.#journal,
      masker: this.#masker,
      run: this.record.id,
      signal: this.#signal,
      onOutput: this.#onOutput,
    });
  }

  async #finishStep(
    step: ResolvedStep,
    phase: StepRecord["phase"],
    started: Date,
    raw: StepOutcome,
    item?: PlannedStep,
  ): Promise<StepRecord> {
    const record = stepRecord(step, phase, started, raw, (text) => this.#masker.mask(text));
    this.#lastEnded = new Date();
    if (item?.id) {
      // Later steps get the real output: a secret passed on must still work, only never show.
      this.context.steps.set(item.id, {
        output: raw.stdout.trim(),
        exit_code: raw.exitCode ?? (raw.status === "success" ? 0 : 1),
        status: raw.status,
      });
    }
    if (item?.changes && raw.status === "success") {
      (this.record.changes_made ??= []).push(`${record.number} ${record.name}`);
    }
    this.record.steps.push(record);
    this.options.observer?.stepFinished?.(record, { ...raw, error: record.message });
    // One appended line per step, not the whole record again (see state/runs.ts).
    await appendRunStep(this.options.stateDir, this.record, record);
    if (raw.status !== "skipped") {
      await this.#journal?.record(stepEntry(this.#subject(), {
        step: record.number,
        name: record.name,
        kind: record.kind,
        exit_code: record.exit_code,
        min_wait_ms: record.min_wait_ms,
        waited_ms: record.waited_ms,
        early: record.early,
      }, record.status));
    }
    return record;
  }

  /** Asks for the human checklist items; returns why the run cannot go on, if it cannot. */
  async #human(
    phase: "before" | "after",
    items: readonly ChecklistItem[],
  ): Promise<{ reason: string; declined: boolean } | undefined> {
    if (items.length === 0) return undefined;
    this.options.observer?.phase?.(phase === "before" ? "Before" : "After");
    const lookup = this.#runbookLookup();
    for (const [i, gate] of items.entries()) {
      const question = renderTemplate(gate.item, lookup, "text", (ref) => `<${ref}>`);
      const resolved = {
        number: `${phase === "before" ? "B" : "A"}${i + 1}`,
        name: question,
        kind: "checklist",
        checklist: question,
        confirm: question,
        minWait: gate.min_wait === undefined ? undefined : durationText(gate.min_wait),
        minWaitMs: gate.min_wait === undefined ? undefined : durationMs(gate.min_wait),
      } as unknown as ResolvedStep;
      this.options.observer?.stepStarted?.(resolved);
      const started = new Date();
      const outcome = await executeStep({ ...resolved, kind: "confirm" }, {
        target: this.options.target,
        confirm: this.options.confirm,
        signal: this.#signal,
        since: this.#lastEnded,
      });
      const record = await this.#finishStep(resolved, phase, started, outcome);
      if (isFailure(record.status)) {
        return { reason: `${question}: ${record.message}`, declined: record.status === "declined" };
      }
    }
    return undefined;
  }

  /** Runs the failure path under `signal`; returns what to add to the run's reason. */
  async #failurePath(signal: AbortSignal | undefined): Promise<string> {
    const failure = this.loaded.runbook.on_failure!;
    try {
      this.options.observer?.phase?.(`Failure path: runbook ${failure.runbook}`);
      const named = renderValues(failure.with, this.#runbookLookup(), () => "");
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
    await journal?.record(runEntry(this.#subject(), {
      status,
      reason: this.record.reason,
      interrupted_by: this.record.interruption &&
        describeInterruption(this.record.interruption),
    }));
    // The runbook's own entry (deploy from → to) only when the run got as far as a change:
    // a run refused before it changed anything deployed nothing from anywhere to anywhere.
    if (runbook.audit && (this.#changed || status === "success")) {
      const fields = renderValues(runbook.audit.fields, this.#runbookLookup(), () => "");
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

  /** This run's context as another node sees it: its vars, app settings and target facts. */
  #contextOn(node: InventoryNode): RunContext {
    const { vars, app, target } = runContext(
      this.loaded,
      this.options.params,
      this.options.config,
      this.record.id,
      node,
    );
    return { ...this.context, vars, app, target };
  }

  /** This run as the audit log names it. */
  #subject(): RunSubject {
    return { run: this.record.id, runbook: this.record.runbook, target: this.record.target };
  }

  /** Resolves templates written at the top level of the runbook (not inside a task). */
  #runbookLookup() {
    return lookupFor(this.context, { file: this.loaded.file, prefix: "" });
  }

  async #save(): Promise<void> {
    await saveRunRecord(this.options.stateDir, this.record);
  }
}
