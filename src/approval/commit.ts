/**
 * The commit a release tag points to, as the request binds it: a tag moved after approval
 * (re-tagged, force-pushed) no longer matches, so the run is refused.
 *
 * @example
 * ```ts
 * import { parseTagCommit, tagCommitArgv } from "./commit.ts";
 * tagCommitArgv("/srv/git/app.git", "v1.2.0");
 * // ["ls-remote", "/srv/git/app.git", "refs/tags/v1.2.0", "refs/tags/v1.2.0^{}"]
 * parseTagCommit("aaa\trefs/tags/v1.2.0\nbbb\trefs/tags/v1.2.0^{}\n", "v1.2.0"); // "bbb"
 * ```
 * @module
 */
import { git } from "../release/git.ts";
import { FailureError } from "../errors.ts";
import type { ParamValue } from "./request.ts";

/**
 * Argv (after `git -C dir`) listing a tag and, for an annotated tag, the commit it peels to.
 *
 * @example
 * ```ts
 * tagCommitArgv("repo", "v1.0.0").length; // 4
 * ```
 */
export function tagCommitArgv(repo: string, tag: string): string[] {
  return ["ls-remote", repo, `refs/tags/${tag}`, `refs/tags/${tag}^{}`];
}

/**
 * The commit from `ls-remote` output: the peeled line of an annotated tag, else the tag's own.
 *
 * @example
 * ```ts
 * parseTagCommit("ccc\trefs/tags/v1\n", "v1"); // "ccc"
 * parseTagCommit("", "v1"); // null
 * ```
 */
export function parseTagCommit(output: string, tag: string): string | null {
  const refs = new Map(
    output.split("\n").filter(Boolean).map((line) => {
      const [hash, ref] = line.split("\t");
      return [ref, hash] as const;
    }),
  );
  return refs.get(`refs/tags/${tag}^{}`) ?? refs.get(`refs/tags/${tag}`) ?? null;
}

/**
 * The commit of the release a run deploys: the `version` parameter's tag in the app
 * repository; null for a runbook that deploys no tag (or no version given).
 *
 * @example
 * ```ts
 * // await releaseCommit("/srv/git/app.git", { version: "v1.2.0" }); // "9f1c..."
 * ```
 */
export async function releaseCommit(
  repo: string | undefined,
  params: Record<string, ParamValue>,
): Promise<string | null> {
  const tag = params.version;
  if (!repo || typeof tag !== "string" || tag === "") return null;
  const argv = tagCommitArgv(repo, tag);
  const result = await git("/", argv);
  if (result.code !== 0) {
    throw new FailureError(
      `cannot read tag ${tag} of ${repo} to bind its commit: ${result.stderr.trim()}`,
    );
  }
  return parseTagCommit(result.stdout, tag);
}
