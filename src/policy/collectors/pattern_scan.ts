/**
 * `pattern_scan`: files on the target searched for regular expressions, ON the target: `find`
 * lists the files (pruning excluded directories, optionally only recently modified ones) and
 * `xargs -P` fans them out to `grep -E` on every core. Only matching lines travel back; which
 * pattern matched is decided here. Patterns are POSIX ERE that are also valid JavaScript
 * (`\b`, `\s`, `\(`) — GNU grep understands both.
 *
 * @example
 * ```ts
 * import { scanCommand } from "./pattern_scan.ts";
 * scanCommand({ paths: ["/srv/app"], include: ["*.php"], exclude_dirs: ["vendor"],
 *   patterns: [{ id: "eval", regex: "\\beval\\s*\\(", weight: 1 }] });
 * // "find -H '/srv/app' \\( -name 'vendor' \\) ! -path '/srv/app' -prune -o -type f ... | xargs ..."
 * ```
 * @module
 */
import { z } from "zod";
import { shellQuote } from "../../shell/quote.ts";
import { SafeErePattern, safeRegex } from "../safe_regex.ts";
import { PHP_FILE, phpHitContext } from "./php_context.ts";
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

/** Builds the scan: `find … -print0 | xargs -0 -P<cores> grep -EnIHZ --line-buffered -e …`. */
export function scanCommand(
  spec: Pick<Spec, "paths" | "include" | "exclude_dirs" | "patterns" | "modified_within">,
): string {
  const find = findFilter(spec.paths, spec.exclude_dirs, spec.include, spec.modified_within);
  const patterns = spec.patterns.map((p) => `-e ${shellQuote(p.regex)}`).join(" ");
  // --line-buffered: parallel greps share one pipe; a line written at once cannot interleave.
  // -n 2048: each grep start costs ~1 ms; big batches keep that off the 50k-file bill.
  return `jobs=$(nproc 2>/dev/null || echo 2)\n` +
    `${find} -print0 | xargs -0 -r -P "$jobs" -n 2048 grep -EnIHZ --line-buffered ${patterns} --` +
    `\nstatus=$?; [ "$status" -eq 123 ] && exit 0; exit "$status"`;
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

/** Splits grep's `file\0line:text` output into hits, one per pattern that matches the line. */
export function parseScan(
  stdout: string,
  patterns: Spec["patterns"],
  language?: Spec["language"],
): ScanHit[] {
  const compiled = patterns.map((p) => ({ ...p, re: safeRegex(p.regex) }));
  const hits: ScanHit[] = [];
  for (const record of stdout.split("\n")) {
    const nul = record.indexOf("\0");
    if (nul < 0) continue;
    const file = record.slice(0, nul);
    const rest = record.slice(nul + 1);
    const colon = rest.indexOf(":");
    const line = Number(rest.slice(0, colon));
    const text = rest.slice(colon + 1);
    for (const p of compiled) {
      if (!p.re.test(text)) continue;
      const hit = { file, line, pattern: p.id, weight: p.weight, text: text.trim().slice(0, 200) };
      if (!language || !PHP_FILE.test(file)) hits.push(hit);
      else {
        const context = languageContext(p.re, text);
        if (context) hits.push({ ...hit, context });
      }
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
  const result = await execOnTarget(ctx, `${check.join("\n")}\n${scanCommand({ ...spec, paths })}`);
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
