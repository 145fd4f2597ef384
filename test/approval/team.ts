/**
 * The two-person team of the approval tests: alice approves, bob deploys, each with a personal
 * key made by the real `identity:keygen`, listed in an approvers file in the temp world.
 *
 * @example
 * ```ts
 * const world = await tempWorld();
 * const { as, keys } = await team(world);
 * await as("bob", "request", "fix", "--root", root, "--config", world.config);
 * ```
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, type CliResult, type TempWorld } from "../fixtures/helpers.ts";

/** A team set up in a temp world. */
export interface Team {
  /** The approvers file listing alice (approver) and bob (deployer). */
  approversFile: string;
  /** Each person's public key (`ed25519:…`), by their short name. */
  keys: Record<string, string>;
  /** The environment the CLI sees when `who` types a command. */
  env(who: string): Record<string, string>;
  /** Runs the CLI as `who` against the world's state directory. */
  as(who: string, ...args: string[]): Promise<CliResult>;
}

/** Makes alice's and bob's identities and the approvers file listing them. */
export async function team(world: TempWorld): Promise<Team> {
  const approversFile = join(world.dir, "approvers.yaml");
  const env = (who: string) => ({
    PROTOCOL_IDENTITY_DIR: join(world.dir, "home", who),
    PROTOCOL_APPROVERS: approversFile,
    MARKER_DIR: world.markers,
  });
  const as = (who: string, ...args: string[]) =>
    cli([...args, "--state-dir", world.stateDir], { env: env(who) });
  const keys: Record<string, string> = {};
  for (const who of ["alice", "bob"]) {
    const made = await as(who, "identity:keygen", "--name", `${who}@example.com`, "--json");
    assert.equal(made.code, 0, made.stderr);
    keys[who] = JSON.parse(made.stdout).public_key;
  }
  await Deno.writeTextFile(
    approversFile,
    `approvers:\n` +
      `  - name: alice@example.com\n    public_key: ${keys.alice}\n    roles: [approver]\n` +
      `  - name: bob@example.com\n    public_key: ${keys.bob}\n    roles: [deployer]\n`,
  );
  return { approversFile, keys, env, as };
}
