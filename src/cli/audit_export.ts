/**
 * CLI commands that ship the audit log to a SIEM: `audit:export` (JSON Lines, or RFC 5424
 * records framed by octet counting) and `audit:forward --syslog HOST:PORT` (only what the
 * receiver has not had). Exit codes: 0 ok, 1 the log does not verify / a line could not be
 * exported / the receiver failed, 2 bad input.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { registerAuditExportCommands } from "./audit_export.ts";
 * const program = new Command();
 * registerAuditExportCommands(program);
 * await program.parseAsync(["audit:export", "--format", "jsonl"], { from: "user" });
 * ```
 * @module
 */
import type { Command } from "commander";
import { resolveStateDir } from "../state/mod.ts";
import { AuditInputError } from "../audit/mod.ts";
import { FailureError } from "../errors.ts";
import { nonNegativeInt } from "./audit.ts";
import {
  describeBad,
  exportableEntries,
  type ExportRecord,
  type SkippedLine,
} from "../audit/export.ts";
import { forwardToSyslog } from "../audit/forward.ts";
import { octetFrame, syslogRecord } from "../audit/syslog.ts";
import type { VerifyResult } from "../audit/verdict.ts";

const STATE_DIR_HELP = "state directory (default: $PROTOCOL_STATE_DIR, else ~/.protocol)";
const PUBKEY_HELP = "trusted public key (PEM, base64, or keyring JSON) to verify the log with " +
  "first (default: the state directory's keyring)";
const encoder = new TextEncoder();

interface ExportOptions {
  stateDir?: string;
  format: string;
  since?: string;
  pubkey?: string;
  force?: boolean;
}

interface ForwardCliOptions {
  stateDir?: string;
  syslog: string;
  pubkey?: string;
  force?: boolean;
  timeout: string;
  json?: boolean;
}

/**
 * Adds `audit:export` and `audit:forward` to a commander program.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * const program = new Command("protocol");
 * registerAuditExportCommands(program);
 * ```
 */
export function registerAuditExportCommands(program: Command): void {
  program.command("audit:export")
    .description(
      "Verify the audit log, then print its entries for a SIEM: jsonl (the exact log lines) or " +
        "syslog (RFC 5424 records, RFC 6587 octet-counted, for TCP). Exit 1 if the log does not " +
        "verify (unless --force) or a line could not be exported",
    )
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .option("--format <format>", "jsonl or syslog", "jsonl")
    .option("--since <seq>", "only entries after this seq (pass the last seq you shipped)")
    .option("--pubkey <file>", PUBKEY_HELP)
    .option("--force", "export a log that does not verify (every unexportable line is named)")
    .action(async (o: ExportOptions) => {
      if (o.format !== "jsonl" && o.format !== "syslog") {
        throw new AuditInputError(
          `--format must be jsonl or syslog, got ${JSON.stringify(o.format)}`,
        );
      }
      const since = o.since === undefined ? 0 : nonNegativeInt(o.since, "--since");
      const { records, skipped, verdict } = await exportableEntries(resolveStateDir(o), {
        pubkeyFile: o.pubkey,
        force: o.force,
      });
      warnForced(verdict, skipped);
      const render = (r: ExportRecord) =>
        o.format === "jsonl"
          ? encoder.encode(r.line + "\n")
          : octetFrame(syslogRecord(r.entry, r.line));
      const out = new StdoutBatch();
      for (const r of records) if (r.entry.seq > since) await out.add(render(r));
      await out.flush();
      if (skipped.length) Deno.exitCode = 1;
    });

  program.command("audit:forward")
    .description(
      "Send the entries a syslog receiver has not had yet (RFC 5424 over TCP, octet-counted) and " +
        "remember the last seq sent in <state-dir>/forward/. Verifies the log first. Exit 1 if " +
        "the receiver is down (nothing is marked sent) or the log does not verify",
    )
    .requiredOption("--syslog <host:port>", "the receiver, e.g. siem.example.com:514")
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .option("--pubkey <file>", PUBKEY_HELP)
    .option("--force", "send from a log that does not verify (every unsendable line is named)")
    .option("--timeout <seconds>", "give up after this long without progress", "30")
    .option("--json", "print the result as JSON")
    .action(async (o: ForwardCliOptions) => {
      const timeout = nonNegativeInt(o.timeout, "--timeout");
      if (timeout === 0) throw new AuditInputError("--timeout must be at least 1 second");
      const r = await forwardToSyslog(resolveStateDir(o), o.syslog, {
        pubkeyFile: o.pubkey,
        force: o.force,
        timeoutMs: timeout * 1000,
        onSending: (n) => {
          if (!o.json) console.error(`sending ${n} entries to ${o.syslog} ...`);
        },
      });
      if (!r.verified) {
        console.error("warning: the audit log does not verify; sent anyway (--force)");
      }
      warnSkipped(r.skipped);
      if (r.skipped.length) Deno.exitCode = 1;
      if (o.json) return console.log(JSON.stringify(r));
      console.log(
        r.sent
          ? `forwarded ${r.sent} entries (seq ${r.firstSeq}..${r.lastSeq}) to ${r.destination}`
          : `nothing new for ${r.destination} (last seq sent: ${r.lastSeq})`,
      );
    });
}

function warnForced(verdict: VerifyResult, skipped: SkippedLine[]): void {
  if (!verdict.ok) {
    console.error(
      `warning: the audit log does not verify (${describeBad(verdict)}); exported anyway (--force)`,
    );
  }
  warnSkipped(skipped);
}

function warnSkipped(skipped: SkippedLine[]): void {
  for (const s of skipped) {
    console.error(
      `error: line ${s.line} of ${s.file} is not an entry and was not exported: ${s.detail}`,
    );
  }
}

// Large exports go out in ~1 MiB writes rather than one write per entry.
class StdoutBatch {
  #parts: Uint8Array[] = [];
  #size = 0;
  async add(bytes: Uint8Array): Promise<void> {
    this.#parts.push(bytes);
    this.#size += bytes.length;
    if (this.#size >= 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    const all = new Uint8Array(this.#size);
    let off = 0;
    for (const p of this.#parts) {
      all.set(p, off);
      off += p.length;
    }
    this.#parts = [];
    this.#size = 0;
    try {
      for (let w = 0; w < all.length;) w += await Deno.stdout.write(all.subarray(w));
    } catch (error) {
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      // The reader went away (`| head`): the export is incomplete, which is a failure.
      throw new FailureError("stdout was closed before the export finished");
    }
  }
}
