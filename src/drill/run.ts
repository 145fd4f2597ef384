/**
 * Running a drill — the one place that executes: build the sandbox, inject every fault, run
 * the runbook in the sandbox (its entries marked `drill: true`), watch every step, remove every
 * fault, prove nothing is left, destroy the sandbox, then judge (report.ts) and record the
 * drill in the real audit log as `action: drill, drill: true`.
 *
 * @example
 * ```ts
 * import { loadDrill, runDrill } from "./mod.ts";
 * // const report = await runDrill(root, await loadDrill(root, "compromised-node"), { stateDir });
 * // Deno.exitCode = report.missed || !report.cleaned ? 1 : 0;
 * ```
 * @module
 */
import { drillEntry } from "../audit/actions.ts";
import { type Journal } from "../journal.ts";
import { join } from "node:path";
import type { DrillObserver, RunbookEngine, WatchedStep } from "./engine.ts";
import { cleanFault, type InjectedFault, injectFault, leftover } from "./faults.ts";
import { buildDrillReport, type DrillReport, type ObservedStep } from "./report.ts";
import { createSandbox } from "./sandbox.ts";
import type { Drill } from "./schema.ts";

/** What a drill run needs. */
export interface DrillOptions {
  /** The real state directory: the drill's report and its `drill` entries go there. */
  stateDir: string;
  /** The real audit log's journal; the drill's entries are marked before they reach it. */
  journal?: Journal;
  /** Progress lines for a human. */
  say?: (line: string) => void;
  signal?: AbortSignal;
  /** Runs the drill's runbooks (the CLI passes `localEngine(root)`). */
  engine: RunbookEngine;
}

/** Collects every step's output and times as the runbook runs. */
class StepWatcher implements DrillObserver {
  readonly steps: ObservedStep[] = [];
  #current?: ObservedStep;
  readonly #groups = new Map<string, string>();
  constructor(readonly say: (line: string) => void) {}
  stepStarted(step: WatchedStep): void {
    if (step.kind === "uses") {
      this.#groups.set(step.number, step.name);
      return;
    }
    const parent = step.number.split(".").slice(0, -1).join(".");
    this.#current = {
      number: step.number,
      name: step.name,
      group: this.#groups.get(parent),
      kind: step.kind,
      operand: step.operand,
      status: "running",
      started: new Date().toISOString(),
      finished: "",
      output: [],
    };
  }
  output(line: string): void {
    this.#current?.output.push(line);
  }
  stepFinished(record: { number: string; status: string; message?: string }): void {
    const step = this.#current?.number === record.number ? this.#current : undefined;
    if (!step) return;
    step.status = record.status;
    step.finished = new Date().toISOString();
    if (record.message) step.output.push(record.message);
    this.steps.push(step);
    this.#current = undefined;
    this.say(`  ${record.number.padEnd(5)} ${record.status.padEnd(12)} ${step.name}`);
  }
}

/** Runs `drill` and returns its report. Never leaves a fault or the sandbox behind silently. */
export async function runDrill(drill: Drill, options: DrillOptions): Promise<DrillReport> {
  const say = options.say ?? (() => {});
  const started = new Date().toISOString();
  const journal = options.journal;
  const subject = { drill_id: drill.id, runbook: drill.runbook, severity: drill.severity };
  await journal?.record(drillEntry(subject, { status: "initiated" }));
  say(`DRILL ${drill.id}: building a sandbox (demo app ${drill.release} on local)`);
  const declared = new Set(await options.engine.parameters(drill.runbook));
  const named: Record<string, string> = Object.fromEntries(
    Object.entries(drill.params).map(([k, v]) => [k, String(v)]),
  );
  if (declared.has("severity")) named.severity = drill.severity;
  if (declared.has("rollback_to") && !("rollback_to" in named)) {
    named.rollback_to = drill.release;
  }
  // A node has the release it would roll back to; the sandbox too.
  const previous = named.rollback_to && named.rollback_to !== drill.release
    ? [named.rollback_to]
    : [];
  const sandbox = await createSandbox(options.engine, [...previous, drill.release], drill.id);
  const faults: (InjectedFault & { leftover?: string })[] = [];
  const watcher = new StepWatcher(say);
  let record;
  let sandboxLeft: string | undefined;
  try {
    for (const [i, spec] of drill.faults.entries()) {
      const fault = await injectFault(sandbox.site, spec, i);
      faults.push(fault);
      say(`  injected ${fault.type}: ${fault.what}`);
    }
    say(`running runbook ${drill.runbook} in the sandbox`);
    // Unattended: every human item is acknowledged, and the run record says so.
    record = await options.engine.run(drill.runbook, named, {
      config: sandbox.config,
      stateDir: sandbox.site.stateDir,
      observer: watcher,
      journal: sandbox.journal,
      signal: options.signal,
    });
  } finally {
    for (const fault of faults.reverse()) {
      try {
        await cleanFault(sandbox.site, fault);
        fault.leftover = await leftover(sandbox.site, fault);
      } catch (error) {
        fault.leftover = `cleaning failed: ${(error as Error).message}`;
      }
    }
    faults.reverse();
    sandboxLeft = await sandbox.destroy();
    say(sandboxLeft ? `  ${sandboxLeft}` : `  sandbox removed`);
  }
  const report = buildDrillReport({
    drill,
    faults,
    steps: watcher.steps,
    run: record,
    started,
    finished: new Date().toISOString(),
    sandbox: sandbox.dir,
    sandboxLeft,
  });
  await saveDrillReport(options.stateDir, report);
  await journal?.record(drillEntry({ ...subject, run: record.id }, {
    faults: report.faults.length,
    detected: report.detected,
    missed: report.missed,
    cleaned: report.cleaned,
    target_met: report.target_met,
    status: report.missed === 0 && report.cleaned ? "success" : "failure",
  }));
  return report;
}

/** Saves the report as `<stateDir>/drills/<drill>-<started>.json` (mode 0600). */
export async function saveDrillReport(stateDir: string, report: DrillReport): Promise<string> {
  const dir = join(stateDir, "drills");
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(
    dir,
    `${report.drill}-${report.started.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}.json`,
  );
  await Deno.writeTextFile(path, JSON.stringify(report, null, 2) + "\n", { mode: 0o600 });
  return path;
}
