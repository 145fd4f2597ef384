/**
 * The runbook language, as zod schemas.
 *
 * A runbook reads like the SOP it encodes: when it applies, its parameters, the prerequisites
 * checked before anything runs, the steps, the success criteria checked after them, the failure
 * path, and the human checklist items around them. Task files (`tasks/`) hold step groups that
 * runbooks include with `uses:` and `with:`.
 *
 * The same schemas produce `schema/runbook.schema.json` (see {@link jsonSchemas}) so
 * editors complete and check runbooks as they are typed.
 *
 * @example
 * ```ts
 * import { RunbookSchema } from "./schema.ts";
 * const result = RunbookSchema.safeParse({ id: "hello", title: "Hello", when: "Always",
 *   steps: [{ name: "Say hello", run: "echo hello" }] });
 * console.log(result.success); // true
 * ```
 * @module
 */
import { type OperationKind, OPERATIONS } from "./operations.ts";
import { z } from "../source/zod.ts";
import { ROLES } from "../approval/approvers.ts";
import { BatchSpecSchema, MaxFailedSchema, type SizeValue } from "./batch_spec.ts";

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
const RUNBOOK_ID = /^[a-z][a-z0-9-]*$/;

/** `30s`, `5m`, `1h`, `250ms`, or a number of seconds. */
export const DurationSchema = z.union([
  z.number().positive(),
  z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, {
    error: 'expected a duration such as "30s", "5m", "1h" or "250ms"',
  }),
]).describe('A duration: "250ms", "30s", "5m", "1h", or a number of seconds.');

/** Converts a {@link DurationSchema} value to milliseconds. */
export function durationMs(value: z.infer<typeof DurationSchema>): number {
  if (typeof value === "number") return value * 1000;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value)!;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "ms" | "s" | "m" | "h"];
  return Number(match[1]) * unit;
}

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A typed parameter of a runbook (or input of a task). */
export const ParameterSchema = z.strictObject({
  type: z.enum(["string", "enum", "bool", "int"]).default("string")
    .describe("string, enum (one of `values`), bool or int."),
  description: z.string().optional(),
  pattern: z.string().optional().describe("A regular expression the whole value must match."),
  values: z.array(z.string()).min(1).optional().describe("The allowed values of an enum."),
  default: Scalar.optional(),
  required: z.boolean().default(false),
  positional: z.boolean().default(false)
    .describe("Bind from the command line in declaration order: `sop:deploy v1.2.0`."),
}).superRefine((param, ctx) => {
  if (param.type === "enum" && !param.values) {
    ctx.addIssue({ code: "custom", path: ["values"], message: "an enum parameter needs `values`" });
  }
  if (param.pattern !== undefined) {
    try {
      new RegExp(param.pattern);
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        path: ["pattern"],
        message: `not a valid regular expression: ${(error as Error).message}`,
      });
    }
  }
});

/** The health check: a URL that must answer with an expected status, retried at an interval. */
export const HttpCheckSchema = z.strictObject({
  url: z.string().min(1),
  status: z.number().int().min(100).max(599).default(200),
  contains: z.string().optional().describe("Text the response body must contain."),
  version: z.string().optional().describe(
    "The release the answer must come from: when the body is JSON with a `version`, it must be " +
      "this (an old app still holding the port answers 200 with its own); empty: not checked.",
  ),
  retries: z.number().int().min(0).default(0),
  interval: DurationSchema.default("1s"),
  timeout: DurationSchema.default("5s").describe("Per request."),
});

/** The step kinds the engine runs itself; operation kinds come from the registry. */
const BASIC_KINDS = ["run", "uses", "http", "confirm"] as const;

/** Every step kind: the basic ones, then each operation of `operations.ts`. */
export const STEP_KINDS: readonly StepKind[] = [
  ...BASIC_KINDS,
  ...Object.keys(OPERATIONS) as OperationKind[],
];
/** Every step kind the language knows. */
export type StepKind = (typeof BASIC_KINDS)[number] | OperationKind;
const ALL_KINDS = STEP_KINDS;

/** One optional field per operation kind, its operand schema taken from the registry. */
function operandFields(): { [K in OperationKind]: z.ZodOptional<z.ZodType<string>> } {
  return Object.fromEntries(
    Object.entries(OPERATIONS).map(([kind, operation]) => [kind, operation.operand.optional()]),
  ) as { [K in OperationKind]: z.ZodOptional<z.ZodType<string>> };
}

const stepFields = {
  id: z.string().regex(IDENTIFIER, {
    error: "expected a lower-case identifier such as `switch_release`",
  }).optional().describe("Names the step so later steps can use `${{ steps.<id>.output }}`."),
  name: z.string().min(1).describe("What the step does, in the SOP's words."),
  checklist: z.string().optional().describe("How the step reads as a checklist item."),
  when: z.string().optional().describe(
    "Run only if true: `params.x`, `!params.x`, `params.x == 'value'`, `params.x != 'value'`.",
  ),
  on: z.string().optional().describe("Target to run on; `local` is the machine running the tool."),
  cwd: z.string().optional(),
  env: z.record(z.string(), Scalar).optional(),
  timeout: DurationSchema.optional(),
  retries: z.number().int().min(0).default(0),
  retry_delay: DurationSchema.default("1s"),
  continue_on_error: z.boolean().default(false),
  changes: z.boolean().optional().describe(
    "This step changes the node (the release switch, a restart). Until a changing step has " +
      "started, a failure or a declined gate ends the run with nothing to undo: the failure " +
      "path runs only after one did. On a `uses` step it covers the whole task; `restart` " +
      "steps change by their kind.",
  ),
  message: z.string().optional().describe("Shown when the step fails (prerequisites, criteria)."),
  run: z.string().min(1).optional().describe(
    "A POSIX shell script. Each `${{ }}` value in it becomes exactly one quoted shell word.",
  ),
  uses: z.string().regex(/^tasks\/[\w./-]+\.ya?ml$/, {
    error: "expected a task file such as `tasks/health-check.yaml`",
  }).optional(),
  with: z.record(z.string(), Scalar).optional().describe("Inputs of the included task."),
  http: HttpCheckSchema.optional(),
  confirm: z.string().min(1).optional().describe("A question a human must answer yes to."),
  min_wait: DurationSchema.optional().describe(
    "With `confirm`: it cannot be confirmed before this long has passed since the step before " +
      'it ended ("Monitor for 15 minutes": `min_wait: 15m`). A terminal shows the time left and ' +
      "waits; `--yes` acknowledges it early, and the record says so.",
  ),
  ...operandFields(),
};

/** One step: exactly one of `run`, `uses`, `http`, `confirm` (or a reserved kind). */
export const StepSchema = z.strictObject(stepFields).superRefine((step, ctx) => {
  const kinds = ALL_KINDS.filter((kind) => step[kind] !== undefined);
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: "custom",
      message: kinds.length === 0
        ? `a step needs one of: ${STEP_KINDS.join(", ")}`
        : `a step has exactly one kind, found ${kinds.join(" and ")}`,
    });
  }
  if (step.with !== undefined && step.uses === undefined) {
    ctx.addIssue({ code: "custom", path: ["with"], message: "`with` goes with `uses`" });
  }
  if (step.min_wait !== undefined && step.confirm === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["min_wait"],
      message: "`min_wait` goes with `confirm` (a gate a person confirms)",
    });
  }
});

/** The kind of a parsed step. */
export function stepKind(step: Step): StepKind {
  return ALL_KINDS.find((kind) => step[kind] !== undefined)!;
}

/**
 * How a run goes through its nodes: `serial` (one at a time, stop at the first failure),
 * `rolling` (batches of `batch` — a count, a percentage or a ramp, see `batch_spec.ts` — stop
 * once more than `max_failed` nodes failed), or `parallel` (every node, `concurrency` at a
 * time, none stops the others).
 */
export const StrategySchema = z.union([
  z.enum(["serial", "rolling", "parallel"]),
  z.strictObject({
    kind: z.enum(["serial", "rolling", "parallel"]),
    batch: BatchSpecSchema.default(1),
    max_failed: MaxFailedSchema.default(0),
    concurrency: z.number().int().min(1).default(10)
      .describe("Nodes running at once (parallel)."),
  }).superRefine((strategy, ctx) => {
    // Settings that the kind ignores are a mistake worth saying, not a silent no-op.
    const ignored = strategy.kind === "rolling"
      ? ["concurrency"]
      : strategy.kind === "serial"
      ? ["batch", "max_failed", "concurrency"]
      : ["batch", "max_failed"];
    for (const key of ignored) {
      const value = strategy[key as keyof typeof strategy];
      const fallback = { batch: 1, max_failed: 0, concurrency: 10 }[key];
      if (value !== fallback) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `\`${key}\` applies to kind: ${
            key === "concurrency" ? "parallel" : "rolling"
          }, not ${strategy.kind}`,
        });
      }
    }
  }),
], {
  error: "expected serial, rolling or parallel, or a mapping " +
    "{ kind, batch, max_failed, concurrency } whose values are numbers or percentages",
}).describe("How the runbook's nodes are scheduled.");

/** A strategy with every field filled in (`batch` and `max_failed` as written). */
export interface Strategy {
  kind: "serial" | "rolling" | "parallel";
  batch: SizeValue | SizeValue[];
  max_failed: SizeValue;
  concurrency: number;
}

/** Fills in a strategy's defaults. */
export function normalizeStrategy(value: z.input<typeof StrategySchema>): Strategy {
  const given = typeof value === "string" ? { kind: value } : value;
  return { batch: 1, max_failed: 0, concurrency: 10, ...given };
}

/**
 * A human action that appears in checklists and is confirmed (or acknowledged) when run: its
 * text, or `{ item: TEXT, min_wait: 15m }` for one that cannot be confirmed before that long
 * has passed since the step before it ended. Read as `{ item, min_wait? }` either way.
 */
export const ChecklistItemSchema = z.union([
  z.string().min(1),
  z.strictObject({
    item: z.string().min(1),
    min_wait: DurationSchema.optional().describe(
      "Not confirmable before this long after the step before it ended (`15m`).",
    ),
  }),
]).transform((value): ChecklistItem => typeof value === "string" ? { item: value } : value);

/** A checklist item as the engine reads it. */
export interface ChecklistItem {
  item: string;
  min_wait?: z.infer<typeof DurationSchema>;
}

/**
 * A duration as a runbook wrote it, for people: `15m` stays `15m`, `90` reads `90s`.
 *
 * @example
 * ```ts
 * import { durationText } from "./schema.ts";
 * durationText("15m"); // "15m"
 * durationText(90); // "90s"
 * ```
 */
export function durationText(value: z.infer<typeof DurationSchema>): string {
  return typeof value === "number" ? `${value}s` : value;
}

const Parameters = z.record(
  z.string().regex(IDENTIFIER, { error: "expected a lower-case identifier" }),
  ParameterSchema,
);

/** A complete runbook: one SOP. */
export const RunbookSchema = z.strictObject({
  $schema: z.string().optional(),
  id: z.string().regex(RUNBOOK_ID, { error: "expected a kebab-case id such as `deploy`" }),
  title: z.string().min(1),
  sop: z.number().int().positive().optional().describe("The SOP number this runbook encodes."),
  when: z.string().min(1).describe("The SOP's “When” text: the situation this runbook is for."),
  description: z.string().optional(),
  on: z.string().default("local").describe(
    "Where the runbook runs: `local`, `app` (the app's nodes), `all`, or node and group " +
      "names, comma-separated. Each node runs the whole runbook, scheduled by `strategy`.",
  ),
  strategy: StrategySchema.default("serial"),
  lock: z.boolean().default(false).describe(
    "Hold each node's deploy lock for the whole run, failure path included: one at a time.",
  ),
  parameters: Parameters.default({}),
  vars: z.record(z.string(), Scalar).default({}),
  prerequisites: z.array(StepSchema).default([])
    .describe("All checked before any step runs; one failing stops the run, nothing runs."),
  checklist: z.strictObject({
    sections: z.tuple([z.string(), z.string(), z.string()]).default([
      "Before",
      "Procedure",
      "After",
    ]).describe("Titles of the before / during / after sections of the printed checklist."),
    before: z.array(ChecklistItemSchema).default([]),
    after: z.array(ChecklistItemSchema).default([]),
  }).default({ sections: ["Before", "Procedure", "After"], before: [], after: [] }),
  steps: z.array(StepSchema).min(1),
  success: z.array(StepSchema).default([]).describe("Success criteria, checked after the steps."),
  audit: z.strictObject({
    action: z.string().regex(/^[a-z][a-z.]*$/),
    fields: z.record(z.string().regex(IDENTIFIER), z.string()).default({}),
  }).optional().describe(
    "The audit entry this runbook writes when it ends, in the seed's terms: " +
      "`action: deploy`, `fields: { repo: ..., from: ..., to: ... }`; status is added.",
  ),
  approval: z.strictObject({
    required: z.number().int().min(1).default(1).describe("Approvals needed before it runs."),
    by: z.enum(ROLES).default("approver").describe("The role each approver must hold."),
    not_operator: z.boolean().default(true)
      .describe("The operator's own approval does not count (segregation of duties)."),
  }).optional().describe(
    "Runs only under a change request (`--request CR_ID`) approved by listed people: " +
      "`approval: { required: 1, by: approver, not_operator: true }`.",
  ),
  emergency: z.boolean().default(false).describe(
    "May run without prior approval with `--emergency REASON`; flagged in the audit log and " +
      "owes a retro-review within 2 business days.",
  ),
  on_failure: z.strictObject({
    runbook: z.string().regex(RUNBOOK_ID),
    with: z.record(z.string(), Scalar).default({}),
  }).optional().describe("The failure path: another runbook run when a step or criterion fails."),
});

/** A task file: a reusable group of steps with typed inputs. */
export const TaskSchema = z.strictObject({
  $schema: z.string().optional(),
  id: z.string().regex(RUNBOOK_ID),
  title: z.string().min(1),
  description: z.string().optional(),
  inputs: Parameters.default({}),
  steps: z.array(StepSchema).min(1),
});

export type Parameter = z.infer<typeof ParameterSchema>;
export type Step = z.infer<typeof StepSchema>;
export type HttpCheck = z.infer<typeof HttpCheckSchema>;
export type Runbook = z.infer<typeof RunbookSchema>;
export type Task = z.infer<typeof TaskSchema>;

/** JSON Schemas of runbook and task files, for editors (`deno task schema` writes them). */
export function jsonSchemas(): { runbook: Record<string, unknown>; task: Record<string, unknown> } {
  const options = { io: "input", unrepresentable: "any" } as const;
  return {
    runbook: { title: "Protocol runbook", ...z.toJSONSchema(RunbookSchema, options) },
    task: { title: "Protocol task file", ...z.toJSONSchema(TaskSchema, options) },
  };
}

/** Every key the language knows, for "did you mean" suggestions on unknown keys. */
export const KNOWN_KEYS: readonly string[] = [
  ...Object.keys(stepFields),
  ...Object.keys(RunbookSchema.shape),
  ...Object.keys(TaskSchema.shape),
  ...Object.keys(HttpCheckSchema.shape),
  "type",
  "description",
  "pattern",
  "values",
  "default",
  "required",
  "positional",
  "sections",
  "before",
  "after",
  "kind",
  "batch",
  "max_failed",
  "concurrency",
  "by",
  "not_operator",
  "item",
];

/** Fields of `target` that templates may read. */
export const TARGET_FIELDS = ["name", "host", "port", "user", "groups"] as const;
