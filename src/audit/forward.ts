/**
 * `audit:forward`: send the entries a syslog receiver has not had yet, then remember the last
 * one. Only a verified log is sent (unless forced); only a complete, confirmed send moves the
 * mark, so a receiver that is down or drops the connection loses nothing — the next run sends
 * the same entries again (at-least-once; `audit:verify --stdin` ignores exact copies).
 *
 * @example
 * ```ts
 * import { forwardToSyslog } from "./forward.ts";
 * const r = await forwardToSyslog("/srv/state", "siem.example.com:514");
 * console.log(`${r.sent} entries sent, last seq ${r.lastSeq}`);
 * ```
 * @module
 */
import { sha256Hex } from "./entry.ts";
import { AuditRefusedError } from "./errors.ts";
import { exportableEntries, type SkippedLine } from "./export.ts";
import {
  forwardStatePath,
  readForwardState,
  withForwardLock,
  writeForwardState,
} from "./forward_state.ts";
import { octetFrame, syslogRecord } from "./syslog.ts";
import { formatDestination, parseDestination, sendFrames, SyslogSendError } from "./syslog_tcp.ts";

/** What one forward did. */
export interface ForwardResult {
  destination: string;
  /** Entries sent by this run. */
  sent: number;
  /** First and last seq sent by this run (absent when nothing was new). */
  firstSeq?: number;
  /** The last seq the destination now has (0: none). */
  lastSeq: number;
  /** Whether the log verified (false only with `force`). */
  verified: boolean;
  /** Lines that could not be sent (only with `force`). */
  skipped: SkippedLine[];
  stateFile: string;
}

/** Options of `forwardToSyslog`. */
export interface ForwardOptions {
  pubkeyFile?: string;
  /** Send even if the log does not verify. */
  force?: boolean;
  /** Give up after this long without progress (connect, write, confirm). Default 30 s. */
  timeoutMs?: number;
  /** Told how many entries are about to go, before the connection opens. */
  onSending?: (count: number) => void;
}

/**
 * Sends every entry after the destination's last seq as octet-counted RFC 5424 records and
 * records the new last seq. Throws `AuditInputError` (bad destination or state file),
 * `AuditRefusedError` (log does not verify, or was cut or rewritten below what was already
 * sent), `SyslogSendError` (receiver down or the stream broke; nothing marked sent).
 *
 * @example
 * ```ts
 * const r = await forwardToSyslog("/srv/state", "127.0.0.1:514", { timeoutMs: 10_000 });
 * ```
 */
export async function forwardToSyslog(
  stateDir: string,
  destination: string,
  options: ForwardOptions = {},
): Promise<ForwardResult> {
  const dest = parseDestination(destination);
  const stateFile = forwardStatePath(stateDir, dest);
  return await withForwardLock(stateFile, async () => {
    const state = await readForwardState(stateFile);
    const { records, skipped, verdict } = await exportableEntries(stateDir, options);
    if (state.seq > 0) {
      const last = records.find((r) => r.entry.seq === state.seq);
      const was = `entry ${state.seq}, sent to ${formatDestination(dest)} at ${state.ts}`;
      if (!last) {
        throw new AuditRefusedError(
          `${was}, is no longer in the log: entries were cut since (remove ${stateFile} to ` +
            "send everything again)",
        );
      }
      if (sha256Hex(last.line) !== state.hash) {
        throw new AuditRefusedError(
          `${was}, has changed since it was sent: the log was rewritten (remove ${stateFile} ` +
            "to send everything again)",
        );
      }
    }
    const pending = records.filter((r) => r.entry.seq > state.seq);
    const result: ForwardResult = {
      destination: formatDestination(dest),
      sent: 0,
      lastSeq: state.seq,
      verified: verdict.ok,
      skipped,
      stateFile,
    };
    if (pending.length === 0) return result;
    const frames = pending.map((r) => octetFrame(syslogRecord(r.entry, r.line)));
    options.onSending?.(pending.length);
    try {
      await sendFrames(dest, frames, { timeoutMs: options.timeoutMs ?? 30_000 });
    } catch (err) {
      if (!(err instanceof SyslogSendError)) throw err;
      throw new SyslogSendError(
        `${err.message}; nothing was marked sent: the next audit:forward sends seq ` +
          `${pending[0].entry.seq}..${pending[pending.length - 1].entry.seq} again`,
      );
    }
    const last = pending[pending.length - 1];
    await writeForwardState(stateFile, dest, last.entry.seq, sha256Hex(last.line));
    return {
      ...result,
      sent: pending.length,
      firstSeq: pending[0].entry.seq,
      lastSeq: last.entry.seq,
    };
  });
}
