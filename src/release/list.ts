/**
 * `release:list`: the app repository's release tags, highest version first, with their date and commit,
 * and where each is deployed — active or previous on which nodes. Tags are read from a mirror
 * of `app.repo` kept in the state directory (a URL has no dates without its objects).
 *
 * @example
 * ```ts
 * import { placeReleases, parseTagTable } from "./list.ts";
 * const tags = parseTagTable("v1.2.0\t2026-01-15T10:30:01+00:00\tabc\tdef\tRelease v1.2.0\n");
 * placeReleases(tags, [{ node: "web-1", active: "v1.2.0" }])[0].active; // ["web-1"]
 * ```
 * @module
 */
import { join } from "node:path";
import { compareVersions, parseVersion } from "./semver.ts";
import { git, gitArgv, gitOut, TAB } from "./git.ts";

/** One release tag. */
export interface ReleaseTag {
  tag: string;
  date: string;
  /** The commit the tag names. */
  commit: string;
  annotated: boolean;
  subject: string;
}

/** A release tag and where it is deployed. */
export interface ReleaseRow extends ReleaseTag {
  active: string[];
  previous: string[];
  /** Nodes where it was active at some time (their history). */
  deployed: string[];
}

/** What release:list needs to know about a node. */
export interface NodeReleases {
  node: string;
  active?: string;
  previous?: string;
  history?: string[];
}

/**
 * Parses `git for-each-ref` output ({@link gitArgv.tagTable}), keeping release tags only.
 *
 * @example
 * ```ts
 * parseTagTable("nightly\t2026-01-01T00:00:00Z\tabc\t\tx\n"); // [] (not a release tag)
 * ```
 */
export function parseTagTable(text: string): ReleaseTag[] {
  return newestFirst(
    text.split("\n").filter(Boolean).flatMap((line) => {
      const [tag, date, object, peeled, ...subject] = line.split(TAB);
      if (!parseVersion(tag)) return [];
      return [{
        tag,
        date,
        commit: peeled || object,
        annotated: !!peeled,
        subject: subject.join(TAB),
      }];
    }),
  );
}

/**
 * Puts each node's active, previous and past releases next to the tags. Pure.
 *
 * @example
 * ```ts
 * placeReleases([], []); // []
 * ```
 */
export function placeReleases(tags: ReleaseTag[], nodes: NodeReleases[]): ReleaseRow[] {
  return tags.map((tag) => ({
    ...tag,
    active: nodes.filter((n) => n.active === tag.tag).map((n) => n.node),
    previous: nodes.filter((n) => n.previous === tag.tag).map((n) => n.node),
    deployed: nodes.filter((n) => n.history?.includes(tag.tag)).map((n) => n.node),
  }));
}

/** The mirror of `repo` under `stateDir`, created or brought up to date. */
export async function updateMirror(stateDir: string, name: string, repo: string): Promise<string> {
  const path = join(stateDir, "repos", `${name.replace(/[^\w.-]+/g, "_")}.git`);
  if (await Deno.stat(path).then(() => true, () => false)) {
    await gitOut(path, gitArgv.setOrigin(repo));
    await gitOut(path, gitArgv.updateMirror());
  } else {
    await Deno.mkdir(join(stateDir, "repos"), { recursive: true, mode: 0o700 });
    const result = await git(stateDir, gitArgv.mirror(repo, path));
    if (result.code !== 0) {
      throw new Error(`cannot read the app repository ${repo}: ${result.stderr.trim()}`);
    }
  }
  return path;
}

/** The release tags of the mirror at `path`, highest version first. */
export async function readReleaseTags(path: string): Promise<ReleaseTag[]> {
  return parseTagTable(await gitOut(path, gitArgv.tagTable()));
}

/**
 * Release tags, highest version first (tags made in the same second have no date order).
 *
 * @example
 * ```ts
 * newestFirst([{ tag: "v1.9.0" }, { tag: "v1.10.0" }]).map((t) => t.tag); // ["v1.10.0", "v1.9.0"]
 * ```
 */
export function newestFirst<T extends { tag: string }>(tags: T[]): T[] {
  return [...tags].sort((a, b) => compareVersions(parseVersion(b.tag)!, parseVersion(a.tag)!));
}

/**
 * The table for people.
 *
 * @example
 * ```ts
 * formatReleases([]); // "no release tags yet: create one with release:create"
 * ```
 */
export function formatReleases(rows: ReleaseRow[], unreachable: string[] = []): string {
  if (rows.length === 0) return "no release tags yet: create one with release:create";
  const width = Math.max(...rows.map((row) => row.tag.length));
  const lines = rows.map((row) => {
    const where = [
      row.active.length ? `active on ${row.active.join(", ")}` : "",
      row.previous.length ? `previous on ${row.previous.join(", ")}` : "",
    ].filter(Boolean).join("; ");
    const past = row.deployed.filter((n) => !row.active.includes(n) && !row.previous.includes(n));
    const rest = past.length ? `${where ? "; " : ""}was active on ${past.join(", ")}` : "";
    return `${row.tag.padEnd(width)}  ${row.date}  ${row.commit.slice(0, 12)}  ${
      where || rest ? where + rest : "not deployed"
    }`;
  });
  if (unreachable.length) lines.push(`\n(not reachable, not shown: ${unreachable.join(", ")})`);
  return lines.join("\n");
}
