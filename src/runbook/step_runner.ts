/**
 * How one run carries out a single item of its plan: resolve its templates, test its guards,
 * send it to its node (or, for a step that says `on:`, to those nodes a batch at a time), and
 * record what happened — the record's step line, the audit entry, and the `steps.<id>` a later
 * step reads. Also asks a runbook's checklist gates. The order of the items is `run.ts`'s job.
 *
 * @example
 * ```ts
 * import { StepRunner } from "./step_runner.ts";
 * import type { PlannedStep } from "./plan.ts";
 * declare const steps: StepRunner, item: PlannedStep;
 * const record = await steps.run(item);
 * console.log(record?.status, steps.changed);
 * ```
 * @module
 */
import type { Journal } from "../journal.ts";
import type { InventoryNode } from "../targets/inventory.ts";
import { nodeApp } from "../targets/inventory.ts";
import { appendRunStep, type RunRecord, type StepRecord } from "../state/runs.ts";
import type { SecretMasker } from "../secrets/masking.ts";
import { renderTemplate, TemplateError } from "../template.ts";
import { stepEntry } from "../audit/actions.ts";
import { executeStep, type StepOutcome } from "./execute.ts";
import type { LoadedRunbook } from "./load.ts";
import { guardsHold, lookupFor, type PlannedStep, type RunContext } from "./plan.ts";
import { type ResolvedStep, resolveStep } from "./resolve.ts";
import { type OperationRunners, operationRunners } from "./operations.ts";
import { runContext } from "./context.ts";
import { isFailure, runSubject, stepRecord } from "./record.ts";
import type { ChecklistItem } from "./schema.ts";
import { type BatchSpec, inBatches } from "./batch_spec.ts";
import { restartBatches } from "./restart_step.ts";
import { checklistGate } from "./human.ts";
import type { RunObserver, RunOptions } from "./run_options.ts";

/** How a step sent to several nodes reaches them unless it says otherwise. */
const ONE_AT_A_TIME: BatchSpec = [{ count: 1 }];

/** What the steps of one run share with the run that orders them. */
export interface StepScope {
  readonly loaded: LoadedRunbook;
  readonly options: RunOptions;
  readonly context: RunContext;
  readonly record: RunRecord;
  /** Masks secrets in everything the run prints, stores and audits. */
  readonly masker: SecretMasker;
  readonly journal?: Journal;
  readonly onOutput?: RunObserver["output"];
  /** The run's stop signal, read when each step starts. */
  signal(): AbortSignal | undefined;
}

/** Why a run cannot go on after its steps or gates: the reason and whether a human said no. */
export interface Stop {
  reason: string;
  declined: boolean;
}

/**
 * Carries out the items of one run's plan and records each.
 *
 * @example
 * ```ts
 * import { StepRunner } from "./step_runner.ts";
 * import type { StepScope } from "./step_runner.ts";
 * declare const scope: StepScope;
 * const steps = new StepRunner(scope);
 * const stop = await steps.human("before", scope.loaded.runbook.checklist.before);
 * if (stop) console.log(stop.reason);
 * ```
 */
export class StepRunner {
  #operations?: OperationRunners;
  /** A step that changes the node has started: from here on, a failure is undone. */
  #changed = false;
  /** When the last step ended: a gate's `min_wait` counts from here. */
  #lastEnded = new Date();

  constructor(readonly scope: StepScope) {}

  /** Whether a step that changes the node has started. */
  get changed(): boolean {
    return this.#changed;
  }

  /** Runs one planned step; undefined for `uses` headers, which only group. */
  async run(item: PlannedStep): Promise<StepRecord | undefined> {
    const { context, options, record } = this.scope;
    const started = new Date();
    let resolved: ResolvedStep;
    try {
      resolved = resolveStep(item, context);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      const partial = { number: item.number, name: item.step.name, kind: item.kind };
      options.observer?.stepStarted?.(partial as ResolvedStep);
      return await this.#finish(
        partial as ResolvedStep,
        item.phase,
        started,
        { status: "failure", attempts: 0, stdout: "", stderr: "", error: error.message },
      );
    }
    if (!guardsHold(item, context)) {
      return await this.#finish(resolved, item.phase, started, {
        status: "skipped",
        attempts: 0,
        stdout: "",
        stderr: "",
      }, item);
    }
    options.observer?.stepStarted?.(resolved);
    if (item.kind === "uses") return undefined;
    if (item.changes) this.#changed = record.changed = true;
    const elsewhere = item.on && options.targetsFor?.(item.on);
    // A step sent to several nodes reaches them a batch at a time (one node, unless a
    // `restart: rolling 25%` says otherwise) and stops after the first batch where one fails:
    // what makes `restart: rolling` rolling.
    const batches = item.kind === "restart" && resolved.operand !== undefined
      ? restartBatches(resolved.operand) ?? ONE_AT_A_TIME
      : ONE_AT_A_TIME;
    const outcomes = await inBatches(
      elsewhere || [{ node: options.node, target: options.target }],
      batches,
      async ({ node, target }) => {
        // A step sent to other nodes reads their settings (`app.dir`, `target.name`), not ours.
        const step = elsewhere ? resolveStep(item, this.#contextOn(node!)) : resolved;
        const outcome = await executeStep(step, {
          target,
          signal: this.scope.signal(),
          confirm: options.confirm,
          onOutput: this.scope.onOutput,
          operations: this.#operationRunners(),
          since: this.#lastEnded,
        });
        if (outcome.lost) {
          options.interrupter?.interrupt({
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
    return await this.#finish(resolved, item.phase, started, outcome, item);
  }

  /** Asks for the human checklist items; returns why the run cannot go on, if it cannot. */
  async human(
    phase: "before" | "after",
    items: readonly ChecklistItem[],
  ): Promise<Stop | undefined> {
    if (items.length === 0) return undefined;
    const { options } = this.scope;
    options.observer?.phase?.(phase === "before" ? "Before" : "After");
    const lookup = this.lookup();
    for (const [i, item] of items.entries()) {
      const gate = checklistGate(
        phase,
        i,
        item,
        (text) => renderTemplate(text, lookup, "text", (ref) => `<${ref}>`),
      );
      options.observer?.stepStarted?.(gate);
      const started = new Date();
      const outcome = await executeStep({ ...gate, kind: "confirm" }, {
        target: options.target,
        confirm: options.confirm,
        signal: this.scope.signal(),
        since: this.#lastEnded,
      });
      const record = await this.#finish(gate, phase, started, outcome);
      if (isFailure(record.status)) {
        return {
          reason: `${gate.name}: ${record.message}`,
          declined: record.status === "declined",
        };
      }
    }
    return undefined;
  }

  /** Resolves templates written at the top level of the runbook (not inside a task). */
  lookup(): ReturnType<typeof lookupFor> {
    return lookupFor(this.scope.context, { file: this.scope.loaded.file, prefix: "" });
  }

  /** Built on first use; operations find a node's own settings by its target's name. */
  #operationRunners(): OperationRunners {
    const { options, journal, masker, record } = this.scope;
    return this.#operations ??= operationRunners({
      root: options.root,
      stateDir: options.stateDir,
      config: { ...options.config, app: nodeApp(options.config, options.node) },
      journal,
      masker,
      run: record.id,
      signal: this.scope.signal(),
      cleanup: options.interrupter?.cleanup,
      onOutput: this.scope.onOutput,
    });
  }

  async #finish(
    step: ResolvedStep,
    phase: StepRecord["phase"],
    started: Date,
    raw: StepOutcome,
    item?: PlannedStep,
  ): Promise<StepRecord> {
    const { context, options, record: run } = this.scope;
    const record = stepRecord(step, phase, started, raw, (text) => this.scope.masker.mask(text));
    this.#lastEnded = new Date();
    if (item?.id) {
      // Later steps get the real output: a secret passed on must still work, only never show.
      context.steps.set(item.id, {
        output: raw.stdout.trim(),
        exit_code: raw.exitCode ?? (raw.status === "success" ? 0 : 1),
        status: raw.status,
      });
    }
    if (item?.changes && raw.status === "success") {
      (run.changes_made ??= []).push(`${record.number} ${record.name}`);
    }
    run.steps.push(record);
    // One appended line per step, not the whole record again (see state/runs.ts); the signed
    // entry is durable (group commit, audit/append.ts) before anyone hears the step is done, so
    // a crash after "✔" never loses the step's entry.
    appendRunStep(options.stateDir, run, record);
    if (raw.status !== "skipped") {
      await this.scope.journal?.record(stepEntry(runSubject(run), {
        step: record.number,
        name: record.name,
        kind: record.kind,
        exit_code: record.exit_code,
        min_wait_ms: record.min_wait_ms,
        waited_ms: record.waited_ms,
        early: record.early,
      }, record.status));
    }
    options.observer?.stepFinished?.(record, { ...raw, error: record.message });
    return record;
  }

  /** This run's context as another node sees it: its vars, app settings and target facts. */
  #contextOn(node: InventoryNode): RunContext {
    const { loaded, options, context, record } = this.scope;
    const { vars, app, target } = runContext(
      loaded,
      options.params,
      options.config,
      record.id,
      node,
    );
    return { ...context, vars, app, target };
  }
}
