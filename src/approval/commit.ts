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
 *
 * The CLI runs the command (`cli/approval_gate.ts`).
 * @module
 */

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
