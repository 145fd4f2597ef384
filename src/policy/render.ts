/**
 * `${{ ref }}` templates in collector specs: the same syntax as runbooks, resolved against the
 * configuration, the state directory and the policy's parameters before facts are gathered.
 * Values are substituted as data (the collectors quote them for the shell), never as syntax.
 *
 * @example
 * ```ts
 * import { renderSpec } from "./render.ts";
 * renderSpec({ kind: "file_stat", path: "${{ state_dir }}/key" }, { state_dir: "/root/.protocol" });
 * // { kind: "file_stat", path: "/root/.protocol/key" }
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import { auditPaths } from "../audit/mod.ts";
import type { DataPath } from "../source/mod.ts";
import { TEMPLATE_PATTERN } from "../template.ts";

/** References a policy may use besides its own `params.*`. */
export const GLOBAL_REFERENCES = /^(state_dir|key_file|audit_log|config_file|app\.[a-z_]+)$/;

/** A reference could not be resolved (e.g. `app.dir` with no configuration). */
export class UnresolvedReference extends Error {}

/** Every template reference in a value, with where it is. */
export function referencesIn(value: unknown, at: DataPath): { path: DataPath; ref: string }[] {
  if (typeof value === "string") {
    return [...value.matchAll(TEMPLATE_PATTERN)].map((m) => ({ path: at, ref: m[1] }));
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => referencesIn(v, [...at, i]));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => referencesIn(v, [...at, k]));
  }
  return [];
}

/** The values references resolve to. */
export function templateValues(
  stateDir: string,
  config: Config | undefined,
  params: Record<string, string | number>,
): Record<string, string | number> {
  const values: Record<string, string | number> = {
    state_dir: stateDir,
    key_file: `${stateDir}/key`,
    audit_log: auditPaths(stateDir).log,
  };
  if (config) {
    values.config_file = config.file;
    for (const [k, v] of Object.entries(config.app)) if (v !== undefined) values[`app.${k}`] = v;
  }
  for (const [k, v] of Object.entries(params)) values[`params.${k}`] = v;
  return values;
}

/** Substitutes every reference in every string of a spec; throws {@link UnresolvedReference}. */
export function renderSpec<T>(spec: T, values: Record<string, string | number>): T {
  // Parameter defaults may themselves be templates ("${{ app.dir }}/current"): a few passes.
  const render = (value: unknown, depth = 0): unknown => {
    if (typeof value === "string") {
      const once = value.replace(TEMPLATE_PATTERN, (_, ref: string) => {
        if (!(ref in values)) {
          throw new UnresolvedReference(
            ref.startsWith("app.") || ref === "config_file"
              ? `needs \${{ ${ref} }}: no project configuration (protocol.yaml); pass --config`
              : `unknown reference \${{ ${ref} }}`,
          );
        }
        return String(values[ref]);
      });
      return once !== value && depth < 3 && once.includes("${{") ? render(once, depth + 1) : once;
    }
    if (Array.isArray(value)) return value.map((v) => render(v));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v)]));
    }
    return value;
  };
  return render(spec) as T;
}
