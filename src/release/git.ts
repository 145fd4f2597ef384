/**
 * The git commands of releases, built as argv (pure), and the one place they run.
 *
 * @example
 * ```ts
 * import { git, gitArgv } from "./git.ts";
 * gitArgv.pushTag("origin", "v1.2.1"); // ["push", "--quiet", "origin", "refs/tags/v1.2.1"]
 * // const result = await git("/src/myapp", gitArgv.head());
 * ```
 * @module
 */
import { FailureError } from "../errors.ts";
import { runProcess } from "../proc/mod.ts";

/** Field separator of {@link gitArgv.tagTable} lines. */
export const TAB = "\t";

/** Argv of every git command the release commands use (after `git -C <dir>`). */
export const gitArgv = {
  isWorkTree: (): string[] => ["rev-parse", "--is-inside-work-tree"],
  fetchTags: (remote: string): string[] => ["fetch", "--quiet", "--tags", remote],
  /** Release-looking tags reachable from HEAD: the line this release continues. */
  mergedTags: (): string[] => ["tag", "--list", "v*", "--merged", "HEAD"],
  allTags: (): string[] => ["tag", "--list", "v*"],
  head: (): string[] => ["rev-parse", "HEAD"],
  /** Tracked files with changes; untracked files do not go into a tag anyway. */
  changes: (): string[] => ["status", "--porcelain", "--untracked-files=no"],
  tagCommit: (tag: string): string[] => [
    "rev-parse",
    "--verify",
    "--quiet",
    `refs/tags/${tag}^{commit}`,
  ],
  createTag: (tag: string, message: string): string[] => ["tag", "-a", tag, "-m", message],
  deleteTag: (tag: string): string[] => ["tag", "-d", tag],
  pushTag: (remote: string, tag: string): string[] => [
    "push",
    "--quiet",
    remote,
    `refs/tags/${tag}`,
  ],
  remoteUrl: (remote: string): string[] => ["remote", "get-url", remote],
  mirror: (repo: string, path: string): string[] => ["clone", "--quiet", "--mirror", repo, path],
  setOrigin: (repo: string): string[] => ["remote", "set-url", "origin", repo],
  updateMirror: (): string[] => ["fetch", "--quiet", "--prune", "origin"],
  /** Tag, date, object, peeled commit (annotated tags), subject — tab-separated. */
  tagTable: (): string[] => [
    "for-each-ref",
    "--sort=-creatordate",
    "--format=%(refname:strip=2)%09%(creatordate:iso-strict)%09%(objectname)%09%(*objectname)%09%(contents:subject)",
    "refs/tags",
  ],
};

/** What a git command left. */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `git -C dir ...argv`; never prompts for credentials (no terminal may be there). */
export async function git(dir: string, argv: string[]): Promise<GitResult> {
  const { code, stdout, stderr } = await runProcess(["git", "-C", dir, ...argv], {
    env: { GIT_TERMINAL_PROMPT: "0" },
  });
  return { code, stdout, stderr };
}

/** A git command failed where it must not; the message names the command and git's reason. */
export class GitError extends FailureError {
  constructor(argv: string[], result: GitResult) {
    super(
      `git ${argv.join(" ")} failed (exit ${result.code}): ${
        (result.stderr || result.stdout).trim() || "no output"
      }`,
    );
    this.name = "GitError";
  }
}

/** Runs git and returns its trimmed stdout; throws {@link GitError} on a non-zero exit. */
export async function gitOut(dir: string, argv: string[]): Promise<string> {
  const result = await git(dir, argv);
  if (result.code !== 0) throw new GitError(argv, result);
  return result.stdout.trim();
}
