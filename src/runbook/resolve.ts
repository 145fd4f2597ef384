/**
 * Resolving a planned step into exactly what will run: the shell script with every value quoted,
 * the environment, the directory, the URL. Plans resolve with placeholders for values that only
 * exist at run time; runs resolve for real.
 *
 * @example
 * ```ts
 * import { resolveStep } from "./resolve.ts";
 * import { loadRunbook } from "./load.ts";
 * import { flatten } from "./plan.ts";
 * import { runContext } from "./context.ts";
 * const loaded = await loadRunbook(Deno.cwd(), "deploy");
 * const context = runContext(loaded, { version: "v1.2.0" }, undefined, "r1");
 * const [first] = flatten(loaded).steps;
 * console.log(resolveStep(first, context, (ref) => `<${ref}>`).script);
 * ```
 * @module
 */
import { isOperation } from "./operations.ts";
import { durationMs, durationText, type StepKind } from "./schema.ts";
import { lookupFor, type PlannedStep, type RunContext } from "./plan.ts";
import { renderTemplate } from "../template.ts";

/** A step with every template resolved. */
export interface ResolvedStep {
  number: string;
  name: string;
  kind: StepKind;
  checklist: string;
  script?: string;
  env: Record<string, string>;
  cwd?: string;
  http?: {
    url: string;
    status: number;
    contains?: string;
    /** The release the answer must name, when it names one (see `release/health.ts`). */
    version?: string;
    retries: number;
    intervalMs: number;
    timeoutMs: number;
  };
  confirm?: string;
  /** A gate's `min_wait` as written (`15m`), and in milliseconds. */
  minWait?: string;
  minWaitMs?: number;
  uses?: string;
  timeoutMs?: number;
  retries: number;
  retryDelayMs: number;
  continueOnError: boolean;
  message?: string;
  /** For operation kinds: what the step names (`soc2`, `build v1.2.0`). */
  operand?: string;
}

/**
 * Resolves a planned step. `placeholder` turns values not known yet into readable stand-ins
 * (for plans and checklists); without it an unknown value is an error.
 */
export function resolveStep(
  item: PlannedStep,
  context: RunContext,
  placeholder?: (ref: string) => string,
): ResolvedStep {
  const lookup = lookupFor(context, item.scope, placeholder);
  const text = (value: string) => renderTemplate(value, lookup, "text", placeholder);
  const { step } = item;
  const name = text(step.name);
  return {
    number: item.number,
    name,
    kind: item.kind,
    checklist: step.checklist ? text(step.checklist) : name,
    script: step.run === undefined
      ? undefined
      : renderTemplate(step.run, lookup, "shell", placeholder),
    env: Object.fromEntries(
      Object.entries(step.env ?? {}).map(([key, value]) => [key, text(String(value))]),
    ),
    cwd: step.cwd === undefined ? undefined : text(step.cwd),
    http: step.http && {
      url: text(step.http.url),
      status: step.http.status,
      contains: step.http.contains === undefined ? undefined : text(step.http.contains),
      version: step.http.version === undefined ? undefined : text(step.http.version),
      retries: step.http.retries,
      intervalMs: durationMs(step.http.interval),
      timeoutMs: durationMs(step.http.timeout),
    },
    confirm: step.confirm === undefined ? undefined : text(step.confirm),
    minWait: step.min_wait === undefined ? undefined : durationText(step.min_wait),
    minWaitMs: step.min_wait === undefined ? undefined : durationMs(step.min_wait),
    uses: step.uses,
    timeoutMs: step.timeout === undefined ? undefined : durationMs(step.timeout),
    retries: step.retries,
    retryDelayMs: durationMs(step.retry_delay),
    continueOnError: step.continue_on_error,
    message: step.message === undefined ? undefined : text(step.message),
    operand: isOperation(item.kind) ? text(step[item.kind]!) : undefined,
  };
}
