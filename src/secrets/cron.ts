/**
 * The `@reboot` recovery entry in the user's crontab, kept between marker comments so adding is
 * idempotent and removing touches nothing else. A block is named by the app and its directory
 * ({@link cronBlockName}): two nodes of one app on one host (each its own `app.dir`) keep one
 * entry each instead of overwriting each other's. Building the new crontab text is pure; reading
 * and installing it (`crontab -l` / `crontab -`) happens in {@link cronAdd} / {@link cronRemove}.
 *
 * @example
 * ```ts
 * import { cronAdd, rebootEntry } from "./cron.ts";
 * const app = { name: "myapp", dir: "/opt/myapp", start: "docker compose up -d" };
 * await cronAdd(app, [rebootEntry(app)]);
 * ```
 * @module
 */
import { join } from "node:path";
import { SecretsInputError } from "./errors.ts";
import { run, tryRun } from "./exec.ts";

/** The app (and where it lives) a crontab block belongs to. */
export interface CronApp {
  name: string;
  dir: string;
}

/**
 * The name of an app's block: the app and its directory, so each install on a host has its own.
 *
 * @example
 * ```ts
 * import { cronBlockName } from "./cron.ts";
 * cronBlockName({ name: "myapp", dir: "/srv/web-1/app" }); // "myapp /srv/web-1/app"
 * ```
 */
export function cronBlockName(app: CronApp): string {
  return `${app.name} ${app.dir}`;
}

/**
 * The marker comments around an app's block.
 *
 * @example
 * ```ts
 * import { cronMarkers } from "./cron.ts";
 * cronMarkers("myapp /opt/myapp"); // { begin: "# BEGIN protocol myapp /opt/myapp", end: ... }
 * ```
 */
export function cronMarkers(blockName: string): { begin: string; end: string } {
  if (!/^[^\r\n]+$/.test(blockName) || blockName.trim() !== blockName) {
    throw new SecretsInputError(`${JSON.stringify(blockName)} cannot be a crontab marker`);
  }
  return { begin: `# BEGIN protocol ${blockName}`, end: `# END protocol ${blockName}` };
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
export function withCronBlock(crontab: string, blockName: string, lines: string[]): string {
  const { begin, end } = cronMarkers(blockName);
  const kept = splitLines(withoutCronBlock(crontab, blockName));
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
export function withoutCronBlock(
  crontab: string,
  blockName: string,
  only: (body: string[]) => boolean = () => true,
): string {
  const { begin, end } = cronMarkers(blockName);
  const kept: string[] = [];
  let inside: string[] | undefined;
  let found = false;
  for (const line of splitLines(crontab)) {
    if (!inside && line.trim() === begin) inside = [line];
    else if (inside && line.trim() === end) {
      if (only(inside.slice(1))) found = true;
      else kept.push(...inside, line);
      inside = undefined;
    } else if (inside) inside.push(line);
    else kept.push(line);
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
 * `crontab` without the app's blocks: its own ({@link cronBlockName}), and a block of the
 * earlier form named by the app alone when it holds nothing but `entries` (so it was this
 * install's; another node's stays until that node is set up again).
 *
 * @example
 * ```ts
 * import { withoutAppBlocks } from "./cron.ts";
 * withoutAppBlocks("# BEGIN protocol a\n@reboot x\n# END protocol a\n", { name: "a", dir: "/d" }, ["@reboot x"]);
 * // ""
 * ```
 */
export function withoutAppBlocks(crontab: string, app: CronApp, entries: string[]): string {
  const legacy = withoutCronBlock(
    crontab,
    app.name,
    (body) => body.every((l) => entries.includes(l)),
  );
  return withoutCronBlock(legacy, cronBlockName(app));
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
 * import { cronAdd, rebootEntry } from "./cron.ts";
 * const config = await requireConfig({});
 * const { changed } = await cronAdd(config.app, [rebootEntry(config.app)]);
 * ```
 */
export async function cronAdd(
  app: CronApp,
  lines: string[],
  options: { user?: string } = {},
): Promise<CronChange> {
  const before = await readCrontab(options.user);
  const after = withCronBlock(withoutAppBlocks(before, app, lines), cronBlockName(app), lines);
  if (after === before) return { changed: false, crontab: before };
  await run(crontabWriteArgv(options.user), { stdin: after });
  return { changed: true, crontab: after };
}

/**
 * Removes the app's block (`lines`: its entries, to recognize a block of the earlier form);
 * does nothing when there is none.
 *
 * @example
 * ```ts
 * import { cronRemove, rebootEntry } from "./cron.ts";
 * const app = { name: "myapp", dir: "/opt/myapp", start: "true" };
 * await cronRemove(app, [rebootEntry(app)]);
 * ```
 */
export async function cronRemove(
  app: CronApp,
  lines: string[],
  options: { user?: string } = {},
): Promise<CronChange> {
  const before = await readCrontab(options.user);
  const after = withoutAppBlocks(before, app, lines);
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
