/**
 * `file_stat`: whether a path exists, its mode as a 4-digit octal string ("0600"), owner, type,
 * size and age in days — read with `stat` on the target.
 *
 * @example
 * ```ts
 * import { fileStatCommand } from "./file_stat.ts";
 * fileStatCommand("/root/.protocol/key"); // "date +%s; if [ -e '/root/.protocol/key' ] ..."
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { shellQuote } from "../../shell/quote.ts";
import { defineCollector, runOnTarget } from "./types.ts";

/** The spec of a `file_stat` collector. */
export const FileStatSpec = z.strictObject({
  kind: z.literal("file_stat"),
  path: z.string().min(1).describe("Path on the target; templates like ${{ state_dir }} allowed."),
});

/** Builds the command: the target's clock, then `stat` of the path (or `missing`). */
export function fileStatCommand(path: string): string {
  const p = shellQuote(path);
  return `date +%s; if [ -e ${p} ] || [ -L ${p} ]; then stat -c '%a|%U|%Y|%s|%F' -- ${p}; ` +
    `else echo missing; fi`;
}

/** Parses {@link fileStatCommand}'s output into facts. */
export function parseFileStat(path: string, stdout: string): Record<string, unknown> {
  const [nowLine, statLine = "missing"] = stdout.trim().split("\n");
  if (statLine === "missing") return { path, exists: false };
  const [mode, owner, mtime, size, type] = statLine.split("|");
  const bits = parseInt(mode, 8);
  return {
    path,
    exists: true,
    mode: bits.toString(8).padStart(4, "0"),
    owner,
    type,
    size: Number(size),
    age_days: Math.floor((Number(nowLine) - Number(mtime)) / 86_400),
    world_readable: (bits & 0o004) !== 0,
    world_writable: (bits & 0o002) !== 0,
    group_readable: (bits & 0o040) !== 0,
  };
}

/** Collects {@link parseFileStat} facts for `spec.path`. */
export const fileStat = defineCollector(
  FileStatSpec,
  async (spec, ctx) => parseFileStat(spec.path, await runOnTarget(ctx, fileStatCommand(spec.path))),
);
