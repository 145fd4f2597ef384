/**
 * The policy language, as zod schemas: a policy is a list of checks; a check names a collector
 * (`collect`), declarative assertions on its facts (`expect`), and what to tell people. The
 * same schemas produce `schema/policy.schema.json` and `schema/waivers.schema.json`.
 *
 * Assertions are typed matchers rather than an expression language: every check the SOC 2 and
 * security policies need is a comparison of a fact or a filter over a list of items, and
 * matchers give exact `file:line:col` errors at load time. (CEL was considered; see README.)
 *
 * @example
 * ```ts
 * import { PolicySchema } from "./schema.ts";
 * PolicySchema.safeParse({ id: "demo", title: "Demo", checks: [{
 *   id: "key-mode", title: "Key is private", severity: "high", message: "key too open",
 *   remediation: "chmod 600", collect: { kind: "file_stat", path: "/k" },
 *   expect: [{ fact: "mode", at_most: "0600" }] }] }).success; // true
 * ```
 * @module
 */
import { z } from "../source/zod.ts";
import { COLLECTOR_SPECS } from "./collectors/mod.ts";
import { SafePattern } from "./safe_regex.ts";

const Value = z.union([z.string(), z.number(), z.boolean()]);

/** Matchers on one value; every matcher given must hold. */
export const MatcherSchema = z.strictObject({
  eq: Value.optional(),
  ne: Value.optional(),
  in: z.array(Value).optional(),
  not_in: z.array(Value).optional(),
  at_most: z.union([z.string().regex(/^0?[0-7]{3}$/), z.number()]).optional()
    .describe('A number: <=. A mode such as "0600": grants no permission beyond it.'),
  at_least: z.number().optional(),
  matches: SafePattern.optional().describe("A regular expression (no nested quantifiers)."),
  not_matches: SafePattern.optional(),
  contains: Value.optional().describe("A list holds the value, or a string the substring."),
  contains_any: z.array(Value).optional().describe("A list holds at least one of these."),
  exists: z.boolean().optional().describe("The fact is present (not undefined/empty)."),
});

/** The names of the matchers. */
export const MATCHERS = Object.keys(MatcherSchema.shape) as (keyof Matcher)[];

/** A filter over items: each field must satisfy its matchers. */
export const WhereSchema = z.record(z.string(), MatcherSchema);

/** One assertion: a `fact` with matchers, or `none`/`all`/`count` over a list of items. */
export const AssertionSchema = MatcherSchema.extend({
  fact: z.string().optional().describe("Dotted path of a fact, e.g. `mode` or `value`."),
  of: z.string().default("items").describe("The list `none`/`all`/`count` look at."),
  none: WhereSchema.optional().describe("No item may match; the ones that do are findings."),
  all: WhereSchema.optional().describe("Every item must match; the ones that don't are findings."),
  count: MatcherSchema.optional().describe("How many items (matching `where`) there must be."),
  where: WhereSchema.optional().describe("With `count`: only count items matching this."),
  message: z.string().min(1).optional()
    .describe(
      "What a failed `fact` or `count` means, for people; `{value}` is the fact found, " +
        "`{name}` a fact beside it (default: from the matchers).",
    ),
  absent: z.enum(["fail", "not_applicable"]).optional()
    .describe(
      "With `fact`: what an absent fact means (a file that does not exist has no mode). " +
        "`fail` (default): the matchers judge it; `not_applicable`: the assertion does not " +
        "apply, and the check's notes say so. A check none of whose assertions apply is " +
        "`not_applicable`.",
    ),
}).superRefine((a, ctx) => {
  const forms = (["fact", "none", "all", "count"] as const).filter((k) => a[k] !== undefined);
  if (forms.length !== 1) {
    ctx.addIssue({
      code: "custom",
      message: forms.length
        ? `an assertion has exactly one of fact, none, all, count; found ${forms.join(" and ")}`
        : "an assertion needs one of: fact, none, all, count",
    });
  }
  const matchers = MATCHERS.filter((k) => a[k] !== undefined);
  if (a.fact !== undefined && !matchers.length) {
    ctx.addIssue({ code: "custom", message: `\`fact\` needs a matcher: ${MATCHERS.join(", ")}` });
  }
  if (a.fact === undefined && matchers.length) {
    ctx.addIssue({ code: "custom", message: `${matchers.join(", ")} go with \`fact\`` });
  }
  if (a.absent !== undefined && a.fact === undefined) {
    ctx.addIssue({ code: "custom", path: ["absent"], message: "`absent` goes with `fact`" });
  }
  if (a.where !== undefined && a.count === undefined) {
    ctx.addIssue({ code: "custom", path: ["where"], message: "`where` goes with `count`" });
  }
});

/** The collector a check reads facts from, chosen by `kind`. */
export const CollectSchema = z.discriminatedUnion("kind", COLLECTOR_SPECS);

/** One check. */
export const CheckSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, {
    error: "expected a kebab-case id such as `key-mode`",
  })
    .describe("Stable: becomes the SARIF ruleId and what waivers name."),
  title: z.string().min(1),
  description: z.string().optional(),
  severity: z.enum(["critical", "high", "medium", "low", "info"]),
  level: z.enum(["fail", "warn"]).default("fail").describe("warn: reported, fails only --strict."),
  controls: z.record(z.string(), z.array(z.string())).default({})
    .describe("Control ids per framework, e.g. soc2: [CC6.1], cis_docker: ['5.4']."),
  collect: CollectSchema.optional().describe("The collector whose facts the assertions test."),
  sources: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), CollectSchema).optional()
    .describe("Several named collectors; facts are under each name (`key.mode`)."),
  expect: z.array(AssertionSchema).min(1),
  message: z.string().min(1).describe("What a failure means, in one sentence."),
  remediation: z.string().min(1),
  finding: z.string().optional().describe("How an item finding reads: `{file}:{line} {pattern}`."),
}).superRefine((check, ctx) => {
  if ((check.collect === undefined) === (check.sources === undefined)) {
    ctx.addIssue({ code: "custom", message: "a check needs exactly one of `collect`, `sources`" });
  }
});

/** A parameter of a policy (`-p days=30`). */
export const PolicyParamSchema = z.strictObject({
  type: z.enum(["string", "int"]).default("string"),
  default: z.union([z.string(), z.number()]).optional(),
  description: z.string().optional(),
});

/** A policy file in `policies/`. */
export const PolicySchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  title: z.string().min(1),
  description: z.string().optional(),
  params: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), PolicyParamSchema).default({}),
  checks: z.array(CheckSchema).min(1),
}).superRefine((policy, ctx) => {
  const seen = new Set<string>();
  policy.checks.forEach((check, i) => {
    if (seen.has(check.id)) {
      ctx.addIssue({ code: "custom", path: ["checks", i, "id"], message: "duplicate check id" });
    }
    seen.add(check.id);
  });
});

/** Whether `text` is YYYY-MM-DD naming a day that exists (no 2030-02-30, no month 13). */
export function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day;
}

/** A waiver: one check (optionally one file or item of it) accepted until a date. */
export const WaiverSchema = z.strictObject({
  check: z.string().min(1).describe("The check id."),
  match: z.string().optional().describe("Only findings whose file or item equals/globs this."),
  justification: z.string().min(1),
  approver: z.string().min(1),
  expires: z.string().refine(isCalendarDate, {
    error: "not a calendar date: expected YYYY-MM-DD, a day that exists (2030-06-30)",
  }).describe("Required: the last day the waiver applies (YYYY-MM-DD)."),
});

/** A waivers file. */
export const WaiversSchema = z.strictObject({ waivers: z.array(WaiverSchema).default([]) });

/** A parsed policy. */
export type Policy = z.infer<typeof PolicySchema>;
/** A parsed check. */
export type Check = z.infer<typeof CheckSchema>;
/** A parsed assertion. */
export type Assertion = z.infer<typeof AssertionSchema>;
/** Matchers on one value. */
export type Matcher = z.infer<typeof MatcherSchema>;
/** A parsed waiver. */
export type Waiver = z.infer<typeof WaiverSchema>;

/** The JSON Schemas of policy and waivers files, for editors (`deno task schema`). */
export function policyJsonSchemas(): Record<string, Record<string, unknown>> {
  const options = { io: "input", unrepresentable: "any" } as const;
  return {
    policy: { title: "Protocol policy file", ...z.toJSONSchema(PolicySchema, options) },
    waivers: { title: "Protocol policy waivers", ...z.toJSONSchema(WaiversSchema, options) },
  };
}
