/**
 * How the command line answers the gates a person confirms: `--yes` acknowledges them (recorded
 * as `acknowledged`, and `early` when a gate's `min_wait` had not passed); a terminal asks,
 * after waiting out the gate's `min_wait` with the time left on screen; without either, the run
 * is refused before anything runs. Ctrl-C, while waiting or at the prompt, interrupts the run
 * like any other SIGINT.
 *
 * @example
 * ```ts
 * import { confirmer, onceEach } from "./human_gate.ts";
 * const confirm = confirmer(["Monitor for 15 minutes"], true);
 * await confirm!("Monitor for 15 minutes"); // "acknowledged"
 * const shared = onceEach(confirm!); // asks each question once per run
 * ```
 * @module
 */
import { UsageError } from "../errors.ts";
import { runProcess } from "../proc/mod.ts";
import { dax } from "../targets/dax.ts";
import type { Answer, Confirmer, Gate } from "../runbook/mod.ts";

/**
 * The confirmer of a run: `--yes` acknowledges; a terminal asks (waiting out `min_wait`
 * first); with neither, a runbook that has human items is refused, naming them.
 *
 * @example
 * ```ts
 * import { confirmer } from "./human_gate.ts";
 * confirmer([], false); // undefined when there is no terminal and nothing to ask
 * ```
 */
export function confirmer(items: string[], yes: boolean): Confirmer | undefined {
  if (yes) return () => Promise.resolve("acknowledged");
  const interactive = Deno.stdin.isTerminal() && !Deno.env.get("CI");
  if (interactive) return askAtTerminal;
  if (items.length) {
    throw new UsageError(
      `this runbook has ${items.length} item(s) a human must confirm, and there is no terminal ` +
        `to ask:\n${items.map((item) => `  - ${item}`).join("\n")}\n` +
        `Run it from a terminal, or pass --yes to acknowledge them (recorded in the run record).`,
    );
  }
  return undefined;
}

/**
 * Asks each question once per run, one at a time: a rollout over ten nodes asks "deployment
 * window confirmed?" once, and parallel nodes never prompt over each other. A gate with
 * `min_wait` is asked on every node: its wait is that node's own (a bake time per batch).
 *
 * @example
 * ```ts
 * import { onceEach } from "./human_gate.ts";
 * let asked = 0;
 * const confirm = onceEach(() => Promise.resolve(asked++ ? "declined" : "confirmed"));
 * await confirm("Window confirmed?"); await confirm("Window confirmed?"); // asked === 1
 * ```
 */
export function onceEach(confirm: Confirmer): Confirmer {
  const answers = new Map<string, Promise<Answer>>();
  let queue: Promise<unknown> = Promise.resolve();
  return (question, gate) => {
    const waits = gate?.minWaitMs !== undefined;
    let answer = waits ? undefined : answers.get(question);
    if (!answer) {
      answer = queue.then(() => confirm(question, gate));
      queue = answer.catch(() => undefined);
      if (!waits) answers.set(question, answer);
    }
    return answer;
  };
}

/**
 * Time left as a clock: `0:09`, `14:05`, `1:02:03`.
 *
 * @example
 * ```ts
 * import { clock } from "./human_gate.ts";
 * clock(845_000); // "14:05"
 * clock(400); // "0:01"
 * ```
 */
export function clock(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const two = (n: number) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

async function askAtTerminal(question: string, gate?: Gate): Promise<Answer> {
  const where = gate && gate.target !== "local" ? ` (${gate.target})` : "";
  if (gate?.minWaitMs !== undefined) {
    await waitOut(question + where, gate);
    // A key pressed during the wait ("y", Enter) must not answer the prompt that follows it.
    await discardTypedAhead();
  }
  if (gate?.signal?.aborted) return "declined";
  // dax's prompt loads only when there is a question to ask (see targets/dax.ts).
  const $ = await dax();
  const answer = await $.maybeConfirm({ message: question + where, default: false });
  if (answer === undefined) {
    // Ctrl-C at the prompt (the terminal is raw, so no SIGINT came): make it one, so the run
    // stops through its one interrupt path, and wait until it has.
    Deno.kill(Deno.pid, "SIGINT");
    await aborted(gate?.signal);
    return "declined";
  }
  return answer ? "confirmed" : "declined";
}

/** Waits until the gate's `min_wait` has passed, showing the time left; a signal ends it. */
async function waitOut(label: string, gate: Gate): Promise<void> {
  const until = gate.since.getTime() + gate.minWaitMs!;
  const tty = Deno.stderr.isTerminal();
  const write = (text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text));
  const line = () =>
    `${label}: min_wait ${gate.minWait}, can be confirmed in ${clock(until - Date.now())} ` +
    `(Ctrl-C aborts)`;
  if (Date.now() >= until) return;
  if (!tty) write(line() + "\n");
  while (Date.now() < until && !gate.signal?.aborted) {
    if (tty) write(`\r\x1b[2K${line()}`);
    await sleep(Math.min(1000, until - Date.now()), gate.signal);
  }
  if (tty) write("\r\x1b[2K");
}

/**
 * The terminal settings that make a read return at once with what is already typed (nothing:
 * end of input), and the ones that undo it: `stty` on the controlling terminal.
 *
 * @example
 * ```ts
 * import { sttyArgv } from "./human_gate.ts";
 * sttyArgv(["-g"]); // ["stty", "-F", "/dev/tty", "-g"]
 * ```
 */
export function sttyArgv(settings: string[]): string[] {
  return ["stty", "-F", "/dev/tty", ...settings];
}

async function discardTypedAhead(): Promise<void> {
  const saved = await runProcess(sttyArgv(["-g"]));
  if (saved.code !== 0) return;
  const set = await runProcess(sttyArgv(["-icanon", "min", "0", "time", "0"]));
  try {
    if (set.code !== 0) return;
    const buffer = new Uint8Array(1024);
    while (await Deno.stdin.read(buffer) !== null) {
      // thrown away: typed before the question was asked
    }
  } finally {
    await runProcess(sttyArgv([saved.stdout.trim()]));
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

async function aborted(signal?: AbortSignal): Promise<void> {
  if (!signal || signal.aborted) return;
  await sleep(5_000, signal);
}
