/**
 * `${{ expr }}` templates.
 *
 * Templates resolve in two modes. In `shell` mode, used for `run:` scripts, every value becomes
 * exactly one single-quoted shell word, so a parameter such as `v1.2.0; rm -rf /` stays one
 * harmless argument. In `text` mode, used for names, URLs and `with:` inputs, the value is
 * inserted as it is.
 *
 * @example
 * ```ts
 * import { renderTemplate } from "./template.ts";
 * const lookup = (ref: string) => ref === "params.version" ? "v1.2.0" : undefined;
 * renderTemplate("git checkout ${{ params.version }}", lookup, "shell"); // "git checkout 'v1.2.0'"
 * ```
 * @module
 */
import { InputError } from "./errors.ts";
import { shellQuote } from "./shell/quote.ts";

/** A scalar a template can produce. */
export type TemplateValue = string | number | boolean;

/** Finds the value of a reference such as `params.version`; `undefined` when it is unknown. */
export type Lookup = (ref: string) => TemplateValue | undefined;

/** Matches one `${{ ref }}` occurrence; the reference is captured trimmed. */
export const TEMPLATE_PATTERN = /\$\{\{\s*([^}]*?)\s*\}\}/g;

/** A reference must be a dotted path of identifiers: `params.version`, `steps.switch.output`. */
export const REFERENCE_PATTERN = /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/;

/** Every reference a template string uses, in order. */
export function templateReferences(text: string): string[] {
  return [...text.matchAll(TEMPLATE_PATTERN)].map((m) => m[1]);
}

/** Raised when a template names something that has no value. */
export class TemplateError extends InputError {
  constructor(readonly reference: string, message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

/**
 * Replaces every `${{ ref }}` in `text`. `unresolved` decides what an unknown reference becomes;
 * by default it is an error, which is what a run wants. Plans pass a placeholder instead.
 */
export function renderTemplate(
  text: string,
  lookup: Lookup,
  mode: "shell" | "text",
  unresolved?: (ref: string) => string,
): string {
  return text.replace(TEMPLATE_PATTERN, (_match, ref: string) => {
    const value = lookup(ref);
    if (value === undefined) {
      if (unresolved) return unresolved(ref);
      throw new TemplateError(ref, `\${{ ${ref} }} has no value`);
    }
    return mode === "shell" ? shellQuote(String(value)) : String(value);
  });
}

/** Renders the string values of a mapping as text templates; other scalars stay as they are. */
export function renderValues(
  values: Record<string, TemplateValue>,
  lookup: Lookup,
  unresolved?: (ref: string) => string,
): Record<string, TemplateValue> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      typeof value === "string" ? renderTemplate(value, lookup, "text", unresolved) : value,
    ]),
  );
}

/**
 * Places in a shell script where a template would not end up as one quoted word: inside single
 * quotes (the value would be unquoted), inside double quotes (the quotes would become part of
 * the value), or in a here-document (where `$(...)` in a value would run). Returns messages.
 */
export function templateQuotingProblems(script: string): string[] {
  const problems: string[] = [];
  let quote: "'" | '"' | null = null;
  // `$(...)` starts a fresh quoting context, even inside double quotes.
  const outer: ("'" | '"' | null)[] = [];
  // A here-document starts with `<<WORD` (or `<<-`, quoted WORD); `$((1<<2))` is arithmetic.
  const heredoc = script.search(/<<-?\s*['"]?[A-Za-z_]/);
  for (let i = 0; i < script.length; i++) {
    const char = script[i];
    if (script.startsWith("${{", i)) {
      const end = script.indexOf("}}", i);
      const template = script.slice(i, end < 0 ? undefined : end + 2);
      if (heredoc >= 0 && i > heredoc) {
        problems.push(`${template} is in a here-document, where it would not stay one quoted word`);
      } else if (quote === "'") {
        problems.push(`${template} is inside single quotes; write it bare: it is quoted for you`);
      } else if (quote === '"') {
        problems.push(`${template} is inside double quotes; write it bare: it is quoted for you`);
      }
      if (end >= 0) i = end + 1;
      continue;
    }
    if (char === "\\" && quote !== "'") i++;
    else if (quote !== "'" && script.startsWith("$(", i)) {
      outer.push(quote);
      quote = null;
      i++;
    } else if (quote === null && char === ")" && outer.length) quote = outer.pop()!;
    else if (quote === null && (char === "'" || char === '"')) quote = char;
    else if (char === quote) quote = null;
  }
  return problems;
}
