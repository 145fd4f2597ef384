/**
 * Regular expressions from policy files, refused when they could backtrack catastrophically.
 *
 * Policy patterns run in-process against facts from a target, and a target under attack chooses
 * those facts. JavaScript's RegExp backtracks, so `(a+)+$` on a long line takes seconds. Rather
 * than pull in an RE2 binding, the patterns policies need (keywords, alternations, classes) are
 * kept to a subset with no nested quantifiers, no repeated alternations (`(a|ab)+`: alternatives
 * that overlap backtrack like nested quantifiers) and no backreferences or lookarounds; inputs
 * are cut to {@link MAX_INPUT} characters. The same rule holds for patterns that run on a
 * node's `grep -E` (see {@link ereProblem}), which are also checked as POSIX ERE.
 *
 * @example
 * ```ts
 * import { unsafeRegexReason } from "./safe_regex.ts";
 * unsafeRegexReason("\\beval\\s*\\("); // undefined
 * unsafeRegexReason("(a+)+$"); // "nested quantifier ..."
 * ```
 * @module
 */
import { z } from "../source/zod.ts";

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
  // A quantified group that itself contains a quantifier or an alternation: (a+)+, (a|ab)*,
  // (x{2,})+ ... Each open group remembers what its parent had seen so far.
  const stack: { quantified: boolean; alternation: boolean }[] = [];
  let quantifiedInside = false;
  let alternationInside = false;
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
      stack.push({ quantified: quantifiedInside, alternation: alternationInside });
      quantifiedInside = alternationInside = false;
    } else if (c === ")") {
      const inner: { quantified: boolean; alternation: boolean } = {
        quantified: quantifiedInside,
        alternation: alternationInside,
      };
      const outer = stack.pop() ?? { quantified: false, alternation: false };
      const next = pattern[i + 1];
      const repeated = next === "*" || next === "+" || next === "{";
      if (repeated && inner.quantified) {
        return "nested quantifier (a quantified group containing a quantifier) can backtrack " +
          "catastrophically";
      }
      if (repeated && inner.alternation) {
        return "repeated alternation (a quantified group containing |) can backtrack " +
          "catastrophically; repeat a character class instead";
      }
      quantifiedInside = outer.quantified || inner.quantified;
      alternationInside = outer.alternation || inner.alternation;
    } else if (c === "|") {
      alternationInside = true;
    } else if (c === "*" || c === "+" || c === "{") {
      quantifiedInside = true;
    }
  }
  return undefined;
}

/**
 * Why a pattern cannot run as POSIX ERE on a node's `grep -E` with the meaning it has here
 * (undefined when it can): JavaScript-only syntax would silently match something else there.
 */
export function ereProblem(pattern: string): string | undefined {
  if (pattern.includes("(?")) return "`(?` groups are not POSIX ERE (the scan runs grep -E)";
  const escape = /\\([dDpPu])/.exec(pattern.replaceAll("\\\\", ""));
  if (escape) return `\\${escape[1]} is not POSIX ERE (the scan runs grep -E): use a class`;
  if (/\[\^?\]/.test(pattern.replace(/\\./g, ""))) {
    return "`[]...]` and `[^]...]` mean different things to grep -E and JavaScript: avoid them";
  }
  if (/[*+?}]\?/.test(pattern.replace(/\\./g, ""))) {
    return "lazy quantifiers are not POSIX ERE (the scan runs grep -E)";
  }
  return undefined;
}

/** A policy regular expression: refused at load when {@link unsafeRegexReason} says so. */
export const SafePattern: z.ZodString = z.string().superRefine((pattern, ctx) => {
  const reason = unsafeRegexReason(pattern);
  if (reason) ctx.addIssue({ code: "custom", message: reason });
}) as unknown as z.ZodString;

/** A pattern that runs on a node's `grep -E` and here: safe, and POSIX ERE. */
export const SafeErePattern: z.ZodString = z.string().min(1).superRefine((pattern, ctx) => {
  const reason = unsafeRegexReason(pattern) ?? ereProblem(pattern);
  if (reason) ctx.addIssue({ code: "custom", message: reason });
}) as unknown as z.ZodString;

/** Compiles a pattern known to be safe (checked at load) for testing facts. */
export function safeRegex(
  pattern: string,
): { test(input: string): boolean; indices(input: string): number[] } {
  const regex = new RegExp(pattern);
  const global = new RegExp(pattern, "g");
  return {
    test: (input: string) => regex.test(input.slice(0, MAX_INPUT)),
    /** Where each match starts. */
    indices: (input: string) => [...input.slice(0, MAX_INPUT).matchAll(global)].map((m) => m.index),
  };
}
