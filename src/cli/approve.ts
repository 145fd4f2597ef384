/**
 * `approve CR_ID [--retro]`: another person signs the exact change request with their own key.
 * Refuses (exit 1) a request altered since it was signed, an approver who is not listed with
 * the role `approver`, the operator approving their own request, an expired request, and a
 * retro-review of a change that was not an emergency.
 *
 * @example
 * ```sh
 * deno task approve CR-20260701-a1b2c3
 * deno task approve CR-20260703-9f8e7d --retro     # the review an emergency change owes
 * ```
 * @module
 */
import type { Command } from "commander";
import $ from "dax";
import { requireAuditKey } from "../audit/journal.ts";
import { notifierFor, notifyingJournal } from "../notify/mod.ts";
import { findConfig, loadConfig } from "../config/mod.ts";
import {
  approvalEntry,
  approveRequest,
  checkRequestId,
  loadApprovers,
  readRequestFile,
  type RequestFile,
  retroDue,
  saveRequestFile,
  verifyDocument,
} from "../approval/mod.ts";
import { REQUEST_DOMAIN } from "../approval/signed.ts";
import { projectRoot } from "../config/root.ts";
import { FailureError, UsageError } from "../errors.ts";
import { resolveStateDir } from "../state/mod.ts";
import { approversPath, myIdentity } from "./approval_gate.ts";

interface ApproveOptions {
  retro?: boolean;
  yes?: boolean;
  json?: boolean;
  approvers?: string;
  stateDir?: string;
  root?: string;
  config?: string;
}

/** Adds `approve` to `program`. */
export function registerApproveCommand(program: Command): void {
  program.command("approve <id>")
    .description("approve a change request with your own key (not your own request)")
    .option("--retro", "sign the retro-review of an emergency change that already ran")
    .option("-y, --yes", "sign without asking (the request is still printed)")
    .option("--approvers <file>", "approvers file (default: approvers.yaml in the project)")
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option("--json", "print the signed approval as JSON")
    .option("--config <file>", "project configuration, for its notify: webhooks")
    .option("--root <dir>", "project directory")
    .action(async (id: string, options: ApproveOptions) => {
      const stateDir = resolveStateDir(options);
      const file = await readRequestFile(stateDir, checkRequestId(id));
      await requireAuditKey(stateDir);
      const me = await myIdentity();
      const path = approversPath(projectRoot(options.root), options.approvers);
      const approvers = await loadApprovers(path);
      const refusal = refusalOf(file, approvers, me, options.retro ?? false, new Date());
      if (refusal) throw new FailureError(`not approved: ${refusal}`);
      console.error(describe(file, options.retro ?? false));
      if (!options.yes) await confirm(id);
      const signed = approveRequest(
        file.request,
        me,
        options.retro ? "retro" : "prior",
        new Date(),
      );
      await saveRequestFile(stateDir, { ...file, approvals: [...file.approvals, signed] });
      const configPath = await findConfig(options);
      const config = configPath ? await loadConfig(configPath) : undefined;
      const notifier = await notifierFor(config, stateDir);
      const version = file.request.params.version;
      await notifyingJournal(stateDir, notifier, {
        runbook: file.request.runbook,
        version: typeof version === "string" ? version : undefined,
        nodes: file.request.nodes,
        operator: file.request.operator,
      }).record(approvalEntry(signed));
      await notifier.flush();
      if (options.json) return console.log(JSON.stringify(signed, null, 2));
      console.error(`${options.retro ? "retro-reviewed" : "approved"} ${id} as ${me.name}`);
    });
}

type Listed = Awaited<ReturnType<typeof loadApprovers>>;

function refusalOf(
  file: RequestFile,
  approvers: Listed,
  me: { name: string; publicKey: string },
  retro: boolean,
  now: Date,
): string | undefined {
  const { request } = file;
  const operator = approvers.find((a) => a.name === request.operator);
  if (
    !operator || operator.publicKey !== request.operator_key ||
    !verifyDocument(REQUEST_DOMAIN, request, file.signature, operator.publicKey)
  ) {
    return `${request.id} is not signed by a listed ${request.operator}: it was altered or ` +
      `its requester is not in the approvers file`;
  }
  const listed = approvers.find((a) => a.name === me.name);
  if (!listed?.roles.includes("approver") || listed.publicKey !== me.publicKey) {
    return `${me.name} is not listed as an approver with this key`;
  }
  if (me.name === request.operator) {
    return `not_operator: ${me.name} requested ${request.id}; someone else must approve it`;
  }
  if (retro && request.emergency === undefined) {
    return `${request.id} was not an emergency change; approve it without --retro`;
  }
  if (!retro && request.emergency !== undefined) {
    return `${request.id} was an emergency change that already ran; review it with --retro`;
  }
  if (!retro && now.getTime() > Date.parse(request.expires)) {
    return `${request.id} expired at ${request.expires}; the operator must request it again`;
  }
  const kind = retro ? "retro" : "prior";
  if (file.approvals.some((a) => a.approval.approver === me.name && a.approval.kind === kind)) {
    return `${me.name} has already signed ${request.id}`;
  }
  return undefined;
}

function describe(file: RequestFile, retro: boolean): string {
  const r = file.request;
  const lines = [
    `${retro ? "Retro-review of emergency change" : "Change request"} ${r.id}`,
    `  runbook:    ${r.runbook}`,
    `  parameters: ${JSON.stringify(r.params)}`,
    `  nodes:      ${r.nodes.join(", ")}`,
    `  commit:     ${r.commit ?? "(no release tag)"}`,
    `  operator:   ${r.operator}`,
    retro
      ? `  reason:     ${r.emergency}\n  review due: ${retroDue(r.created)}`
      : `  expires:    ${r.expires}`,
  ];
  return lines.join("\n");
}

async function confirm(id: string): Promise<void> {
  if (!Deno.stdin.isTerminal() || Deno.env.get("CI")) {
    throw new UsageError(`no terminal to confirm the approval of ${id}: pass --yes`);
  }
  if (!await $.confirm({ message: `Sign ${id} with your key?`, default: false })) {
    throw new FailureError(`${id} not approved`);
  }
}
