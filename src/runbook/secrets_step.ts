/**
 * `secrets:` steps: the encryption key in runbooks (SOP 2, SOP 7).
 *
 * - `setup` on `local` creates the operator's key when there is none (a key that exists is
 *   kept: the step is idempotent); on a node it installs the operator's key in the node's
 *   state directory (0600, directory 0700) and refuses to replace a different key there.
 * - `key --scp` copies the operator's key to the node, replacing what is there (after a
 *   rotation), with the same modes — the original tool left them at the umask's mercy.
 * - `rotate` (on `local`) re-encrypts every environment branch of the config repository
 *   with a new key, all or nothing (see `secrets/rotate.ts`).
 *
 * The key travels on the connection's standard input, never on a command line; its value and
 * every value decrypted is added to the run's masker before anything could print it.
 *
 * @example
 * ```yaml
 * - name: Distribute the new key to every node
 *   on: app
 *   secrets: key --scp
 * ```
 * @module
 */
import { z } from "../source/zod.ts";
import { configRepoSettings } from "../config/mod.ts";
import { hasKey, keyPath, readKeyHex, storeKey } from "../secrets/key_file.ts";
import { stateDirOn } from "../targets/files.ts";
import type { Target } from "../targets/target.ts";
import { secretsEntry } from "../audit/actions.ts";
import {
  auditedOperation,
  operandWords,
  type Operation,
  type OperationContext,
  type OperationDone,
  type OperationRunner,
} from "./operation.ts";

const USAGE = "expected `setup`, `key --scp` or `rotate`";

/** `secrets: setup | key --scp | rotate`. */
export const secretsOperation: Operation = {
  operand: z.string().describe(
    "The encryption key: `setup` (create it on local; install the operator's key on a node), " +
      "`key --scp` (copy it to the step's node, 0600/0700), `rotate` (re-encrypt every " +
      "environment branch with a new key, all or nothing).",
  ),

  problem(operand) {
    const [verb, args] = operandWords(operand);
    if (verb === "setup" || verb === "rotate") return args.length ? USAGE : undefined;
    if (verb === "key") {
      return args.length === 1 && args[0] === "--scp"
        ? undefined
        : "`secrets: key` in a runbook only copies the key to the step's node (`key --scp`): " +
          "printing it would put it in the run record";
    }
    return USAGE;
  },
  runner: secretsRunner,
};

function secretsRunner(context: OperationContext): OperationRunner {
  return (operand, target) => {
    const [verb] = operandWords(operand);
    // The same operation names as the CLI's: `secrets:key --scp NODE` is `key-scp`.
    const subject = {
      operation: verb === "key" ? "key-scp" : verb,
      target: target.name,
      run: context.run,
    };
    return auditedOperation(
      context,
      (ending) => secretsEntry(subject, ending),
      () => perform(verb, target, context),
    );
  };
}

async function perform(
  verb: string,
  target: Target,
  context: OperationContext,
): Promise<OperationDone> {
  const local = target.name === "local";
  if (verb === "rotate") {
    if (!local) throw new Error("`secrets: rotate` runs on local (the operator's checkout)");
    const repo = configRepoSettings(context.config);
    if (!repo) throw new Error("`secrets: rotate` needs `config_repo:` in protocol.yaml");
    // Rotation (git, every environment branch) loads when a rotation runs, not with every run.
    const { rotateKey } = await import("../secrets/rotate.ts");
    const outcome = await rotateKey(repo, context.stateDir, {
      masker: context.masker,
      onProgress: (line) => context.onOutput?.(line, "stdout"),
    });
    return { summary: outcome.summary };
  }
  if (local) {
    if (verb === "key") throw new Error("`secrets: key --scp` copies the key to a node: set `on:`");
    const file = keyPath(context.stateDir);
    const summary = await hasKey(context.stateDir)
      ? `the encryption key is already at ${file}; kept`
      : `created the encryption key at ${
        (await storeKey(context.stateDir)).path
      } (mode 0600, directory 0700)`;
    context.masker?.add(await readKeyHex(context.stateDir));
    return { summary, fields: { file } };
  }
  return { summary: await installOnNode(target, context, verb === "key") };
}

/** Copies the operator's key into the node's state directory. */
async function installOnNode(target: Target, context: OperationContext, replace: boolean) {
  const hex = await readKeyHex(context.stateDir);
  context.masker?.add(hex);
  const dir = await stateDirOn(target, nodeStateDir(context, target), context.stateDir);
  const { installKey } = await import("../secrets/distribute.ts");
  return await installKey(target, hex, dir, { replace, signal: context.signal });
}

function nodeStateDir(context: OperationContext, target: Target): string | undefined {
  return context.config.nodes[target.name]?.state_dir;
}
