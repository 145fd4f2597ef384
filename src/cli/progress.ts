/**
 * Live progress of a run on a terminal: each step's name as it starts, its output indented, its
 * status and time when it ends, and a summary. Colour only on a terminal and without NO_COLOR.
 *
 * @example
 * ```ts
 * import { ProgressPrinter } from "./progress.ts";
 * const printer = new ProgressPrinter((line) => console.error(line));
 * // runRunbook(loaded, { ..., observer: printer });
 * ```
 * @module
 */
import type { ResolvedStep, RolloutObserver, RunObserver } from "../runbook/mod.ts";
import type { InventoryNode } from "../targets/inventory.ts";
import type { NodeAfterAbort, RunRecord, StepRecord } from "../state/runs.ts";
import { gateTimingText } from "../state/gate_timing.ts";
import { terminalText } from "./terminal_text.ts";

const useColor = Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR");
const paint = (code: number) => (text: string) => useColor ? `\x1b[${code}m${text}\x1b[0m` : text;
const green = paint(32), red = paint(31), yellow = paint(33), dim = paint(2), bold = paint(1);

const MARKS: Record<StepRecord["status"], string> = {
  success: green("✔"),
  confirmed: green("✔"),
  acknowledged: green("✔"),
  skipped: dim("–"),
  failure: red("✘"),
  timed_out: red("✘"),
  declined: red("✘"),
  aborted: yellow("■"),
};

/**
 * Prints a run as it happens, through `write` (stderr by default in the CLI). With a `node`,
 * every line starts with `[node]`, so the output of nodes running together stays readable.
 */
export class ProgressPrinter implements RunObserver, RolloutObserver {
  #depth = 0;
  #started = performance.now();
  readonly write: (line: string) => void;

  constructor(write: (line: string) => void, readonly node?: string) {
    // Lines carry what nodes printed: no control of theirs reaches the terminal.
    this.write = node
      ? (line) => write(terminalText(`${dim(`[${node}]`)} ${line}`))
      : (line) => write(terminalText(line));
  }

  batchStarted(batch: number, of: number, nodes: InventoryNode[]): void {
    this.write(bold(`\n=== Batch ${batch} of ${of}: ${nodes.map((n) => n.name).join(", ")}`));
  }

  nodeSkipped(node: InventoryNode, reason: string): void {
    this.write(`${MARKS.skipped} ${node.name}: ${reason}`);
  }

  preflightFinished(nodes: InventoryNode[], refused: Map<string, string>): void {
    if (refused.size === 0) {
      this.write(bold(`\nPreflight: ${nodes.length} node(s) reached, locked, prerequisites met`));
      return;
    }
    this.write(bold(red(`\nPreflight failed on ${refused.size} of ${nodes.length} node(s):`)));
    for (const reason of refused.values()) this.write(`  ${MARKS.failure} ${reason}`);
    this.write("  nothing was changed on any node; every lock taken was released");
  }

  abortSummary(summary: NodeAfterAbort[], locks: Map<string, string>): void {
    this.write(bold(yellow("\nAbort summary")));
    for (const node of summary) {
      const health = node.healthy === undefined
        ? "no health check"
        : node.healthy
        ? green("healthy")
        : red(`NOT healthy (${node.health})`);
      this.write(
        `  ${bold(node.node)}: ${node.status}; release ${node.release ?? "unknown"}; ${health}; ` +
          `lock ${node.lock}`,
      );
      if (node.undo) this.write(`    ${node.undo}`);
      if (node.problem) this.write(`    ${red(node.problem)}`);
      this.write(`    next: ${node.next}`);
    }
    for (const problem of locks.values()) this.write(`  ${red(problem)}`);
  }

  rolloutFinished(record: RunRecord): void {
    this.#headline(record, "success on every node", record.strategy!);
    for (const node of record.nodes ?? []) {
      const mark = node.status === "success" || node.status === "skipped" ||
          node.status === "aborted"
        ? MARKS[node.status]
        : MARKS.failure;
      const path = node.failure_path
        ? `; failure path ${node.failure_path.runbook}: ${node.failure_path.status}`
        : "";
      this.write(
        `  ${mark} ${node.target.padEnd(16)} ${node.status}${
          node.reason ? `: ${node.reason}` : ""
        }${path}`,
      );
    }
    if (record.reason) this.write(`  ${record.reason}`);
    this.write(dim(`  run record: ${record.id}`));
  }

  runStarted(record: RunRecord, failurePath: boolean): void {
    const params = Object.entries(record.params).map(([k, v]) => `${k}=${v}`).join(" ");
    this.write(
      bold(`${failurePath ? "↩ Failure path: " : "▶ "}${record.title}`) +
        dim(`  run ${record.id}${params ? `  ${params}` : ""}  on ${record.target}`),
    );
  }

  phase(title: string): void {
    this.write(bold(`\n${title}`));
  }

  stepStarted(step: ResolvedStep): void {
    this.#depth = step.number.split(".").length - 1;
    const label = step.uses ? `${step.name} ${dim(`(${step.uses})`)}` : step.name;
    this.write(`${this.#indent()}${dim(step.number)} ${label}`);
  }

  output(line: string, stream: "stdout" | "stderr"): void {
    const text = stream === "stderr" ? yellow(line) : line;
    this.write(`${this.#indent()}   ${dim("│")} ${text}`);
  }

  stepFinished(step: StepRecord): void {
    const seconds = (step.duration_ms / 1000).toFixed(1);
    const attempts = step.attempts > 1 ? `, ${step.attempts} attempts` : "";
    const why = step.message ? `  ${red(step.message)}` : "";
    const timing = gateTimingText(step);
    const what = (step.status === "acknowledged" ? "acknowledged (--yes)" : step.status) +
      (timing ? ` (${step.early ? yellow(timing) : timing})` : "");
    this.write(
      `${this.#indent()}   ${MARKS[step.status]} ${what} ${dim(`${seconds}s${attempts}`)}${why}`,
    );
  }

  runFinished(record: RunRecord): void {
    const counts = new Map<string, number>();
    for (const step of record.steps) counts.set(step.status, (counts.get(step.status) ?? 0) + 1);
    const tally = [...counts].map(([status, n]) => `${n} ${status}`).join(", ");
    this.#headline(record, "success", tally);
    if (record.reason) this.write(`  ${record.reason}`);
    if (record.changes_made?.length) {
      this.write(`  changes made: ${record.changes_made.join("; ")}`);
    }
    if (record.failure_path) {
      this.write(
        `  failure path ${record.failure_path.runbook}: ${record.failure_path.status}` +
          (record.failure_path.reason ? ` (${record.failure_path.reason})` : ""),
      );
    }
    this.write(dim(`  run record: ${record.id}`));
  }

  /** The line that ends a run: its outcome, its time, and `detail`. */
  #headline(record: RunRecord, success: string, detail: string): void {
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1);
    const headline = record.status === "success"
      ? green(`✔ ${record.title}: ${success}`)
      : record.status === "aborted"
      ? yellow(`■ ${record.title}: aborted`)
      : red(`✘ ${record.title}: ${record.status}`);
    this.write(`\n${bold(headline)} ${dim(`(${seconds}s; ${detail})`)}`);
  }

  #indent(): string {
    return "  " + "  ".repeat(this.#depth);
  }
}
