/**
 * `when:` conditions. Deliberately small: a reference, its negation, or a comparison with a
 * literal. Anything richer belongs in a `run:` step whose exit code decides.
 *
 * @example
 * ```ts
 * import { evaluateCondition, parseCondition } from "./condition.ts";
 * const condition = parseCondition("params.strategy == 'release'");
 * evaluateCondition(condition, (ref) => ref === "params.strategy" ? "release" : undefined); // true
 * ```
 * @module
 */
import type { Lookup, TemplateValue } from "../template.ts";
import { REFERENCE_PATTERN } from "../template.ts";

/** A parsed condition. */
export type Condition =
  | { kind: "truthy"; ref: string; negate: boolean }
  | { kind: "compare"; ref: string; op: "==" | "!="; value: TemplateValue };

/** Parses a condition; throws an Error whose message says what is accepted. */
export function parseCondition(text: string): Condition {
  const source = text.trim().replace(/^\$\{\{\s*(.*?)\s*\}\}$/, "$1");
  const compare = /^([\w.-]+)\s*(==|!=)\s*(.+)$/.exec(source);
  if (compare) {
    const [, ref, op, literal] = compare;
    assertReference(ref, text);
    return { kind: "compare", ref, op: op as "==" | "!=", value: parseLiteral(literal, text) };
  }
  const negate = source.startsWith("!");
  const ref = negate ? source.slice(1).trim() : source;
  assertReference(ref, text);
  return { kind: "truthy", ref, negate };
}

/** The reference a condition reads. */
export function conditionReference(condition: Condition): string {
  return condition.ref;
}

/** Evaluates a condition; an unknown reference counts as false (and `!` of it as true). */
export function evaluateCondition(condition: Condition, lookup: Lookup): boolean {
  const value = lookup(condition.ref);
  if (condition.kind === "truthy") {
    const truthy = value !== undefined && value !== false && value !== "" && value !== "false" &&
      value !== 0 && value !== "0";
    return condition.negate ? !truthy : truthy;
  }
  const equal = String(value) === String(condition.value);
  return condition.op === "==" ? equal : !equal;
}

function assertReference(ref: string, text: string): void {
  if (!REFERENCE_PATTERN.test(ref)) {
    throw new Error(
      `cannot read condition "${text}": expected \`ref\`, \`!ref\`, \`ref == 'value'\` or \`ref != 'value'\``,
    );
  }
}

function parseLiteral(literal: string, text: string): TemplateValue {
  const trimmed = literal.trim();
  const quoted = /^'(.*)'$|^"(.*)"$/.exec(trimmed);
  if (quoted) return quoted[1] ?? quoted[2];
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  throw new Error(`cannot read condition "${text}": quote the value, as in 'release'`);
}
