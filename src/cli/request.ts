/**
 * `request RUNBOOK [args...]`: writes a change request — runbook, parameters, target nodes, the
 * tag's commit, the operator's identity and signature, an expiry — to the state directory and
 * the audit log, and prints its id for `approve` and `run --request`.
 *
 * @example
 * ```sh
 * deno task request deploy v1.2.0                # prints CR-20260701-a1b2c3
 * deno task request deploy v1.2.0 --limit web-2 --expires 4h
 * ```
 * @module
 */
import type { Command } from "commander";
import { requireAuditKey } from "../audit/journal.ts";
import { notifierFor, notifyingJournal } from "../notify/mod.ts";
import {
  loadApprovers,
  newRequest,
  parseExpiry,
  requestEntry,
  saveRequestFile,
  signRequest,
} from "../approval/mod.ts";
import { requireConfig } from "../config/mod.ts";
import { FailureError } from "../errors.ts";
import { TargetPool } from "../targets/pool.ts";
import { ensureStateDir, resolveStateDir } from "../state/mod.ts";
import { nodesFor, prepareRunbook, type RunbookOptions, runbookOptions } from "./runbook_input.ts";
import { aboutToRun, approversPath, myIdentity } from "./approval_gate.ts";

/** Adds `request` to `program`. */
export function registerRequestCommand(program: Command): void {
  runbookOptions(program.command("request <runbook> [args...]"))
    .description("ask for approval of an exact run: writes a signed change request")
    .option("--expires <duration>", "how long the request stays valid (30m, 4h, 2d)", "24h")
    .option("--approvers <file>", "approvers file (default: approvers.yaml in the project)")
    .option("--json", "print the signed request as JSON")
    .addHelpText(
      "after",
      "\nThen: another person runs `deno task approve CR_ID`; you run the same command with\n" +
        "`--request CR_ID` (same parameters and nodes, before it expires).",
    )
    .action(async (
      name: string,
      args: string[],
      options: RunbookOptions & { expires: string; approvers?: string; json?: boolean },
    ) => {
      const expiresInMs = parseExpiry(options.expires);
      const { root, loaded, params } = await prepareRunbook(name, args, options);
      const config = await requireConfig(options);
      const pool = new TargetPool(config);
      const nodes = await nodesFor(root, loaded, pool, options.limit).finally(() => pool.close());
      const stateDir = await ensureStateDir(resolveStateDir(options));
      requireAuditKey(stateDir);
      const me = await myIdentity();
      const path = approversPath(root, options.approvers);
      const listed = (await loadApprovers(path)).find((a) => a.name === me.name);
      if (!listed?.roles.includes("deployer") || listed.publicKey !== me.publicKey) {
        throw new FailureError(
          `${me.name} is not listed in ${path} as a deployer with the key ${me.publicKey}`,
        );
      }
      const about = await aboutToRun(loaded, params, nodes, config, me.name);
      const request = newRequest({
        ...about,
        operatorKey: me.publicKey,
        expiresInMs,
      }, new Date());
      const signed = signRequest(request, me.privateKey);
      await saveRequestFile(stateDir, { ...signed, approvals: [] });
      const notifier = await notifierFor(config, stateDir);
      const version = typeof params.version === "string" ? params.version : undefined;
      await notifyingJournal(stateDir, notifier, { version }).record(requestEntry(signed));
      await notifier.flush();
      if (options.json) return console.log(JSON.stringify(signed, null, 2));
      const shown = Object.entries(request.params).map(([k, v]) => `${k}=${v}`).join(" ");
      console.error(
        `change request ${request.id}: ${request.runbook} ${shown} on ${request.nodes.join(", ")}` +
          (request.commit ? ` (commit ${request.commit.slice(0, 12)})` : "") +
          `, expires ${request.expires}\n` +
          `next: an approver runs \`deno task approve ${request.id}\`; then ` +
          `\`deno task run ${request.runbook} ... --request ${request.id}\``,
      );
      console.log(request.id);
    });
}
