/**
 * Describing a runbook without running it: the plan (every command in order, parameters
 * resolved) and the change-ticket checklist. Both come from the same resolved steps, so the
 * checklist a release manager files is the procedure that runs.
 *
 * @example
 * ```ts
 * import { describeRunbook, formatPlan } from "./describe.ts";
 * import { formatChecklist } from "./checklist.ts";
 * import { loadRunbook } from "./load.ts";
 * const loaded = await loadRunbook(Deno.cwd(), "deploy");
 * const description = describeRunbook(loaded, { version: "v1.2.0" }, undefined);
 * console.log(formatPlan(description));
 * console.log(formatChecklist(description, "md"));
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { LoadedRunbook } from "./load.ts";
import { flatten, lookupFor, type PlannedStep } from "./plan.ts";
import { type ResolvedStep, resolveStep } from "./resolve.ts";
import { runContext } from "./context.ts";
import { approvalChecklistItem, type RequestParam } from "../approval/mod.ts";
import { type ChecklistItem, durationText } from "./schema.ts";
import type { InventoryNode } from "../targets/inventory.ts";
import { renderTemplate, renderValues, type TemplateValue } from "../template.ts";

/** A step as a plan shows it. */
export interface DescribedStep extends ResolvedStep {
  phase: PlannedStep["phase"];
  depth: number;
  /** Conditions that decide at run time whether the step runs. */
  when: string[];
  /** Where the step runs: its own `on:` (or its `uses` step's), else the run's target. */
  on: string;
}

/** A human checklist item as printed: its text, and how long it waits, as written (`15m`). */
export interface DescribedGate {
  text: string;
  min_wait?: string;
}

/** Everything plans and checklists print. */
export interface Description {
  runbook: string;
  title: string;
  sop?: number;
  when: string;
  params: Record<string, TemplateValue>;
  target: string;
  config?: string;
  prerequisites: DescribedStep[];
  before: DescribedGate[];
  steps: DescribedStep[];
  success: DescribedStep[];
  after: DescribedGate[];
  sections: [string, string, string];
  onFailure?: { runbook: string; with: Record<string, TemplateValue> };
  /** The checklist item of the runbook's declared approval (who, and the request command). */
  approval?: string;
}

/** Values known only at run time show as `<steps.x.output>`. */
const placeholder = (ref: string) => `<${ref}>`;

/** Resolves a runbook for printing. Without a config, `app.*` values show as placeholders. */
export function describeRunbook(
  loaded: LoadedRunbook,
  params: Record<string, TemplateValue>,
  config: Config | undefined,
  node?: InventoryNode,
): Description {
  const { runbook } = loaded;
  const context = runContext(loaded, params, config, "<run.id>", node);
  const plan = flatten(loaded);
  const describe = (item: PlannedStep): DescribedStep => ({
    ...resolveStep(item, context, placeholder),
    phase: item.phase,
    depth: item.depth,
    when: item.step.when === undefined ? [] : [item.step.when],
    on: item.on ?? node?.name ?? runbook.on,
  });
  const lookup = lookupFor(context, { file: loaded.file, prefix: "" }, placeholder);
  const text = (value: string) => renderTemplate(value, lookup, "text", placeholder);
  const gate = (item: ChecklistItem): DescribedGate => ({
    text: text(item.item),
    min_wait: item.min_wait === undefined ? undefined : durationText(item.min_wait),
  });
  return {
    runbook: runbook.id,
    title: runbook.title,
    sop: runbook.sop,
    when: runbook.when,
    params,
    target: node?.name ?? runbook.on,
    config: config?.file,
    prerequisites: plan.prerequisites.map(describe),
    before: runbook.checklist.before.map(gate),
    steps: plan.steps.map(describe),
    success: plan.success.map(describe),
    after: runbook.checklist.after.map(gate),
    sections: runbook.checklist.sections,
    onFailure: runbook.on_failure && {
      runbook: runbook.on_failure.runbook,
      with: renderValues(runbook.on_failure.with, lookup, placeholder),
    },
    approval: runbook.approval && approvalChecklistItem({
      runbook: runbook.id,
      policy: runbook.approval,
      emergency: runbook.emergency,
      params: requestParams(loaded, params),
    }),
  };
}

/**
 * The parameters of a run as `request` takes them: those that differ from their default, the
 * positional ones bare (in order, until one is left out), the rest as `-p name=value`.
 *
 * @example
 * ```ts
 * import { requestParams } from "./describe.ts";
 * import type { LoadedRunbook } from "./load.ts";
 * declare const deploy: LoadedRunbook;
 * requestParams(deploy, { version: "v1.2.0" }); // [["version", "v1.2.0", true]]
 * ```
 */
export function requestParams(
  loaded: LoadedRunbook,
  params: Record<string, TemplateValue>,
): RequestParam[] {
  const result: RequestParam[] = [];
  let bare = true;
  for (const [name, parameter] of Object.entries(loaded.runbook.parameters)) {
    const value = params[name];
    const given = value !== undefined && value !== parameter.default;
    if (parameter.positional && !given) bare = false;
    if (given) result.push([name, value, parameter.positional && bare]);
  }
  return result;
}

/** The plan as text: every command in order, with where and when it runs. */
export function formatPlan(description: Description): string {
  const lines: string[] = [];
  const params = Object.entries(description.params).map(([k, v]) => `${k}=${v}`).join(" ");
  lines.push(`Plan: ${description.title} (runbook ${description.runbook})`);
  lines.push(`Parameters: ${params || "(none)"}`);
  lines.push(
    `Target: ${description.target}   Config: ${
      description.config ?? "(none: app.* shown as <app.*>)"
    }`,
  );
  lines.push("Nothing has run. Every value in a command is one quoted shell word.");
  const section = (title: string, steps: DescribedStep[]) => {
    if (steps.length === 0) return;
    lines.push("", title);
    for (const step of steps) lines.push(...formatStep(step));
  };
  if (description.approval) {
    lines.push("", "Approval (checked before anything runs)", `  CR  ${description.approval}`);
  }
  section("Prerequisites (all checked before any step runs)", description.prerequisites);
  if (description.before.length) {
    lines.push("", "Before (confirmed by a human, or acknowledged with --yes)");
    description.before.forEach((item, i) => lines.push(`  B${i + 1}  ${gateLine(item)}`));
  }
  section("Steps", description.steps);
  section("Success criteria (checked after the steps)", description.success);
  if (description.after.length) {
    lines.push("", "After (confirmed by a human, or acknowledged with --yes)");
    description.after.forEach((item, i) => lines.push(`  A${i + 1}  ${gateLine(item)}`));
  }
  if (description.onFailure) {
    const args = Object.entries(description.onFailure.with).map(([k, v]) => `${k}=${v}`);
    lines.push("", `On failure: runbook ${description.onFailure.runbook} ${args.join(" ")}`.trim());
  }
  return lines.join("\n") + "\n";
}

/**
 * What a gate's wait adds to its line: ` (min_wait 15m: not confirmable sooner after the step
 * before it)`; nothing without one.
 *
 * @example
 * ```ts
 * import { waitNote } from "./describe.ts";
 * waitNote("15m"); // " (min_wait 15m: not confirmable sooner after the step before it)"
 * ```
 */
export function waitNote(minWait: string | undefined): string {
  return minWait ? ` (min_wait ${minWait}: not confirmable sooner after the step before it)` : "";
}

function gateLine(gate: DescribedGate): string {
  return gate.text + waitNote(gate.min_wait);
}

function formatStep(step: DescribedStep): string[] {
  const indent = "  " + "  ".repeat(step.depth);
  const label = `${indent}${step.number.padEnd(6)}${step.name}`;
  const detail = `${indent}      `;
  const lines = [step.uses ? `${label}  (${step.uses})` : label];
  if (step.when.length) lines.push(`${detail}when: ${step.when.join(" and ")}`);
  if (step.cwd) lines.push(`${detail}in: ${step.cwd}`);
  for (const [key, value] of Object.entries(step.env)) lines.push(`${detail}env: ${key}=${value}`);
  if (step.script !== undefined) {
    step.script.trimEnd().split("\n").forEach((line, i) =>
      lines.push(`${detail}${i === 0 ? "$ " : "  "}${line}`)
    );
  }
  if (step.http) {
    const { url, status, retries, intervalMs } = step.http;
    lines.push(
      `${detail}GET ${url} → expect ${status}${
        retries ? ` (up to ${retries + 1} tries, ${intervalMs / 1000}s apart)` : ""
      }`,
    );
  }
  if (step.confirm) {
    lines.push(`${detail}confirm: ${step.confirm}${waitNote(step.minWait)}`);
  }
  // An operation step (any kind of the registry): what it does and where.
  if (step.operand !== undefined) {
    lines.push(`${detail}${step.kind}: ${step.operand} (on ${step.on})`);
  }
  const extras = [
    step.timeoutMs !== undefined ? `timeout ${step.timeoutMs / 1000}s` : "",
    step.retries ? `retries ${step.retries}` : "",
    step.continueOnError ? "continue on error" : "",
  ].filter(Boolean);
  if (extras.length) lines.push(`${detail}(${extras.join(", ")})`);
  return lines;
}
