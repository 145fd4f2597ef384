/**
 * `crontab`: the entries of a user's crontab, read with `crontab -l` on the target. One item per
 * entry (comments and blank lines dropped). No crontab is an empty list; no `crontab` binary
 * is a skip, because nothing can be said.
 *
 * @example
 * ```ts
 * import { crontabCommand, parseCrontab } from "./crontab.ts";
 * crontabCommand(undefined); // "command -v crontab ... crontab -l"
 * parseCrontab("# m h\n@reboot cd /app && start\n"); // [{ line: "@reboot cd /app && start" }]
 * ```
 * @module
 */
import { z } from "zod";
import { shellQuote } from "../../shell/quote.ts";
import { type Collector, execOnTarget, NotCollected } from "./types.ts";

/** The spec of a `crontab` collector. */
export const CrontabSpec = z.strictObject({
  kind: z.literal("crontab"),
  user: z.string().optional().describe("Whose crontab (`crontab -u`); default: the login user."),
});

/** Exit code the command uses to say the binary is missing. */
const NO_CRONTAB_BINARY = 127;

/** Builds the command; a missing crontab (`no crontab for x`) is not an error. */
export function crontabCommand(user: string | undefined): string {
  const who = user ? ` -u ${shellQuote(user)}` : "";
  return `command -v crontab >/dev/null 2>&1 || exit ${NO_CRONTAB_BINARY}\n` +
    `out=$(crontab${who} -l 2>&1) && { printf '%s\\n' "$out"; exit 0; }\n` +
    `case "$out" in *"no crontab"*) exit 0;; esac\nprintf '%s\\n' "$out" >&2; exit 1`;
}

/** The entries of a crontab listing. */
export function parseCrontab(text: string): { line: string }[] {
  return text.split("\n").map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => ({ line }));
}

/** Collects `{items: [{line}], count}`. */
export const crontab: Collector<z.infer<typeof CrontabSpec>> = async (spec, ctx) => {
  const result = await execOnTarget(ctx, crontabCommand(spec.user));
  if (result.code === NO_CRONTAB_BINARY) {
    throw new NotCollected("skip", "skipped: crontab is not installed on the target");
  }
  if (result.code !== 0) {
    throw new NotCollected("error", `crontab -l failed: ${result.stderr.trim().slice(0, 300)}`);
  }
  const items = parseCrontab(result.stdout);
  return { items, count: items.length };
};
