/**
 * Evaluating assertions against facts. A failing assertion yields findings: one per offending
 * item for `none`/`all` (with its file and line when the item has them, which is what SARIF
 * needs), one for a `fact` or `count` that does not hold.
 *
 * @example
 * ```ts
 * import { checkValue, evaluateAssertion } from "./matchers.ts";
 * checkValue("0644", { at_most: "0600" }); // ["is 0644, expected at most 0600"]
 * evaluateAssertion({ of: "items", none: { name: { in: ["xmrig"] } } },
 *   { items: [{ name: "xmrig", pid: 7 }] }); // [{ message: "name=xmrig pid=7", ... }]
 * ```
 * @module
 */
import { pickKey } from "./collectors/file_content.ts";
import type { Facts } from "./collectors/types.ts";
import { safeRegex } from "./safe_regex.ts";
import type { Assertion, Matcher } from "./schema.ts";

/** One thing wrong, as a report shows it. */
export interface Finding {
  message: string;
  /** Where, for findings in files (SARIF uses only these). */
  file?: string;
  line?: number;
  /** What a waiver's `match` compares against besides `file` (a service, a process, a path). */
  item?: string;
}

const show = (v: unknown): string =>
  typeof v === "string" ? v : Array.isArray(v) ? v.map(show).join(", ") : JSON.stringify(v);
const isMode = (v: unknown): v is string => typeof v === "string" && /^0?[0-7]{3}$/.test(v);

/** Why a value fails its matchers (empty when it satisfies all of them). */
export function checkValue(value: unknown, m: Matcher): string[] {
  const out: string[] = [];
  const got = `is ${value === undefined ? "absent" : show(value)}`;
  const list = Array.isArray(value) ? value : undefined;
  if (m.exists !== undefined) {
    const present = value !== undefined && value !== null && value !== "" &&
      !(list && list.length === 0);
    if (present !== m.exists) out.push(m.exists ? "is absent" : `${got}, expected absent`);
  }
  if (m.eq !== undefined && value !== m.eq) out.push(`${got}, expected ${show(m.eq)}`);
  if (m.ne !== undefined && value === m.ne) out.push(`${got}, expected anything else`);
  if (m.in && !m.in.includes(value as never)) {
    out.push(`${got}, expected one of ${m.in.map(show).join(", ")}`);
  }
  if (m.not_in && m.not_in.includes(value as never)) out.push(`${got}, which is not allowed`);
  if (m.at_most !== undefined) {
    const ok = isMode(m.at_most)
      ? isMode(value) && (parseInt(value, 8) & ~parseInt(m.at_most, 8)) === 0
      : typeof value === "number" && value <= Number(m.at_most);
    if (!ok) out.push(`${got}, expected at most ${show(m.at_most)}`);
  }
  if (m.at_least !== undefined && !(typeof value === "number" && value >= m.at_least)) {
    out.push(`${got}, expected at least ${m.at_least}`);
  }
  if (m.matches !== undefined && !safeRegex(m.matches).test(String(value ?? ""))) {
    out.push(`${got}, expected to match /${m.matches}/`);
  }
  if (m.not_matches !== undefined && safeRegex(m.not_matches).test(String(value ?? ""))) {
    out.push(`${got}, expected not to match /${m.not_matches}/`);
  }
  if (m.contains !== undefined) {
    const ok = list ? list.includes(m.contains) : String(value ?? "").includes(String(m.contains));
    if (!ok) out.push(`${got}, expected to contain ${show(m.contains)}`);
  }
  if (m.contains_any && !(list ?? []).some((v) => m.contains_any!.includes(v))) {
    out.push(`${got}, expected to contain one of ${m.contains_any.map(show).join(", ")}`);
  }
  return out;
}

/** A matcher in words: `matches the pattern ^@reboot\s`, `is one of a, b`. */
export function describeMatcher(m: Matcher): string {
  const parts: string[] = [];
  if (m.exists !== undefined) parts.push(m.exists ? "is set" : "is not set");
  if (m.eq !== undefined) parts.push(`is ${show(m.eq)}`);
  if (m.ne !== undefined) parts.push(`is not ${show(m.ne)}`);
  if (m.in) parts.push(`is one of ${m.in.map(show).join(", ")}`);
  if (m.not_in) parts.push(`is none of ${m.not_in.map(show).join(", ")}`);
  if (m.at_most !== undefined) parts.push(`is at most ${show(m.at_most)}`);
  if (m.at_least !== undefined) parts.push(`is at least ${m.at_least}`);
  if (m.matches !== undefined) parts.push(`matches the pattern ${m.matches}`);
  if (m.not_matches !== undefined) parts.push(`does not match the pattern ${m.not_matches}`);
  if (m.contains !== undefined) parts.push(`contains ${show(m.contains)}`);
  if (m.contains_any) parts.push(`contains one of ${m.contains_any.map(show).join(", ")}`);
  return parts.join(" and ");
}

/** Whether an item satisfies every field's matchers. */
export function matchesWhere(item: unknown, where: Record<string, Matcher>): boolean {
  return Object.entries(where).every(([field, m]) =>
    checkValue(pickKey(item, field), m).length === 0
  );
}

/** Renders `{field}` placeholders of a finding template with an item's fields. */
export function renderFinding(template: string | undefined, item: Record<string, unknown>): string {
  if (template) return template.replace(/\{([\w.]+)\}/g, (_, k) => show(pickKey(item, k) ?? ""));
  return Object.entries(item).filter(([, v]) =>
    v !== "" && v !== undefined && typeof v !== "object"
  )
    .slice(0, 5).map(([k, v]) => `${k}=${show(v)}`).join(" ");
}

function itemFinding(item: Record<string, unknown>, template: string | undefined): Finding {
  const label = item.file ?? item.service ?? item.name ?? item.line ?? item.package;
  return {
    message: renderFinding(template, item),
    file: typeof item.file === "string" ? item.file : undefined,
    line: typeof item.line === "number" ? item.line : undefined,
    item: label === undefined ? undefined : String(item.service ?? item.name ?? label),
  };
}

/**
 * Why an assertion does not apply to these facts, if it does not: a `fact` assertion with
 * `absent: not_applicable` whose fact is absent (a key that does not exist has no mode to
 * judge). The sentence names the fact and, when the facts have one, the path.
 *
 * @example
 * ```ts
 * import { notApplicable } from "./matchers.ts";
 * notApplicable({ of: "items", fact: "key.mode", at_most: "0600", absent: "not_applicable" },
 *   { key: { path: "/s/key", exists: false } });
 * // "key.mode: not applicable, /s/key does not exist"
 * ```
 */
export function notApplicable(a: Assertion, facts: Facts): string | undefined {
  if (a.fact === undefined || a.absent !== "not_applicable") return undefined;
  if (pickKey(facts, a.fact) !== undefined) return undefined;
  const parent = a.fact.includes(".") ? pickKey(facts, a.fact.replace(/\.[^.]*$/, "")) : facts;
  const path = (parent as Facts | undefined)?.path;
  return `${a.fact}: not applicable, ${
    typeof path === "string" ? `${path} does not exist` : "the fact is absent"
  }`;
}

/** The findings of one assertion over a collector's facts (empty: it holds). */
export function evaluateAssertion(a: Assertion, facts: Facts, template?: string): Finding[] {
  if (a.fact !== undefined) {
    const parent = a.fact.includes(".") ? pickKey(facts, a.fact.replace(/\.[^.]*$/, "")) : facts;
    const owner = (parent ?? {}) as Facts;
    const path = typeof owner.path === "string" ? owner.path : undefined;
    const value = pickKey(facts, a.fact);
    const why = checkValue(value, a);
    // A policy's own words: `{value}` is what was found, `{name}` a fact beside it.
    const said = a.message
      ? [renderFinding(a.message, { ...owner, value: value === undefined ? "absent" : value })]
      : why.map((w) => `${a.fact} ${w}`);
    return (why.length ? said : []).map((text) => ({
      message: `${text}${path ? ` (${path})` : ""}`,
      item: path,
    }));
  }
  const raw = pickKey(facts, a.of);
  const items = (Array.isArray(raw) ? raw : []) as Record<string, unknown>[];
  if (a.none) {
    return items.filter((i) => matchesWhere(i, a.none!)).map((i) => itemFinding(i, template));
  }
  if (a.all) {
    return items.filter((i) => !matchesWhere(i, a.all!)).map((i) => itemFinding(i, template));
  }
  const counted = a.where ? items.filter((i) => matchesWhere(i, a.where!)).length : items.length;
  if (!checkValue(counted, a.count!).length) return [];
  if (a.message) return [{ message: a.message }];
  const which = a.where
    ? ` ${
      Object.entries(a.where).map(([field, m]) => `whose ${field} ${describeMatcher(m)}`)
        .join(" and ")
    }`
    : "";
  const found = a.where ? `${counted} of ${items.length}` : `${counted}`;
  return [{
    message: `found ${found} ${a.of}${which}; expected ${
      describeMatcher(a.count!)
        .replace(/^is /, "")
    }`,
  }];
}
