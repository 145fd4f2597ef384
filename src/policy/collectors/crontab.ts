/**
 * `crontab`: the entries of a user's crontab, read with `crontab -l` on the target. One item per
 * entry (comments and blank lines dropped): the line, its schedule (`@reboot`, `0 3 * * *`), its
 * command, the directory the command first `cd`s into, and the app whose block it is in (the
 * `# BEGIN protocol NAME` … `# END protocol NAME` markers `cron:add` writes). No crontab is an
 * empty list; no `crontab` binary is a skip, because nothing can be said.
 *
 * @example
 * ```ts
 * import { crontabCommand, parseCrontab } from "./crontab.ts";
 * crontabCommand(undefined); // "command -v crontab ... crontab -l"
 * parseCrontab("# BEGIN protocol shop\n@reboot cd /app/current && start\n# END protocol shop\n");
 * // [{ line: "@reboot cd /app/current && start", schedule: "@reboot",
 * //    command: "cd /app/current && start", cd: "/app/current", block: "shop" }]
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { shellQuote } from "../../shell/quote.ts";
import { defineCollector, execOnTarget, NotCollected } from "./types.ts";

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

/** One crontab entry. */
export interface CrontabEntry {
  line: string;
  schedule: string;
  command: string;
  /** The directory a leading `cd DIR &&` changes to; "" when the command starts otherwise. */
  cd: string;
  /** The app whose `# BEGIN protocol NAME` block holds the entry; "" outside every block. */
  block: string;
}

/** The first shell word of `text` with its quotes removed, and what follows it. */
export function firstShellWord(text: string): [string, string] {
  let word = "";
  let i = 0;
  for (; i < text.length && !/\s/.test(text[i]); i++) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return ["", text];
      word += text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        word += text[j] === "\\" ? text[++j] : text[j];
      }
      i = j;
    } else if (c === "\\") word += text[++i] ?? "";
    else word += c;
  }
  return [word, text.slice(i)];
}

function entry(line: string, block: string): CrontabEntry {
  const at = /^(@\w+)\s+(.*)$/.exec(line);
  const fields = at ? undefined : /^((?:\S+\s+){4}\S+)\s+(.*)$/.exec(line);
  const [schedule, command] = at ? [at[1], at[2]] : fields ? [fields[1], fields[2]] : ["", line];
  let cd = "";
  const cdMatch = /^cd\s+(.*)$/.exec(command);
  if (cdMatch) {
    const [dir, rest] = firstShellWord(cdMatch[1]);
    if (/^\s*(&&|;|$)/.test(rest)) cd = dir;
  }
  // Cron turns a bare % into a newline, so entries escape it; the directory is the unescaped one.
  return { line, schedule, command, cd: cd.replaceAll("\\%", "%"), block };
}

/** The entries of a crontab listing. */
export function parseCrontab(text: string): CrontabEntry[] {
  const entries: CrontabEntry[] = [];
  let block = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const marker = /^# (BEGIN|END) protocol (.+)$/.exec(line);
    if (marker) block = marker[1] === "BEGIN" ? marker[2] : "";
    if (!line || line.startsWith("#")) continue;
    // Environment settings (MAILTO=ops) are not entries.
    if (/^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line)) continue;
    entries.push(entry(line, block));
  }
  return entries;
}

/** Collects `{items: [{line}], count}`. */
export const crontab = defineCollector(CrontabSpec, async (spec, ctx) => {
  const result = await execOnTarget(ctx, crontabCommand(spec.user));
  if (result.code === NO_CRONTAB_BINARY) {
    throw new NotCollected("skip", "skipped: crontab is not installed on the target");
  }
  if (result.code !== 0) {
    throw new NotCollected("error", `crontab -l failed: ${result.stderr.trim().slice(0, 300)}`);
  }
  const items = parseCrontab(result.stdout);
  return { items, count: items.length };
});
