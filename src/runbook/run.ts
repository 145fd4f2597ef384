/**
 * Running a runbook: prerequisites (all of them, before anything changes), the human items
 * before, the steps, the success criteria, the human items after — and on a failure the
 * failure path. Every step lands in the run record and the journal as it finishes.
 *
 * @example
 * ```ts
 * import { runRunbook } from "./run.ts";
 * // const record = await runRunbook(loaded, { root, params, config, stateDir, target });
 * // Deno.exitCode = exitCodeOf(record);
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Journal } from "../journal.ts";
import type { Target } from "../targets/target.ts";
import { type InventoryNode, LOCAL_NODE, nodeApp, sshEndpoint } from "../targets/inventory.ts";
import { hostName, operator } from "../state/mod.ts";
import { type Confirmer, executeStep, type StepOutcome } from "./execute.ts";
import { type LoadedRunbook, loadRunbook } from "./load.ts";
import { bindParameters } from "./params.ts";
import { flatten, guardsHold, lookupFor, type PlannedStep, type RunContext } from "./plan.ts";
import {
  newRunId,
  outputHash,
  type RunRecord,
  saveRunRecord,
  type StepRecord,
} from "../state/runs.ts";
import { type ResolvedStep, resolveStep } from "./resolve.ts";
import { type OperationRunners, operationRunners } from "./operations.ts";
import { SecretMasker } from "../secrets/masking.ts";
import { renderTemplate, renderValues, TemplateError, type TemplateValue } from "../template.ts";

/** A journal that masks every secret value the masker knows (now or later) in each entry. */
export function maskedJournal(journal: Journal, masker: SecretMasker): Journal {
  return { record: (fields) => journal.record(masker.maskFields(fields)) };
}

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
  signal?: AbortSignal;
  observer?: RunObserver;
  journal?: Journal;
  runId?: string;
  /**
   * Knows every secret value decrypted so far; shared by a rollout's node runs and failure
   * paths so a value one of them decrypted is masked in all of them.
   */
  masker?: SecretMasker;
}

/** Exit code for a finished run: 0 success, 1 failed, 130 interrupted. */
export function exitCodeOf(record: RunRecord): number {
  return record.status === "success" ? 0 : record.status === "aborted" ? 130 : 1;
}

/** The items a human must confirm in this runbook, in the order they are asked. */
export function humanItems(loaded: LoadedRunbook): string[] {
  const plan = flatten(loaded);
  return [
    ...loaded.runbook.checklist.before,
    ...plan.steps.filter((item) => item.kind === "confirm").map((item) => item.step.confirm!),
    ...loaded.runbook.checklist.after,
  ];
}

/** What templates read as `target.*` on `node`. */
export function targetInfo(
  node: InventoryNode,
  config: Pick<Config, "ssh"> | undefined,
): RunContext["target"] {
  if (!node.ssh) return { name: "local", host: hostName(), port: 0, user: operator(), groups: "" };
  const { host, port, user } = sshEndpoint(node.name, node.ssh, config?.ssh ?? { port: 22 });
  return { name: node.name, host, port, user: user ?? "", groups: node.groups.join(",") };
}

/** Builds the template context of a run on `node`. */
export function runContext(
  loaded: LoadedRunbook,
  params: Record<string, TemplateValue>,
  config: Config | undefined,
  runId: string,
  node: InventoryNode = LOCAL_NODE,
): RunContext {
  // A declared parameter with no value reads as "", so optional parameters can be tested.
  const unset = Object.fromEntries(Object.keys(loaded.runbook.parameters).map((k) => [k, ""]));
  return {
    params: { ...unset, ...params },
    vars: { ...loaded.runbook.vars, ...config?.vars, ...node.ssh?.vars },
    app: config ? { ...nodeApp(config, node) } as Record<string, string> : {},
    run: { id: runId, operator: operator(), host: hostName(), started: new Date().toISOString() },
    target: targetInfo(node, config),
    steps: new Map(),
  };
}

/** A fresh record of a run on `target` (a node, or for a rollout its nodes), not started yet. */
export function newRunRecord(
  loaded: LoadedRunbook,
  options: Pick<RunOptions, "params" | "config">,
  context: Pick<RunContext, "run">,
  target: string,
): RunRecord {
  return {
    id: context.run.id,
    runbook: loaded.runbook.id,
    title: loaded.runbook.title,
    file: loaded.file,
    params: options.params,
    operator: context.run.operator,
    host: context.run.host,
    target,
    config: options.config.file,
    started: context.run.started,
    status: "running",
    steps: [],
  };
}

/** Runs a loaded runbook to its end and returns its record. Never throws for a failing step. */
export async function runRunbook(loaded: LoadedRunbook, options: RunOptions): Promise<RunRecord> {
  return await new Run(loaded, options).execute(true);
}

/** One runbook on one node: {@link Run.execute} runs it, {@link Run.refuse} records why not. */
export class Run {
  readonly context: RunContext;
  readonly record: RunRecord;
  readonly #onOutput: RunObserver["output"];
  readonly #operations: OperationRunners;
  /** Masks secrets in everything the run prints (observer), stores (record) and audits. */
  readonly #masker: SecretMasker;
  readonly #journal?: Journal;

  constructor(readonly loaded: LoadedRunbook, readonly options: RunOptions) {
    const id = options.runId ?? newRunId();
    this.context = runContext(loaded, options.params, options.config, id, options.node);
    this.record = newRunRecord(loaded, options, this.context, options.target.name);
    this.record.batch = options.batch;
    const masker = this.#masker = options.masker ?? new SecretMasker();
    const output = options.observer?.output?.bind(options.observer);
    this.#onOutput = output && ((line, stream) => output(masker.mask(line), stream));
    this.#journal = options.journal && maskedJournal(options.journal, masker);
    this.#operations = operationRunners({
      root: options.root,
      stateDir: options.stateDir,
      config: { ...options.config, app: nodeApp(options.config, options.node) },
      journal: this.#journal,
      masker,
      run: id,
      signal: options.signal,
      onOutput: this.#onOutput,
    });
  }

  /** Records a run that could not start on its node (unreachable, locked), with why. */
  async refuse(reason: string): Promise<RunRecord> {
    await this.#start(false);
    return await this.#finish("failure", reason);
  }

  async #start(failurePath: boolean): Promise<void> {
    this.options.observer?.runStarted?.(this.record, failurePath);
    await this.#save();
    await this.#journal?.record({
      action: "run",
      run: this.record.id,
      runbook: this.loaded.runbook.id,
      target: this.record.target,
      params: JSON.stringify(this.options.params),
      status: "initiated",
    });
  }

  /** Runs the runbook to its end; never throws for a failing step. */
  async execute(followFailurePath: boolean): Promise<RunRecord> {
    const { observer } = this.options;
    const { runbook } = this.loaded;
    const plan = flatten(this.loaded);
    await this.#start(!followFailurePath);

    observer?.phase?.("Prerequisites");
    const unmet: string[] = [];
    for (const item of plan.prerequisites) {
      const step = await this.#runStep(item);
      if (step && isFailure(step.status)) unmet.push(step.message ?? step.name);
      if (this.options.signal?.aborted) return await this.#finish("aborted", "interrupted");
    }
    if (unmet.length) {
      return await this.#finish("failure", `prerequisites not met: ${unmet.join("; ")}`);
    }

    let failed = await this.#human("before", runbook.checklist.before);
    if (!failed) {
      observer?.phase?.("Steps");
      for (const item of plan.steps) {
        const step = await this.#runStep(item);
        if (this.options.signal?.aborted) return await this.#finish("aborted", "interrupted");
        if (step && isFailure(step.status) && !item.step.continue_on_error) {
          failed = `step ${step.number} "${step.name}" failed: ${step.message}`;
          break;
        }
      }
    }
    if (!failed) {
      observer?.phase?.("Success criteria");
      const missed: string[] = [];
      for (const item of plan.success) {
        const step = await this.#runStep(item);
        if (this.options.signal?.aborted) return await this.#finish("aborted", "interrupted");
        if (step && isFailure(step.status)) missed.push(`${step.name}: ${step.message}`);
      }
      if (missed.length) failed = `success criteria not met: ${missed.join("; ")}`;
    }
    if (!failed) failed = await this.#human("after", runbook.checklist.after);
    if (!failed) return await this.#finish("success");
    if (followFailurePath && runbook.on_failure) {
      try {
        await this.#failurePath();
      } catch (error) {
        failed += `; failure path ${runbook.on_failure.runbook} could not start: ${
          (error as Error).message
        }`;
      }
    }
    return await this.#finish("failure", failed);
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
    const elsewhere = item.on && this.options.targetsFor?.(item.on);
    let outcome!: StepOutcome;
    for (
      const { node, target } of elsewhere || [{ node: undefined, target: this.options.target }]
    ) {
      // A step sent to other nodes reads their settings (`app.dir`, `target.name`), not ours.
      const step = node ? resolveStep(item, this.#contextOn(node)) : resolved;
      outcome = await executeStep(step, {
        target,
        signal: this.options.signal,
        confirm: this.options.confirm,
        onOutput: this.#onOutput,
        operations: this.#operations,
      });
      if (elsewhere && elsewhere.length > 1 && outcome.error) {
        outcome.error = `on ${target.name}: ${outcome.error}`;
      }
      if (outcome.status !== "success") break;
    }
    return await this.#finishStep(resolved, item.phase, started, outcome, item);
  }

  async #finishStep(
    step: ResolvedStep,
    phase: StepRecord["phase"],
    started: Date,
    raw: StepOutcome,
    item?: PlannedStep,
  ): Promise<StepRecord> {
    const mask = (text: string) => this.#masker.mask(text);
    const outcome = {
      ...raw,
      stdout: mask(raw.stdout),
      stderr: mask(raw.stderr),
      error: raw.error && mask(raw.error),
    };
    const record: StepRecord = {
      number: step.number,
      phase,
      name: step.name,
      checklist: step.checklist ?? step.name,
      kind: step.kind,
      status: outcome.status,
      started: started.toISOString(),
      duration_ms: Date.now() - started.getTime(),
      attempts: outcome.attempts,
      exit_code: outcome.exitCode,
      command: step.script && mask(step.script),
      url: step.http?.url,
      output_sha256: outcome.attempts ? outputHash(outcome.stdout, outcome.stderr) : undefined,
      tail: isFailure(outcome.status)
        ? (outcome.stderr || outcome.stdout).trimEnd().split("\n").slice(-20)
        : undefined,
      message: isFailure(outcome.status)
        ? [step.message, outcome.error].filter(Boolean).join(": ")
        : undefined,
    };
    if (item?.id) {
      // Later steps get the real output: a secret passed on must still work, only never show.
      this.context.steps.set(item.id, {
        output: raw.stdout.trim(),
        exit_code: outcome.exitCode ?? (outcome.status === "success" ? 0 : 1),
        status: outcome.status,
      });
    }
    this.record.steps.push(record);
    this.options.observer?.stepFinished?.(record, outcome);
    await this.#save();
    if (outcome.status !== "skipped") {
      await this.#journal?.record({
        action: "step",
        run: this.record.id,
        runbook: this.record.runbook,
        target: this.record.target,
        step: record.number,
        name: record.name,
        kind: record.kind,
        exit_code: record.exit_code,
        status: record.status,
      });
    }
    return record;
  }

  /** Asks for the human checklist items; returns why the run cannot go on, if it cannot. */
  async #human(phase: "before" | "after", items: readonly string[]): Promise<string | undefined> {
    if (items.length === 0) return undefined;
    this.options.observer?.phase?.(phase === "before" ? "Before" : "After");
    const lookup = this.#runbookLookup();
    for (const [i, raw] of items.entries()) {
      const question = renderTemplate(raw, lookup, "text", (ref) => `<${ref}>`);
      const resolved = {
        number: `${phase === "before" ? "B" : "A"}${i + 1}`,
        name: question,
        kind: "checklist",
        checklist: question,
        confirm: question,
      } as unknown as ResolvedStep;
      this.options.observer?.stepStarted?.(resolved);
      const outcome = await executeStep({ ...resolved, kind: "confirm" }, {
        target: this.options.target,
        confirm: this.options.confirm,
      });
      const record = await this.#finishStep(resolved, phase, new Date(), outcome);
      if (isFailure(record.status)) return `${question}: ${record.message}`;
    }
    return undefined;
  }

  async #failurePath(): Promise<void> {
    const failure = this.loaded.runbook.on_failure!;
    this.options.observer?.phase?.(`Failure path: runbook ${failure.runbook}`);
    const named = renderValues(failure.with, this.#runbookLookup(), () => "");
    const loaded = await loadRunbook(this.options.root, failure.runbook);
    const params = bindParameters(loaded.runbook.parameters, [], named);
    const child = new Run(loaded, {
      ...this.options,
      masker: this.#masker,
      params,
      runId: `${this.record.id}.${failure.runbook}`,
    });
    this.record.failure_path = await child.execute(false);
  }

  async #finish(status: RunRecord["status"], reason?: string): Promise<RunRecord> {
    const { runbook } = this.loaded;
    this.record.status = status;
    this.record.reason = reason && this.#masker.mask(reason);
    this.record.finished = new Date().toISOString();
    this.record.duration_ms = Date.parse(this.record.finished) - Date.parse(this.record.started);
    await this.#save();
    const journal = this.#journal;
    await journal?.record({
      action: "run",
      run: this.record.id,
      runbook: runbook.id,
      target: this.record.target,
      status,
      reason: this.record.reason,
    });
    if (runbook.audit) {
      const fields = renderValues(runbook.audit.fields, this.#runbookLookup(), () => "");
      await journal?.record({
        action: runbook.audit.action,
        ...fields,
        target: this.record.target,
        run: this.record.id,
        status,
      });
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

  /** Resolves templates written at the top level of the runbook (not inside a task). */
  #runbookLookup() {
    return lookupFor(this.context, { file: this.loaded.file, prefix: "" });
  }

  async #save(): Promise<void> {
    await saveRunRecord(this.options.stateDir, this.record);
  }
}

function isFailure(status: StepRecord["status"]): boolean {
  return status === "failure" || status === "timed_out" || status === "aborted" ||
    status === "declined";
}
