/**
 * Regular expressions from policy files, refused when they could backtrack catastrophically.
 *
 * Policy patterns run in-process against facts from a target, and a target under attack chooses
 * those facts. JavaScript's RegExp backtracks, so `(a+)+$` on a long line takes seconds. Rather
 * than pull in an RE2 binding, the patterns policies need (keywords, alternations, classes) are
 * kept to a subset with no nested or adjacent-overlapping quantifiers and no backreferences or
 * lookarounds; inputs are cut to {@link MAX_INPUT} characters.
 *
 * @example
 * ```ts
 * import { unsafeRegexReason } from "./safe_regex.ts";
 * unsafeRegexReason("\\beval\\s*\\("); // undefined
 * unsafeRegexReason("(a+)+$"); // "nested quantifier ..."
 * ```
 * @module
 */

/** Longest input a policy regex sees. */
export const MAX_INPUT = 4096;

/** Why a pattern is refused, or undefined when it is fine. */
export function unsafeRegexReason(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
  } catch (error) {
    return `not a valid regular expression: ${(error as Error).message}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return "backreferences are not allowed";
  if (/\(\?<?[=!]/.test(pattern)) return "lookarounds are not allowed";
  // A quantified group that itself contains a quantifier: (a+)+, (a|b*)*, (x{2,})+ ...
  const stack: boolean[] = [];
  let quantifiedInside = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "[") {
      while (i < pattern.length && pattern[i] !== "]") i += pattern[i] === "\\" ? 2 : 1;
      continue;
    }
    if (c === "(") {
      stack.push(quantifiedInside);
      quantifiedInside = false;
    } else if (c === ")") {
      const inner: boolean = quantifiedInside;
      quantifiedInside = stack.pop() ?? false;
      const next = pattern[i + 1];
      if (inner && (next === "*" || next === "+" || next === "{")) {
        return "nested quantifier (a quantified group containing a quantifier) can backtrack " +
          "catastrophically";
      }
      quantifiedInside ||= inner;
    } else if (c === "*" || c === "+" || c === "{") {
      quantifiedInside = true;
    }
  }
  return undefined;
}

/** Compiles a pattern known to be safe (checked at load) for testing facts. */
export function safeRegex(pattern: string): { test(input: string): boolean } {
  const regex = new RegExp(pattern);
  return { test: (input: string) => regex.test(input.slice(0, MAX_INPUT)) };
}
