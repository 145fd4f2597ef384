/**
 * The only code that writes `deployments.log`: an exclusive lock across processes, a fresh read
 * of the tail under that lock, torn-tail recovery, one write per append, fdatasync.
 *
 * @example
 * ```ts
 * import type { Signer } from "./entry.ts";
 * const dir = "/srv/state";
 * declare const signer: Signer;
 * import { withAuditLock, openLogForAppend } from "./writer.ts";
 * await withAuditLock(dir, async () => {
 *   const log = await openLogForAppend(dir);
 *   try { await log.append([{ action: "deploy" }], signer); } finally { log.close(); }
 * });
 * ```
 * @module
 */
import { basename } from "node:path";
import { ACTION } from "./actions.ts";
import { ensureStateDir, hostName, operator, sudoUser } from "../state/mod.ts";
import {
  type AuditEntry,
  type AuditFields,
  buildEntry,
  GENESIS_PREV,
  parseEntryLine,
  sha256Hex,
  type Signer,
} from "./entry.ts";
import { AuditRefusedError } from "./errors.ts";
import { lastLineIsV1, upgradeEntry } from "./legacy_v1.ts";
import { syncDir, writeAllSync } from "./fs.ts";
import { auditPaths, rotatedLogFiles } from "./paths.ts";

/** What the writer learned from the tail: where the chain continues. */
export interface LogTail {
  /** seq of the last complete entry (0 when the history is empty). */
  seq: number;
  /** Hash of the last complete line, or the genesis constant. */
  prev: string;
  last?: AuditEntry;
  /** Bytes after the last newline of the live log, to be cut before the next write. */
  torn?: { offset: number; bytes: Uint8Array };
  /** The last complete line's bytes. */
  lastLine?: Uint8Array;
  /** The last entry is format v1: the next append writes `format.upgraded` first. */
  v1?: boolean;
}

/**
 * Runs `fn` holding the exclusive audit lock (flock on a sidecar file), creating the state dir
 * (0700) if needed. The lock is released when the file closes, even if `fn` throws.
 *
 * @example
 * ```ts
 * await withAuditLock("/srv/state", () => Promise.resolve("appended under the lock"));
 * ```
 */
export async function withAuditLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  await ensureStateDir(stateDir);
  const lockPath = auditPaths(stateDir).lock;
  // Synchronous open and stat (local files, microseconds): each async file call is a round trip
  // through Deno's blocking thread pool, which cost more CPU than the call itself. Only what can
  // wait — the lock and the fdatasync — stays asynchronous.
  const lock = Deno.openSync(lockPath, { read: true, write: true, create: true, mode: 0o600 });
  try {
    if ((lock.statSync().mode ?? 0) & 0o077) Deno.chmodSync(lockPath, 0o600);
    await lock.lock(true);
    return await fn();
  } finally {
    lock.close();
  }
}

/** An open live log, its tail read under the lock. Only valid while the lock is held. */
export interface OpenLog {
  tail: LogTail;
  /** Size of the live log when opened (0: empty, so `tail` came from a rotated file or genesis). */
  liveSize: number;
  /** Appends entries (preceded by a log.recovered entry if the tail was torn) in one write. */
  append(fields: AuditFields[], signer: Signer): Promise<AuditEntry[]>;
  /**
   * The torn bytes are one complete entry that continues the chain and whose signature the
   * caller checked: add the missing newline instead of cutting them. `v1`: it is a format v1
   * entry, so the next append writes `format.upgraded` first.
   */
  completeTorn(entry: AuditEntry, options?: { v1?: boolean }): Promise<void>;
  close(): void;
}

/**
 * Opens (creating, mode 0600) the live log and reads where the chain continues. When the live
 * log is empty — a fresh state dir, or just after rotation — the chain continues from the
 * newest rotated file, so a crash between rename and first write cannot restart seq at 1.
 * Call only under `withAuditLock`.
 *
 * @example
 * ```ts
 * const log = await openLogForAppend("/srv/state");
 * console.log(log.tail.seq);
 * ```
 */
export async function openLogForAppend(stateDir: string): Promise<OpenLog> {
  const path = auditPaths(stateDir).log;
  const file = Deno.openSync(path, { read: true, append: true, create: true, mode: 0o600 });
  try {
    const st = file.statSync();
    // chmod rather than trusting `mode`: the umask filters `mode`, and an existing file may
    // have been loosened by hand.
    if ((st.mode ?? 0) & 0o077) Deno.chmodSync(path, 0o600);
    if (st.size === 0) await syncDir(stateDir);
    let tail = readTail(file, st.size, basename(path), true);
    if (!tail.last) {
      const rotated = (await rotatedLogFiles(stateDir)).at(-1);
      if (rotated) tail = { ...readTailOf(rotated), torn: tail.torn };
    }
    if (tail.last && tail.lastLine && lastWrittenV2.get(path) !== tail.prev) {
      tail.v1 = await lastLineIsV1(stateDir, tail.lastLine, tail.last);
    }
    return {
      tail,
      liveSize: st.size,
      append: (fields, signer) => appendLines(path, file, tail, fields, signer),
      async completeTorn(entry, options = {}) {
        const torn = tail.torn!;
        writeAllSync(file, new Uint8Array([10]));
        await file.syncData();
        tail.seq = entry.seq;
        tail.prev = sha256Hex(torn.bytes);
        if (!options.v1) lastWrittenV2.set(path, tail.prev);
        tail.last = entry;
        tail.lastLine = torn.bytes;
        tail.v1 = options.v1 ?? false;
        tail.torn = undefined;
      },
      close: () => file.close(),
    };
  } catch (err) {
    file.close();
    throw err;
  }
}

// Who writes and where, looked up once per process: the uid, the host and the sudo context do
// not change while it runs, and each lookup reads /etc/passwd (every step of a run appends).
let writerIdentity: { host: string; user: string; sudo?: string } | undefined;
function whoWrites(): { host: string; user: string; sudo?: string } {
  return writerIdentity ??= { host: hostName(), user: operator(), sudo: sudoUser() };
}

// Per live log, the hash of the last line this process wrote or completed: a format v2 line by
// construction, so the next append needs no signature check to tell it from a v1 line.
const lastWrittenV2 = new Map<string, string>();

async function appendLines(
  path: string,
  file: Deno.FsFile,
  tail: LogTail,
  fieldsList: AuditFields[],
  signer: Signer,
): Promise<AuditEntry[]> {
  const ts = new Date().toISOString();
  const { host, user, sudo } = whoWrites();
  const base = { ts, host, user };
  const all: AuditFields[] = [];
  // After a v1 history, the first entry in the current format says so (the verifier accepts no
  // v1 entry after it).
  if (tail.v1) all.push(upgradeEntry());
  if (tail.torn) {
    all.push({
      action: ACTION.logRecovered,
      status: "success",
      cut_bytes: tail.torn.bytes.length,
      cut_sha256: sha256Hex(tail.torn.bytes),
      cut_offset: tail.torn.offset,
    });
  }
  // Who ran it through sudo is recorded only when it is real (see `sudoUser`).
  all.push(
    ...fieldsList.map((f) => sudo && f.sudo_user === undefined ? { ...f, sudo_user: sudo } : f),
  );
  const entries: AuditEntry[] = [];
  const lines: string[] = [];
  let { seq, prev } = tail;
  for (const fields of all) {
    const { entry, line } = buildEntry(fields, { ...base, seq: seq + 1, prev }, signer);
    entries.push(entry);
    lines.push(line + "\n");
    seq = entry.seq;
    prev = sha256Hex(line);
  }
  // Never glue onto a partial line: cut it first (its hash and length are in log.recovered).
  if (tail.torn) file.truncateSync(tail.torn.offset);
  // One write of the whole batch (to the page cache: synchronous, see `withAuditLock`), then the
  // one fdatasync every entry of the batch waits for.
  writeAllSync(file, new TextEncoder().encode(lines.join("")));
  await file.syncData();
  lastWrittenV2.set(path, prev);
  tail.seq = seq;
  tail.prev = prev;
  tail.last = entries.at(-1);
  tail.torn = undefined;
  tail.v1 = false;
  return entries.slice(all.length - fieldsList.length);
}

/**
 * Reads the tail of a (rotated, read-only) log file.
 *
 * @example
 * ```ts
 * const t = readTailOf("/srv/state/deployments.log.3");
 * ```
 */
export function readTailOf(path: string): LogTail {
  const f = Deno.openSync(path, { read: true });
  try {
    return readTail(f, f.statSync().size, basename(path), false);
  } finally {
    f.close();
  }
}

// Reads backwards in doubling chunks until the last complete line (and any torn bytes after it)
// is whole. Entries are typically a few hundred bytes, so one small read is the common case;
// the loop covers lines up to the 64 KiB limit and beyond.
function readTail(
  f: Deno.FsFile,
  size: number,
  name: string,
  allowTorn: boolean,
): LogTail {
  if (size === 0) return { seq: 0, prev: GENESIS_PREV };
  for (let want = 16 * 1024;; want *= 2) {
    const start = Math.max(0, size - want);
    const buf = readAt(f, start, size - start);
    const lastNl = buf.lastIndexOf(10);
    const tornStart = lastNl + 1;
    const torn = tornStart < buf.length
      ? { offset: start + tornStart, bytes: buf.slice(tornStart) }
      : undefined;
    if (lastNl === -1 && start > 0) continue;
    if (torn && !allowTorn) {
      throw new AuditRefusedError(`${name} ends in a torn line; run \`deno task audit:verify\``);
    }
    if (lastNl === -1) return { seq: 0, prev: GENESIS_PREV, torn };
    const prevNl = buf.lastIndexOf(10, lastNl - 1);
    if (prevNl === -1 && start > 0) continue;
    const lineBytes = buf.subarray(prevNl + 1, lastNl);
    const p = parseEntryLine(lineBytes);
    if (!p.ok) {
      // Appending after a line we cannot parse would chain onto garbage; stop and make a human look.
      throw new AuditRefusedError(
        `last entry of ${name} is not a valid audit entry (${p.detail}); ` +
          "run `deno task audit:verify`",
      );
    }
    return {
      seq: p.entry.seq,
      prev: sha256Hex(lineBytes),
      last: p.entry,
      torn,
      lastLine: lineBytes,
    };
  }
}

function readAt(f: Deno.FsFile, offset: number, length: number): Uint8Array {
  f.seekSync(offset, Deno.SeekMode.Start);
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = f.readSync(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return buf.subarray(0, got);
}
