/**
 * The human items of a runbook: which ones a run asks, in order ({@link humanItems}), and the
 * step a checklist gate is shown and recorded as ({@link checklistGate}). Pure.
 *
 * @example
 * ```ts
 * import { checklistGate } from "./human.ts";
 * const gate = checklistGate("before", 0, { item: "Tell the on-call" }, (text) => text);
 * console.log(gate.number, gate.name); // B1 Tell the on-call
 * ```
 * @module
 */
import type { LoadedRunbook } from "./load.ts";
import { flatten } from "./plan.ts";
import type { ResolvedStep } from "./resolve.ts";
import { type ChecklistItem, durationMs, durationText } from "./schema.ts";

/**
 * The items a human must confirm in this runbook, in the order they are asked.
 *
 * @example
 * ```ts
 * import { humanItems } from "./human.ts";
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
 * The step the `index`th checklist item of `phase` runs as: numbered `B1`, `A2`…, its question
 * rendered by `render`, its `min_wait` carried for the gate.
 *
 * @example
 * ```ts
 * import { checklistGate } from "./human.ts";
 * const gate = checklistGate("after", 1, { item: "Watch the dashboards", min_wait: "5m" }, (t) => t);
 * console.log(gate.number, gate.minWaitMs); // A2 300000
 * ```
 */
export function checklistGate(
  phase: "before" | "after",
  index: number,
  gate: ChecklistItem,
  render: (text: string) => string,
): ResolvedStep {
  const question = render(gate.item);
  return {
    number: `${phase === "before" ? "B" : "A"}${index + 1}`,
    name: question,
    kind: "checklist",
    checklist: question,
    confirm: question,
    minWait: gate.min_wait === undefined ? undefined : durationText(gate.min_wait),
    minWaitMs: gate.min_wait === undefined ? undefined : durationMs(gate.min_wait),
  } as unknown as ResolvedStep;
}
