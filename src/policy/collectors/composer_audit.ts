/**
 * `composer_audit`: known vulnerabilities in a PHP project's dependencies, from
 * `composer audit --format=json` run on the target. No composer.json: not applicable;
 * no composer binary: a clear skip, never a silent pass.
 *
 * @example
 * ```ts
 * import { parseComposerAudit } from "./composer_audit.ts";
 * parseComposerAudit('{"advisories":{"a/b":[{"cve":"CVE-1","title":"x","severity":"high"}]}}');
 * // [{ package: "a/b", cve: "CVE-1", title: "x", severity: "high", ... }]
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { shellQuote } from "../../shell/quote.ts";
import { defineCollector, execOnTarget, NotCollected } from "./types.ts";

/** The spec of a `composer_audit` collector. */
export const ComposerAuditSpec = z.strictObject({
  kind: z.literal("composer_audit"),
  dir: z.string().min(1).describe("The directory holding composer.json."),
});

/** Builds the command; exit 3 = no composer.json, 4 = no composer. */
export function composerAuditCommand(dir: string): string {
  const d = shellQuote(dir);
  return `[ -f ${d}/composer.json ] || exit 3\ncommand -v composer >/dev/null 2>&1 || exit 4\n` +
    `cd ${d} && composer audit --format=json --no-interaction --no-ansi; exit 0`;
}

/** One advisory per item. */
export function parseComposerAudit(json: string): Record<string, string>[] {
  const data = JSON.parse(json) as { advisories?: Record<string, unknown> };
  const advisories = data.advisories ?? {};
  return Object.entries(advisories).flatMap(([pkg, list]) =>
    (Array.isArray(list) ? list : Object.values(list as object)).map((
      a: Record<string, unknown>,
    ) => ({
      package: pkg,
      cve: String(a.cve ?? a.advisoryId ?? ""),
      title: String(a.title ?? ""),
      severity: String(a.severity ?? "unknown"),
      affected: String(a.affectedVersions ?? ""),
      link: String(a.link ?? ""),
    }))
  );
}

/** Collects `{items: advisories, count}`. */
export const composerAudit = defineCollector(ComposerAuditSpec, async (spec, ctx) => {
  const result = await execOnTarget(ctx, composerAuditCommand(spec.dir));
  if (result.code === 3) {
    throw new NotCollected("not_applicable", `no composer.json in ${spec.dir}`);
  }
  if (result.code === 4) throw new NotCollected("skip", "skipped: composer not installed");
  try {
    const items = parseComposerAudit(result.stdout);
    return { items, count: items.length };
  } catch {
    throw new NotCollected("error", `composer audit gave no JSON: ${result.stderr.slice(0, 300)}`);
  }
});
