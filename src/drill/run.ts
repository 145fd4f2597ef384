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
 * // Deno.exitCode = report.passed ? 0 : 1;
 * ```
 * @module
 */
import { drillEntry } from "../audit/actions.ts";
import { type Journal } from "../journal.ts";
import { join } from "node:path";
import type { DrillObserver, RunbookEngine, WatchedStep } from "./engine.ts";
import {
  cleanFault,
  type FaultSite,
  type InjectedFault,
  injectFault,
  leftover,
  SANDBOX_ONLY,
} from "./faults.ts";
import type { Config } from "../config/mod.ts";
import { type InventoryNode, nodeApp } from "../targets/inventory.ts";
import type { Target } from "../targets/target.ts";
import { checkHealth } from "../release/status.ts";
import { buildDrillReport, type DrillReport, type ObservedStep } from "./report.ts";
import { createSandbox, drillJournal } from "./sandbox.ts";
import type { Drill } from "./schema.ts";

/**
 * A staging node to drill on instead of the sandbox: faults are planted there over SSH and
 * SOP 8 runs there. The caller has checked `staging: true` (see `stagingRefusal`).
 */
export interface StagingSite {
  node: InventoryNode;
  target: Target;
  /** The project configuration (the node's own app settings apply). */
  config: Config;
}

/** What a drill run needs. */
export interface DrillOptions {
  /** The real state directory: the drill's report and its `drill` entries go there. */
  stateDir: string;
  /** The real audit log's journal; the drill's entries are marked before they reach it. */
  journal?: Journal;
  /** Progress lines for a human. */
  say?: (line: string) => void;
  signal?: AbortSignal;
  /** Drill on this staging node rather than in a sandbox on this machine. */
  staging?: StagingSite;
  /** Runs the drill's runbooks (the CLI passes `localEngine(root)`). */
  engine: RunbookEngine;
}

/**
 * Why a drill cannot run on `node`, if it cannot: a drill plants a webshell and a miner, so
 * only a node marked `staging: true` in protocol.yaml is ever a target, and faults that edit
 * this machine's audit log or need the demo app stay in the sandbox. Pure.
 *
 * @example
 * ```ts
 * stagingRefusal("web-1", { staging: false }, ["webshell"]); // "web-1 is not marked ..."
 * ```
 */
export function stagingRefusal(
  name: string,
  node: { staging?: boolean } | undefined,
  faults: string[],
  file = "protocol.yaml",
): string | undefined {
  if (!node) return `no node "${name}" in ${file} (nodes.${name})`;
  if (node.staging !== true) {
    return `${name} is not marked \`staging: true\` in ${file} (nodes.${name}.staging): a drill ` +
      "plants a webshell and a miner, so it only runs on a staging node or in the local sandbox";
  }
  const local = faults.filter((type) => (SANDBOX_ONLY as readonly string[]).includes(type));
  if (local.length) {
    return `${local.join(", ")} cannot be injected on a node (they edit this machine's audit ` +
      "log or need the demo app): run this drill without --target";
  }
  return undefined;
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
  const declared = new Set(await options.engine.parameters(drill.runbook));
  const named: Record<string, string> = Object.fromEntries(
    Object.entries(drill.params).map(([k, v]) => [k, String(v)]),
  );
  if (declared.has("severity")) named.severity = drill.severity;
  const place = await drillPlace(drill, named, options, say);
  const faults: (InjectedFault & { leftover?: string })[] = [];
  const watcher = new StepWatcher(say);
  let record;
  let sandboxLeft: string | undefined;
  try {
    for (const [i, spec] of drill.faults.entries()) {
      const fault = await injectFault(place.site, spec, i);
      faults.push(fault);
      say(`  injected ${fault.type}: ${fault.what}`);
    }
    say(`running runbook ${drill.runbook} on ${place.label}`);
    // Unattended: every human item is acknowledged, and the run record says so.
    record = await options.engine.run(drill.runbook, named, {
      config: place.config,
      stateDir: place.stateDir,
      target: place.site.target,
      node: place.node,
      observer: watcher,
      journal: place.journal,
      signal: options.signal,
    });
  } finally {
    for (const fault of faults.reverse()) {
      try {
        await cleanFault(place.site, fault);
        fault.leftover = await leftover(place.site, fault);
      } catch (error) {
        fault.leftover = `cleaning failed: ${(error as Error).message}`;
      }
    }
    faults.reverse();
    sandboxLeft = await place.destroy();
    if (sandboxLeft) say(`  ${sandboxLeft}`);
  }
  const report = buildDrillReport({
    drill,
    faults,
    steps: watcher.steps,
    run: record,
    started,
    finished: new Date().toISOString(),
    sandbox: place.label,
    sandboxLeft,
  });
  await saveDrillReport(options.stateDir, report);
  await journal?.record(drillEntry({ ...subject, run: record.id }, {
    faults: report.faults.length,
    detected: report.detected,
    missed: report.missed,
    cleaned: report.cleaned,
    target_met: report.target_met,
    passed: report.passed,
    reason: report.passed ? undefined : report.failures.join("; "),
    status: report.passed ? "success" : "failure",
  }));
  return report;
}

/** Where a drill runs: the sandbox it builds, or the staging node it was given. */
interface DrillPlace {
  site: FaultSite;
  config: Config;
  stateDir: string;
  node?: InventoryNode;
  journal?: Journal;
  /** The sandbox directory, or `node:app.dir`. */
  label: string;
  /** Removes what the drill built; says what could not be removed. */
  destroy(): Promise<string | undefined>;
}

async function drillPlace(
  drill: Drill,
  named: Record<string, string>,
  options: DrillOptions,
  say: (line: string) => void,
): Promise<DrillPlace> {
  const staging = options.staging;
  if (staging) {
    const app = nodeApp(staging.config, staging.node);
    const stateDir = staging.node.ssh?.state_dir ?? "~/.protocol";
    say(`DRILL ${drill.id}: on staging node ${staging.node.name} (${app.dir}) over SSH`);
    return {
      site: {
        target: staging.target,
        release: `${app.dir}/current`,
        appDir: app.dir,
        keyFile: `${stateDir.replace(/\/+$/, "")}/key`,
        healthy: async () => (await checkHealth(app.health)).status === 200,
      },
      config: staging.config,
      stateDir: options.stateDir,
      node: staging.node,
      journal: options.journal && drillJournal(options.journal, drill.id),
      label: `${staging.node.name}:${app.dir}`,
      destroy: () => Promise.resolve(undefined),
    };
  }
  say(`DRILL ${drill.id}: building a sandbox (demo app ${drill.release} on local)`);
  // A node has the release it would roll back to; the sandbox too.
  const previous = named.rollback_to && named.rollback_to !== drill.release
    ? [named.rollback_to]
    : [];
  const sandbox = await createSandbox(options.engine, [...previous, drill.release], drill.id);
  return {
    site: sandbox.site,
    config: sandbox.config,
    stateDir: sandbox.stateDir,
    journal: sandbox.journal,
    label: sandbox.dir,
    async destroy() {
      const left = await sandbox.destroy();
      say(left ? `  ${left}` : "  sandbox removed");
      return left;
    },
  };
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
