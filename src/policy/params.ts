/**
 * Binding `-p key=value` to a policy's declared parameters: unknown names and values of the
 * wrong type are refused before anything is collected.
 *
 * @example
 * ```ts
 * import { bindPolicyParams } from "./params.ts";
 * const policy = { params: { days: { type: "int" as const, default: 15 } } };
 * bindPolicyParams(policy, { days: "30" }); // { days: 30 }
 * ```
 * @module
 */
import { InputError } from "../errors.ts";
import type { Policy } from "./schema.ts";

/** A parameter is unknown or of the wrong type. */
export class PolicyParamError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = "PolicyParamError";
  }
}

/** The policy's params: given values (typed) over defaults. */
export function bindPolicyParams(
  policy: Pick<Policy, "params">,
  given: Record<string, string>,
): Record<string, string | number> {
  const known = Object.keys(policy.params);
  for (const name of Object.keys(given)) {
    if (!(name in policy.params)) {
      throw new PolicyParamError(
        `unknown parameter ${name}; this policy takes: ${known.join(", ") || "none"}`,
      );
    }
  }
  const bound: Record<string, string | number> = {};
  for (const [name, decl] of Object.entries(policy.params)) {
    const raw = given[name] ?? decl.default;
    if (raw === undefined) continue;
    if (decl.type === "int") {
      // Counts of days and the like: a negative number is a number, just not one that fits.
      if (/^-\d+$/.test(String(raw).trim())) {
        throw new PolicyParamError(
          `parameter ${name} must be 0 or more, got ${String(raw).trim()}`,
        );
      }
      if (!/^\d+$/.test(String(raw))) {
        throw new PolicyParamError(
          `parameter ${name} must be a whole number, got ${JSON.stringify(raw)}`,
        );
      }
      bound[name] = Number(raw);
    } else {
      bound[name] = String(raw);
    }
  }
  return bound;
}
