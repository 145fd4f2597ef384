/**
 * Binding and checking parameters: from the command line (`sop:deploy v1.2.0`, `-p key=value`)
 * to typed values, each checked against its declared type and pattern before anything runs.
 *
 * @example
 * ```ts
 * import { bindParameters } from "./params.ts";
 * const params = bindParameters(
 *   { version: { type: "string", pattern: "^v\\d+\\.\\d+\\.\\d+$", required: true, positional: true } },
 *   ["v1.2.0"],
 *   {},
 * );
 * console.log(params.version); // "v1.2.0"
 * ```
 * @module
 */
import { InputError } from "../errors.ts";
import type { Parameter } from "./schema.ts";
import type { TemplateValue } from "../template.ts";

/** A parameter value that does not fit its declaration, or a missing required one. */
export class ParameterError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = "ParameterError";
  }
}

/** Declarations as written in YAML: defaults for `type`, `required`, `positional` may be absent. */
export type ParameterDeclarations = Record<
  string,
  Partial<Parameter> & Pick<Parameter, "type" | "required" | "positional">
>;

/**
 * Binds positional arguments (in declaration order of `positional: true` parameters) and named
 * values, applies defaults, and checks every value. Throws {@link ParameterError}.
 */
export function bindParameters(
  declarations: ParameterDeclarations,
  positional: readonly string[],
  named: Record<string, string | TemplateValue>,
): Record<string, TemplateValue> {
  const slots = Object.entries(declarations).filter(([, p]) => p.positional).map(([n]) => n);
  if (positional.length > slots.length) {
    const extra = positional.slice(slots.length).join(" ");
    throw new ParameterError(
      slots.length === 0
        ? `unexpected argument "${extra}": this runbook takes no positional parameters`
        : `unexpected argument "${extra}": positional parameters are ${slots.join(", ")}`,
    );
  }
  const given: Record<string, string | TemplateValue> = {};
  positional.forEach((value, i) => given[slots[i]] = value);
  for (const [name, value] of Object.entries(named)) {
    if (!(name in declarations)) {
      const known = Object.keys(declarations);
      throw new ParameterError(
        `unknown parameter "${name}"; ${
          known.length ? `this runbook takes ${known.join(", ")}` : "this runbook takes none"
        }`,
      );
    }
    if (name in given) throw new ParameterError(`parameter "${name}" is given twice`);
    given[name] = value;
  }
  const bound: Record<string, TemplateValue> = {};
  for (const [name, declaration] of Object.entries(declarations)) {
    const raw = given[name] ?? declaration.default;
    if (raw === undefined || raw === "") {
      if (declaration.required) {
        throw new ParameterError(
          `missing required parameter "${name}"${
            declaration.description ? ` (${declaration.description})` : ""
          }${declaration.positional ? `: pass it as an argument` : `: pass -p ${name}=VALUE`}`,
        );
      }
      continue;
    }
    bound[name] = checkValue(name, declaration, raw);
  }
  return bound;
}

/** Converts and checks one value against its declaration. */
export function checkValue(
  name: string,
  declaration: Partial<Parameter>,
  raw: string | TemplateValue,
): TemplateValue {
  const text = String(raw);
  switch (declaration.type ?? "string") {
    case "bool":
      if (raw === true || raw === false) return raw;
      if (/^(true|yes|1)$/i.test(text)) return true;
      if (/^(false|no|0)$/i.test(text)) return false;
      throw new ParameterError(`parameter "${name}" must be true or false, got "${text}"`);
    case "int":
      if (!/^-?\d+$/.test(text)) {
        throw new ParameterError(`parameter "${name}" must be a whole number, got "${text}"`);
      }
      return Number(text);
    case "enum":
      if (!declaration.values?.includes(text)) {
        throw new ParameterError(
          `parameter "${name}" must be one of ${declaration.values?.join(", ")}, got "${text}"`,
        );
      }
      return text;
    default:
      if (
        declaration.pattern !== undefined &&
        !new RegExp(`^(?:${declaration.pattern})$`).test(text)
      ) {
        // `1.1.0` for a tag pattern: say what was almost certainly meant.
        const hint = new RegExp(`^(?:${declaration.pattern})$`).test(`v${text}`)
          ? `; did you mean v${text}?`
          : "";
        throw new ParameterError(
          `parameter "${name}" must match ${declaration.pattern}, got ${
            JSON.stringify(text)
          }${hint}`,
        );
      }
      return text;
  }
}
