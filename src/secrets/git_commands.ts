/**
 * The git command lines the config repository operations run, built as argv arrays (pure, so
 * they are unit-tested and printable in a plan). Every one runs against an explicit checkout
 * with `git -C`, never the current directory.
 *
 * @example
 * ```ts
 * import { git } from "./git_commands.ts";
 * git.push("/srv/config", "origin", "production");
 * // ["git", "-C", "/srv/config", "push", "--quiet", "origin", "HEAD:refs/heads/production"]
 * ```
 * @module
 */

const base = (repo: string, ...args: string[]) => ["git", "-C", repo, ...args];

/**
 * Argv builders, one per git operation the config commands use.
 *
 * @example
 * ```ts
 * git.currentBranch("/srv/config"); // ["git", "-C", "/srv/config", "symbolic-ref", "--short", "HEAD"]
 * ```
 */
export const git = {
  /** Fails unless `repo` is inside a git work tree. */
  isWorkTree: (repo: string) => base(repo, "rev-parse", "--is-inside-work-tree"),
  /** The top directory of the work tree. */
  topLevel: (repo: string) => base(repo, "rev-parse", "--show-toplevel"),
  /** The checked-out branch (works on a branch with no commits yet). */
  currentBranch: (repo: string) => base(repo, "symbolic-ref", "--short", "HEAD"),
  /** Every change including untracked (not ignored) files, NUL-separated porcelain. */
  allChanges: (repo: string) => base(repo, "status", "--porcelain", "-z", "--untracked-files=all"),
  /** Exit 0 when the local branch exists. */
  hasLocalBranch: (repo: string, branch: string) =>
    base(repo, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}`),
  /** Exit 0 when the remote-tracking branch exists (after a fetch). */
  hasRemoteBranch: (repo: string, remote: string, branch: string) =>
    base(repo, "rev-parse", "--verify", "--quiet", `refs/remotes/${remote}/${branch}`),
  /** Updates the remote-tracking branches. */
  fetch: (repo: string, remote: string) => base(repo, "fetch", "--quiet", remote),
  /** Switches to an existing local branch. */
  switchTo: (repo: string, branch: string) => base(repo, "switch", "--quiet", branch),
  /** Creates a local branch tracking the remote one and switches to it. */
  switchTracking: (repo: string, remote: string, branch: string) =>
    base(repo, "switch", "--quiet", "-c", branch, "--track", `${remote}/${branch}`),
  /** Starts a new branch with no history and no files: environments share nothing. */
  switchOrphan: (repo: string, branch: string) =>
    base(repo, "switch", "--quiet", "--orphan", branch),
  /** Names of staged files, NUL-separated. */
  staged: (repo: string) => base(repo, "diff", "--cached", "--name-only", "-z"),
  /** Names of tracked files, NUL-separated. */
  tracked: (repo: string) => base(repo, "ls-files", "-z"),
  /** Stages exactly these paths (additions, changes and deletions). */
  add: (repo: string, paths: string[]) => base(repo, "add", "-A", "--", ...paths),
  /** Commits what is staged; `identity` adds `-c user.name=… -c user.email=…` when git has none. */
  commit: (repo: string, message: string, identity?: { name: string; email: string }) => [
    "git",
    "-C",
    repo,
    ...(identity ? ["-c", `user.name=${identity.name}`, "-c", `user.email=${identity.email}`] : []),
    "commit",
    "--quiet",
    "-m",
    message,
  ],
  /** The configured committer email (exit 1 when none). */
  userEmail: (repo: string) => base(repo, "config", "user.email"),
  /** Pushes the checked-out branch to the environment's branch on the remote. */
  push: (repo: string, remote: string, branch: string) =>
    base(repo, "push", "--quiet", remote, `HEAD:refs/heads/${branch}`),
  /** Pushes these local branches to the same names on the remote: all of them or none. */
  pushAtomic: (repo: string, remote: string, branches: string[]) =>
    base(
      repo,
      "push",
      "--quiet",
      "--atomic",
      remote,
      ...branches.map((branch) => `refs/heads/${branch}:refs/heads/${branch}`),
    ),
  /** Creates a local branch at `start` without switching to it. */
  branchFrom: (repo: string, branch: string, start: string) =>
    base(repo, "branch", "--quiet", "--track", branch, start),
  /** The commit a ref names. */
  revParse: (repo: string, ref: string) => base(repo, "rev-parse", "--verify", ref),
  /** Switches branch, discarding changes in the work tree (rotation undoing itself). */
  forceSwitch: (repo: string, branch: string) => base(repo, "switch", "--quiet", "--force", branch),
  /** Moves the checked-out branch back to `commit`, discarding changes. */
  resetHard: (repo: string, commit: string) => base(repo, "reset", "--quiet", "--hard", commit),
  /** Fast-forwards the checkout to the remote branch; never merges. */
  pull: (repo: string, remote: string, branch: string) =>
    base(repo, "pull", "--quiet", "--ff-only", remote, branch),
};

/**
 * Splits NUL-separated git output into names.
 *
 * @example
 * ```ts
 * nulList("a\0b\0"); // ["a", "b"]
 * ```
 */
export function nulList(output: string): string[] {
  return output.split("\0").filter((name) => name.length > 0);
}

/**
 * The paths of `git status --porcelain -z` output (the new name of a rename; entries are
 * `XY path`, a rename is followed by its old name).
 *
 * @example
 * ```ts
 * porcelainPaths(" M .env.enc\0?? .gitignore\0"); // [".env.enc", ".gitignore"]
 * ```
 */
export function porcelainPaths(output: string): string[] {
  const fields = output.split("\0");
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i];
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    if (entry[0] === "R" || entry[0] === "C") {
      paths.push(fields[++i]); // the old name, so a rename's deletion is staged too
    }
  }
  return paths.filter((p) => p !== undefined && p.length > 0);
}
