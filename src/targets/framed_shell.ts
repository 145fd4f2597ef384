/**
 * The controller's side of a long-lived shell that runs framed steps one at a time: the local
 * shell of a run (`local_shell.ts`) and a node's remote shell (`ssh.ts`) both write a step's
 * frame into the shell's stdin and read its output back split by a random marker (see
 * `marked_stream.ts`): the exit code on a stdout marker line, the end of stderr on a stderr one.
 * Which process carries the shell and how a step is stopped stay with the caller; what is the
 * same — the step being waited for, its output, its timeout and abort, TERM then KILL after a
 * grace period (`step_stop.ts`), a shell that dies under a step — lives here once.
 *
 * @example
 * ```ts
 * import { FramedShell } from "./framed_shell.ts";
 * const child = new Deno.Command("sh", { stdin: "piped", stdout: "piped", stderr: "piped" })
 *   .spawn();
 * const shell = new FramedShell(child.stdin.getWriter());
 * shell.pump(child.stdout, "stdout");
 * shell.pump(child.stderr, "stderr");
 * const m = shell.marker;
 * const frame = `echo hi; printf '\\n%s %s\\n' ${m} 0; printf '\\n%s\\n' ${m} >&2\n`;
 * const ended = await shell.run({ script: "echo hi" }, frame, () => {});
 * ended.stdout; // "hi\n"
 * ```
 * @module
 */
import { MarkedStream } from "./marked_stream.ts";
import { newMarker } from "./ssh_command.ts";
import { KILL_GRACE_MS, stopOnTimeoutOrAbort, type StopStep } from "./step_stop.ts";
import { type ExecRequest, OutputCollector, type OutputCut, outputCut } from "./target.ts";

export { KILL_GRACE_MS, type StopStep } from "./step_stop.ts";

/** How a frame ended: its status marker, its output, and why the shell died under it, if it did. */
export interface FrameEnd {
  status?: string;
  stdout: string;
  stderr: string;
  /** What was dropped past the output limit (see `ExecResult.cut`). */
  cut?: OutputCut;
  /** Set when the shell's process ended before the frame did. */
  ended?: string;
}

/** How a step ended, as {@link FrameEnd} plus whether it was stopped. */
export interface StepEnd extends FrameEnd {
  timedOut: boolean;
  aborted: boolean;
}

/** How a framed shell behaves. */
export interface FramedShellOptions {
  /** Milliseconds from TERM to KILL when a step is stopped (default {@link KILL_GRACE_MS}). */
  killGraceMs?: number;
}

/** The frame being waited for. */
interface Pending {
  stdout: OutputCollector;
  stderr: OutputCollector;
  stop?: StopStep;
  status?: string;
  stderrDone: boolean;
  /** The step left processes running: the next step's output starts after a bare marker. */
  left?: boolean;
  done: (ended?: string) => void;
}

const encoder = new TextEncoder();
/** Bytes read from a shell's output pipe at a time. */
const PIPE_BUFFER = 8192;

/** One long-lived shell driven by framed steps; see the module documentation. */
export class FramedShell {
  /** Why the shell's process is gone, once it is: a new shell is needed for the next step. */
  ended?: string;
  /** The marker this shell's frames end with: random, so no step output can forge it. */
  readonly marker: string = newMarker();
  #pending?: Pending;
  #stray = "";
  /**
   * Per stream: text is late output of a step that left processes running, until the bare
   * marker the shell prints where the next step's output begins (see `relayFunction`).
   */
  readonly #late = { stdout: false, stderr: false };
  readonly #out: MarkedStream;
  readonly #err: MarkedStream;
  readonly #killGraceMs: number;

  constructor(
    readonly writer: WritableStreamDefaultWriter<Uint8Array>,
    options: FramedShellOptions = {},
  ) {
    this.#killGraceMs = options.killGraceMs ?? KILL_GRACE_MS;
    this.#out = new MarkedStream(
      this.marker,
      (text) => this.#text("stdout", text),
      (end) => this.#marked("stdout", end),
    );
    this.#err = new MarkedStream(
      this.marker,
      (text) => this.#text("stderr", text),
      (end) => this.#marked("stderr", end),
    );
  }

  /** Stderr the shell printed while no frame was running (an ssh client's last words, say). */
  get stray(): string {
    return this.#stray;
  }

  /**
   * Writes `frame` and waits for its end (both markers) or for the shell's end. For frames that
   * are not a step's, such as a session's greeting; steps go through {@link run}.
   */
  exchange(frame: string, request: Pick<ExecRequest, "onOutput"> = {}): Promise<FrameEnd> {
    if (this.#pending) throw new Error("the shell is running another step");
    const waiting = this.#begin(request);
    this.#send(frame).catch((error) => {
      this.#pending?.done(this.ended ?? `the shell could not take the frame (${error.message})`);
    });
    return waiting;
  }

  /**
   * Runs one step's `frame`: stops it with `stop` on its timeout or its abort signal (TERM,
   * then KILL after the grace period), and waits for its end or the shell's.
   */
  async run(request: ExecRequest, frame: string, stop: StopStep): Promise<StepEnd> {
    // Aborted while the shell was being opened (a connection, dax loading): an abort listener
    // added now would never fire, and the step would run to its end. It is not sent at all.
    if (request.signal?.aborted) {
      return { status: "130", stdout: "", stderr: "", timedOut: false, aborted: true };
    }
    const ending = this.exchange(frame, request);
    if (this.#pending) this.#pending.stop = stop;
    const stopper = stopOnTimeoutOrAbort(
      request,
      (signal) => this.#stop(signal),
      this.#killGraceMs,
    );
    try {
      const end = await ending;
      return { ...end, timedOut: stopper.timedOut, aborted: request.signal?.aborted ?? false };
    } finally {
      stopper.end();
    }
  }

  /** Takes the next bytes of the shell's stdout or stderr. */
  feed(stream: "stdout" | "stderr", text: string): void {
    (stream === "stdout" ? this.#out : this.#err).push(text);
  }

  /**
   * Feeds one of the shell's output pipes in until it closes. Reads into an 8 KiB buffer of its
   * own (a default reader keeps a 64 KiB one pending per pipe: ~0.1 MiB a node for nothing while
   * the node's step runs).
   */
  async pump(pipe: ReadableStream<Uint8Array>, stream: "stdout" | "stderr"): Promise<void> {
    const decoder = new TextDecoder();
    const reader = pipe.getReader({ mode: "byob" });
    let buffer = new Uint8Array(PIPE_BUFFER);
    try {
      while (true) {
        const { value, done } = await reader.read(buffer);
        if (done || !value) break;
        this.feed(stream, decoder.decode(value, { stream: true }));
        buffer = new Uint8Array(value.buffer);
      }
    } catch {
      // The pipe broke with the process; its end is reported by whoever waits for the process.
    }
  }

  /**
   * A synchronous sink for a process runner's output (dax's), feeding {@link feed}: dax hands
   * each chunk straight to `writeSync`, where a `WritableStream` costs a few promise turns more
   * a chunk (three chunks a step).
   */
  sink(stream: "stdout" | "stderr"): { writeSync(chunk: Uint8Array): number } {
    const decoder = new TextDecoder();
    return {
      writeSync: (chunk) => {
        this.feed(stream, decoder.decode(chunk, { stream: true }));
        return chunk.length;
      },
    };
  }

  /** The shell's process is gone (`why`): the frame being waited for ends with what it had. */
  end(why: string): void {
    this.ended = why;
    const pending = this.#pending;
    if (!pending) return;
    pending.stdout.writeText(this.#out.drain());
    pending.stderr.writeText(this.#err.drain());
    pending.done(why);
  }

  /** Stderr held back after the last frame (an end marker that never came), for a diagnosis. */
  drainStderr(): string {
    return this.#stray + this.#err.drain();
  }

  #begin(request: Pick<ExecRequest, "onOutput">): Promise<FrameEnd> {
    // What is held back (a newline that could start a marker) came before this frame was sent:
    // late output of an earlier step, never this one's.
    this.#out.drain();
    this.#stray += this.#err.drain();
    return new Promise<FrameEnd>((resolve) => {
      const pending: Pending = {
        stdout: new OutputCollector("stdout", request.onOutput),
        stderr: new OutputCollector("stderr", request.onOutput),
        stderrDone: false,
        done: (ended) => {
          if (this.#pending === pending) this.#pending = undefined;
          resolve({
            status: pending.status,
            stdout: pending.stdout.text(),
            stderr: pending.stderr.text(),
            cut: outputCut(pending.stdout, pending.stderr),
            ended,
          });
        },
      };
      this.#pending = pending;
      if (this.ended) pending.done(this.ended);
    });
  }

  #stop(signal: "TERM" | "KILL"): void {
    this.#pending?.stop?.(signal);
  }

  async #send(text: string): Promise<void> {
    if (this.ended) throw new Error(this.ended);
    await this.writer.write(encoder.encode(text));
  }

  /**
   * Text of one stream: the running frame's until that stream's end marker; after it, or
   * between a step that left processes running and the next step's start, nobody's (stderr
   * with no frame running is kept apart as {@link stray}).
   */
  #text(stream: "stdout" | "stderr", text: string): void {
    const pending = this.#pending;
    if (this.#late[stream]) return;
    if (stream === "stdout") {
      if (pending?.status === undefined) pending?.stdout.writeText(text);
    } else if (!pending) this.#stray += text;
    else if (!pending.stderrDone) pending.stderr.writeText(text);
  }

  #marked(stream: "stdout" | "stderr", end: string): void {
    if (this.#late[stream]) {
      this.#late[stream] = false; // the next step's output starts here
      return;
    }
    const pending = this.#pending;
    if (!pending) return;
    if (stream === "stderr") pending.stderrDone = true;
    else if (end.endsWith(" left")) {
      pending.status = end.slice(0, -" left".length);
      pending.left = true;
    } else pending.status = end;
    if (pending.status === undefined || !pending.stderrDone) return;
    if (pending.left) this.#late.stdout = this.#late.stderr = true;
    pending.done();
  }
}
