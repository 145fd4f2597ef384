/**
 * The SOP 4 commands: `shadow:init`, `shadow:build VERSION`, `shadow:status`, `shadow:start`
 * and `shadow:rollback`, on the app's nodes (`app.targets`; `--limit` narrows them), one node
 * at a time. A change that fails on a node stops the command there: the nodes after it are not
 * touched (and are reported as skipped), as a rolling deploy would. Every node's operation is
 * a signed `shadow` entry in the audit log.
 *
 * Exit codes: 0 every node succeeded; 1 one failed (or could not be reached); 2 bad input.
 *
 * @example
 * ```sh
 * deno task shadow:init
 * deno task shadow:build v1.2.0
 * deno task shadow:status --json
 * deno task shadow:start --limit web-1
 * deno task shadow:rollback
 * ```
 * @module
 */
import { nodeApp } from "../targets/inventory.ts";
import { auditJournal, requireAuditKey } from "../audit/journal.ts";
import type { Journal } from "../journal.ts";
import { failed, shadowEntry, skipped } from "../audit/actions.ts";
import { UsageError } from "../errors.ts";
import { Command, Option } from "commander";
import { ConfigError, requireConfig } from "../config/mod.ts";
import { newRunId } from "../state/runs.ts";
import {
  changesNode,
  operationLabel,
  parseShadowOperand,
  runShadow,
  SHADOW_HELP,
  SHADOW_KINDS,
  ShadowNotConfiguredError,
  type ShadowOperation,
  type ShadowResult,
  type ShadowSettings,
  shadowSettings,
  VERSION_PATTERN,
} from "../shadow/mod.ts";
import { ensureStateDir, hostName, operator, resolveStateDir } from "../state/mod.ts";
import type { InventoryNode } from "../targets/inventory.ts";
import { TargetPool } from "../targets/pool.ts";

interface ShadowOptions {
  limit?: string;
  json?: boolean;
  config?: string;
  stateDir?: string;
  acceptNewHostKeys?: boolean;
}

/** What a node that was never started reports. */
type Skipped = Pick<ShadowResult, "node" | "label" | "message"> & { status: "skipped" };

/** Adds the five shadow commands. */
export function registerShadowCommands(program: Command): void {
  for (const kind of SHADOW_KINDS) {
    const command = program.command(`shadow:${kind}${kind === "build" ? " <version>" : ""}`)
      .description(SHADOW_HELP[kind])
      .option("--limit <nodes>", "only these nodes or groups (comma-separated)")
      .option("--json", "print the reports of the nodes as JSON")
      .option("--config <file>", "project configuration (default: ./protocol.yaml)")
      .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
      .addOption(new Option("--accept-new-host-keys", "record host keys of nodes seen first"));
    command.action(async (...args: unknown[]) => {
      const version = kind === "build" ? String(args[0]) : undefined;
      const options = (kind === "build" ? args[1] : args[0]) as ShadowOptions;
      if (version !== undefined && !VERSION_PATTERN.test(version)) {
        throw new UsageError(`"${version}" is not a release tag (letters, digits, . _ + -)`);
      }
      const operation = parseShadowOperand(version ? `${kind} ${version}` : kind);
      if (typeof operation === "string") throw new UsageError(operation);
      Deno.exitCode = await shadowCommand(operation, options);
    });
  }
}

/** Runs `operation` on every selected node; returns the exit code. */
async function shadowCommand(operation: ShadowOperation, options: ShadowOptions): Promise<number> {
  const config = await requireConfig(options);
  if (!config.shadow) throw new ConfigError(new ShadowNotConfiguredError(config.file).message);
  const stateDir = await ensureStateDir(resolveStateDir(options));
  requireAuditKey(stateDir);
  const journal = auditJournal(stateDir);
  const pool = new TargetPool(config, { acceptNewHostKeys: options.acceptNewHostKeys });
  const nodes = pool.inventory.select(options.limit ?? "app");
  const run = newRunId();
  const label = operationLabel(operation);
  const results: (ShadowResult | Skipped)[] = [];
  let stoppedBy: string | undefined;
  try {
    for (const node of nodes) {
      if (stoppedBy) {
        const message = `not started: ${label} failed on ${stoppedBy}`;
        results.push({ node: node.name, label, status: "skipped", message });
        await journal.record(
          shadowEntry(
            { operation: operation.kind, target: node.name, run: `${run}@${node.name}` },
            skipped(message),
          ),
        );
        continue;
      }
      const say = options.json ? undefined : (line: string) => console.log(`  ${line}`);
      if (!options.json) console.log(`${node.name}: ${label}`);
      const result = await onNode(operation, {
        pool,
        node,
        settings: shadowSettings(config.shadow, nodeApp(config, node), config.file),
        journal,
        run: `${run}@${node.name}`,
        say,
      });
      results.push(result);
      if (!options.json) {
        const mark = result.status === "success" ? "✔" : "✘";
        console.log(`${mark} ${node.name}: ${result.message} (${result.ms} ms)`);
      }
      if (result.status === "failure" && changesNode(operation)) stoppedBy = node.name;
    }
  } finally {
    await pool.close();
  }
  if (options.json) console.log(JSON.stringify(results, null, 2));
  return results.some((result) => result.status !== "success") ? 1 : 0;
}

/** One node: connect (an unreachable node is a failure, audited), then the operation. */
async function onNode(
  operation: ShadowOperation,
  o: {
    pool: TargetPool;
    node: InventoryNode;
    settings: ShadowSettings;
    journal: Journal;
    run: string;
    say?: (line: string) => void;
  },
): Promise<ShadowResult> {
  let target;
  try {
    target = await o.pool.connect(o.node);
  } catch (error) {
    const message = (error as Error).message;
    await o.journal.record(
      shadowEntry({ operation: operation.kind, target: o.node.name, run: o.run }, failed(error)),
    );
    return {
      node: o.node.name,
      operation: operation.kind,
      label: operationLabel(operation),
      status: "failure",
      message,
      ms: 0,
    };
  }
  return await runShadow(operation, {
    target,
    settings: o.settings,
    journal: o.journal,
    run: o.run,
    operator: operator(),
    host: hostName(),
    say: o.say,
  });
}
