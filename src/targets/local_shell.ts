/**
 * One long-lived local `sh` that a run's local steps are streamed into, with the framing the
 * SSH target uses for a node's remote shell: a step costs a pipe write and one fork of that
 * shell (`setsid /bin/sh -c`), instead of a dax process, a wrapper `sh`, `setsid` and `sh` each.
 *
 * Each step runs in its own session (`setsid`), so a `cd`, `exit` or `set -e` cannot leak into
 * the next step and a timeout or Ctrl-C stops its whole process group, children included (TERM,
 * then KILL after a grace period). The shell prints the step's pid on stdout as soon as it has
 * forked, so the group is signalled from here with no process in between; then the exit code
 * on stdout and an end marker on stderr, which keeps the two streams apart. The shell itself
 * runs in a session of its own: a Ctrl-C at the terminal reaches the tool, which stops the
 * step, rather than killing the shell under it.
 *
 * @example
 * ```ts
 * import { LocalShell } from "./local_shell.ts";
 * const shell = await LocalShell.open();
 * const result = await shell.run({ script: "echo hello" });
 * result.stdout; // "hello\n"
 * await shell.close();
 * ```
 * @module
 */
import { shellQuote } from "../shell/quote.ts";
import { dax } from "./dax.ts";
import { MarkedStream } from "./marked_stream.ts";
import { innerScript, newMarker, type RemoteStep } from "./ssh_command.ts";
import { type ExecRequest, type ExecResult, OutputCollector } from "./target.ts";

/** Milliseconds between asking a step's process group to stop (TERM) and making it (KILL). */
export const KILL_GRACE_MS = 5000;

/**
 * The command that becomes the long-lived shell: in its own session, reading steps on stdin.
 * `/bin/sh` by path, here and in each step: `setsid` looks a bare `sh` up in every directory of
 * PATH (ten failed `execve` calls a step on a machine with pyenv and cargo in front).
 */
export const LOCAL_SHELL = ["setsid", "/bin/sh"];

/**
 * The block written into the local shell for one step: the step in its own session with stdin
 * from /dev/null (so it cannot eat the next step), its pid, then its exit code on stdout and the
 * end of its stderr. The step's script reaches `sh -c` as one single-quoted word, parsed once.
 *
 * @example
 * ```ts
 * import { frameLocalStep } from "./local_shell.ts";
 * frameLocalStep({ script: "echo hi", env: { A: "1" } }, "__m");
 * // "setsid /bin/sh -c 'export A='\"'\"'1'\"'\"'\necho hi' </dev/null &\nprintf ... __m pid ..."
 * ```
 */
export function frameLocalStep(step: RemoteStep, marker: string): string {
  return [
    `setsid /bin/sh -c ${shellQuote(innerScript(step))} </dev/null &`,
    `printf '\\n%s pid %s\\n' ${marker} "$!"`,
    `wait $!; __protocol_status=$?`,
    `printf '\\n%s %s\\n' ${marker} "$__protocol_status"; printf '\\n%s\\n' ${marker} >&2`,
    "",
  ].join("\n");
}

/** The step being run: where its output goes, its process group, and what it waits for. */
interface Pending {
  stdout: OutputCollector;
  stderr: OutputCollector;
  pid?: number;
  /** A signal asked for before the pid was known: sent as soon as it is. */
  signal?: Deno.Signal;
  status?: string;
  stderrDone: boolean;
  done: (ended?: string) => void;
}

const encoder = new TextEncoder();

/** A long-lived local `sh` running one framed step at a time. */
export class LocalShell {
  /** Why the shell is gone, once it is: the next step needs a new one. */
  ended?: string;
  #pending?: Pending;
  #writer!: WritableStreamDefaultWriter<Uint8Array>;
  #child!: PromiseLike<unknown>;
  readonly #marker = newMarker();
  readonly #out: MarkedStream;
  readonly #err: MarkedStream;

  private constructor(readonly killGraceMs: number) {
    this.#out = new MarkedStream(this.#marker, (text) => {
      this.#pending?.stdout.write(encoder.encode(text));
    });
    this.#err = new MarkedStream(this.#marker, (text) => {
      this.#pending?.stderr.write(encoder.encode(text));
    });
  }

  /** Starts a shell (dax loads here, on the first local step of a run). */
  static async open(killGraceMs = KILL_GRACE_MS): Promise<LocalShell> {
    const shell = new LocalShell(killGraceMs);
    await shell.#start();
    return shell;
  }

  async #start(): Promise<void> {
    const $ = await dax();
    const stdin = new TransformStream<Uint8Array, Uint8Array>();
    this.#writer = stdin.writable.getWriter();
    this.#child = $`${LOCAL_SHELL}`.noThrow().stdin(stdin.readable)
      .stdout(this.#sink(this.#out, "stdout")).stderr(this.#sink(this.#err, "stderr"))
      .then((result) => this.#end(`the local shell exited with ${result.code}`));
  }

  /** Runs one step; never throws for a failing script. One step at a time per shell. */
  async run(request: ExecRequest, started = performance.now()): Promise<ExecResult> {
    if (this.#pending) throw new Error("the local shell is running another step");
    const frame = frameLocalStep(request, this.#marker);
    const waiting = this.#begin(request);
    let timedOut = false;
    let killer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      this.#signal("SIGTERM");
      killer ??= setTimeout(() => this.#signal("SIGKILL"), this.killGraceMs);
    };
    const timer = request.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      stop();
    }, request.timeoutMs);
    request.signal?.addEventListener("abort", stop);
    try {
      await this.#send(frame).catch((error) => {
        this.#pending?.done(`the local shell could not take the step (${error.message})`);
      });
      const { status, stdout, stderr, ended } = await waiting;
      return {
        code: ended ? 255 : Number.parseInt(status ?? "255", 10),
        stdout,
        stderr: ended ? `${stderr}${ended} during the step\n` : stderr,
        timedOut,
        aborted: request.signal?.aborted ?? false,
        ms: performance.now() - started,
      };
    } finally {
      clearTimeout(timer);
      clearTimeout(killer);
      request.signal?.removeEventListener("abort", stop);
    }
  }

  /** Ends the shell (end of input) and waits for it. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => undefined);
    await this.#child;
  }

  #begin(request: ExecRequest) {
    return new Promise<{ status?: string; stdout: string; stderr: string; ended?: string }>(
      (resolve) => {
        const pending: Pending = {
          stdout: new OutputCollector("stdout", request.onOutput),
          stderr: new OutputCollector("stderr", request.onOutput),
          stderrDone: false,
          done: (ended) => {
            this.#pending = undefined;
            resolve({
              status: pending.status,
              stdout: pending.stdout.text(),
              stderr: pending.stderr.text(),
              ended,
            });
          },
        };
        this.#pending = pending;
      },
    );
  }

  /** Signals the running step's process group (its pid is its group id: `setsid`). */
  #signal(signal: Deno.Signal): void {
    const pending = this.#pending;
    if (!pending) return;
    if (pending.pid === undefined) {
      pending.signal = signal;
      return;
    }
    try {
      Deno.kill(-pending.pid, signal);
    } catch {
      // the group has exited already
    }
  }

  async #send(text: string): Promise<void> {
    if (this.ended) throw new Error(this.ended);
    await this.#writer.write(encoder.encode(text));
  }

  #sink(stream: MarkedStream, name: "stdout" | "stderr"): WritableStream<Uint8Array> {
    const decoder = new TextDecoder();
    return new WritableStream({
      write: (chunk) => {
        for (const end of stream.push(decoder.decode(chunk, { stream: true }))) {
          this.#marked(name, end);
        }
      },
    });
  }

  #marked(stream: "stdout" | "stderr", end: string): void {
    const pending = this.#pending;
    if (!pending) return;
    if (stream === "stderr") pending.stderrDone = true;
    else if (end.startsWith("pid ")) {
      pending.pid = Number.parseInt(end.slice("pid ".length), 10);
      if (pending.signal) this.#signal(pending.signal);
      return;
    } else pending.status = end;
    if (pending.status !== undefined && pending.stderrDone) pending.done();
  }

  #end(why: string): void {
    this.ended = why;
    if (this.#pending) {
      this.#pending.stdout.write(encoder.encode(this.#out.drain()));
      this.#pending.stderr.write(encoder.encode(this.#err.drain()));
      this.#pending.done(why);
    }
  }
}
