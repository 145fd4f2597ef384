/**
 * Release versions: `vMAJOR.MINOR.PATCH` tags, compared and bumped. Pure.
 *
 * @example
 * ```ts
 * import { nextVersion, parseVersion } from "./semver.ts";
 * parseVersion("v1.2.0"); // { major: 1, minor: 2, patch: 0, tag: "v1.2.0" }
 * nextVersion(["v1.1.0", "v1.2.0", "main"], "patch"); // "v1.2.1"
 * ```
 * @module
 */

/** A release tag split into its numbers. Pre-release tags (`v1.2.0-rc.1`) are not releases. */
export interface Version {
  major: number;
  minor: number;
  patch: number;
  tag: string;
}

/** Which number a new release raises. */
export type Bump = "major" | "minor" | "patch";

/** The shape of a release tag. */
export const RELEASE_TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/**
 * The version a tag names, or undefined when the tag is not a release tag.
 *
 * @example
 * ```ts
 * parseVersion("v2.0.10")?.patch; // 10
 * parseVersion("latest"); // undefined
 * ```
 */
export function parseVersion(tag: string): Version | undefined {
  const match = RELEASE_TAG.exec(tag.trim());
  if (!match) return undefined;
  return { major: +match[1], minor: +match[2], patch: +match[3], tag: tag.trim() };
}

/**
 * Orders versions oldest first (a sort comparator).
 *
 * @example
 * ```ts
 * ["v1.10.0", "v1.9.0"].map((t) => parseVersion(t)!).sort(compareVersions); // v1.9.0, v1.10.0
 * ```
 */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * The release tags among `tags`, oldest first; other tags are ignored.
 *
 * @example
 * ```ts
 * releaseTags(["v1.10.0", "nightly", "v1.9.0"]); // ["v1.9.0", "v1.10.0"] as Versions
 * ```
 */
export function releaseTags(tags: readonly string[]): Version[] {
  return tags.map(parseVersion).filter((v): v is Version => v !== undefined).sort(
    compareVersions,
  );
}

/**
 * `version` raised by `bump`.
 *
 * @example
 * ```ts
 * bumpVersion(parseVersion("v1.2.3")!, "minor"); // "v1.3.0"
 * ```
 */
export function bumpVersion(version: Version, bump: Bump): string {
  if (bump === "major") return `v${version.major + 1}.0.0`;
  if (bump === "minor") return `v${version.major}.${version.minor + 1}.0`;
  return `v${version.major}.${version.minor}.${version.patch + 1}`;
}

/**
 * The next release after the newest of `tags` (`v0.1.0` when there is none yet).
 *
 * @example
 * ```ts
 * nextVersion([], "patch"); // "v0.1.0"
 * nextVersion(["v1.2.0"], "major"); // "v2.0.0"
 * ```
 */
export function nextVersion(tags: readonly string[], bump: Bump): string {
  const latest = releaseTags(tags).at(-1);
  return latest ? bumpVersion(latest, bump) : "v0.1.0";
}
