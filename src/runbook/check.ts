/**
 * Checking what the schema cannot see, before anything runs: unknown references and unclosed
 * `${{` in templates, missing or broken tasks and failure-path runbooks, targets that are not
 * selectors, defaults that break their own parameter, operation operands (each operation kind
 * checks its own, see `operations.ts`), templates that would not stay one shell word.
 *
 * @example
 * ```ts
 * import { unclosedTemplate } from "./check.ts";
 * unclosedTemplate("echo ${{ params.version"); // "`${{` at character 6 is never closed with `}}`"
 * ```
 * @module
 */
import { resolve } from "node:path";
import {
  type DataPath,
  formatPath,
  parseSource,
  type Problem,
  schemaProblems,
} from "../source/mod.ts";
import type { Source } from "../source/mod.ts";
import {
  KNOWN_KEYS,
  type Parameter,
  type Runbook,
  type Step,
  stepKind,
  TARGET_FIELDS,
  type Task,
  TaskSchema,
} from "./schema.ts";
import { parseCondition } from "./condition.ts";
import { templateQuotingProblems, templateReferences } from "../template.ts";
import { checkValue } from "./params.ts";
import { isOperation, type OperationKind, OPERATIONS } from "./operations.ts";

/** A task file, parsed and checked. */
export interface LoadedTask {
  file: string;
  task: Task;
  source: Source;
}

/**
 * Why a template text is not closed, if it is not: a `${{` with no `}}` after it.
 *
 * @example
 * ```ts
 * import { unclosedTemplate } from "./check.ts";
 * unclosedTemplate("${{ params.a }} and ${{ params.b }}"); // undefined
 * ```
 */
export function unclosedTemplate(text: string): string | undefined {
  let from = 0;
  while (true) {
    const open = text.indexOf("${{", from);
    if (open < 0) return undefined;
    const close = text.indexOf("}}", open + 3);
    const next = text.indexOf("${{", open + 3);
    if (close < 0 || (next >= 0 && next < close)) {
      return `\`\${{\` at character ${open + 1} is never closed with \`}}\``;
    }
    from = close + 2;
  }
}

const RUN_FIELDS = ["id", "operator", "host", "started"];
/** Target selectors: node or group names, comma-separated. */
const SELECTOR = /^[a-z0-9][a-z0-9_.-]*(\s*,\s*[a-z0-9][a-z0-9_.-]*)*$/;

/**
 * What a failure-path runbook looks like to the runbook that names it: its declared parameters
 * and its own problems; undefined when there is no such runbook.
 */
export type FailurePathLoader = (
  name: string,
  failurePaths: Set<string>,
) => Promise<{ parameters: Record<string, unknown>; problems: Problem[] } | undefined>;

/**
 * Cross-file and cross-field checks that a schema cannot express: references in templates,
 * included tasks, the failure path, targets, defaults, operation operands.
 *
 * @example
 * ```ts
 * import { Checker } from "./check.ts";
 * const checker = new Checker(Deno.cwd(), () => Promise.resolve(undefined));
 * await checker.loadTask("tasks/health.yaml");
 * checker.taskProblems.get("tasks/health.yaml"); // [] when the task is sound
 * ```
 */
export class Checker {
  readonly tasks = new Map<string, LoadedTask>();
  readonly taskProblems = new Map<string, Problem[]>();
  #loading = new Set<string>();
  #failurePaths: Set<string>;

  /**
   * @param root the project directory (`tasks/` is under it)
   * @param loadFailurePath reads a failure-path runbook (given by `load.ts`, which owns loading)
   */
  constructor(
    readonly root: string,
    readonly loadFailurePath: FailurePathLoader,
    failurePaths = new Set<string>(),
  ) {
    this.#failurePaths = failurePaths;
  }

  /** Every problem of a runbook the schema accepted (or, leniently, of what it could read). */
  async checkRunbook(runbook: Runbook, source: Source): Promise<Problem[]> {
    const problems: Problem[] = [];
    const report = reporter(source, problems);
    this.#checkDefaults(runbook.parameters, ["parameters"], report);
    this.#checkTarget(runbook.on, ["on"], report);
    const seen = new Set<string>();
    const scope = { params: runbook.parameters, inputs: undefined, seen };
    for (const phase of ["prerequisites", "steps", "success"] as const) {
      for (const [i, step] of runbook[phase].entries()) {
        // A step the schema refused may not be readable here; the schema reported it.
        problems.push(...await this.#checkStep(step, [phase, i], source, scope).catch(() => []));
      }
    }
    for (const item of [...runbook.checklist.before, ...runbook.checklist.after]) {
      this.#checkReferences(item.item, ["checklist"], scope, report);
    }
    for (const [key, value] of Object.entries(runbook.audit?.fields ?? {})) {
      this.#checkReferences(value, ["audit", "fields", key], scope, report);
    }
    if (runbook.on_failure) {
      const name = runbook.on_failure.runbook;
      const first = !this.#failurePaths.has(name);
      this.#failurePaths.add(name);
      const other = await this.loadFailurePath(name, this.#failurePaths);
      if (!other) {
        report(["on_failure", "runbook"], `no runbook "${name}" in runbooks/`);
      } else {
        if (first && other.problems.length) {
          problems.push(...other.problems);
          report(
            ["on_failure", "runbook"],
            `runbook "${name}" has ${other.problems.length} problem(s)`,
          );
        }
        for (const [key, value] of Object.entries(runbook.on_failure.with ?? {})) {
          if (!(key in other.parameters)) {
            report(["on_failure", "with", key], `runbook "${name}" has no parameter "${key}"`);
          }
          this.#checkReferences(String(value), ["on_failure", "with", key], scope, report);
        }
      }
    }
    return problems;
  }

  /** Loads a task file once; its own problems are kept per file. */
  async loadTask(file: string): Promise<LoadedTask | undefined> {
    if (this.tasks.has(file)) return this.tasks.get(file);
    if (this.taskProblems.has(file)) return undefined;
    const problems: Problem[] = [];
    this.taskProblems.set(file, problems);
    let text: string;
    try {
      text = await Deno.readTextFile(resolve(this.root, file));
    } catch {
      problems.push({ file, line: 1, column: 1, key: "", message: "task file not found" });
      return undefined;
    }
    const source = parseSource(file, text);
    problems.push(...source.problems);
    if (problems.length) return undefined;
    const parsed = TaskSchema.safeParse(source.data);
    if (!parsed.success) {
      problems.push(...schemaProblems(source, parsed.error.issues, KNOWN_KEYS));
      return undefined;
    }
    const task = parsed.data;
    const report = reporter(source, problems);
    this.#checkDefaults(task.inputs, ["inputs"], report);
    this.#loading.add(file);
    const scope = { params: undefined, inputs: task.inputs, seen: new Set<string>() };
    for (const [i, step] of task.steps.entries()) {
      problems.push(...await this.#checkStep(step, ["steps", i], source, scope));
    }
    this.#loading.delete(file);
    const loaded = { file, task, source };
    if (problems.length === 0) this.tasks.set(file, loaded);
    return problems.length === 0 ? loaded : undefined;
  }

  async #checkStep(step: Step, path: DataPath, source: Source, scope: Scope): Promise<Problem[]> {
    const problems: Problem[] = [];
    const report = reporter(source, problems);
    const kind = stepKind(step);
    if (isOperation(kind)) {
      const problem = await OPERATIONS[kind].problem(step[kind]!, this.root);
      if (problem) report([...path, kind], problem);
    }
    if (step.id !== undefined) {
      if (scope.seen.has(step.id)) report([...path, "id"], `step id "${step.id}" is used twice`);
    }
    this.#checkTarget(step.on, [...path, "on"], report);
    if (step.when !== undefined) {
      try {
        const condition = parseCondition(step.when);
        this.#checkReferences(`\${{ ${condition.ref} }}`, [...path, "when"], scope, report);
      } catch (error) {
        report([...path, "when"], (error as Error).message);
      }
    }
    for (const field of TEXT_FIELDS) {
      const value = step[field];
      if (value !== undefined) this.#checkReferences(value, [...path, field], scope, report);
    }
    for (const [key, value] of Object.entries(step.env ?? {})) {
      this.#checkReferences(String(value), [...path, "env", key], scope, report);
    }
    if (step.run !== undefined) {
      this.#checkReferences(step.run, [...path, "run"], scope, report);
      for (const message of templateQuotingProblems(step.run)) report([...path, "run"], message);
    }
    if (step.http !== undefined) {
      this.#checkReferences(step.http.url, [...path, "http", "url"], scope, report);
    }
    if (step.uses !== undefined) {
      problems.push(...await this.#checkUses(step, path, source, scope));
    }
    if (step.id !== undefined) scope.seen.add(step.id);
    return problems;
  }

  async #checkUses(step: Step, path: DataPath, source: Source, scope: Scope): Promise<Problem[]> {
    const problems: Problem[] = [];
    const report = reporter(source, problems);
    const file = step.uses!;
    if (this.#loading.has(file)) {
      report([...path, "uses"], `${file} includes itself`);
      return problems;
    }
    const task = await this.loadTask(file);
    if (!task) {
      const inner = this.taskProblems.get(file) ?? [];
      if (inner.length === 1 && inner[0].message === "task file not found") {
        report([...path, "uses"], `task file ${file} not found`);
      } else {
        problems.push(...inner);
        report([...path, "uses"], `${file} has ${inner.length} problem(s)`);
      }
      return problems;
    }
    const inputs = task.task.inputs;
    for (const [key, value] of Object.entries(step.with ?? {})) {
      if (!(key in inputs)) {
        const known = Object.keys(inputs);
        report(
          [...path, "with", key],
          `${file} has no input "${key}"${known.length ? `; its inputs: ${known.join(", ")}` : ""}`,
        );
      }
      this.#checkReferences(String(value), [...path, "with", key], scope, report);
    }
    for (const [key, input] of Object.entries(inputs)) {
      if (input.required && input.default === undefined && step.with?.[key] === undefined) {
        report([...path, "with"], `${file} needs input "${key}"`);
      }
    }
    for (const inner of task.task.steps) {
      if (inner.id && step.id) scope.seen.add(`${step.id}.${inner.id}`);
    }
    return problems;
  }

  #checkReferences(text: string, path: DataPath, scope: Scope, report: Report): void {
    const unclosed = unclosedTemplate(text);
    if (unclosed) report(path, unclosed);
    for (const ref of templateReferences(text)) {
      const problem = referenceProblem(ref, scope);
      if (problem) report(path, problem);
    }
  }

  #checkTarget(on: string | undefined, path: DataPath, report: Report): void {
    if (on !== undefined && !SELECTOR.test(on)) {
      report(path, `"${on}" is not a target: name nodes or groups, comma-separated (web, web-1)`);
    }
  }

  #checkDefaults(declarations: Record<string, Parameter>, path: DataPath, report: Report): void {
    for (const [name, declaration] of Object.entries(declarations)) {
      if (declaration.default === undefined) continue;
      try {
        checkValue(name, declaration, declaration.default);
      } catch (error) {
        report([...path, name, "default"], (error as Error).message);
      }
    }
  }
}

type Report = (path: DataPath, message: string) => void;

/** Records problems found at paths of `source` into `problems`. */
function reporter(source: Source, problems: Problem[]): Report {
  return (path, message) =>
    problems.push({
      file: source.file,
      ...source.positionOf(path),
      key: formatPath(path),
      message,
    });
}

/** Step fields whose `${{ }}` references are checked; operands are text, never shell. */
const TEXT_FIELDS = [
  ...["name", "checklist", "message", "cwd", "confirm"] as const,
  ...Object.keys(OPERATIONS) as OperationKind[],
];

interface Scope {
  params: Record<string, Parameter> | undefined;
  inputs: Record<string, Parameter> | undefined;
  seen: Set<string>;
}

function referenceProblem(ref: string, scope: Scope): string | undefined {
  const [root, ...rest] = ref.split(".");
  const name = rest[0];
  switch (root) {
    case "params":
      if (!scope.params) {
        return `\${{ ${ref} }}: a task reads its inputs (\`inputs.x\`), not params`;
      }
      return name && name in scope.params ? undefined : `\${{ ${ref} }}: no parameter "${name}"`;
    case "inputs":
      if (!scope.inputs) return `\${{ ${ref} }}: only task files have inputs`;
      return name && name in scope.inputs ? undefined : `\${{ ${ref} }}: no input "${name}"`;
    case "steps": {
      const field = rest.at(-1);
      const id = rest.slice(0, -1).join(".");
      if (!["output", "exit_code", "status"].includes(field ?? "") || !id) {
        return `\${{ ${ref} }}: expected steps.<id>.output, .exit_code or .status`;
      }
      return scope.seen.has(id) ? undefined : `\${{ ${ref} }}: no earlier step with id "${id}"`;
    }
    case "run":
      return RUN_FIELDS.includes(name) && rest.length === 1
        ? undefined
        : `\${{ ${ref} }}: run has ${RUN_FIELDS.join(", ")}`;
    case "vars":
    case "app":
      return name ? undefined : `\${{ ${ref} }}: name a field, as in ${root}.name`;
    case "target":
      return (TARGET_FIELDS as readonly string[]).includes(name) && rest.length === 1
        ? undefined
        : `\${{ ${ref} }}: target has ${TARGET_FIELDS.join(", ")}`;
    default:
      return `\${{ ${ref} }}: unknown; use params, inputs, vars, app, steps, run or target`;
  }
}
