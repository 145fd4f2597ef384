/**
 * Loading runbooks and task files: read, parse with positions, check against the schema, then
 * the cross-checks of `check.ts` — every problem found before anything runs. A runbook is
 * named by id (`deploy`, from `runbooks/`) or by a path, relative to the project or absolute.
 *
 * @example
 * ```ts
 * import { loadRunbook } from "./load.ts";
 * const loaded = await loadRunbook(Deno.cwd(), "deploy");
 * console.log(loaded.runbook.title, loaded.tasks.size);
 * ```
 * @module
 */
import { isAbsolute, join, relative, resolve } from "node:path";
import {
  InvalidFileError,
  parseSource,
  type Problem,
  schemaProblems,
  type Source,
} from "../source/mod.ts";
import { KNOWN_KEYS, type Runbook, RunbookSchema } from "./schema.ts";
import { Checker, type FailurePathLoader, type LoadedTask } from "./check.ts";

export type { LoadedTask } from "./check.ts";

/** A runbook and every task it includes, parsed and checked. */
export interface LoadedRunbook {
  file: string;
  runbook: Runbook;
  source: Source;
  /** Included task files by their path relative to the project root (`tasks/x.yaml`). */
  tasks: Map<string, LoadedTask>;
}

/**
 * The path of a runbook given by id (`deploy`) or by path (`runbooks/deploy.yaml`, or an
 * absolute path anywhere): resolved, never joined onto the root blindly.
 *
 * @example
 * ```ts
 * import { runbookPath } from "./load.ts";
 * runbookPath("/srv/project", "deploy"); // "/srv/project/runbooks/deploy.yaml"
 * runbookPath("/srv/project", "/tmp/x.yaml"); // "/tmp/x.yaml"
 * ```
 */
export function runbookPath(root: string, name: string): string {
  return /\.ya?ml$/.test(name) ? resolve(root, name) : join(root, "runbooks", `${name}.yaml`);
}

/**
 * How a file is named in problems: relative to the project when it is inside it, else as given.
 *
 * @example
 * ```ts
 * import { displayPath } from "./load.ts";
 * displayPath("/srv/project", "/srv/project/runbooks/x.yaml"); // "runbooks/x.yaml"
 * displayPath("/srv/project", "/tmp/x.yaml"); // "/tmp/x.yaml"
 * ```
 */
export function displayPath(root: string, path: string): string {
  const inside = relative(root, path);
  return inside.startsWith("..") || isAbsolute(inside) ? path : inside;
}

/**
 * Ids of the runbooks in `runbooks/`, sorted.
 *
 * @example
 * ```ts
 * import { listRunbooks } from "./load.ts";
 * (await listRunbooks(Deno.cwd())).includes("deploy"); // true in this project
 * ```
 */
export async function listRunbooks(root: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const entry of Deno.readDir(join(root, "runbooks"))) {
    if (entry.isFile && entry.name.endsWith(".yaml")) ids.push(entry.name.slice(0, -5));
  }
  return ids.sort();
}

/**
 * Loads and checks a runbook and its tasks; throws {@link InvalidFileError} with every problem.
 *
 * @example
 * ```ts
 * import { loadRunbook } from "./load.ts";
 * const { runbook } = await loadRunbook(Deno.cwd(), "runbooks/rollback.yaml");
 * runbook.id; // "rollback"
 * ```
 */
export async function loadRunbook(
  root: string,
  name: string,
  failurePaths = new Set<string>(),
): Promise<LoadedRunbook> {
  const path = runbookPath(root, name);
  const file = displayPath(root, path);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    const known = await listRunbooks(root).catch(() => []);
    throw new InvalidFileError([{
      file,
      line: 1,
      column: 1,
      key: "",
      message: `no runbook "${name}"${known.length ? `; runbooks: ${known.join(", ")}` : ""}`,
    }]);
  }
  return await checkRunbookText(root, file, text, failurePaths);
}

async function checkRunbookText(
  root: string,
  file: string,
  text: string,
  failurePaths: Set<string>,
): Promise<LoadedRunbook> {
  const source = parseSource(file, text);
  if (source.problems.length) throw new InvalidFileError(source.problems);
  const parsed = RunbookSchema.safeParse(source.data);
  if (!parsed.success) {
    const problems = schemaProblems(source, parsed.error.issues, KNOWN_KEYS);
    // The cross-checks too, on what the schema could not accept, so one run shows everything.
    const lenient = lenientRunbook(source.data);
    if (lenient) {
      const checker = new Checker(root, failurePathLoader(root), new Set([...failurePaths]));
      const more = await checker.checkRunbook(lenient, source).catch(() => []);
      const refused = problems.map((problem) => problem.key);
      problems.push(...more.filter((problem) => !coveredBy(problem.key, refused)));
    }
    throw new InvalidFileError(problems);
  }
  const runbook = parsed.data;
  const checker = new Checker(
    root,
    failurePathLoader(root),
    new Set([...failurePaths, runbook.id]),
  );
  const problems = await checker.checkRunbook(runbook, source);
  if (problems.length) throw new InvalidFileError(problems);
  return { file, runbook, source, tasks: checker.tasks };
}

/** Reads a failure-path runbook once: its parameters and, the first time, its problems. */
function failurePathLoader(root: string): FailurePathLoader {
  return async (name, failurePaths) => {
    const path = runbookPath(root, name);
    const text = await Deno.readTextFile(path).catch(() => undefined);
    if (text === undefined) return undefined;
    const file = displayPath(root, path);
    const raw = parseSource(file, text).data as { parameters?: unknown } | undefined;
    const parameters = isRecord(raw?.parameters) ? raw.parameters : {};
    try {
      await checkRunbookText(root, file, text, failurePaths);
      return { parameters, problems: [] };
    } catch (error) {
      if (error instanceof InvalidFileError) return { parameters, problems: error.problems };
      throw error;
    }
  };
}

/**
 * Whether a cross-check's finding at `key` is about something the schema already refused:
 * the same key, or a sibling inside the same refused parameter or step (its other fields are
 * not to be trusted).
 */
function coveredBy(key: string, refused: string[]): boolean {
  return refused.some((other) => {
    if (other === key) return true;
    const parent = other.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
    // Only inside one parameter or step: a refused step does not hide problems of the others.
    return /[.[]/.test(parent) &&
      (key === parent || key.startsWith(`${parent}.`) || key.startsWith(`${parent}[`));
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * What the cross-checks can read of a runbook the schema refused: its lists and mappings where
 * they have the right shape, empty where they do not. Steps are kept at their index (so
 * problems point where they are); a step the checks cannot read is skipped by them.
 */
function lenientRunbook(data: unknown): Runbook | undefined {
  if (!isRecord(data)) return undefined;
  const steps = (value: unknown) =>
    Array.isArray(value) ? value.map((s) => isRecord(s) ? s : {}) : [];
  // Checklist items read as `{ item }`, the shape the schema gives them.
  const gates = (value: unknown) =>
    Array.isArray(value)
      ? value.map((v) => typeof v === "string" ? { item: v } : isRecord(v) ? v : {})
        .filter((v) => typeof v.item === "string")
      : [];
  const parameters = Object.fromEntries(
    Object.entries(isRecord(data.parameters) ? data.parameters : {}).filter(([, v]) => isRecord(v)),
  );
  const checklist = isRecord(data.checklist) ? data.checklist : {};
  const audit = isRecord(data.audit) && isRecord(data.audit.fields) ? data.audit : undefined;
  const failure = isRecord(data.on_failure) && typeof data.on_failure.runbook === "string"
    ? {
      runbook: data.on_failure.runbook,
      with: isRecord(data.on_failure.with) ? data.on_failure.with : {},
    }
    : undefined;
  return {
    ...data,
    on: typeof data.on === "string" ? data.on : undefined,
    parameters,
    prerequisites: steps(data.prerequisites),
    steps: steps(data.steps),
    success: steps(data.success),
    checklist: { before: gates(checklist.before), after: gates(checklist.after) },
    audit,
    on_failure: failure,
  } as unknown as Runbook;
}

/** What a YAML file holds, decided by its content. */
export type FileKind = "runbook" | "task";

const RUNBOOK_ONLY = [
  "when",
  "sop",
  "on",
  "strategy",
  "lock",
  "parameters",
  "vars",
  "prerequisites",
  "checklist",
  "success",
  "audit",
  "approval",
  "emergency",
  "on_failure",
];

/**
 * Whether a file is a runbook or a task, by what it says: `inputs:` makes a task, any key only
 * runbooks have (`when:`, `parameters:`, `on_failure:` ...) a runbook. A file with neither
 * (`id`, `title`, `steps` only) is a task under `tasks/`, else a runbook.
 *
 * @example
 * ```ts
 * import { fileKind } from "./load.ts";
 * fileKind({ id: "x", when: "always", steps: [] }, "elsewhere/x.yaml"); // "runbook"
 * fileKind({ id: "x", inputs: {}, steps: [] }, "runbooks/x.yaml"); // "task"
 * ```
 */
export function fileKind(data: unknown, file: string): FileKind {
  if (isRecord(data)) {
    if (RUNBOOK_ONLY.some((key) => key in data)) return "runbook";
    if ("inputs" in data) return "task";
  }
  return /(^|\/)tasks\//.test(file) ? "task" : "runbook";
}

/**
 * Checks one runbook or task file as `validate` does (the kind decided by its content);
 * returns its problems. `file` is relative to the project or absolute.
 *
 * @example
 * ```ts
 * import { validateFile } from "./load.ts";
 * await validateFile(Deno.cwd(), "tasks/health.yaml"); // [] when it is sound
 * ```
 */
export async function validateFile(root: string, file: string): Promise<Problem[]> {
  const path = resolve(root, file);
  const shown = displayPath(root, path);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return [{ file: shown, line: 1, column: 1, key: "", message: "file not found" }];
  }
  const source = parseSource(shown, text);
  if (source.problems.length) return source.problems;
  if (fileKind(source.data, shown) === "runbook") {
    try {
      await checkRunbookText(root, shown, text, new Set());
      return [];
    } catch (error) {
      if (error instanceof InvalidFileError) return error.problems;
      throw error;
    }
  }
  const checker = new Checker(root, failurePathLoader(root));
  await checker.loadTask(shown);
  return checker.taskProblems.get(shown) ?? [];
}

/**
 * The runbook and task files under `dir`, sorted, as `validate DIR` checks them.
 *
 * @example
 * ```ts
 * import { yamlFilesUnder } from "./load.ts";
 * (await yamlFilesUnder(`${Deno.cwd()}/runbooks`)).length > 0; // true in this project
 * ```
 */
export async function yamlFilesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await yamlFilesUnder(path));
    else if (entry.isFile && /\.ya?ml$/.test(entry.name)) files.push(path);
  }
  return files.sort();
}
