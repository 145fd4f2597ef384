/**
 * What a health answer says about the release that gave it: the `version` field of a JSON body,
 * and the sentence for a node whose answer names another release than the active one. `status`
 * judges nodes with it, and the runbooks' `http:` checks with `version:` judge the release they
 * just switched to — one owner, so both say the same thing.
 *
 * @example
 * ```ts
 * import { healthVersion, versionProblem } from "./health.ts";
 * const named = healthVersion('{"status":"ok","version":"v1.1.0"}'); // "v1.1.0"
 * versionProblem(named, "v1.2.0");
 * // "the health answer names v1.1.0, but the active release is v1.2.0"
 * ```
 * @module
 */

/** The `version` a health body names (a string `version` field of a JSON object), if any. */
export function healthVersion(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body);
    return typeof parsed?.version === "string" ? parsed.version : undefined;
  } catch {
    return undefined; // not JSON: it names no version
  }
}

/**
 * Why a health answer naming `named` does not fit the `active` release, or undefined when it
 * does (or when either is unknown: a body without a version proves nothing either way).
 */
export function versionProblem(
  named: string | undefined,
  active: string | undefined,
  blueGreen = false,
): string | undefined {
  if (!named || !active || named === active) return undefined;
  return `the health answer names ${named}, but the active release is ${active}` +
    (blueGreen ? " (blue-green: see shadow:status)" : "");
}
