/**
 * The release commands: `release:create`, `release:list`, `deploy:push`, `deploy:rollback`,
 * `status`, `docker:logs` and `docker:compose:rebuild`.
 *
 * `deploy:push` and `deploy:rollback` are the `deploy` and `rollback` runbooks run by the
 * runbook engine (rolling, locked, audited); `deploy:rollback` first reads every node's record
 * and refuses, before anything changes, a version some node never had or a node with no
 * previous release. Exit codes: 0 ok, 1 failed or something is wrong, 2 bad usage.
 *
 * @example
 * ```sh
 * deno task release:create --minor
 * deno task deploy:push v1.2.0
 * deno task status --json
 * deno task deploy:rollback          # each node back to its recorded previous release
 * ```
 * @module
 */
import { auditJournal, requireAuditKey } from "../audit/journal.ts";
import { UsageError } from "../errors.ts";
import { releaseEntry, succeeded } from "../audit/actions.ts";
import { type Command, Option } from "commander";
import { requireConfig } from "../config/mod.ts";
import { appAction, appNodes, type FleetOptions, withPool } from "./app_action.ts";
import { ensureStateDir, resolveStateDir } from "../state/mod.ts";
import {
  type Bump,
  createRelease,
  formatReleases,
  formatStatus,
  gatherStatus,
  GitError,
  placeReleases,
  planRelease,
  readNodeState,
  readReleaseTags,
  ReleaseRefusedError,
  rollbackRefusal,
  updateMirror,
} from "../release/mod.ts";

type Main = (args: string[]) => Promise<number>;

/** The options `run` takes, forwarded as they were given. */
interface RunOptions extends FleetOptions {
  yes?: boolean;
  dryRun?: boolean;
  forceUnlock?: string;
  acceptNewHostKeys?: boolean;
  root?: string;
  request?: string;
  emergency?: string;
  approvers?: string;
}

function runOptions(command: Command): Command {
  return command
    .option("--config <file>", "project configuration (default: ./protocol.yaml)")
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option("--limit <nodes>", "only these nodes or groups of the app's nodes (comma-separated)")
    .option("-y, --yes", "acknowledge the human checklist items (recorded as acknowledged)")
    .option("--json", "print the run record as JSON on stdout (progress stays on stderr)")
    .option("--dry-run", "print the plan instead of running anything")
    .option("--force-unlock <reason>", "remove a node's stale deploy lock first (audited)")
    .option("--accept-new-host-keys", "record the host key of a node seen for the first time")
    .option("--request <id>", "the approved change request this run carries out (CR-...)")
    .option("--emergency <reason>", "run without prior approval where the runbook permits it")
    .option("--approvers <file>", "approvers file (default: approvers.yaml in the project)")
    .addOption(new Option("--root <dir>").hideHelp());
}

/** `run RUNBOOK ...args` with the options given to the alias. Pure. */
export function runArgv(runbook: string, args: string[], o: RunOptions): string[] {
  const argv = ["run", runbook, ...args];
  const pairs: [string, string | undefined][] = [
    ["--config", o.config],
    ["--state-dir", o.stateDir],
    ["--limit", o.limit],
    ["--force-unlock", o.forceUnlock],
    ["--root", o.root],
    ["--request", o.request],
    ["--emergency", o.emergency],
    ["--approvers", o.approvers],
  ];
  for (const [flag, value] of pairs) if (value !== undefined) argv.push(flag, value);
  if (o.yes) argv.push("--yes");
  if (o.json) argv.push("--json");
  if (o.dryRun) argv.push("--dry-run");
  if (o.acceptNewHostKeys) argv.push("--accept-new-host-keys");
  return argv;
}

/** Adds the release commands; `main` runs the runbook commands exactly as the CLI would. */
export function registerReleaseCommands(program: Command, main: Main): void {
  program.command("release:create")
    .description("tag the next semantic version on HEAD (annotated) and push it; audited")
    .addOption(
      new Option("--patch", "raise the patch number (default)").conflicts(["minor", "major"]),
    )
    .addOption(new Option("--minor", "raise the minor number").conflicts(["major"]))
    .option("--major", "raise the major number")
    .option("--dir <dir>", "clone of the app to release from (default: the current directory)")
    .option("--remote <name>", "remote to push the tag to", "origin")
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option("--dry-run", "say which tag would be created, create nothing")
    .option("--json", "print the release as JSON")
    .action(async (o: {
      patch?: boolean;
      minor?: boolean;
      major?: boolean;
      dir?: string;
      remote: string;
      stateDir?: string;
      dryRun?: boolean;
      json?: boolean;
    }) => {
      const bump: Bump = o.major ? "major" : o.minor ? "minor" : "patch";
      const dir = o.dir ?? Deno.env.get("INIT_CWD") ?? Deno.cwd();
      const stateDir = await ensureStateDir(resolveStateDir(o));
      if (!o.dryRun) await requireAuditKey(stateDir);
      const plan = await refusing(() => planRelease({ dir, remote: o.remote, bump }));
      if (!plan) return;
      const summary = {
        version: plan.next,
        from: plan.latest ?? null,
        commit: plan.commit,
        remote: plan.remoteUrl,
      };
      if (o.dryRun) {
        console.log(
          o.json
            ? JSON.stringify(summary, null, 2)
            : `would create ${plan.next} (after ${plan.latest ?? "no release"}) on ${
              plan.commit.slice(0, 12)
            } and push it to ${plan.remote}`,
        );
        return;
      }
      const journal = auditJournal(stateDir);
      const subject = {
        repo: plan.remoteUrl,
        from: plan.latest,
        to: plan.next,
        commit: plan.commit,
      };
      const created = await refusing(() => createRelease(plan).then(() => true));
      await journal.record(releaseEntry(subject, created ? succeeded() : { status: "failure" }));
      if (!created) return;
      console.log(
        o.json
          ? JSON.stringify(summary, null, 2)
          : `created ${plan.next} (after ${plan.latest ?? "no release"}) on ${
            plan.commit.slice(0, 12)
          } and pushed it to ${plan.remote}`,
      );
    });

  program.command("release:list")
    .description("list the release tags, newest first, with date and where each is deployed")
    .option("--config <file>", "project configuration (default: ./protocol.yaml)")
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option("--limit <nodes>", "only these of the app's nodes")
    .option("-n, --last <count>", "only the newest COUNT tags")
    .option("--json", "print as JSON")
    .action(async (o: FleetOptions & { last?: string }) => {
      const last = o.last === undefined ? undefined : Number(o.last);
      if (last !== undefined && !(Number.isInteger(last) && last > 0)) {
        throw new UsageError(`--last expects a positive number, got "${o.last}"`);
      }
      const config = await requireConfig(o);
      const stateDir = await ensureStateDir(resolveStateDir(o));
      const mirror = await updateMirror(stateDir, config.app.name, config.app.repo);
      const tags = (await readReleaseTags(mirror)).slice(0, last);
      const unreachable: string[] = [];
      const nodes = await withPool(
        config,
        {},
        (pool) =>
          Promise.all(
            appNodes(pool, o.limit).map(async (node) => {
              try {
                const state = await readNodeState(pool, node, config);
                return {
                  node: node.name,
                  active: state?.current,
                  previous: state?.previous,
                  history: state?.history,
                };
              } catch {
                unreachable.push(node.name);
                return { node: node.name };
              }
            }),
          ),
      );
      const rows = placeReleases(tags, nodes);
      console.log(
        o.json
          ? JSON.stringify({ releases: rows, unreachable }, null, 2)
          : formatReleases(rows, unreachable),
      );
      if (unreachable.length) Deno.exitCode = 1;
    });

  runOptions(program.command("deploy:push [version]"))
    .description("deploy a release tag to the app's nodes (the deploy runbook, SOP 1)")
    .option("--resume <run-id>", "continue a failed or aborted deploy: nodes that succeeded skip")
    .option("--no-rollback-on-abort", "on an interrupt, leave an unverified node as it is")
    .addHelpText(
      "after",
      "\nSame as `run deploy VERSION`: rolling, one node at a time, each under its lock;\na node that fails its health check is rolled back by itself and stops the rollout.",
    )
    .action(async (
      version: string | undefined,
      o: RunOptions & { resume?: string; rollbackOnAbort: boolean },
    ) => {
      if ((version === undefined) === (o.resume === undefined)) {
        throw new UsageError("give the VERSION to deploy, or --resume RUN_ID (not both)");
      }
      const argv = runArgv("deploy", version === undefined ? [] : [version], o);
      if (o.resume !== undefined) argv.splice(1, 1, "--resume", o.resume);
      if (!o.rollbackOnAbort) argv.push("--no-rollback-on-abort");
      Deno.exitCode = await main(argv);
    });

  runOptions(program.command("deploy:rollback [version]"))
    .description("roll back to each node's recorded previous release, or to VERSION (SOP 3)")
    .addHelpText(
      "after",
      "\nEvery node's record is read first: a VERSION some node never had, or a node with\nno previous release, is refused before anything changes.",
    )
    .action(async (version: string | undefined, o: RunOptions) => {
      if (!o.dryRun) {
        const config = await requireConfig(o);
        const refusals = await withPool(
          config,
          o,
          (pool) =>
            Promise.all(
              appNodes(pool, o.limit).map(async (node) => {
                try {
                  return rollbackRefusal(
                    node.name,
                    await readNodeState(pool, node, config),
                    version,
                  );
                } catch (error) {
                  return `${node.name}: cannot read its release record: ${
                    (error as Error).message
                  }`;
                }
              }),
            ),
        );
        const refused = refusals.filter((r): r is string => r !== undefined);
        if (refused.length) {
          for (const reason of refused) console.error(`error: ${reason}`);
          console.error("nothing was rolled back");
          Deno.exitCode = 1;
          return;
        }
      }
      Deno.exitCode = await main(runArgv("rollback", version ? [version] : [], o));
    });

  program.command("status")
    .description(
      "per node: active and previous release, deployed when and by whom, app running, health, lock",
    )
    .option("--config <file>", "project configuration (default: ./protocol.yaml)")
    .option("--limit <nodes>", "only these of the app's nodes")
    .option("--json", "print as JSON")
    .addHelpText(
      "after",
      "\nExits 1 when any node is unreachable, has no active release, is not running,\nfails its health check or holds a deploy lock.",
    )
    .action(async (o: FleetOptions) => {
      const config = await requireConfig(o);
      const rows = await withPool(
        config,
        {},
        (pool) => gatherStatus(pool, appNodes(pool, o.limit), config),
      );
      console.log(o.json ? JSON.stringify(rows, null, 2) : formatStatus(rows));
      if (rows.some((row) => !row.ok)) Deno.exitCode = 1;
    });

  program.command("docker:logs")
    .description("print the app's recent logs on each node (the driver's logs command)")
    .option("--config <file>", "project configuration (default: ./protocol.yaml)")
    .option("--limit <nodes>", "only these of the app's nodes")
    .option("--dry-run", "print each node's command instead of running it")
    .action((o: FleetOptions & { dryRun?: boolean }) => appAction("logs", o));

  program.command("docker:compose:rebuild")
    .description("rebuild and restart the app in place on each node, one at a time (SOP 5)")
    .option("--config <file>", "project configuration (default: ./protocol.yaml)")
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option("--limit <nodes>", "only these of the app's nodes")
    .option("--dry-run", "print each node's command instead of running it")
    .action((o: FleetOptions & { dryRun?: boolean }) => appAction("rebuild", o));
}

/** Runs `work`; a refusal or git failure is printed and exits 1 (returns undefined). */
async function refusing<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ReleaseRefusedError || error instanceof GitError)) throw error;
    console.error(`error: ${error.message}`);
    Deno.exitCode = 1;
    return undefined;
  }
}
