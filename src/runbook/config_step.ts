/**
 * `config:` steps: the per-environment config repository in runbooks (SOP 5, SOP 7).
 *
 * `switch ENV [--create]`, `init [--decrypt|--encrypt]` and `save` work on the operator's
 * checkout, so they run on `local`. `refresh` runs where the app is: on `local` it decrypts
 * into `config_repo.env_dir`; on a node the operator's checkout is pulled and decrypted in
 * memory, and each file travels over the node's connection into its env directory (mode
 * 0600, written atomically) — the node needs neither git access nor the tool, and plaintext
 * never touches a repository or a command line. A node's env directory is `<its app.dir>/shared`
 * when it has its own `app.dir`, else `config_repo.env_dir`.
 *
 * Every value decrypted joins the run's masker before anything could print it; each step
 * writes one `config` audit entry (operation, environment, files, target, status).
 *
 * @example
 * ```yaml
 * - name: Refresh the config on each node
 *   on: app
 *   config: refresh
 * ```
 * @module
 */
import { z } from "../source/zod.ts";
import { join } from "node:path";
import { configRepoSettings } from "../config/mod.ts";
import type { ConfigOutcome, ConfigRepo } from "../secrets/mod.ts";
import { putFile } from "../targets/files.ts";
import type { Target } from "../targets/target.ts";
import { configEntry } from "../audit/actions.ts";
import {
  auditedOperation,
  operandWords,
  type Operation,
  type OperationContext,
  type OperationRunner,
} from "./operation.ts";

const FLAGS: Record<string, string[]> = {
  switch: ["--create"],
  init: ["--decrypt", "--encrypt"],
  save: [],
  refresh: [],
};

/** `config: switch ENV | init [--decrypt|--encrypt] | save | refresh`. */
export const configOperation: Operation = {
  operand: z.string().describe(
    "The config repository: `switch ENV`, `init [--decrypt]`, `save` (on local), `refresh` " +
      "(decrypt the current environment into the app's env directory, on local or a node).",
  ),

  problem(operand) {
    const [verb, args] = operandWords(operand);
    if (!(verb in FLAGS)) {
      return "expected `switch ENV`, `init [--decrypt|--encrypt]`, `save` or `refresh`";
    }
    const words = args.filter((arg) => !FLAGS[verb].includes(arg));
    if (verb === "switch" && words.length !== 1) return "`config: switch` names one environment";
    if (verb !== "switch" && words.length) {
      return `\`config: ${verb}\` takes ${
        FLAGS[verb].length ? FLAGS[verb].join(" or ") : "no arguments"
      }, not ${words.join(" ")}`;
    }
    return undefined;
  },
  runner: configRunner,
};

function configRunner(context: OperationContext): OperationRunner {
  return (operand, target) => {
    const [verb, args] = operandWords(operand);
    const subject = {
      operation: verb,
      repo: context.config.app.dir,
      target: target.name,
      run: context.run,
    };
    return auditedOperation(context, (ending) => configEntry(subject, ending), async () => {
      const repo = configRepoSettings(context.config);
      if (!repo) throw new Error(`\`config: ${verb}\` needs \`config_repo:\` in protocol.yaml`);
      const outcome = await perform(verb, args, repo, target, context);
      return {
        summary: outcome.summary,
        // Flat for Wazuh: one comma-separated string, left out when no file was touched.
        fields: outcome.files.length
          ? { env: outcome.env, files: outcome.files.join(",") }
          : { env: outcome.env },
      };
    });
  };
}

async function perform(
  verb: string,
  args: string[],
  repo: ConfigRepo,
  target: Target,
  context: OperationContext,
): Promise<ConfigOutcome> {
  // The config repository's operations (git, ciphers) load when a `config:` step runs.
  const { configInit, configRefresh, configSave, configSwitch, readKey } = await import(
    "../secrets/mod.ts"
  );
  const local = target.name === "local";
  if (verb === "refresh") {
    const key = await readKey(context.stateDir);
    if (local) return await configRefresh(repo, key, { masker: context.masker });
    return await refreshNode(repo, key, target, context);
  }
  if (!local) {
    throw new Error(`\`config: ${verb}\` works on the operator's checkout: set \`on: local\``);
  }
  switch (verb) {
    case "switch":
      return await configSwitch(repo, args.find((arg) => !arg.startsWith("--"))!, {
        create: args.includes("--create"),
      });
    case "init":
      return await configInit(repo, await readKey(context.stateDir), {
        decrypt: args.includes("--decrypt"),
        masker: context.masker,
      });
    default:
      return await configSave(repo, { message: `config: saved by run ${context.run}` });
  }
}

async function refreshNode(
  repo: ConfigRepo,
  key: Uint8Array,
  target: Target,
  context: OperationContext,
): Promise<ConfigOutcome> {
  const { decryptForRefresh } = await import("../secrets/mod.ts");
  const { env, plain } = await decryptForRefresh(repo, key, { masker: context.masker });
  const nodeDir = context.config.nodes[target.name]?.app?.dir;
  const envDir = nodeDir ? join(nodeDir, "shared") : repo.env_dir;
  for (const [name, bytes] of plain) {
    await putFile(target, join(envDir, name), bytes, {
      mode: 0o600,
      dirMode: 0o700,
      signal: context.signal,
    });
  }
  const files = [...plain.keys()];
  return {
    env,
    files,
    summary: files.length
      ? `${target.name}: wrote ${files.join(", ")} of ${env} into ${envDir} (mode 0600)`
      : `${target.name}: no encrypted files on ${env}`,
  };
}
