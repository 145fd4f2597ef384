/**
 * The change-ticket checklist of a runbook, in every format `checklist --format` knows. Each
 * format is one function in {@link CHECKLIST_FORMATS}: adding one is a function here (or in a
 * file beside this one) and one line in that table; the CLI offers whatever the table holds.
 *
 * @example
 * ```ts
 * import { loadRunbook } from "./load.ts";
 * import { describeRunbook } from "./describe.ts";
 * import { formatChecklist } from "./checklist.ts";
 * const loaded = await loadRunbook(Deno.cwd(), "deploy");
 * console.log(formatChecklist(describeRunbook(loaded, { version: "v1.2.0" }, undefined), "md"));
 * ```
 * @module
 */
import { type DescribedGate, type DescribedStep, type Description, waitNote } from "./describe.ts";

/** A checklist section with its items. */
export interface ChecklistSection {
  title: string;
  items: { text: string; kind: string; number: string; min_wait?: string }[];
}

/** The checklist: prerequisites and human items before, top-level steps and criteria, after. */
export function checklistSections(description: Description): ChecklistSection[] {
  const topLevel = (steps: DescribedStep[]) =>
    steps.filter((step) => step.depth === 0).map((step) => ({
      text: step.checklist,
      kind: step.kind,
      number: step.number,
      min_wait: step.minWait,
    }));
  const human = (items: DescribedGate[], prefix: string) =>
    items.map((gate, i) => ({
      text: gate.text,
      kind: "human",
      number: `${prefix}${i + 1}`,
      min_wait: gate.min_wait,
    }));
  const [before, during, after] = description.sections;
  // The signed approval comes first: nothing runs before it is checked.
  const approval = description.approval
    ? [{ text: description.approval, kind: "approval", number: "CR" }]
    : [];
  return [
    {
      title: before,
      items: [
        ...approval,
        ...topLevel(description.prerequisites),
        ...human(description.before, "B"),
      ],
    },
    { title: during, items: [...topLevel(description.steps), ...topLevel(description.success)] },
    { title: after, items: human(description.after, "A") },
  ].filter((section) => section.items.length > 0);
}

/** A checklist as the change ticket (Markdown), as paper (text) or as data (JSON). */
export const CHECKLIST_FORMATS = {
  md: markdownChecklist,
  text: textChecklist,
  json: jsonChecklist,
} satisfies Record<string, (description: Description) => string>;

/** A checklist format's name. */
export type ChecklistFormat = keyof typeof CHECKLIST_FORMATS;

/**
 * The printable checklist in `format`.
 *
 * @example
 * ```ts
 * import { CHECKLIST_FORMATS, formatChecklist } from "./checklist.ts";
 * Object.keys(CHECKLIST_FORMATS); // ["md", "text", "json"]
 * ```
 */
export function formatChecklist(description: Description, format: ChecklistFormat): string {
  return CHECKLIST_FORMATS[format](description);
}

function paramsLine(description: Description): string {
  return Object.entries(description.params).map(([k, v]) => `${k}=${v}`).join(" ");
}

function jsonChecklist(description: Description): string {
  return JSON.stringify(
    {
      runbook: description.runbook,
      title: description.title,
      sop: description.sop,
      when: description.when,
      params: description.params,
      sections: checklistSections(description),
    },
    null,
    2,
  ) + "\n";
}

function markdownChecklist(description: Description): string {
  const params = paramsLine(description);
  const lines = [`## ${description.title}`, ""];
  lines.push(`Runbook \`${description.runbook}\`${params ? ` · ${params}` : ""}`, "");
  lines.push(`**When:** ${description.when}`);
  for (const section of checklistSections(description)) {
    lines.push("", `**${section.title}:**`, "");
    for (const item of section.items) lines.push(`- [ ] ${item.text}${waitNote(item.min_wait)}`);
  }
  lines.push("", "Operator: ____________  Date: ____________  Change ticket: ____________");
  return lines.join("\n") + "\n";
}

function textChecklist(description: Description): string {
  const params = paramsLine(description);
  const lines = [description.title];
  if (params) lines.push(`(${description.runbook}: ${params})`);
  for (const section of checklistSections(description)) {
    lines.push("", `${section.title}:`);
    for (const item of section.items) lines.push(`[ ] ${item.text}${waitNote(item.min_wait)}`);
  }
  return lines.join("\n") + "\n";
}
