/**
 * Where a pattern matched on a line of PHP: in code, inside a string literal, inside a comment,
 * or as a method/static call or a definition (`$redis->eval(`, `Foo::system(`,
 * `function exec(`), which are not the dangerous built-in at all. The scan only sees matching
 * lines, so this reads one line: quotes, `//`, `#` (not `#[` attributes) and `/* … *\/` on it,
 * and a line that starts with `*` as the inside of a doc block.
 *
 * @example
 * ```ts
 * import { phpHitContext } from "./php_context.ts";
 * phpHitContext('echo "never use eval() here";', 16); // "string"
 * phpHitContext("$redis->eval($script);", 8); // "method"
 * phpHitContext("eval($_POST['c']);", 0); // "code"
 * ```
 * @module
 */

/** The files read as PHP: what the shipped policies scan as PHP (`*.php`, `*.phtml`, …). */
export const PHP_FILE = /\.(php[0-9]?|phtml|inc)$/i;

/**
 * `regex` (POSIX ERE) narrowed to the matches {@link phpHitContext} may call something other
 * than `method`: what is right before the match, blanks aside, is not `->` or `::`; or a quote
 * or comment character stands before it (the match may sit in a string or a comment, which is
 * a mention). The scan hands this to grep on the node, so lines where every match is plainly
 * `$pdo->exec(` or `Foo::system(` never travel back. It keeps more, never less, than the
 * context rules would: the findings stay the same.
 *
 * @example
 * ```ts
 * import { phpCallSitePattern } from "./php_context.ts";
 * const ere = phpCallSitePattern("\\bexec\\s*\\(");
 * // grep -E -e "$ere" matches `exec($c);` and `$s = "->exec(";`, not `$pdo->exec($sql);`
 * ```
 */
export function phpCallSitePattern(regex: string): string {
  return `(^|[^>:[:space:]]|[^-]>|[^:]:|^[>:])[[:space:]]*(${regex})|["'\`#/*].*(${regex})`;
}

/** What a match is: a call in code, a mention, or a call of something else. */
export type PhpContext = "code" | "string" | "comment" | "method" | "definition";

/** The lexical state at `index` of `line`: code, string or comment. */
function lexicalState(line: string, index: number): "code" | "string" | "comment" {
  const trimmed = line.trimStart();
  if (trimmed.startsWith("*") && !trimmed.startsWith("*/")) return "comment";
  let quote: string | undefined;
  for (let i = 0; i < index; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"' || c === "`") quote = c;
    else if (c === "/" && line[i + 1] === "/") return "comment";
    else if (c === "#" && line[i + 1] !== "[") return "comment";
    else if (c === "/" && line[i + 1] === "*") {
      const end = line.indexOf("*/", i + 2);
      if (end < 0 || end + 2 > index) return "comment";
      i = end + 1;
    }
  }
  return quote ? "string" : "code";
}

/** Classifies the match starting at `index` (the function's name, or `$` of a variable). */
export function phpHitContext(line: string, index: number): PhpContext {
  const state = lexicalState(line, index);
  if (state !== "code") return state;
  const before = line.slice(0, index).trimEnd();
  if (before.endsWith("->") || before.endsWith("::")) return "method";
  if (/\bfunction\s*&?$/i.test(before)) return "definition";
  return "code";
}
