/**
 * `git_state`: whether a directory is a git repository, its remotes, HEAD, and whether HEAD is
 * reachable from a remote-tracking ref (for a `--mirror` clone: from its mirrored refs). Uses
 * only what is on the target: no network, so the answer is "as of the last fetch".
 *
 * @example
 * ```ts
 * import { gitStateCommand } from "./git_state.ts";
 * gitStateCommand("/opt/app/repo.git"); // a script printing key=value lines
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { shellQuote } from "../../shell/quote.ts";
import { defineCollector, runOnTarget } from "./types.ts";

/** The spec of a `git_state` collector. */
export const GitStateSpec = z.strictObject({
  kind: z.literal("git_state"),
  repo: z.string().min(1).describe("A work tree or bare repository on the target."),
});

/** Builds the script; each fact is one `key=value` line. */
export function gitStateCommand(repo: string): string {
  const g = `git -C ${shellQuote(repo)}`;
  return [
    `if ! ${g} rev-parse --git-dir >/dev/null 2>&1; then echo is_repo=false; exit 0; fi`,
    "echo is_repo=true",
    `echo "remotes=$(${g} remote | tr '\\n' ' ')"`,
    `echo "head=$(${g} rev-parse --verify --quiet HEAD)"`,
    `if [ "$(${g} config --get remote.origin.mirror)" = true ]; then refs="refs/heads refs/tags"; ` +
    `else refs=refs/remotes; fi`,
    `echo "containing=$(${g} for-each-ref --count=1 --contains HEAD --format='%(refname)' $refs 2>/dev/null)"`,
  ].join("\n");
}

/** Parses {@link gitStateCommand}'s output. */
export function parseGitState(repo: string, text: string): Record<string, unknown> {
  const kv = Object.fromEntries(
    text.split("\n").filter((l) => l.includes("=")).map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1).trim()];
    }),
  );
  if (kv.is_repo !== "true") return { repo, is_repo: false, remote_configured: false };
  const remotes = (kv.remotes ?? "").split(/\s+/).filter(Boolean);
  return {
    repo,
    is_repo: true,
    remotes,
    remote_configured: remotes.length > 0,
    head: kv.head || undefined,
    head_on_remote: Boolean(kv.head) && Boolean(kv.containing),
    containing_ref: kv.containing || undefined,
  };
}

/** Collects {@link parseGitState} facts. */
export const gitState = defineCollector(
  GitStateSpec,
  async (spec, ctx) => parseGitState(spec.repo, await runOnTarget(ctx, gitStateCommand(spec.repo))),
);
