/**
 * The `@reboot` recovery entry in the user's crontab, kept between marker comments so adding is
 * idempotent and removing touches nothing else. Building the new crontab text is pure; reading
 * and installing it (`crontab -l` / `crontab -`) happens in {@link cronAdd} / {@link cronRemove}.
 *
 * @example
 * ```ts
 * import { cronAdd, rebootEntry } from "./cron.ts";
 * await cronAdd("myapp", [rebootEntry({ dir: "/opt/myapp", start: "docker compose up -d" })]);
 * ```
 * @module
 */
import { join } from "node:path";
import { SecretsInputError } from "./errors.ts";
import { run, tryRun } from "./exec.ts";

/**
 * The marker comments around an app's block.
 *
 * @example
 * ```ts
 * cronMarkers("myapp"); // { begin: "# BEGIN protocol myapp", end: "# END protocol myapp" }
 * ```
 */
export function cronMarkers(appName: string): { begin: string; end: string } {
  if (!/^[^\r\n]+$/.test(appName) || appName.trim() !== appName) {
    throw new SecretsInputError(`app name ${JSON.stringify(appName)} cannot be a crontab marker`);
  }
  return { begin: `# BEGIN protocol ${appName}`, end: `# END protocol ${appName}` };
}

/**
 * The entry that starts the app after a reboot: `cd` into the active release, then the app's
 * start command (as the original's `protocol start` did). `%` is escaped because cron turns a
 * bare `%` into a newline.
 *
 * @example
 * ```ts
 * rebootEntry({ dir: "/opt/myapp", start: "docker compose up -d" });
 * // "@reboot cd /opt/myapp/current && docker compose up -d"
 * ```
 */
export function rebootEntry(app: { dir: string; start: string }): string {
  if (/[\r\n]/.test(app.start)) {
    throw new SecretsInputError("app.start must be one line to become a crontab entry");
  }
  const command = `cd ${shellWord(join(app.dir, "current"))} && ${app.start}`;
  return `@reboot ${command.replace(/%/g, "\\%")}`;
}

/**
 * `crontab` text with the app's block replaced by (or, when absent, appended as) `lines`
 * between the markers. Every other line is kept as it was.
 *
 * @example
 * ```ts
 * withCronBlock("MAILTO=ops\n", "myapp", ["@reboot true"]);
 * // "MAILTO=ops\n# BEGIN protocol myapp\n@reboot true\n# END protocol myapp\n"
 * ```
 */
export function withCronBlock(crontab: string, appName: string, lines: string[]): string {
  const { begin, end } = cronMarkers(appName);
  const kept = splitLines(withoutCronBlock(crontab, appName));
  return [...kept, begin, ...lines, end].join("\n") + "\n";
}

/**
 * `crontab` text without the app's block (every occurrence, markers included).
 *
 * @example
 * ```ts
 * withoutCronBlock("# BEGIN protocol a\n@reboot x\n# END protocol a\nMAILTO=ops\n", "a");
 * // "MAILTO=ops\n"
 * ```
 */
export function withoutCronBlock(crontab: string, appName: string): string {
  const { begin, end } = cronMarkers(appName);
  const kept: string[] = [];
  let inside = false;
  let found = false;
  for (const line of splitLines(crontab)) {
    if (!inside && line.trim() === begin) inside = found = true;
    else if (inside && line.trim() === end) inside = false;
    else if (!inside) kept.push(line);
  }
  if (inside) {
    throw new SecretsInputError(
      `the crontab has "${begin}" without "${end}"; fix it with \`crontab -e\``,
    );
  }
  if (!found) return crontab;
  return kept.length ? kept.join("\n") + "\n" : "";
}

/**
 * The argv that prints a crontab (`user` needs root).
 *
 * @example
 * ```ts
 * crontabReadArgv(); // ["crontab", "-l"]
 * ```
 */
export function crontabReadArgv(user?: string): string[] {
  return ["crontab", ...(user ? ["-u", user] : []), "-l"];
}

/**
 * The argv that installs a crontab from stdin.
 *
 * @example
 * ```ts
 * crontabWriteArgv("deploy"); // ["crontab", "-u", "deploy", "-"]
 * ```
 */
export function crontabWriteArgv(user?: string): string[] {
  return ["crontab", ...(user ? ["-u", user] : []), "-"];
}

/**
 * The current crontab text; "no crontab for USER" is an empty crontab.
 *
 * @example
 * ```ts
 * const text = await readCrontab();
 * ```
 */
export async function readCrontab(user?: string): Promise<string> {
  const result = await tryRun(crontabReadArgv(user));
  if (result.code === 0) return result.stdout;
  if (/no crontab for/i.test(result.stderr)) return "";
  return (await run(crontabReadArgv(user))).stdout; // fails with the real error
}

/** What {@link cronAdd} or {@link cronRemove} did. */
export interface CronChange {
  /** Whether the crontab was rewritten (false: it already was as asked). */
  changed: boolean;
  /** The crontab after the change. */
  crontab: string;
}

/**
 * Installs the app's block with `lines`; does nothing when it is already there as given.
 *
 * @example
 * ```ts
 * import { requireConfig } from "../config/mod.ts";
 * const config = await requireConfig({});
 * const { changed } = await cronAdd("myapp", [rebootEntry(config.app)]);
 * ```
 */
export async function cronAdd(
  appName: string,
  lines: string[],
  options: { user?: string } = {},
): Promise<CronChange> {
  const before = await readCrontab(options.user);
  const after = withCronBlock(before, appName, lines);
  if (after === before) return { changed: false, crontab: before };
  await run(crontabWriteArgv(options.user), { stdin: after });
  return { changed: true, crontab: after };
}

/**
 * Removes the app's block; does nothing when there is none.
 *
 * @example
 * ```ts
 * await cronRemove("myapp");
 * ```
 */
export async function cronRemove(
  appName: string,
  options: { user?: string } = {},
): Promise<CronChange> {
  const before = await readCrontab(options.user);
  const after = withoutCronBlock(before, appName);
  if (after === before) return { changed: false, crontab: before };
  await run(crontabWriteArgv(options.user), { stdin: after });
  return { changed: true, crontab: after };
}

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** One shell word: as it is when plainly safe, else single-quoted. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
