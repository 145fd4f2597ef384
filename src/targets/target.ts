/**
 * What every target (local, and SSH nodes later) offers the runbook engine: run a script, report
 * its exit code and output. The engine never learns how.
 *
 * @example
 * ```ts
 * import type { Target } from "./target.ts";
 * async function hello(target: Target) {
 *   const result = await target.exec({ script: "echo hello" });
 *   return result.code === 0;
 * }
 * ```
 * @module
 */

/** One line of a step's output, as it happens. */
export type OutputListener = (line: string, stream: "stdout" | "stderr") => void;

/** A script to run on a target. */
export interface ExecRequest {
  script: string;
  env?: Record<string, string | number | boolean>;
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  onOutput?: OutputListener;
  /**
   * Bytes for the script's standard input (default: none, at EOF). How secrets reach a node:
   * through the connection, never on a command line where `ps` would show them.
   */
  stdin?: Uint8Array;
}

/** What happened when a script ran. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  ms: number;
  /**
   * Set when the connection to the node was lost while (or before) the script ran: the step's
   * outcome is unknown, and the run must stop rather than fail over to its next step.
   */
  lost?: string;
  /**
   * Bytes of output past {@link OUTPUT_LIMIT}, counted but not kept, per stream; absent when
   * nothing was dropped. A caller that judges the output must not judge a cut one.
   */
  cut?: OutputCut;
}

/** How much of each stream was dropped past {@link OUTPUT_LIMIT}. */
export interface OutputCut {
  stdout: number;
  stderr: number;
}

/**
 * The cut of a step's two streams, or undefined when neither dropped anything.
 *
 * @example
 * ```ts
 * const out = new OutputCollector("stdout");
 * const err = new OutputCollector("stderr");
 * outputCut(out, err); // undefined
 * ```
 */
export function outputCut(stdout: OutputCollector, stderr: OutputCollector): OutputCut | undefined {
  return stdout.dropped || stderr.dropped
    ? { stdout: stdout.dropped, stderr: stderr.dropped }
    : undefined;
}

/** A place where steps run. */
export interface Target {
  readonly name: string;
  exec(request: ExecRequest): Promise<ExecResult>;
}

/** Most output kept per stream; the rest is counted, not stored. */
export const OUTPUT_LIMIT = 1 << 20;

const encoder = new TextEncoder();
/** Whole-buffer decoding keeps no state between calls, so one decoder serves every collector. */
const decoder = new TextDecoder();

/** Collects a stream's bytes (up to {@link OUTPUT_LIMIT}) and reports whole lines as they come. */
export class OutputCollector {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #dropped = 0;
  #pending = "";
  /** Made on the first bytes written with a listener: most steps' output is never split. */
  #decoder?: TextDecoder;

  constructor(readonly name: "stdout" | "stderr", readonly onOutput?: OutputListener) {}

  /** A sink to hand to the process runner. */
  sink(): WritableStream<Uint8Array> {
    return new WritableStream({
      write: (chunk) => this.write(chunk),
      close: () => this.flush(),
    });
  }

  /** Bytes past {@link OUTPUT_LIMIT}: counted, not kept. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Everything collected, as text. */
  text(): string {
    this.flush();
    if (this.#chunks.length === 0) return "";
    if (this.#chunks.length === 1) return decoder.decode(this.#chunks[0]);
    const all = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return decoder.decode(all);
  }

  /** A result for a step that never started. */
  empty(): Omit<ExecResult, "aborted" | "timedOut" | "ms"> {
    return { code: 130, stdout: "", stderr: "" };
  }

  /** Takes the next piece of the stream. */
  write(chunk: Uint8Array): void {
    this.#keep(chunk, true);
    if (!this.onOutput) return;
    this.#decoder ??= new TextDecoder();
    this.#lines(this.#decoder.decode(chunk, { stream: true }));
  }

  /** Takes the next piece of the stream, already decoded (a framed shell's output). */
  writeText(text: string): void {
    if (!text) return;
    this.#keep(encoder.encode(text), false);
    if (this.onOutput) this.#lines(text);
  }

  /** Reports a last line that had no newline; {@link text} does this too. */
  flush(): void {
    if (this.#pending && this.onOutput) this.onOutput(this.#pending, this.name);
    this.#pending = "";
  }

  /** `copy`: the runner may reuse the chunk's buffer; a freshly encoded one is ours. */
  #keep(chunk: Uint8Array, copy: boolean): void {
    const kept = chunk.subarray(0, Math.max(0, OUTPUT_LIMIT - this.#size));
    this.#dropped += chunk.length - kept.length;
    if (kept.length === 0) return;
    this.#chunks.push(copy || kept.length < chunk.length ? kept.slice() : kept);
    this.#size += kept.length;
  }

  #lines(text: string): void {
    const lines = (this.#pending + text).split("\n");
    this.#pending = lines.pop()!;
    for (const line of lines) this.onOutput!(line, this.name);
  }
}
