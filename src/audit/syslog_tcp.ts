/**
 * Syslog over TCP (RFC 6587): parse a `HOST:PORT` destination, and send octet-counted frames to
 * it. Plain TCP syslog has no acknowledgement, so the strongest signal it gives is used: after
 * the last frame we close our side and wait for the receiver to close its side cleanly, which
 * rsyslog does once it has read to the end of the stream. A receiver that goes away with bytes
 * unread resets the connection instead: that is an error, not a success.
 *
 * @example
 * ```ts
 * import { parseDestination, sendFrames } from "./syslog_tcp.ts";
 * const dest = parseDestination("siem.example.com:6514");
 * await sendFrames(dest, [new TextEncoder().encode("5 hello")], { timeoutMs: 10_000 });
 * ```
 * @module
 */
import { FailureError } from "../errors.ts";
import { AuditInputError } from "./errors.ts";

/** Where records go. */
export interface Destination {
  hostname: string;
  port: number;
}

/** The receiver could not be reached or did not take the whole stream; exit 1. */
export class SyslogSendError extends FailureError {
  constructor(message: string) {
    super(message);
    this.name = "SyslogSendError";
  }
}

/** Frames are coalesced into writes of about this size. */
const CHUNK_BYTES = 1 << 20;

/**
 * Parses `HOST:PORT` (`[v6addr]:PORT` for IPv6 literals). Throws `AuditInputError` (exit 2).
 *
 * @example
 * ```ts
 * parseDestination("127.0.0.1:514"); // { hostname: "127.0.0.1", port: 514 }
 * parseDestination("[::1]:514"); // { hostname: "::1", port: 514 }
 * ```
 */
export function parseDestination(text: string): Destination {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new AuditInputError(
      `syslog destination must be HOST:PORT (IPv6 as [ADDR]:PORT), port 1-65535; got ${
        JSON.stringify(text)
      }`,
    );
  }
  return { hostname: m[1] ?? m[2], port };
}

/**
 * Formats a destination back to `HOST:PORT`.
 *
 * @example
 * ```ts
 * formatDestination({ hostname: "::1", port: 514 }); // "[::1]:514"
 * ```
 */
export function formatDestination(d: Destination): string {
  return d.hostname.includes(":") ? `[${d.hostname}]:${d.port}` : `${d.hostname}:${d.port}`;
}

/**
 * Sends `frames` over one TCP connection and waits until the receiver has read them all (it
 * closes after our end of stream). Throws `SyslogSendError` naming the destination when the
 * receiver is down, resets the connection, or makes no progress for `timeoutMs`.
 *
 * @example
 * ```ts
 * const frames = [new TextEncoder().encode("5 hello")];
 * await sendFrames({ hostname: "127.0.0.1", port: 514 }, frames, { timeoutMs: 30_000 });
 * ```
 */
export async function sendFrames(
  dest: Destination,
  frames: Uint8Array[],
  options: { timeoutMs: number },
): Promise<void> {
  const name = formatDestination(dest);
  const connecting = new AbortController();
  const connectTimer = setTimeout(() => connecting.abort(), options.timeoutMs);
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ ...dest, signal: connecting.signal });
  } catch (err) {
    const why = connecting.signal.aborted
      ? `no answer within ${options.timeoutMs / 1000} s`
      : (err as Error).message;
    throw new SyslogSendError(`cannot reach syslog receiver ${name}: ${why}`);
  } finally {
    clearTimeout(connectTimer);
  }
  // A receiver that stops reading would block a write forever: no progress for timeoutMs
  // closes the connection, which fails the pending write or read.
  let stalled = false;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const progress = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      stalled = true;
      conn.close();
    }, options.timeoutMs);
  };
  let sent = 0;
  try {
    progress();
    for (const chunk of chunks(frames)) {
      for (let off = 0; off < chunk.bytes.length;) {
        off += await conn.write(chunk.bytes.subarray(off));
        progress();
      }
      sent = chunk.framesUpTo;
    }
    await conn.closeWrite();
    const sink = new Uint8Array(4096);
    while (await conn.read(sink) !== null) progress();
  } catch (err) {
    const why = stalled ? `no progress for ${options.timeoutMs / 1000} s` : (err as Error).message;
    throw new SyslogSendError(
      `sending to syslog receiver ${name} failed after ${sent} of ${frames.length} records ` +
        `were written: ${why}`,
    );
  } finally {
    clearTimeout(watchdog);
    if (!stalled) closeQuietly(conn);
  }
}

// Closing is cleanup here; the outcome was already decided above.
function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

// Coalesces frames into ~1 MiB writes, remembering how many whole frames each write completes.
function* chunks(frames: Uint8Array[]): Generator<{ bytes: Uint8Array; framesUpTo: number }> {
  let i = 0;
  while (i < frames.length) {
    const start = i;
    let size = 0;
    while (i < frames.length && (i === start || size + frames[i].length <= CHUNK_BYTES)) {
      size += frames[i++].length;
    }
    const bytes = new Uint8Array(size);
    let off = 0;
    for (let j = start; j < i; j++) {
      bytes.set(frames[j], off);
      off += frames[j].length;
    }
    yield { bytes, framesUpTo: i };
  }
}
