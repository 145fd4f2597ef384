/**
 * SSH targets: nodes reached with the system OpenSSH client, driven through dax.
 *
 * A node costs one authentication and one local process per run: {@link SshTarget.connect}
 * starts one `ssh` whose session is a long-lived remote `sh` and which is also the master
 * connection (control socket in a private directory) for the rare other channel — a timeout's
 * kill, a step with stdin. Steps are streamed into that shell (see `ssh_command.ts` for the
 * framing), so a step costs a pipe write rather than a new SSH session — the lesson of Mitogen
 * for Ansible — and its bytes pass through no relaying client.
 *
 * @example
 * ```ts
 * import { SshTarget } from "./ssh.ts";
 * const target = new SshTarget({ name: "web-1", host: "10.0.0.1", user: "deploy" }, {
 *   settings: { hostKeys: "strict", connectTimeout: 10 },
 *   controlDir: await Deno.makeTempDir({ prefix: "protocol-ssh-" }),
 * });
 * await target.connect();
 * console.log((await target.exec({ script: "uname -sr" })).stdout);
 * await target.close();
 * ```
 * @module
 */
import { FailureError } from "../errors.ts";
import { dax } from "./dax.ts";
import { shellQuote } from "../shell/quote.ts";
import { FramedShell } from "./framed_shell.ts";
import { notRun, stopOnTimeoutOrAbort } from "./step_stop.ts";
import {
  clientArgv,
  controlPath,
  frameHello,
  frameStep,
  innerScript,
  killScript,
  masterLogPath,
  shellArgv,
  type SshEndpoint,
  type SshSettings,
  STEP_PID_FILE,
  STOP_RELAYS,
} from "./ssh_command.ts";
import { type ExecRequest, type ExecResult, OutputCollector, type Target } from "./target.ts";

/** What an SSH target needs besides its node. */
export interface SshTargetOptions {
  settings: SshSettings;
  /** Private directory (0700) for control sockets and connection logs. */
  controlDir: string;
}

/** A node could not be reached; the message names it and carries OpenSSH's own words. */
export class SshConnectError extends FailureError {
  constructor(readonly node: string, readonly detail: string) {
    super(`${node}: cannot connect: ${detail}`);
    this.name = "SshConnectError";
  }
}

/**
 * Every ssh runs in its own session (`setsid`): a Ctrl-C at the terminal reaches the tool, which
 * stops the step and releases its locks over these connections, instead of killing them first.
 */
const detached = (argv: string[]) => ["setsid", ...argv];

const encoder = new TextEncoder();

/** A node reached over SSH. */
export class SshTarget implements Target {
  readonly name: string;
  #connected?: Promise<void>;
  #shell?: Promise<RemoteShell>;
  /** Steps given input so far: each names its own pid file. */
  #inputSteps = 0;
  #queue: Promise<unknown> = Promise.resolve();
  /** Remote shells opened so far (a lost one is replaced by the next). */
  #opened = 0;
  /** The pid file of a step left running on the node when its connection was lost. */
  orphan?: string;

  constructor(readonly node: SshEndpoint, readonly options: SshTargetOptions) {
    this.name = node.name;
  }

  /**
   * Opens the node's connection and its remote shell (once); throws {@link SshConnectError}
   * when it cannot.
   */
  connect(): Promise<void> {
    this.#shell ??= RemoteShell.open(this, this.#opened++ > 0);
    return this.#connected ??= this.#shell.then(() => undefined);
  }

  /** Runs one step on the node. Never throws for a failing script or a lost connection. */
  exec(request: ExecRequest): Promise<ExecResult> {
    // One shell runs one step at a time; steps sent from parallel node runs wait their turn.
    const result = this.#queue.then(() => this.#exec(request));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /**
   * After a lost connection: opens a new master connection and shell, and stops the process
   * group of the step the lost shell left running on the node (TERM, then KILL). Throws
   * {@link SshConnectError} when the node still cannot be reached.
   */
  async recover(): Promise<void> {
    const shell = await this.#shell?.catch(() => undefined);
    const lost = shell?.lost !== undefined ||
      (this.#connected && !await this.#connected.then(() => true, () => false));
    if (!lost && this.#connected) return;
    await shell?.close().catch(() => undefined);
    this.#shell = undefined;
    this.#connected = undefined;
    await this.connect();
    if (this.orphan) {
      const argv = clientArgv(
        this.node,
        this.options.settings,
        this.options.controlDir,
        stopOrphanScript(this.orphan),
      );
      const $ = await dax();
      await $`${detached(argv)}`.noThrow().quiet().stdin("null").timeout(30_000);
      this.orphan = undefined;
    }
  }

  /** Ends the remote shell, and with it the connection. */
  async close(): Promise<void> {
    const shell = await this.#shell?.catch(() => undefined);
    await shell?.close();
  }

  async #exec(request: ExecRequest): Promise<ExecResult> {
    const started = performance.now();
    if (request.signal?.aborted) return notRun();
    try {
      await this.connect();
    } catch (error) {
      return failed(started, (error as Error).message, true);
    }
    // The streamed shell's stdin carries the steps; a step with input gets its own channel.
    if (request.stdin) {
      return await this.#execOwnSession(request, started);
    }
    let shell: RemoteShell;
    try {
      shell = await this.#shell!;
    } catch (error) {
      return failed(started, (error as Error).message, true);
    }
    if (shell.lost) {
      return failed(
        started,
        `${this.name}: connection lost earlier in this run: ${shell.lost}`,
        true,
      );
    }
    return await shell.run(request, started);
  }

  /**
   * A step with input: an `ssh` of its own over the master, whose stdin is the input (the
   * streamed shell's stdin carries the frames).
   */
  async #execOwnSession(request: ExecRequest, started: number): Promise<ExecResult> {
    if (request.signal?.aborted) return notRun(started);
    const stdout = new OutputCollector("stdout", request.onOutput);
    const stderr = new OutputCollector("stderr", request.onOutput);
    // With a session, the step's `sh` says its pid in the shell's private directory (a new file
    // a step: no stale pid), and a stop signals its process group over the master, as for a
    // streamed step. Stopping the ssh client would not do: the master holds the stdio it was
    // passed until the remote command ends.
    const shell = await this.#shell?.catch(() => undefined);
    const pidFile = shell && `${shell.dir}/input-${++this.#inputSteps}.pid`;
    const argv = clientArgv(
      this.node,
      this.options.settings,
      this.options.controlDir,
      // exec: the step's sh is the session's leader, its pid the process group to signal.
      `exec sh -c ${shellQuote(innerScript(request, pidFile))}`,
    );
    const stopper = stopOnTimeoutOrAbort(request, (signal) => {
      if (pidFile) void this.signalStep(pidFile, signal);
    });
    try {
      const $ = await dax();
      const { code } = await $`${detached(argv)}`.noThrow().stdin(request.stdin ?? "null")
        .stdout(stdout.sink()).stderr(stderr.sink());
      return stopper.result(code, stdout, stderr, started);
    } finally {
      stopper.end();
    }
  }

  /**
   * Signals the process group of the step running in `shell`, over the master connection: the
   * step tagged `tag` only, when given (see `killScript`).
   */
  async signalStep(pidFile: string, signal: "TERM" | "KILL", tag?: number): Promise<void> {
    const argv = clientArgv(
      this.node,
      this.options.settings,
      this.options.controlDir,
      killScript(pidFile, signal, tag),
    );
    const $ = await dax();
    await $`${detached(argv)}`.noThrow().quiet().stdin("null").timeout(15_000);
  }
}

function failed(started: number, message: string, lost = false): ExecResult {
  return {
    code: 255,
    stdout: "",
    stderr: message + "\n",
    timedOut: false,
    aborted: false,
    ms: performance.now() - started,
    lost: lost ? message : undefined,
  };
}

/**
 * Stops a step's process group left behind by a lost shell: TERM, up to five seconds to go,
 * then KILL; and removes the lost shell's private directory.
 */
export function stopOrphanScript(pidFile: string): string {
  const file = shellQuote(pidFile);
  return [
    // No `--` before the group: dash's kill refuses it (see killScript).
    `read pid tag < ${file} 2>/dev/null`,
    `if [ -n "$pid" ]; then`,
    `  kill -TERM -"$pid" 2>/dev/null`,
    `  i=0; while kill -0 -"$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done`,
    `  kill -KILL -"$pid" 2>/dev/null`,
    `fi`,
    `rm -rf -- "$(dirname -- ${file})"`,
    `exit 0`,
  ].join("\n");
}

/** The long-lived remote `sh` of one node. */
class RemoteShell {
  dir = "";
  /** Steps sent so far: each step's tag in the pid file, which its stop checks. */
  #steps = 0;
  #shell!: FramedShell;
  #child!: PromiseLike<unknown>;

  private constructor(readonly target: SshTarget) {}

  /** Why the connection is gone, once it is. */
  get lost(): string | undefined {
    return this.#shell.ended;
  }

  /** `again`: a connection was opened before (and lost); its socket and log may be left. */
  static async open(target: SshTarget, again: boolean): Promise<RemoteShell> {
    const shell = new RemoteShell(target);
    await shell.#start(again);
    return shell;
  }

  async #start(again: boolean): Promise<void> {
    const { node, options } = this.target;
    const log = masterLogPath(options.controlDir, node);
    if (again) {
      // A socket left by a lost connection would turn multiplexing off; a stale log would be
      // quoted as this connection's error. (The first time, the private directory is new.)
      await Deno.remove(controlPath(options.controlDir, node)).catch(() => undefined);
      await Deno.remove(log).catch(() => undefined);
    }
    // Deno.Command directly (no shell, no PATH walk in JS): this process lives all run long
    // and carries every step, so its start and its pipes are the per-node cost of a fan-out.
    const [program, ...args] = detached(shellArgv(node, options.settings, options.controlDir));
    const child = new Deno.Command(program, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const shell = this.#shell = new FramedShell(child.stdin.getWriter());
    this.#child = Promise.all([
      child.status,
      shell.pump(child.stdout, "stdout"),
      shell.pump(child.stderr, "stderr"),
    ]).then(([status]) => {
      const why = `ssh exited with ${status.code}`;
      const said = shell.drainStderr().trim();
      shell.end(said ? `${why}: ${said.split(/\r?\n/).slice(-3).join("; ")}` : why);
    });
    // A connection that failed already has closed our pipe: the hello then ends as lost.
    const { status, ended } = await shell.exchange(frameHello(shell.marker));
    if (ended || !status?.startsWith("ready ")) {
      await this.#child;
      const logged = await Deno.readTextFile(log).catch(() => "");
      const detail = logged.trim().split(/\r?\n/).filter(Boolean).slice(-3).join("; ");
      throw new SshConnectError(
        this.target.name,
        detail || this.lost || ended || `no shell: ${status}`,
      );
    }
    // `ready <jobs|setsid> <dir>`: the hello defined the step function for the shell it found.
    this.dir = status.slice("ready ".length).split(" ").slice(1).join(" ");
  }

  /** Runs one framed step and waits for both of its markers (or for the connection to drop). */
  async run(request: ExecRequest, started: number): Promise<ExecResult> {
    const pidFile = `${this.dir}/${STEP_PID_FILE}`;
    const tag = ++this.#steps;
    const frame = frameStep(request, pidFile, tag);
    const end = await this.#shell.run(request, frame, (signal) => {
      this.target.signalStep(pidFile, signal, tag);
    });
    const lost = end.ended &&
      `ssh: connection to ${this.target.name} lost during the step (${this.lost ?? end.ended})`;
    if (lost) this.target.orphan = pidFile;
    return {
      code: lost ? 255 : Number.parseInt(end.status ?? "255", 10),
      stdout: end.stdout,
      stderr: end.stderr + (lost ? `${lost}\n` : ""),
      timedOut: end.timedOut,
      aborted: end.aborted,
      ms: performance.now() - started,
      lost: lost || undefined,
      cut: end.cut,
    };
  }

  async close(): Promise<void> {
    if (!this.lost) {
      const bye = `${STOP_RELAYS}; rm -rf ${shellQuote(this.dir)}; exit 0\n`;
      await this.#shell.writer.write(encoder.encode(bye))
        .catch(() => undefined);
    }
    await this.#shell.writer.close().catch(() => undefined);
    await this.#child;
  }
}
