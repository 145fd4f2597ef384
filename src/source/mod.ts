/**
 * YAML sources with positions: every problem found in a runbook names `file:line:column`.
 *
 * @example
 * ```ts
 * import { parseSource } from "./mod.ts";
 * const source = parseSource("runbooks/x.yaml", "id: x\nsteps:\n  - name: a\n");
 * source.positionOf(["steps", 0, "name"]); // { line: 3, column: 11 }
 * ```
 * @module
 */
import { printable } from "./printable.ts";
export { printable } from "./printable.ts";
import { isMap, isScalar, LineCounter, parseDocument, visit } from "./yaml.ts";
import type { Document, YAMLMap } from "yaml";
import type { z } from "./zod.ts";
import { InputError } from "../errors.ts";

/** A path into a YAML document: keys and sequence indexes. */
export type DataPath = readonly (string | number)[];

/** One thing wrong with a file, with where it is. */
export interface Problem {
  file: string;
  line: number;
  column: number;
  /** The key, as `steps[2].timeout`; empty for the whole document. */
  key: string;
  message: string;
}

/**
 * A file (runbook, task, policy, schedule, drill, configuration) that cannot be used: every
 * problem found, each with `file:line:column`. Exit 2; nothing was run.
 */
export class InvalidFileError extends InputError {
  constructor(readonly problems: Problem[]) {
    super(`${problems.length} problem${problems.length === 1 ? "" : "s"} found`);
  }
}

/** A parsed YAML file that can say where any of its keys are. */
export interface Source {
  file: string;
  data: unknown;
  /** YAML syntax problems; when there are any, `data` is not to be trusted. */
  problems: Problem[];
  /** Where the node at `path` starts; the nearest existing ancestor when it is absent. */
  positionOf(path: DataPath): { line: number; column: number };
  /** Where the key `key` of the mapping at `path` is written. */
  keyPositionOf(path: DataPath, key: string): { line: number; column: number };
}

/** Renders a data path as a reader writes it: `steps[2].run`. */
export function formatPath(path: DataPath): string {
  return path.map((part, i) =>
    typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`
  ).join("");
}

/** Formats a problem the way compilers do, so editors and terminals can jump to it. */
export function formatProblem(problem: Problem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  const text = problem.key
    ? `${where}: ${problem.key}: ${problem.message}`
    : `${where}: ${problem.message}`;
  // One problem is one line, whatever its key or value holds.
  return printable(text).replaceAll("\n", "\\n");
}

/** Parses YAML text, keeping what is needed to point at any key. */
export function parseSource(file: string, text: string): Source {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const positionOf = (path: DataPath) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
      const range = (node as { range?: [number, number, number] } | null)?.range;
      if (range) return at(range[0]);
    }
    return { line: 1, column: 1 };
  };
  const keyPositionOf = (path: DataPath, key: string) => {
    const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
    if (isMap(node)) {
      const pair = (node as YAMLMap).items.find((item) =>
        isScalar(item.key) && String(item.key.value) === key
      );
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) return at(range[0]);
    }
    return positionOf([...path, key]);
  };
  const problems: Problem[] = [...doc.errors, ...doc.warnings].map((error) => {
    const opening = error.code === "MISSING_CHAR" && /^Missing closing/.test(error.message)
      ? openingQuote(doc, error.pos[0])
      : undefined;
    if (opening !== undefined) {
      return {
        file,
        ...at(opening),
        key: "",
        message: "YAML: this quote is never closed (the file ends inside it)",
      };
    }
    return {
      file,
      line: error.linePos?.[0].line ?? 1,
      column: error.linePos?.[0].col ?? 1,
      key: "",
      message: `YAML: ${error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
    };
  });
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // The parser's own reason (an alias bomb: "Excessive alias count ..."), not a schema
    // complaint about the empty document it leaves behind.
    problems.push({
      file,
      line: 1,
      column: 1,
      key: "",
      message: `YAML: ${(error as Error).message.split("\n")[0]}`,
    });
  }
  return { file, data, problems, positionOf, keyPositionOf };
}

/** Where the quoted scalar that runs to `end` (an unclosed quote) starts. */
function openingQuote(doc: Document, end: number): number | undefined {
  let start: number | undefined;
  visit(doc, {
    Scalar(_key, node) {
      const quoted = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE";
      if (quoted && node.range && node.range[1] >= end - 1) start ??= node.range[0];
    },
  });
  return start;
}

/**
 * Turns zod issues into problems that point at the offending key. An unknown key is compared
 * with `knownKeys` (the file kind's vocabulary) to suggest what was meant.
 */
export function schemaProblems(
  source: Source,
  issues: readonly z.core.$ZodIssue[],
  knownKeys: readonly string[] = [],
): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const path = issue.path as (string | number)[];
    // "A or B" refused: report what the one branch of the value's own type said (an unknown
    // key in `{ item, min_wait }`), not a bare "Invalid input".
    const branch = issue.code === "invalid_union" ? typedBranch(issue.errors) : undefined;
    if (branch) {
      const nested = branch.map((inner) => ({ ...inner, path: [...path, ...inner.path] }));
      return schemaProblems(source, nested, knownKeys);
    }
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        file: source.file,
        ...source.keyPositionOf(path, key),
        key: formatPath([...path, key]),
        message: `unknown key \`${key}\`${suggestion(key, knownKeys)}`,
      }));
    }
    return [{
      file: source.file,
      ...source.positionOf(path),
      key: formatPath(path),
      message: describeIssue(issue, source, path),
    }];
  });
}

/** The one branch of a union whose failure is not "wrong type": the value's own kind. */
function typedBranch(
  branches: readonly (readonly z.core.$ZodIssue[])[],
): readonly z.core.$ZodIssue[] | undefined {
  const wrongType = (issues: readonly z.core.$ZodIssue[]) =>
    issues.length === 1 && issues[0].code === "invalid_type" && issues[0].path.length === 0;
  const typed = branches.filter((issues) => !wrongType(issues));
  return typed.length === 1 ? typed[0] : undefined;
}

function describeIssue(issue: z.core.$ZodIssue, source: Source, path: DataPath): string {
  if (issue.code === "invalid_type" && valueAt(source.data, path) === undefined) {
    return `is required (expected ${issue.expected})`;
  }
  if (issue.code === "invalid_type") {
    return `expected ${issue.expected}, got ${describeValue(valueAt(source.data, path))}`;
  }
  if (issue.code === "invalid_value" && "values" in issue) {
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${
      describeValue(valueAt(source.data, path))
    }`;
  }
  return issue.message;
}

function valueAt(data: unknown, path: DataPath): unknown {
  let value = data;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The nearest known key; never the key itself (known elsewhere, it is simply not allowed here). */
function suggestion(key: string, knownKeys: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of knownKeys) {
    const distance = editDistance(key, known);
    if (distance > 0 && distance < bestDistance) [best, bestDistance] = [known, distance];
  }
  return best ? ` (did you mean \`${best}\`?)` : "";
}

function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j], before[j - 2] + 1);
      }
    }
    [before, previous] = [previous, current];
  }
  return previous[b.length];
}
