/**
 * `release:create`: the next semantic version after the newest release tag reachable from
 * HEAD, as an annotated tag on HEAD, pushed to the remote. Reachable from HEAD, so a hotfix
 * branch made from `v1.2.0` gets `v1.2.1` even when `v1.3.0` exists on main. Planning reads
 * only and refuses with a reason; creating tags and pushes, and takes the tag back if the push
 * fails, so a refused push leaves no local tag that the remote does not have.
 *
 * @example
 * ```ts
 * import { createRelease, planRelease } from "./create.ts";
 * // const plan = await planRelease({ dir: "/src/myapp", remote: "origin", bump: "patch" });
 * // await createRelease(plan); // tags plan.next on HEAD and pushes it
 * ```
 * @module
 */
import { FailureError } from "../errors.ts";
import { type Bump, bumpVersion, parseVersion, releaseTags } from "./semver.ts";
import { git, gitArgv, gitOut } from "./git.ts";

/** What release:create is about to do. */
export interface ReleasePlan {
  dir: string;
  remote: string;
  /** Where the remote is (the audit entry's `repo`). */
  remoteUrl: string;
  bump: Bump;
  /** The newest release tag reachable from HEAD, if any. */
  latest?: string;
  next: string;
  /** The commit the tag will name. */
  commit: string;
}

/** release:create cannot go ahead; the message says why and what to do. */
export class ReleaseRefusedError extends FailureError {
  constructor(message: string) {
    super(message);
    this.name = "ReleaseRefusedError";
  }
}

/** Reads the repository and decides the next release; changes nothing but fetched tags. */
export async function planRelease(
  options: { dir: string; remote: string; bump: Bump },
): Promise<ReleasePlan> {
  const { dir, remote, bump } = options;
  if ((await git(dir, gitArgv.isWorkTree())).code !== 0) {
    throw new ReleaseRefusedError(
      `${dir} is not a git working tree: run release:create in a clone of the app`,
    );
  }
  const remoteUrl = await gitOut(dir, gitArgv.remoteUrl(remote)).catch(() => {
    throw new ReleaseRefusedError(`${dir} has no remote "${remote}" to push the release to`);
  });
  await gitOut(dir, gitArgv.fetchTags(remote));
  const changes = await gitOut(dir, gitArgv.changes());
  if (changes) {
    throw new ReleaseRefusedError(
      `${dir} has uncommitted changes; a release tags a commit: commit or stash them first\n${changes}`,
    );
  }
  const commit = await gitOut(dir, gitArgv.head());
  const latest = releaseTags(lines(await gitOut(dir, gitArgv.mergedTags()))).at(-1);
  if (latest && await gitOut(dir, gitArgv.tagCommit(latest.tag)) === commit) {
    throw new ReleaseRefusedError(
      `HEAD (${
        commit.slice(0, 12)
      }) is already released as ${latest.tag}: commit something new first`,
    );
  }
  const next = latest ? bumpVersion(latest, bump) : "v0.1.0";
  const all = new Set(lines(await gitOut(dir, gitArgv.allTags())));
  if (all.has(next)) {
    throw new ReleaseRefusedError(
      `${next} exists already (tags never move); HEAD continues ${latest?.tag}: ` +
        `branch from the newest release of that line, or choose --minor or --major`,
    );
  }
  return { dir, remote, remoteUrl, bump, latest: latest?.tag, next, commit };
}

/** The annotated tag's message. */
export function tagMessage(plan: Pick<ReleasePlan, "next" | "latest">): string {
  return `Release ${plan.next}${plan.latest ? ` (after ${plan.latest})` : ""}`;
}

/** Tags HEAD and pushes the tag; on a refused push the local tag is deleted again. */
export async function createRelease(plan: ReleasePlan): Promise<void> {
  if (!parseVersion(plan.next)) throw new ReleaseRefusedError(`${plan.next} is not a release tag`);
  await gitOut(plan.dir, gitArgv.createTag(plan.next, tagMessage(plan)));
  const pushed = await git(plan.dir, gitArgv.pushTag(plan.remote, plan.next));
  if (pushed.code !== 0) {
    await git(plan.dir, gitArgv.deleteTag(plan.next));
    throw new ReleaseRefusedError(
      `pushing ${plan.next} to ${plan.remote} failed, the tag was removed again: ${
        (pushed.stderr || pushed.stdout).trim()
      }`,
    );
  }
}

function lines(text: string): string[] {
  return text.split("\n").map((line) => line.trim()).filter(Boolean);
}
