/**
 * Plans: a runbook with its `uses:` includes expanded into the flat, numbered list of steps that
 * will run, and the lookups that resolve templates for each step. Pure: nothing here runs.
 *
 * @example
 * ```ts
 * import { loadRunbook } from "./load.ts";
 * import { flatten } from "./plan.ts";
 * const loaded = await loadRunbook(Deno.cwd(), "deploy");
 * for (const item of flatten(loaded).steps) console.log(item.number, item.step.name);
 * ```
 * @module
 */
import type { LoadedRunbook } from "./load.ts";
import { type Parameter, type Step, type StepKind, stepKind, TARGET_FIELDS } from "./schema.ts";
export { TARGET_FIELDS } from "./schema.ts";
import { type Lookup, renderTemplate, type TemplateValue } from "../template.ts";
import { type Condition, evaluateCondition, parseCondition } from "./condition.ts";

/** Where a step's templates resolve: the inputs of the task it came from, and its caller. */
export interface Scope {
  file: string;
  /** Prefix of step ids inside an included task: `deploy.` for the task used by step `deploy`. */
  prefix: string;
  inputs?: Record<string, TemplateValue>;
  declarations?: Record<string, Parameter>;
  parent?: Scope;
}

/** A condition together with the scope it is written in. */
export interface Guard {
  condition: Condition;
  scope: Scope;
}

/** One step of a plan, ready to resolve and run. */
export interface PlannedStep {
  phase: "prerequisite" | "step" | "success";
  /** `3`, or `3.2` for the second step of the task included by step 3. */
  number: string;
  /** Full id, with the prefix of the including step. */
  id?: string;
  kind: StepKind;
  step: Step;
  scope: Scope;
  /** Conditions of this step and of the `uses` steps around it; all must hold. */
  guards: Guard[];
  /** Depth of inclusion, 0 for steps written in the runbook. */
  depth: number;
  /** Where the step runs when not on the run's own target: its `on:`, or its `uses` step's. */
  on?: string;
  /** Whether running this step changes its node (its `changes:`, its task's, or its kind's). */
  changes: boolean;
}

/** Step kinds that change a node whenever they run. */
const CHANGING_KINDS: ReadonlySet<StepKind> = new Set(["restart"]);

/** The three lists of a plan. */
export interface Plan {
  prerequisites: PlannedStep[];
  steps: PlannedStep[];
  success: PlannedStep[];
}

/** Expands a loaded runbook into its plan. */
export function flatten(loaded: LoadedRunbook): Plan {
  const root: Scope = { file: loaded.file, prefix: "" };
  const expand = (
    steps: readonly Step[],
    phase: PlannedStep["phase"],
    scope: Scope,
    numbering: string,
    guards: Guard[],
    depth: number,
    on?: string,
    changes = false,
  ): PlannedStep[] =>
    steps.flatMap((step, i) => {
      const number = `${numbering}${i + 1}`;
      const own = step.when ? [...guards, { condition: parseCondition(step.when), scope }] : guards;
      const id = step.id ? `${scope.prefix}${step.id}` : undefined;
      const item: PlannedStep = {
        phase,
        number,
        id,
        kind: stepKind(step),
        step,
        scope,
        guards: own,
        depth,
        on: step.on ?? on,
        changes: step.changes ?? (changes || CHANGING_KINDS.has(stepKind(step))),
      };
      if (!step.uses) return [item];
      const task = loaded.tasks.get(step.uses)!;
      const inner: Scope = {
        file: task.file,
        prefix: id ? `${id}.` : scope.prefix,
        inputs: step.with ?? {},
        declarations: task.task.inputs,
        parent: scope,
      };
      return [
        item,
        ...expand(
          task.task.steps,
          phase,
          inner,
          `${number}.`,
          own,
          depth + 1,
          item.on,
          item.changes,
        ),
      ];
    });
  const { runbook } = loaded;
  return {
    prerequisites: expand(runbook.prerequisites, "prerequisite", root, "P", [], 0),
    steps: expand(runbook.steps, "step", root, "", [], 0),
    success: expand(runbook.success, "success", root, "S", [], 0),
  };
}

/** What templates can read about the node a run is on. */
export interface TargetInfo {
  name: string;
  host: string;
  port: number;
  user: string;
  groups: string;
}

/** What a step's templates can read. Step results are filled in as the run goes. */
export interface RunContext {
  params: Record<string, TemplateValue>;
  vars: Record<string, TemplateValue>;
  app: Record<string, TemplateValue>;
  run: { id: string; operator: string; host: string; started: string };
  /** Where this run happens: `local`, or the node's name, address, user and groups. */
  target: TargetInfo;
  steps: Map<string, { output: string; exit_code: number; status: string }>;
}

/**
 * A lookup for templates written in `scope`. `unresolved` is passed down to the templates of
 * task inputs, so a plan shows `<steps.x.output>` through any depth of includes.
 */
export function lookupFor(
  context: RunContext,
  scope: Scope,
  unresolved?: (ref: string) => string,
): Lookup {
  return (ref) => {
    const [root, ...rest] = ref.split(".");
    const name = rest.join(".");
    switch (root) {
      case "params":
        return context.params[name];
      case "vars":
        return context.vars[name];
      case "app":
        return context.app[name];
      case "run":
        return context.run[name as keyof RunContext["run"]];
      case "target":
        return (TARGET_FIELDS as readonly string[]).includes(name)
          ? context.target[name as keyof TargetInfo]
          : undefined;
      case "inputs": {
        const given = scope.inputs?.[name];
        if (given === undefined) {
          const declaration = scope.declarations?.[name];
          return declaration ? declaration.default ?? "" : undefined;
        }
        if (typeof given !== "string" || !scope.parent) return given;
        const parent = lookupFor(context, scope.parent, unresolved);
        return renderTemplate(given, parent, "text", unresolved);
      }
      case "steps": {
        const field = rest.at(-1) as "output" | "exit_code" | "status";
        const id = rest.slice(0, -1).join(".");
        const result = context.steps.get(`${scope.prefix}${id}`) ?? context.steps.get(id);
        return result?.[field];
      }
    }
    return undefined;
  };
}

/** Whether every guard of a step holds. */
export function guardsHold(item: PlannedStep, context: RunContext): boolean {
  return item.guards.every((guard) =>
    evaluateCondition(guard.condition, lookupFor(context, guard.scope))
  );
}
