/**
 * Shell quoting: how a value becomes exactly one POSIX shell word. Every command this tool
 * builds for a shell (locally or on a node) quotes its values here, so a parameter such as
 * `v1.2.0; rm -rf /` stays one harmless argument.
 *
 * @example
 * ```ts
 * import { shellJoin, shellQuote } from "./quote.ts";
 * shellQuote("it's"); // "'it'\\''s'"
 * shellJoin(["echo", "a b", "c"]); // "echo 'a b' c"
 * ```
 * @module
 */

/** Quotes a value as one POSIX shell word: single quotes, with each `'` closed, escaped, reopened. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Joins argv into one shell command line: each word quoted only when it needs to be.
 *
 * @example
 * ```ts
 * import { shellJoin } from "./quote.ts";
 * shellJoin(["echo", "a b", "c"]); // "echo 'a b' c"
 * ```
 */
export function shellJoin(argv: readonly string[]): string {
  return argv.map((word) => /^[\w@%+=:,./-]+$/.test(word) ? word : shellQuote(word)).join(" ");
}
