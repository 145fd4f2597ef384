/**
 * Evidence checklists: the change-ticket checklist of a finished run, each item ticked or not
 * with its time, operator, node, exit code and the seq and hash of its signed audit entry, and
 * a closing line saying whether `audit:verify` passes. `checklist RUNBOOK --run ID` prints it.
 *
 * @example
 * ```ts
 * import { formatEvidence, loadEvidence } from "./mod.ts";
 * import { checklistShapes } from "../runbook/shape.ts";
 * const shapes = checklistShapes(Deno.cwd());
 * const evidence = await loadEvidence("/home/deploy/.protocol", "20261123T190102Z-a1b2c3", shapes);
 * console.log(formatEvidence(evidence, "md"));
 * ```
 * @module
 */
import { InputError } from "../errors.ts";
import { verifyAuditLog } from "../audit/mod.ts";
import { sha256Hex } from "../audit/entry.ts";
import { parseEntryLine } from "../audit/entry.ts";
import { loadHistory } from "../audit/history.ts";
import { splitLines } from "../audit/lines.ts";
import { readRunRecord, type RunRecord } from "../state/runs.ts";
import { approvalsFromLog, personKeyId } from "../approval/mod.ts";
import {
  buildEvidence,
  type Evidence,
  type LogLine,
  type LogVerdict,
  type RunbookShape,
} from "./build.ts";

export {
  type AuditMatch,
  buildEvidence,
  type Evidence,
  type EvidenceItem,
  type EvidenceStep,
  type LogLine,
  type LogVerdict,
  matchStep,
  type RunbookShape,
  type RunEvidence,
  runEvidence,
  stepIndex,
  ticks,
  topLevel,
} from "./build.ts";
export { closingLine, type EvidenceFormat, formatEvidence } from "./format.ts";

/** A run id was given that has no record in the state directory. */
export class UnknownRunError extends InputError {
  constructor(readonly run: string, readonly stateDir: string) {
    super(`no run ${run} in ${stateDir}/runs (list them with \`ls ${stateDir}/runs\`)`);
    this.name = "UnknownRunError";
  }
}

/**
 * Every parseable line of the audit history with the SHA-256 of its bytes.
 *
 * @example
 * ```ts
 * const lines = await readLogLines("/home/deploy/.protocol");
 * console.log(lines.at(-1)?.entry.seq, lines.at(-1)?.hash);
 * ```
 */
export async function readLogLines(stateDir: string): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for (const rec of splitLines(await loadHistory(stateDir))) {
    if (rec.torn || rec.bytes.length === 0) continue;
    const parsed = parseEntryLine(rec.bytes);
    if (parsed.ok) lines.push({ entry: parsed.entry, hash: sha256Hex(rec.bytes) });
  }
  return lines;
}

/**
 * What `audit:verify` says about the log of `stateDir`.
 *
 * @example
 * ```ts
 * const { verified, problem } = await logVerdict("/home/deploy/.protocol");
 * ```
 */
export async function logVerdict(stateDir: string): Promise<LogVerdict> {
  try {
    const result = await verifyAuditLog(stateDir);
    const bad = result.firstBad;
    return {
      verified: result.ok,
      entries: result.entries,
      problem: bad ? `${bad.file}:${bad.line}: ${bad.reason}` : undefined,
    };
  } catch (error) {
    return { verified: false, entries: 0, problem: (error as Error).message };
  }
}

/**
 * The checklist shape (group titles, section names) of a runbook as it was run with `params`;
 * `{}` when the runbook no longer loads — the record alone still makes a checklist. The CLI
 * passes one in (the runbook engine knows how to read a runbook; evidence does not).
 */
export type ShapeReader = (runbook: string, params: RunRecord["params"]) => Promise<RunbookShape>;

/**
 * Reads run `runId` and the audit log of `stateDir` and builds its evidence.
 *
 * @example
 * ```ts
 * import { loadEvidence } from "./mod.ts";
 * const evidence = await loadEvidence("/home/deploy/.protocol", "20261123T190102Z-a1b2c3", () => Promise.resolve({}));
 * Deno.exitCode = evidence.holds ? 0 : 1;
 * ```
 */
export async function loadEvidence(
  stateDir: string,
  runId: string,
  shapeOf: ShapeReader,
): Promise<Evidence> {
  const record = await readRunRecord(stateDir, runId).catch((error) => {
    if (error instanceof Deno.errors.NotFound) throw new UnknownRunError(runId, stateDir);
    throw error;
  });
  const lines = await readLogLines(stateDir).catch(() => []);
  const shape = await shapeOf(record.runbook, record.params);
  const failure = record.failure_path ?? record.nodes?.find((n) => n.failure_path)?.failure_path;
  const failureShape = failure ? await shapeOf(failure.runbook, failure.params) : {};
  const evidence = buildEvidence(record, lines, await logVerdict(stateDir), shape, failureShape);
  return { ...evidence, ...approvalOf(lines, record.id) };
}

/**
 * The request a run names in its entries and the prior approvals the log holds for it (who,
 * with which key, when); or the `approval: { mode: off }` reason its entries carry.
 */
function approvalOf(lines: LogLine[], runId: string): Partial<Evidence> {
  const own = lines.filter((l) => String(l.entry.run ?? "").split("@")[0] === runId);
  const request = own.find((l) => typeof l.entry.request === "string")?.entry.request as
    | string
    | undefined;
  if (!request) {
    const off = own.find((l) => l.entry.approval === "off")?.entry;
    return off ? { approval_off: String(off.approval_reason ?? "") } : {};
  }
  // Only approvals whose signatures verify from the log count: any program can write entries.
  const signed = approvalsFromLog(lines.map((l) => l.entry));
  const approvals = (signed.approvals.get(request) ?? []).filter((a) => a.kind === "prior")
    .map((a) => ({ name: a.approver, key_id: personKeyId(a.approver_key), ts: a.at }));
  const emergency = signed.requests.get(request)?.emergency !== undefined;
  return {
    request,
    approvers: [...new Set(approvals.map((a) => a.name))],
    approvals,
    emergency,
  };
}
