/**
 * `identity:keygen --name alice@example.com`: creates the person's Ed25519 key in their home
 * (never the state directory) and prints the public key to add to `approvers.yaml`.
 *
 * @example
 * ```sh
 * deno task identity:keygen --name alice@example.com
 * ```
 * @module
 */
import type { Command } from "commander";
import { createIdentity, identityDir, personKeyId } from "../approval/mod.ts";
import { resolveStateDir } from "../state/mod.ts";

/** Adds `identity:keygen` to `program`. */
export function registerIdentityCommand(program: Command): void {
  program.command("identity:keygen")
    .description("create your personal signing key (for change requests and approvals)")
    .requiredOption("--name <name>", "who you are, as approvers.yaml lists you (your e-mail)")
    .option("--force", "replace an existing identity (its old key stops being accepted)")
    .option("--state-dir <dir>", "the state directory the key must stay out of")
    .option("--json", "print name, public key and file as JSON")
    .addHelpText(
      "after",
      "\nThe key goes to $PROTOCOL_IDENTITY_DIR, else $XDG_CONFIG_HOME/protocol/identity, else\n" +
        "~/.config/protocol/identity (identity.json, mode 0600). Send the printed public key\n" +
        "to whoever reviews changes to approvers.yaml.",
    )
    .action(
      async (options: { name: string; force?: boolean; stateDir?: string; json?: boolean }) => {
        const dir = identityDir(Deno.env.toObject());
        const made = await createIdentity(dir, options.name, resolveStateDir(options), options);
        if (options.json) {
          console.log(
            JSON.stringify({
              name: made.name,
              public_key: made.publicKey,
              key_id: personKeyId(made.publicKey),
              file: made.path,
            }),
          );
          return;
        }
        console.error(
          `wrote ${made.path} (mode 0600), key id ${personKeyId(made.publicKey)} (evidence ` +
            `names your approvals by it); add this entry to approvers.yaml:`,
        );
        console.log(
          `  - name: ${made.name}\n    public_key: ${made.publicKey}\n    roles: [deployer]`,
        );
      },
    );
}
