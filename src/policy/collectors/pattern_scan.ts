/**
 * `pattern_scan`: files on the target searched for regular expressions, ON the target. Where
 * the target has ripgrep (`rg`), it walks and searches the tree on every core at once; else
 * `find` lists the files (pruning excluded directories, optionally only recently modified
 * ones) and `xargs -P` fans them out to `grep -E` on every core. Both read the same files the
 * same way (hidden files too, no ignore files, binary files skipped, bytes not Unicode), and
 * only matching lines travel back; which pattern matched is decided here. Patterns are POSIX
 * ERE that are also valid JavaScript (`\b`, `\s`, `\(`) — GNU grep and ripgrep understand both;
 * a pattern or a ripgrep that the node's `rg` refuses falls back to grep.
 *
 * @example
 * ```ts
 * import { scanCommand } from "./pattern_scan.ts";
 * scanCommand({ paths: ["/srv/app"], include: ["*.php"], exclude_dirs: ["vendor"],
 *   patterns: [{ id: "eval", regex: "\\beval\\s*\\(", weight: 1 }] });
 * // "if command -v rg … rg … '/srv/app' …\nfind -H '/srv/app' \\( -name 'vendor' \\) … | xargs …"
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { shellQuote } from "../../shell/quote.ts";
import { SafeErePattern, safeRegex } from "../safe_regex.ts";
import { PHP_FILE, phpCallSitePattern, phpHitContext } from "./php_context.ts";
import { defineCollector, execOnTarget, NotCollected } from "./types.ts";
import { durationMinutes, findFilter } from "./find_files.ts";

/** One pattern: an id that findings name, the regex, and its weight in a per-file score. */
export const ScanPattern = z.strictObject({
  id: z.string().regex(/^[a-z0-9_-]+$/),
  regex: SafeErePattern.describe("POSIX ERE, no nested quantifiers (runs on grep -E and here)."),
  weight: z.number().int().min(0).default(1),
  description: z.string().optional(),
});

/** The spec of a `pattern_scan` collector. */
export const PatternScanSpec = z.strictObject({
  kind: z.literal("pattern_scan"),
  paths: z.array(z.string()).min(1),
  include: z.array(z.string()).default([]).describe("File name globs; empty: every file."),
  exclude_dirs: z.array(z.string()).default([".git", "vendor", "node_modules"]),
  modified_within: z.string().optional().describe('Only files modified within "24h", "15d".'),
  patterns: z.array(ScanPattern).min(1),
  per_file: z.boolean().default(false).describe("One item per file with a score, not per line."),
  language: z.enum(["php"]).optional().describe(
    "php: each hit in a PHP file (.php, .phtml, .php5, .php7, .inc) gets `context` (code, " +
      "string, comment); method and static calls and definitions (`$x->eval(`, " +
      "`Foo::system(`, `function exec(`) are not hits. Other files' hits are kept as they are.",
  ),
});

type Spec = z.infer<typeof PatternScanSpec>;

/** Which program searches: `rg` where the node has a usable one (`auto`), or always one. */
export type ScanEngine = "auto" | "rg" | "grep";

/**
 * Builds the scan. `auto` (what collectors run): ripgrep when the node has one that accepts the
 * flags and patterns (tried on empty input first), else `find … -print0 | xargs -0 -P<cores>
 * grep -EnIHZ -e …`. Both print `file\0line:text` per matching line and exit 0 or 1 as grep
 * would (an unreadable file is skipped by both). ripgrep has no age filter: `modified_within`
 * always takes grep. Each grep writes its own file in a temporary directory, concatenated at
 * the end: parallel greps sharing one pipe would have to write line by line
 * (`--line-buffered`, one system call a line, a third of the scan's CPU on a large tree) so
 * that their lines cannot interleave.
 *
 * @example
 * ```ts
 * import { scanCommand } from "./pattern_scan.ts";
 * const spec = { paths: ["/app"], include: ["*.php"], exclude_dirs: ["vendor"],
 *   patterns: [{ id: "eval", regex: "\\beval\\s*\\(", weight: 1 }] };
 * scanCommand(spec, "grep").startsWith("jobs=$(nproc"); // true
 * ```
 */
export function scanCommand(
  spec: Pick<
    Spec,
    "paths" | "include" | "exclude_dirs" | "patterns" | "modified_within" | "language"
  >,
  engine: ScanEngine = "auto",
): string {
  // Only PHP files are read as PHP: the node may drop method calls when nothing else is scanned.
  const onlyPhp = spec.language === "php" && spec.include.length > 0 &&
    spec.include.every((glob) => PHP_FILE.test(glob));
  const regexes = spec.patterns.map((p) => onlyPhp ? phpCallSitePattern(p.regex) : p.regex);
  const grep = grepScan(spec, regexes);
  if (engine === "grep" || (engine === "auto" && !ripgrepFits(spec))) return grep;
  const rg = ["rg", ...ripgrepArgs(spec, regexes)].join(" ");
  const paths = spec.paths.map(shellQuote).join(" ");
  if (engine === "rg") {
    return `${rg} ${paths}
${RG_STATUS}`;
  }
  return [
    `if command -v rg >/dev/null 2>&1 && { ${rg} - </dev/null >/dev/null 2>&1; [ $? -eq 1 ]; }; then`,
    `  ${rg} ${paths}`,
    `  ${RG_STATUS}`,
    "fi",
    grep,
  ].join("\n");
}

/** ripgrep's 2 (a file it could not read, and went on) is grep's skipped file: not a failure. */
const RG_STATUS = 'status=$?; [ "$status" -le 2 ] && exit 0; exit "$status"';

/**
 * Whether ripgrep reads exactly the files `find` would: no age filter; globs that mean the same
 * as a file name pattern (`-name`) in both — no `/`, no braces, no `**`, no leading `!`; and no
 * path given inside another (`find` exempts every path given from the exclusions, also where it
 * meets one while walking another, and then reads it twice).
 */
function ripgrepFits(
  spec: Pick<Spec, "paths" | "include" | "exclude_dirs" | "modified_within">,
): boolean {
  if (spec.modified_within !== undefined) return false;
  const dirs = spec.paths.map((path) => path.replace(/\/+$/, "") + "/");
  if (dirs.some((a, i) => dirs.some((b, j) => i !== j && b.startsWith(a)))) return false;
  return [...spec.include, ...spec.exclude_dirs].every((glob) =>
    glob !== "" && !/[/{}]|\*\*|^!/.test(glob)
  );
}

/**
 * ripgrep as grep reads files: no config file, every file (hidden, ignored), bytes rather than
 * Unicode (`\b`, `\s`, `.` as in the C locale), no encoding sniffing, `file\0line:text`.
 */
function ripgrepArgs(spec: Pick<Spec, "include" | "exclude_dirs">, regexes: string[]): string[] {
  return [
    "--no-config",
    "--no-ignore",
    "--hidden",
    "--no-unicode",
    "--encoding none",
    "--null",
    "--line-number",
    "--with-filename",
    "--no-heading",
    "--color never",
    ...spec.include.map((glob) => `-g ${shellQuote(glob)}`),
    ...spec.exclude_dirs.map((dir) => `-g ${shellQuote(`!${dir}/`)}`),
    ...regexes.map((regex) => `-e ${shellQuote(regex)}`),
  ];
}

/** The grep scan: `find` lists, `xargs -P` fans out to one grep a batch, each to its own file. */
function grepScan(
  spec: Pick<Spec, "paths" | "include" | "exclude_dirs" | "modified_within">,
  regexes: string[],
): string {
  const find = findFilter(spec.paths, spec.exclude_dirs, spec.include, spec.modified_within);
  const patterns = regexes.map((regex) => `-e ${shellQuote(regex)}`).join(" ");
  // -n 2048: each grep start costs ~1 ms; big batches keep that off the 50k-file bill.
  return [
    "jobs=$(nproc 2>/dev/null || echo 2)",
    'out=$(mktemp -d "${TMPDIR:-/tmp}/protocol-scan.XXXXXX") || exit 2',
    "trap 'rm -rf \"$out\"' EXIT",
    // A stop (TERM, INT, HUP) becomes an exit, which removes the directory: dash runs no EXIT
    // trap when a signal ends it.
    "trap 'exit 143' TERM INT HUP",
    `${find} -print0 | xargs -0 -r -P "$jobs" -n 2048 ` +
    `sh -c 'exec grep -EnIHZ "$@" > "$0/$$"' "$out" ${patterns} --`,
    "status=$?",
    'cat "$out"/* 2>/dev/null',
    '[ "$status" -eq 123 ] && exit 0; exit "$status"',
  ].join("\n");
}

/** One matching line. */
export interface ScanHit {
  file: string;
  line: number;
  pattern: string;
  weight: number;
  text: string;
  /** With `language`: where on the line the pattern matched (a call in code, or a mention). */
  context?: "code" | "string" | "comment";
}

/**
 * Where a pattern stands on a line, by the language's rules: the first match in code wins,
 * else a mention in a string or comment; undefined when every match is a method call or a
 * definition (not the function the pattern names).
 */
function languageContext(
  re: ReturnType<typeof safeRegex>,
  text: string,
): ScanHit["context"] | undefined {
  let mention: ScanHit["context"];
  for (const index of re.indices(text)) {
    const context = phpHitContext(text, index);
    if (context === "code") return "code";
    if (context === "string" || context === "comment") mention ??= context;
  }
  return mention;
}

/**
 * Splits grep's `file\0line:text` output into hits, one per pattern that matches the line.
 * What a line's text holds (which patterns, in which context) is worked out once per distinct
 * text: a framework's lines recur in many files.
 */
export function parseScan(
  stdout: string,
  patterns: Spec["patterns"],
  language?: Spec["language"],
): ScanHit[] {
  const compiled = patterns.map((p) => ({ ...p, re: safeRegex(p.regex) }));
  type Match = { pattern: string; weight: number; context?: ScanHit["context"] };
  const seen = new Map<string, { plain: Match[]; php: Match[] }>();
  const hits: ScanHit[] = [];
  for (let start = 0, end = 0; start < stdout.length; start = end + 1) {
    end = stdout.indexOf("\n", start);
    if (end < 0) end = stdout.length;
    const nul = stdout.indexOf("\0", start);
    if (nul < 0) break;
    if (nul > end) continue;
    const colon = stdout.indexOf(":", nul + 1);
    if (colon < 0 || colon > end) continue;
    const file = stdout.slice(start, nul);
    const text = stdout.slice(colon + 1, end);
    let matches = seen.get(text);
    if (!matches) {
      const plain: Match[] = [];
      const php: Match[] = [];
      for (const p of compiled) {
        if (!p.re.test(text)) continue;
        plain.push({ pattern: p.id, weight: p.weight });
        const context = language && languageContext(p.re, text);
        if (context) php.push({ pattern: p.id, weight: p.weight, context });
      }
      matches = { plain, php };
      seen.set(text, matches);
    }
    const found = language && PHP_FILE.test(file) ? matches.php : matches.plain;
    if (!found.length) continue;
    const line = Number(stdout.slice(nul + 1, colon));
    const shown = text.trim().slice(0, 200);
    for (const { pattern, weight, context } of found) {
      hits.push(
        context
          ? { file, line, pattern, weight, text: shown, context }
          : { file, line, pattern, weight, text: shown },
      );
    }
  }
  return hits;
}

/** Groups hits per file: score = sum of the weights of the distinct patterns found. */
export function scoreFiles(hits: ScanHit[]) {
  const files = new Map<
    string,
    { file: string; line: number; patterns: string[]; score: number }
  >();
  for (const hit of hits) {
    const entry = files.get(hit.file) ?? { file: hit.file, line: hit.line, patterns: [], score: 0 };
    if (!entry.patterns.includes(hit.pattern)) {
      entry.patterns.push(hit.pattern);
      entry.score += hit.weight;
    }
    entry.line = Math.min(entry.line, hit.line);
    files.set(hit.file, entry);
  }
  return [...files.values()].sort((a, b) => b.score - a.score || a.file.localeCompare(b.file));
}

/** Collects `{items, count}`: hits, or scored files with `per_file`. */
export const patternScan = defineCollector(PatternScanSpec, async (spec, ctx) => {
  const paths = spec.paths.filter(Boolean);
  // An unset path parameter renders empty; `find` with no path would search the cwd.
  if (!paths.length) throw new NotCollected("not_applicable", "no directory to look in");
  durationMinutes(spec.modified_within); // refuses a bad duration before anything runs
  // One round trip: the directory check rides along with the scan (exit 3 names the missing one).
  const check = paths.map((p) => `[ -d ${shellQuote(p)} ] || { echo ${shellQuote(p)}; exit 3; }`);
  // A scan cut at the target's output limit would lose findings without a word: an error that
  // says how to narrow it.
  const result = await execOnTarget(
    ctx,
    `${check.join("\n")}\n${scanCommand({ ...spec, paths })}`,
    "narrow the scan (paths, include, exclude_dirs, modified_within) so no finding is lost",
  );
  if (result.code === 3) {
    throw new NotCollected("error", `no such directory: ${result.stdout.trim().split("\n")[0]}`);
  }
  // grep exits 1 when nothing matched; xargs reports that as 123. Anything else is a failure.
  if (result.code !== 0 && result.code !== 1) {
    throw new NotCollected("error", `scan failed (${result.code}): ${result.stderr.slice(0, 300)}`);
  }
  const hits = parseScan(result.stdout, spec.patterns, spec.language);
  const items = spec.per_file ? scoreFiles(hits) : hits;
  return { paths, items, count: items.length };
});
