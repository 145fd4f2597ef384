/**
 * What the SSH fleet tests of this folder share: a node's health answer and active release as
 * the node itself has them, and the arguments of a deploy.
 *
 * @example
 * ```ts
 * // assert.deepEqual(await health(world.nodes[0]), { status: 200, version: "v1.2.0" });
 * ```
 * @module
 */
import { join } from "node:path";
import { ROOT, runArgs } from "../fixtures/helpers.ts";
import type { FleetNode, FleetWorld } from "../fixtures/fleet.ts";
import { startSshNodes } from "../fixtures/sshd.ts";
import { SshTarget } from "../../src/targets/ssh.ts";

/** The node's health endpoint: its status and the version it reports (0 when down). */
export async function health(node: FleetNode): Promise<{ status: number; version?: string }> {
  try {
    const response = await fetch(node.healthUrl);
    const body = await response.json() as { version?: string };
    return { status: response.status, version: body.version };
  } catch {
    return { status: 0 };
  }
}

/** The node's active release: where `current` points. */
export const active = (node: FleetNode) =>
  Deno.readLink(join(node.appDir, "current")).then(
    (link) => link.split("/").pop(),
    () => undefined,
  );

/** `run deploy VERSION --yes --json` against the fleet. */
export function deployArgs(world: FleetWorld, version: string, ...extra: string[]): string[] {
  return runArgs(ROOT, world, "deploy", version, "--yes", "--json", ...extra);
}

/** web-2's health check of v1.2.0 has started: switched, not verified. */
export const WEB2_HEALTH = /\[web-2\].*Application health endpoint returns 200/;

/**
 * Runs `body` with an SSH target on one fresh sshd node (`web-1`), then closes the target and
 * stops the node.
 */
export async function withSshTarget(
  prefix: string,
  body: (target: SshTarget) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  const fleet = await startSshNodes(dir, 1);
  const controlDir = await Deno.makeTempDir({ dir: "/tmp", prefix: "ctl-" });
  const target = new SshTarget({
    name: "web-1",
    host: "127.0.0.1",
    port: fleet.nodes[0].port,
    user: fleet.user,
    identity: fleet.identity,
  }, {
    settings: { hostKeys: "strict", knownHosts: fleet.knownHosts, connectTimeout: 5 },
    controlDir,
  });
  try {
    await body(target);
  } finally {
    await target.close();
    await fleet.stop();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(controlDir, { recursive: true }).catch(() => {});
  }
}
