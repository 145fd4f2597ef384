/**
 * `find_files`: files under directories on the target, by `find` — recently modified ones,
 * world-writable ones, or both — optionally cross-referenced with git: each file is `untracked`
 * (git does not know it), `modified` (differs from HEAD), `clean`, `ignored`, or `no_repo`.
 * The seed's recent-changes check listed files and counted untracked ones but never compared
 * the two lists; here every file carries its git state.
 *
 * @example
 * ```ts
 * import { findFilter } from "./find_files.ts";
 * findFilter(["/srv/app"], [".git"], ["*.php"], "24h");
 * // "find -H '/srv/app' \\( -name '.git' \\) ! -path '/srv/app' -prune -o -type f \\( -name '*.php' \\) -mmin -1440"
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { shellQuote } from "../../shell/quote.ts";
import { type CollectContext, defineCollector, execOnTarget, NotCollected } from "./types.ts";

/** The spec of a `find_files` collector. */
export const FindFilesSpec = z.strictObject({
  kind: z.literal("find_files"),
  paths: z.array(z.string()).min(1).describe("Directories; empty strings (unset params) dropped."),
  include: z.array(z.string()).default([]),
  exclude_dirs: z.array(z.string()).default([".git", "vendor", "node_modules"]),
  modified_within: z.string().optional().describe('"24h", "15d", "90m"'),
  world_writable: z.boolean().default(false).describe("Only files anyone may write."),
  git: z.boolean().default(false).describe("Give each file its git state."),
  limit: z.number().int().positive().default(5000),
  if_missing: z.enum(["error", "skip"]).default("error").describe(
    "A path that does not exist: `error` (default), or `skip`: it holds no files and is " +
      "listed in the `missing` fact (a node with no release yet has no world-writable files).",
  ),
});

type Spec = z.infer<typeof FindFilesSpec>;

/** A duration such as "24h" or "15d" in whole minutes; undefined passes through. */
export function durationMinutes(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const match = /^(\d+)(m|h|d)$/.exec(value.trim());
  if (!match) {
    throw new NotCollected("error", `bad duration ${JSON.stringify(value)}: use 24h, 15d`);
  }
  return Number(match[1]) * { m: 1, h: 60, d: 1440 }[match[2] as "m" | "h" | "d"];
}

/** A path as a `find -path` pattern that matches only itself (glob characters escaped). */
const literalPath = (path: string) => shellQuote(path.replace(/[*?[\]\\]/g, "\\$&"));

/**
 * The `find` expression shared with the pattern scan: prune, type, names, age. Pure.
 * Excluded directories are pruned below the paths given, never a path itself: a scan of
 * `…/vendor` named explicitly scans it.
 */
export function findFilter(
  paths: string[],
  excludeDirs: string[],
  include: string[],
  modifiedWithin?: string,
): string {
  // -H: a path given is followed when it is a link (`<app.dir>/current` is one), nothing below it.
  const parts = ["find", "-H", ...paths.map(shellQuote)];
  if (excludeDirs.length) {
    parts.push("\\(", excludeDirs.map((d) => `-name ${shellQuote(d)}`).join(" -o "), "\\)");
    for (const path of paths) parts.push("!", "-path", literalPath(path));
    parts.push("-prune", "-o");
  }
  parts.push("-type", "f");
  if (include.length) {
    parts.push("\\(", include.map((g) => `-name ${shellQuote(g)}`).join(" -o "), "\\)");
  }
  const minutes = durationMinutes(modifiedWithin);
  if (minutes !== undefined) parts.push("-mmin", `-${minutes}`);
  return parts.join(" ");
}

/** Builds the listing: one `mtime<TAB>mode<TAB>path` record per file, NUL-terminated. */
export function findFilesCommand(spec: Omit<Spec, "kind" | "git">): string {
  let filter = findFilter(spec.paths, spec.exclude_dirs, spec.include, spec.modified_within);
  if (spec.world_writable) filter += " -perm -0002";
  return `${filter} -printf '%T@\\t%m\\t%p\\0'`;
}

/**
 * Builds the git script for one directory: its work tree's top level, then the tracked, changed
 * and untracked files below that directory (paths from the top). Only below it: listing the
 * whole work tree outgrew the target's output limit in a large repository (a committed vendor
 * directory), whichever directory the check looked at.
 */
export function gitFilesCommand(dir: string): string {
  const g = `git -C ${shellQuote(dir)}`;
  return `top=$(${g} rev-parse --show-toplevel 2>/dev/null) || exit 3\n` +
    `printf '%s\\0/\\0' "$top"\n` +
    `${g} ls-files -z --full-name -- .; printf '/\\0'\n` +
    `${g} diff --name-only -z HEAD -- . 2>/dev/null; printf '/\\0'\n` +
    `${g} ls-files -z --full-name --others --exclude-standard -- .`;
}

/** Git's view of one work tree: what it tracks, what differs from HEAD, what it has not seen. */
export interface GitView {
  top: string;
  tracked: Set<string>;
  changed: Set<string>;
  untracked: Set<string>;
}

/** Parses {@link gitFilesCommand}'s output: NUL records, sections split by a `/` record. */
export function parseGitFiles(stdout: string): GitView {
  const [top, ...records] = stdout.split("\0");
  const sections: Set<string>[] = [];
  for (const record of records) {
    if (record === "/") sections.push(new Set());
    else if (record) sections.at(-1)?.add(record);
  }
  const [tracked = new Set(), changed = new Set(), untracked = new Set()] = sections;
  return { top, tracked, changed, untracked };
}

/** The git state of an absolute path in a work tree. */
export function gitStateOf(view: GitView | undefined, file: string): string {
  if (!view || !file.startsWith(view.top + "/")) return "no_repo";
  const rel = file.slice(view.top.length + 1);
  if (view.changed.has(rel)) return "modified";
  if (view.tracked.has(rel)) return "clean";
  return view.untracked.has(rel) ? "untracked" : "ignored";
}

/** Collects `{items: [{file, mode, mtime, git?}], missing, count, truncated}`. */
export const findFiles = defineCollector(FindFilesSpec, async (spec, ctx) => {
  const paths = spec.paths.filter(Boolean);
  // An unset path parameter renders empty; `find` with no path would search the cwd.
  if (!paths.length) throw new NotCollected("not_applicable", "no directory to look in");
  const items: Record<string, unknown>[] = [];
  const missing: string[] = [];
  for (const path of paths) {
    const listing = await execOnTarget(ctx, findFilesCommand({ ...spec, paths: [path] }));
    if (listing.code !== 0 && !listing.stdout) {
      if (spec.if_missing === "skip" && !await pathExists(ctx, path)) {
        missing.push(path);
        continue;
      }
      throw new NotCollected("error", `find ${path}: ${listing.stderr.trim().slice(0, 300)}`);
    }
    let view: GitView | undefined;
    if (spec.git) {
      const git = await execOnTarget(ctx, gitFilesCommand(path));
      if (git.code === 0) view = parseGitFiles(git.stdout);
    }
    for (const record of listing.stdout.split("\0")) {
      const [mtime, mode, file] = record.split("\t");
      if (!file) continue;
      const item: Record<string, unknown> = {
        file,
        mode: mode.padStart(4, "0"),
        mtime: new Date(Number(mtime) * 1000).toISOString(),
      };
      if (spec.git) item.git = gitStateOf(view, file);
      items.push(item);
    }
  }
  items.sort((a, b) => String(a.file).localeCompare(String(b.file)));
  return {
    paths,
    missing,
    items: items.slice(0, spec.limit),
    count: items.length,
    truncated: items.length > spec.limit,
  };
});

/** Whether a path exists on the target (asked only after `find` failed on it). */
async function pathExists(ctx: CollectContext, path: string): Promise<boolean> {
  const p = shellQuote(path);
  return (await execOnTarget(ctx, `[ -e ${p} ] || [ -L ${p} ]`)).code === 0;
}
