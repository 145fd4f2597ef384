/**
 * The audit vocabulary: every action the tool writes to the audit log, and one typed builder
 * per action. The CLI and the runbook steps call the same builder, so the same operation
 * writes the same entry whoever started it; `schedule` and `evidence` match on {@link ACTION}
 * rather than on string literals.
 *
 * A failure records the error's class (`error_class`) and its message with credentials taken
 * out of URLs and known secrets masked (`error`) — never the raw message, which may quote a
 * credential-bearing remote.
 *
 * @example
 * ```ts
 * import { failed, secretsEntry, succeeded } from "./actions.ts";
 * secretsEntry({ operation: "setup", target: "local" }, succeeded({ file: "/srv/.protocol/key" }));
 * // { action: "secrets", operation: "setup", target: "local", file: "...", status: "success" }
 * secretsEntry({ operation: "rotate", target: "local" }, failed(new Error("push to https://u:p@git.example failed")));
 * // { ..., status: "failure", error_class: "Error", error: "push to https://***@git.example failed" }
 * ```
 * @module
 */
import type { JournalFields } from "../journal.ts";

/** Every action name in the audit log: the one place they are spelled. */
export const ACTION = {
  deploy: "deploy",
  rollback: "rollback",
  config: "config",
  secrets: "secrets",
  cron: "cron",
  shadow: "shadow",
  policy: "policy",
  incident: "incident",
  nodeSetup: "node.setup",
  drill: "drill",
  run: "run",
  step: "step",
  rollout: "rollout",
  lockForce: "lock.force",
  release: "release",
  rebuild: "rebuild",
  review: "review",
  keyRotated: "key.rotated",
  logRotated: "log.rotated",
  logRecovered: "log.recovered",
  formatUpgraded: "format.upgraded",
  checkpointUnpublished: "checkpoint.unpublished",
  changeRequest: "change.request",
  changeApproval: "change.approval",
  changeCheck: "change.check",
  notifyFailed: "notify.failed",
} as const;

/** An action name. */
export type Action = (typeof ACTION)[keyof typeof ACTION];

/** A flat audit entry as the journal takes it: an action and its fields. */
export type Entry = JournalFields & { action: Action | string };

/** Masks known secret values in a text (a run's masker); the identity when there is none. */
export type Mask = (text: string) => string;

/** How an operation ended, with the fields the ending adds. */
export type Ending = JournalFields & { status: string };

/**
 * The operation succeeded; `fields` are what it produced (paths, counts — never a secret).
 *
 * @example
 * ```ts
 * import { succeeded } from "./actions.ts";
 * succeeded({ changed: true }); // { changed: true, status: "success" }
 * ```
 */
export function succeeded(fields: JournalFields = {}): Ending {
  return { ...fields, status: "success" };
}

/**
 * The operation failed: the error's class and its credential-free, masked first line.
 *
 * @example
 * ```ts
 * import { failed } from "./actions.ts";
 * failed(new TypeError("bad"), (text) => text.replaceAll("bad", "***"));
 * // { status: "failure", error_class: "TypeError", error: "***" }
 * ```
 */
export function failed(error: unknown, mask: Mask = (text) => text): Ending {
  const errorClass = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  return { status: "failure", error_class: errorClass, error: safeMessage(message, mask) };
}

/**
 * Not started, and why (a node skipped after an earlier one failed).
 *
 * @example
 * ```ts
 * import { skipped } from "./actions.ts";
 * skipped("not started: build failed on web-1"); // { status: "skipped", reason: "..." }
 * ```
 */
export function skipped(reason: string): Ending {
  return { status: "skipped", reason };
}

/**
 * A message fit for the log: its first line, URL credentials (`https://user:token@host`)
 * replaced by `***`, known secrets masked, at most 500 characters.
 *
 * @example
 * ```ts
 * import { safeMessage } from "./actions.ts";
 * safeMessage("git push https://ci:ghp_x@github.com/o/r failed\nmore");
 * // "git push https://***@github.com/o/r failed"
 * ```
 */
export function safeMessage(message: string, mask: Mask = (text) => text): string {
  const first = message.split("\n").find((line) => line.trim()) ?? "";
  const clean = mask(first.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, "$1***@"));
  return clean.length > 500 ? `${clean.slice(0, 497)}...` : clean;
}

/** Where an operation ran: the node (`local` for the operator's machine) and the run, if any. */
export interface Where {
  /** The node, or `local`. */
  target?: string;
  /** The run that did it; absent when a command did it directly. */
  run?: string;
}

/**
 * A `secrets` entry (`secrets:*` commands, `secrets:` steps). Operations: `setup`, `rotate`,
 * `encrypt`, `decrypt`, `key-scp`, `key-export`, `deploy-key`.
 *
 * @example
 * ```ts
 * import { secretsEntry, succeeded } from "./actions.ts";
 * secretsEntry({ operation: "key-scp", target: "web-1", run: "r1" }, succeeded());
 * ```
 */
export function secretsEntry(
  subject: Where & { operation: string; file?: string; to?: string },
  ending: Ending,
): Entry {
  return { action: ACTION.secrets, ...subject, ...ending };
}

/**
 * A `config` entry (`config:*` commands, `config:` steps): the operation, the app's directory
 * and, from the ending, the environment and the files touched.
 *
 * @example
 * ```ts
 * import { configEntry, succeeded } from "./actions.ts";
 * configEntry({ operation: "refresh", repo: "/opt/app", target: "local" }, succeeded({ env: "production" }));
 * ```
 */
export function configEntry(
  subject: Where & { operation: string; repo: string; env?: string },
  ending: Ending,
): Entry {
  return { action: ACTION.config, ...subject, ...ending };
}

/**
 * A `cron` entry (`cron:add`, `cron:remove`).
 *
 * @example
 * ```ts
 * import { cronEntry, succeeded } from "./actions.ts";
 * cronEntry({ operation: "add", repo: "/opt/app" }, succeeded({ changed: true }));
 * ```
 */
export function cronEntry(
  subject: Where & { operation: "add" | "remove"; repo: string },
  ending: Ending,
): Entry {
  return { action: ACTION.cron, ...subject, ...ending };
}

/** What a policy evaluation counted. */
export interface PolicyCounts {
  pass: number;
  fail: number;
  warn: number;
  error: number;
}

/**
 * A `policy` entry (`security:audit`, `soc2:check`, `policy`, `policy:` steps). `policy` is
 * exactly what ran: the policy's id, or `id/check` for a run narrowed to one check, so a
 * narrowed run never counts as the whole policy (the schedule matches the whole id). Given the
 * check results, it names the checks that did not apply (`not_applicable`) or were skipped
 * (`skipped`), comma-separated, so the schedule never counts them as done (a dependency audit
 * of a project without composer.json audited nothing).
 *
 * @example
 * ```ts
 * import { policyEntry, policyRan } from "./actions.ts";
 * const counts = { pass: 3, fail: 0, warn: 0, error: 0 };
 * policyEntry({ policy: policyRan("soc2", ["key-permissions"]), target: "local" }, counts, 0);
 * // { action: "policy", policy: "soc2/key-permissions", ..., status: "success" }
 * policyEntry({ policy: "security-audit", target: "local" }, counts, 0,
 *   [{ id: "dependencies", status: "not_applicable" }]);
 * // { ..., not_applicable: "dependencies", status: "success" }
 * ```
 */
export function policyEntry(
  subject: Where & { policy: string },
  counts: PolicyCounts,
  exitCode: number,
  results: readonly { id: string; status: string }[] = [],
): Entry {
  const ids = (status: string) =>
    results.filter((r) => r.status === status).map((r) => r.id).join(",");
  const notApplicable = ids("not_applicable");
  const skippedChecks = ids("skip");
  return {
    action: ACTION.policy,
    ...subject,
    pass: counts.pass,
    fail: counts.fail,
    warn: counts.warn,
    error: counts.error,
    ...(notApplicable ? { not_applicable: notApplicable } : {}),
    ...(skippedChecks ? { skipped: skippedChecks } : {}),
    status: exitCode === 0 ? "success" : "failure",
  };
}

/**
 * The `policy` field of a run: the id alone when every check ran, else `id/check[,check]`.
 *
 * @example
 * ```ts
 * import { policyRan } from "./actions.ts";
 * policyRan("soc2", []); // "soc2"
 * policyRan("soc2", ["a", "b"]); // "soc2/a,b"
 * ```
 */
export function policyRan(id: string, only: readonly string[] = []): string {
  return only.length ? `${id}/${[...only].sort().join(",")}` : id;
}

/**
 * A `shadow` entry (`shadow:*` commands, `shadow:` steps).
 *
 * @example
 * ```ts
 * import { shadowEntry, skipped } from "./actions.ts";
 * shadowEntry({ operation: "start", target: "web-2", run: "r1@web-2" }, skipped("not started"));
 * ```
 */
export function shadowEntry(
  subject: Where & {
    operation: string;
    version?: string;
    repo?: string;
    from?: string;
    to?: string;
    slot?: string;
    port?: number;
    switch_ms?: number;
  },
  ending: Ending,
): Entry {
  return { action: ACTION.shadow, ...subject, ...ending };
}

/**
 * A `release` entry (`release:create`).
 *
 * @example
 * ```ts
 * import { releaseEntry, succeeded } from "./actions.ts";
 * releaseEntry({ repo: "git@host:app.git", to: "v1.2.0", commit: "abc" }, succeeded());
 * ```
 */
export function releaseEntry(
  subject: { repo: string; from?: string; to: string; commit: string },
  ending: Ending,
): Entry {
  return { action: ACTION.release, ...subject, version: subject.to, ...ending };
}

/**
 * A `rebuild` entry (`docker:compose:rebuild`).
 *
 * @example
 * ```ts
 * import { rebuildEntry, succeeded } from "./actions.ts";
 * rebuildEntry({ repo: "/opt/app", target: "web-1", version: "v1.2.0" }, succeeded());
 * ```
 */
export function rebuildEntry(
  subject: Where & { repo: string; version?: string },
  ending: Ending,
): Entry {
  return { action: ACTION.rebuild, ...subject, ...ending };
}

/**
 * A `review` entry: a control done outside the tool (`schedule --record ID`), with the
 * control's evidence fields.
 *
 * @example
 * ```ts
 * import { reviewEntry } from "./actions.ts";
 * reviewEntry("siem-review", { review: "siem" }); // { action: "review", review: "siem", control: "siem-review", status: "success" }
 * ```
 */
export function reviewEntry(control: string, evidence: JournalFields): Entry {
  return { status: "success", ...evidence, action: ACTION.review, control };
}

/**
 * A `drill` entry: marked `drill: true` so no drill ever counts as a real incident.
 *
 * @example
 * ```ts
 * import { drillEntry } from "./actions.ts";
 * drillEntry({ drill_id: "disk-full", runbook: "incident-response", severity: "P2" }, { status: "initiated" });
 * ```
 */
export function drillEntry(
  subject: { drill_id: string; runbook: string; severity: string; run?: string },
  ending: Ending,
): Entry {
  return {
    action: ACTION.drill,
    drill: true,
    ...subject,
    scenario: subject.drill_id,
    ...ending,
  };
}

/** A run as the log names it. */
export interface RunSubject {
  run: string;
  runbook: string;
  target: string;
}

/**
 * A `run` entry: a run started (`initiated`, with its parameters), ended, or was skipped.
 *
 * @example
 * ```ts
 * import { runEntry } from "./actions.ts";
 * runEntry({ run: "r1", runbook: "deploy", target: "local" }, { status: "initiated", params: "{}" });
 * ```
 */
export function runEntry(subject: RunSubject, ending: Ending): Entry {
  return { action: ACTION.run, ...subject, ...ending };
}

/**
 * A `step` entry: one step of a run, as its record says.
 *
 * @example
 * ```ts
 * import { stepEntry } from "./actions.ts";
 * stepEntry({ run: "r1", runbook: "deploy", target: "local" },
 *   { step: "3", name: "Build", kind: "run", exit_code: 0 }, "success");
 * ```
 */
export function stepEntry(
  subject: RunSubject,
  step: {
    step: string;
    name: string;
    kind: string;
    exit_code?: number;
    /** A gate with `min_wait`: the wait it required, the time to the answer, `--yes` early. */
    min_wait_ms?: number;
    waited_ms?: number;
    early?: true;
  },
  status: string,
): Entry {
  return { action: ACTION.step, ...subject, ...step, status };
}

/**
 * A `rollout` entry: a run over several nodes started or ended.
 *
 * @example
 * ```ts
 * import { rolloutEntry } from "./actions.ts";
 * rolloutEntry({ run: "r1", runbook: "deploy", target: "app" }, { status: "initiated", strategy: "rolling" });
 * ```
 */
export function rolloutEntry(subject: RunSubject, ending: Ending): Entry {
  return { action: ACTION.rollout, ...subject, ...ending };
}

/**
 * A `lock.force` entry: a stale deploy lock removed, who held it and why it was removed.
 *
 * @example
 * ```ts
 * import { lockForceEntry } from "./actions.ts";
 * lockForceEntry({ target: "web-1", lock: "/opt/app/.lock", holder: "none", reason: "crashed" });
 * ```
 */
export function lockForceEntry(
  subject: Where & { lock: string; holder: string; reason: string },
): Entry {
  return { action: ACTION.lockForce, ...subject, status: "success" };
}

/**
 * The entry a runbook's `audit:` section declares (`deploy`, `rollback`, `incident`,
 * `node.setup`, ...), with the run's target, id and status.
 *
 * @example
 * ```ts
 * import { runbookEntry } from "./actions.ts";
 * runbookEntry("deploy", { repo: "/opt/app", to: "v1.2.0" }, { target: "local", run: "r1" }, "success");
 * ```
 */
export function runbookEntry(
  action: string,
  fields: JournalFields,
  where: Required<Where>,
  status: string,
): Entry {
  return { action, ...fields, ...where, status };
}
