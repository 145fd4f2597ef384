/**
 * The target commands: `targets` lists the nodes of the configuration (and with `--check`
 * connects to each and reports its user, OS and deploy lock); `unlock` removes a stale deploy
 * lock with a reason that goes to the audit log.
 *
 * @example
 * ```sh
 * deno task targets --check
 * deno task unlock web-2 --reason "run 20261123T101500Z-1a2b3c died with its laptop"
 * ```
 * @module
 */
import { auditJournal, requireAuditKey } from "../audit/journal.ts";
import { UsageError } from "../errors.ts";
import { Command, Option } from "commander";
import { type Config, requireConfig } from "../config/mod.ts";
import { type InventoryNode, LOCAL_NODE, sshEndpoint } from "../targets/inventory.ts";
import { type LockInfo, readLock } from "../targets/lock.ts";
import { forceUnlockRecorded } from "../runbook/fleet.ts";
import { nodeLockPath } from "../targets/lock.ts";
import { TargetPool } from "../targets/pool.ts";
import { ensureStateDir, resolveStateDir } from "../state/mod.ts";

/** What `targets --check` found on one node. */
export interface NodeCheck {
  name: string;
  address: string;
  groups: string[];
  ok?: boolean;
  user?: string;
  os?: string;
  lock?: LockInfo | null;
  ms?: number;
  error?: string;
}

/** A remote fact script: user, kernel, distribution. Pure text, run on any target. */
export const FACTS_SCRIPT = [
  "id -un",
  "uname -sr",
  '( . /etc/os-release 2>/dev/null && echo "$PRETTY_NAME" ) || echo unknown',
].join("\n");

function address(node: InventoryNode, config: Config): string {
  if (!node.ssh) return "this machine";
  const { user, host, port } = sshEndpoint(node.name, node.ssh, config.ssh);
  return `${user ? `${user}@` : ""}${host}:${port}`;
}

async function checkNode(
  pool: TargetPool,
  node: InventoryNode,
  config: Config,
): Promise<NodeCheck> {
  const row: NodeCheck = { name: node.name, address: address(node, config), groups: node.groups };
  const started = performance.now();
  try {
    const target = await pool.connect(node);
    const result = await target.exec({ script: FACTS_SCRIPT, timeoutMs: 30_000 });
    if (result.code !== 0) throw new Error(result.stderr.trim() || `exit ${result.code}`);
    const [user, kernel, os] = result.stdout.trim().split("\n");
    row.ms = Math.round(performance.now() - started);
    row.lock = await readLock(target, nodeLockPath(config, node)) ?? null;
    return { ...row, ok: true, user, os: `${os} (${kernel})` };
  } catch (error) {
    return { ...row, ok: false, error: (error as Error).message };
  }
}

/** Adds `targets` and `unlock`. */
export function registerTargetCommands(program: Command): void {
  program.command("targets")
    .description("list the nodes of the configuration; --check connects to each")
    .option("--check", "connect to every node: remote user, OS, deploy lock; exit 1 if any fails")
    .option("--limit <nodes>", "only these nodes or groups (comma-separated)")
    .option("--json", "print as JSON")
    .option("--config <file>", "project configuration (default: ./protocol.yaml)")
    .addOption(new Option("--accept-new-host-keys", "record host keys of nodes seen first"))
    .action(async (options: {
      check?: boolean;
      limit?: string;
      json?: boolean;
      config?: string;
      acceptNewHostKeys?: boolean;
    }) => {
      const config = await requireConfig(options);
      const pool = new TargetPool(config, { acceptNewHostKeys: options.acceptNewHostKeys });
      const all = [LOCAL_NODE, ...pool.inventory.nodes];
      const nodes = options.limit ? pool.inventory.select(options.limit) : all;
      try {
        const rows: NodeCheck[] = options.check
          ? await Promise.all(nodes.map((node) => checkNode(pool, node, config)))
          : nodes.map((node) => ({
            name: node.name,
            address: address(node, config),
            groups: node.groups,
          }));
        if (options.json) console.log(JSON.stringify(rows, null, 2));
        else printRows(rows, options.check ?? false);
        if (rows.some((row) => row.ok === false)) Deno.exitCode = 1;
      } finally {
        await pool.close();
      }
    });

  program.command("unlock <nodes>")
    .description("remove the deploy lock of nodes whose run is gone (audited with the reason)")
    .requiredOption("--reason <text>", "why the lock is stale (goes to the audit log)")
    .option("--config <file>", "project configuration (default: ./protocol.yaml)")
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .action(
      async (selector: string, options: { reason: string; config?: string; stateDir?: string }) => {
        if (!options.reason.trim()) throw new UsageError("--reason must say why the lock is stale");
        const config = await requireConfig(options);
        const stateDir = await ensureStateDir(resolveStateDir(options));
        await requireAuditKey(stateDir);
        const journal = auditJournal(stateDir);
        const pool = new TargetPool(config);
        try {
          for (const node of pool.inventory.select(selector)) {
            const path = nodeLockPath(config, node);
            const target = await pool.connect(node);
            const holder = await forceUnlockRecorded(target, path, options.reason, journal);
            console.log(
              holder
                ? `${node.name}: removed the lock of run ${holder.run}`
                : `${node.name}: no lock`,
            );
          }
        } finally {
          await pool.close();
        }
      },
    );
}

function printRows(rows: NodeCheck[], checked: boolean): void {
  for (const row of rows) {
    const groups = row.groups.length ? `  [${row.groups.join(", ")}]` : "";
    if (!checked) {
      console.log(`${row.name.padEnd(16)} ${row.address}${groups}`);
      continue;
    }
    if (!row.ok) {
      console.log(`✘ ${row.name.padEnd(16)} ${row.address}  ${row.error}`);
      continue;
    }
    const lock = row.lock
      ? `locked by run ${row.lock.run} (${row.lock.operator}) since ${row.lock.since}`
      : "unlocked";
    console.log(
      `✔ ${
        row.name.padEnd(16)
      } ${row.address}  as ${row.user}  ${row.os}  ${lock}  ${row.ms} ms${groups}`,
    );
  }
}
