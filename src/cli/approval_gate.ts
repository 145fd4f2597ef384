/**
 * The approval gate of `run` (and `deploy:push`), and what `request` shares with it: the run
 * about to start as a request binds it (runbook, parameters, nodes, the tag's commit, the
 * operator's identity), and where the approvers file is.
 *
 * A runbook that declares `approval:` runs only with `--request CR_ID` whose request matches
 * and carries its approvals, or with `--emergency REASON` where the runbook permits it. Without
 * an approvers file (`approvers.yaml` in the project, or `--approvers` / `$PROTOCOL_APPROVERS`)
 * such a run is refused, saying how to set one up: deleting the file never opens the door. A
 * team that does not approve changes says so in `protocol.yaml` (`approval: { mode: off,
 * reason: ... }`); its runs carry `approval=off` and the reason in every entry.
 *
 * @example
 * ```ts
 * import { approversPath } from "./approval_gate.ts";
 * approversPath("/srv/ops", undefined); // "/srv/ops/approvers.yaml" unless $PROTOCOL_APPROVERS is set
 * ```
 * @module
 */
import { ACTION } from "../audit/actions.ts";
import { resolve } from "node:path";
import {
  type AboutToRun,
  type ApprovalPolicy,
  checkApproval,
  type Identity,
  identityDir,
  loadApprovers,
  loadApproversFile,
  loadIdentity,
  newRequest,
  readRequestFile,
  requestCommand,
  requestEntry,
  resumeChain,
  retroDue,
  runsUnderRequest,
  saveRequestFile,
  signRequest,
  UnknownRequestError,
  whoApproves,
} from "../approval/mod.ts";
import { requestParams } from "../runbook/describe.ts";
import { parseTagCommit, tagCommitArgv } from "../approval/commit.ts";
import { git } from "../release/git.ts";
import type { Config } from "../config/mod.ts";
import { FailureError, UsageError } from "../errors.ts";
import type { Journal } from "../journal.ts";
import type { LoadedRunbook } from "../runbook/load.ts";
import type { InventoryNode } from "../targets/inventory.ts";

/** The flags of the gate. */
export interface ApprovalOptions {
  /** `--request CR_ID`: the approved change request this run carries out. */
  request?: string;
  /** `--emergency REASON`: run without prior approval (runbooks that permit it). */
  emergency?: string;
  /** `--approvers FILE`. */
  approvers?: string;
  /** `--resume RUN_ID`: the run this one continues (it may carry on that run's request). */
  resume?: string;
}

/** A run the gate refused; exit 1, nothing ran. */
export class ApprovalRefusedError extends FailureError {}

const DEFAULT_POLICY: ApprovalPolicy = { required: 1, by: "approver", not_operator: true };

/**
 * The approvers file: `--approvers`, then `$PROTOCOL_APPROVERS`, then `<root>/approvers.yaml`.
 *
 * @example
 * ```ts
 * approversPath("/srv/ops", "/etc/protocol/approvers.yaml"); // "/etc/protocol/approvers.yaml"
 * ```
 */
export function approversPath(root: string, option: string | undefined): string {
  const given = option ?? Deno.env.get("PROTOCOL_APPROVERS");
  const cwd = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  return given ? resolve(cwd, given) : resolve(root, "approvers.yaml");
}

/**
 * The identity of the person at the keyboard (from their home).
 *
 * @example
 * ```ts
 * // const me = await myIdentity(); console.log(me.name);
 * ```
 */
export async function myIdentity(): Promise<Identity> {
  return await loadIdentity(identityDir(Deno.env.toObject()));
}

/**
 * The run about to start, in the terms a request binds.
 *
 * @example
 * ```ts
 * // const about = await aboutToRun(loaded, params, nodes, config, me.name);
 * ```
 */
export async function aboutToRun(
  loaded: LoadedRunbook,
  params: AboutToRun["params"],
  nodes: InventoryNode[],
  config: Config,
  operator: string,
): Promise<AboutToRun> {
  return {
    runbook: loaded.runbook.id,
    params,
    nodes: nodes.map((node) => node.name),
    commit: await releaseCommit(config.app.repo, params),
    operator,
  };
}

/**
 * The commit of the release a run deploys: the `version` parameter's tag in the app
 * repository; null for a runbook that deploys no tag.
 *
 * @example
 * ```ts
 * // await releaseCommit("/srv/git/app.git", { version: "v1.2.0" }); // "9f1c..."
 * ```
 */
export async function releaseCommit(
  repo: string | undefined,
  params: AboutToRun["params"],
): Promise<string | null> {
  const tag = params.version;
  if (!repo || typeof tag !== "string" || tag === "") return null;
  const result = await git("/", tagCommitArgv(repo, tag));
  if (result.code !== 0) {
    throw new FailureError(
      `cannot read tag ${tag} of ${repo} to bind its commit: ${result.stderr.trim()}`,
    );
  }
  return parseTagCommit(result.stdout, tag);
}

/** What the gate needs to judge a run. */
export interface GateContext {
  root: string;
  loaded: LoadedRunbook;
  params: AboutToRun["params"];
  nodes: InventoryNode[];
  config: Config;
  stateDir: string;
  journal: Journal;
  options: ApprovalOptions;
  /** Where to tell the operator what the gate decided. */
  say: (line: string) => void;
}

/**
 * Judges the run before anything runs. Returns the journal the run writes to (naming the
 * request in every entry), or throws {@link ApprovalRefusedError} (exit 1) or a usage error.
 *
 * @example
 * ```ts
 * // const journal = await passApprovalGate({ root, loaded, params, nodes, config, stateDir,
 * //   journal: auditJournal(stateDir), options, say: console.error });
 * ```
 */
export async function passApprovalGate(context: GateContext): Promise<Journal> {
  const { loaded, options } = context;
  if (options.emergency !== undefined) return await emergencyRun(context);
  const policy = loaded.runbook.approval ?? (options.request ? DEFAULT_POLICY : undefined);
  if (!policy) return context.journal;
  const off = context.config.approval;
  if (off?.mode === "off" && !options.request) {
    context.say(
      `  approval: off for this project (${context.config.file}: "${off.reason}"); ` +
        `recorded as approval=off in every entry of this run`,
    );
    return tagged(context.journal, { approval: "off", approval_reason: off.reason! });
  }
  const path = approversPath(context.root, options.approvers);
  if (!await exists(path)) {
    throw new ApprovalRefusedError(noApproversFile(loaded, context.params, path));
  }
  if (!options.request) {
    throw new ApprovalRefusedError(
      `refused before anything ran: ${loaded.runbook.id} needs an approved change request. ` +
        `Ask for one with \`${requestFor(loaded, context.params)}\` (same parameters), ` +
        `have an approver run \`deno task approve CR_ID\`, then run with --request CR_ID`,
    );
  }
  const { approvers, blob } = await loadApproversFile(path);
  const me = await myIdentity();
  const about = await aboutToRun(loaded, context.params, context.nodes, context.config, me.name);
  let file;
  try {
    file = await readRequestFile(context.stateDir, options.request);
  } catch (error) {
    if (!(error instanceof UnknownRequestError)) throw error;
  }
  const earlier = file ? await runsUnderRequest(context.stateDir, options.request) : [];
  const verdict = checkApproval({
    request: file,
    approvals: file?.approvals ?? [],
    approvers,
    about,
    policy,
    now: new Date(),
    carriedOutBy: earlier.map((r) => r.run),
    resuming: resumeChain(earlier, options.resume),
  });
  await context.journal.record({
    action: ACTION.changeCheck,
    request: options.request,
    runbook: loaded.runbook.id,
    operator: me.name,
    approvers: verdict.approvedBy.join(","),
    // Which list the approvals were checked against: the host reads whatever file it is
    // given, so the record says which, for the auditor to find on the protected branch.
    approvers_file: path,
    approvers_blob: blob,
    reason: verdict.refusals.map((r) => r.code).join(",") || undefined,
    status: verdict.ok ? "success" : "failure",
  });
  if (!verdict.ok) {
    throw new ApprovalRefusedError(
      `refused before anything ran:\n${
        verdict.refusals.map((r) => `  ${r.code}: ${r.message}`).join("\n")
      }`,
    );
  }
  context.say(`  approval: ${options.request} approved by ${verdict.approvedBy.join(", ")}`);
  return tagged(context.journal, { request: options.request });
}

async function emergencyRun(context: GateContext): Promise<Journal> {
  const { loaded, options } = context;
  const reason = options.emergency!.trim();
  if (!reason) {
    throw new UsageError('--emergency needs a reason, as in --emergency "payments down"');
  }
  if (options.request) throw new UsageError("give --request or --emergency, not both");
  if (!loaded.runbook.emergency) {
    throw new UsageError(
      `${loaded.runbook.id} does not permit emergency runs (\`emergency: true\` in the ` +
        `runbook: hotfix, incident-response and rollback do); it needs an approved request`,
    );
  }
  const me = await myIdentity();
  const path = approversPath(context.root, options.approvers);
  if (await exists(path)) {
    const listed = (await loadApprovers(path)).find((a) => a.name === me.name);
    if (!listed?.roles.includes("deployer") || listed.publicKey !== me.publicKey) {
      throw new ApprovalRefusedError(
        `refused before anything ran: ${me.name} is not a deployer with this key in ${path}`,
      );
    }
  }
  const about = await aboutToRun(loaded, context.params, context.nodes, context.config, me.name);
  const request = newRequest({
    runbook: about.runbook,
    params: about.params,
    nodes: about.nodes,
    commit: about.commit,
    operator: me.name,
    operatorKey: me.publicKey,
    emergency: reason,
  }, new Date());
  const signed = signRequest(request, me.privateKey);
  await saveRequestFile(context.stateDir, { ...signed, approvals: [] });
  await context.journal.record(requestEntry(signed));
  context.say(
    `  EMERGENCY change ${request.id}: runs without prior approval; an approver must sign the ` +
      `retro-review by ${retroDue(request.created)} (\`deno task approve ${request.id} --retro\`)`,
  );
  return tagged(context.journal, { request: request.id, emergency: true });
}

/** The `request` command for the run about to start (its parameters as the run got them). */
function requestFor(loaded: LoadedRunbook, params: AboutToRun["params"]): string {
  return requestCommand(loaded.runbook.id, requestParams(loaded, params));
}

/** Why a run that needs approval cannot start without an approvers file, and the way out. */
function noApproversFile(
  loaded: LoadedRunbook,
  params: AboutToRun["params"],
  path: string,
): string {
  const { id, approval, emergency } = loaded.runbook;
  const who = approval ? whoApproves(approval) : "an approved change request";
  return [
    `refused before anything ran: ${id} requires ${who}, and there is no approvers file ` +
    `at ${path}.`,
    'Set up segregation of duties once (README "Approvals"):',
    "  each person:  deno task identity:keygen --name you@example.com",
    `  the team:     commit ${path} listing names, public keys and roles`,
    "Then for each change:",
    `  the operator: ${requestFor(loaded, params)}`,
    "  an approver:  deno task approve CR_ID",
    `  the operator: deno task run ${id} ... --request CR_ID`,
    ...(emergency
      ? [`An emergency may run now with --emergency "reason" (owes a retro-review).`]
      : []),
    "A team that does not approve changes says so in protocol.yaml: approval: { mode: off, " +
    'reason: "..." } (recorded in every run and shown to auditors).',
  ].join("\n");
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

function tagged(journal: Journal, fields: Record<string, string | boolean>): Journal {
  return { record: (entry) => journal.record({ ...entry, ...fields }) };
}
