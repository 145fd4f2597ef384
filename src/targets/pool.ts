/**
 * The targets of one run: `local` and a connection per SSH node, opened on first use and all
 * closed together at the end. Connection sockets live in a private temporary directory (0700)
 * that is removed on close.
 *
 * @example
 * ```ts
 * import { TargetPool } from "./pool.ts";
 * import { requireConfig } from "../config/mod.ts";
 * const pool = new TargetPool(await requireConfig({}));
 * const target = await pool.connect(pool.inventory.nodes[0]);
 * await target.exec({ script: "uptime" });
 * await pool.close();
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import { Inventory, type InventoryNode, sshEndpoint } from "./inventory.ts";
import { LocalTarget } from "./local.ts";
import { SshTarget } from "./ssh.ts";
import type { SshSettings } from "./ssh_command.ts";
import type { Target } from "./target.ts";

/** Overrides from the command line. */
export interface PoolOptions {
  /** `--accept-new-host-keys`: record unknown host keys instead of refusing them. */
  acceptNewHostKeys?: boolean;
}

/** What the runbook engine needs of its connections (a test gives it an in-memory one). */
export interface NodeTargets {
  readonly inventory: Inventory;
  /** The target of a node (the same object for the whole run). */
  target(node: InventoryNode): Target;
  /** Connects to a node up front; throws naming it when unreachable. */
  connect(node: InventoryNode): Promise<Target>;
  /**
   * Reconnects to a node whose connection was lost and stops the step it left running there;
   * throws when the node still cannot be reached.
   */
  recover(node: InventoryNode): Promise<void>;
}

/** Every target a run may touch. */
export class TargetPool implements NodeTargets {
  readonly inventory: Inventory;
  readonly settings: SshSettings;
  readonly #local = new LocalTarget({ session: true });
  readonly #ssh = new Map<string, SshTarget>();
  #controlDir?: string;

  constructor(
    readonly config: Pick<Config, "nodes" | "ssh" | "app">,
    readonly options: PoolOptions = {},
  ) {
    this.inventory = new Inventory(config.nodes, config.app.targets);
    this.settings = {
      hostKeys: options.acceptNewHostKeys ? "accept-new" : config.ssh.host_keys,
      knownHosts: config.ssh.known_hosts,
      connectTimeout: config.ssh.connect_timeout,
    };
  }

  /** The target of a node (the same object for the whole run). */
  target(node: InventoryNode): Target {
    if (!node.ssh) return this.#local;
    let target = this.#ssh.get(node.name);
    if (!target) {
      target = new SshTarget(sshEndpoint(node.name, node.ssh, this.config.ssh), {
        settings: this.settings,
        controlDir: this.#ensureControlDir(),
      });
      this.#ssh.set(node.name, target);
    }
    return target;
  }

  /** Connects to a node up front; throws `SshConnectError` naming it when unreachable. */
  async connect(node: InventoryNode): Promise<Target> {
    const target = this.target(node);
    if (target instanceof SshTarget) await target.connect();
    return target;
  }

  /** Reconnects to a node after a lost connection (see {@link SshTarget.recover}). */
  async recover(node: InventoryNode): Promise<void> {
    const target = this.target(node);
    if (target instanceof SshTarget) await target.recover();
  }

  /** Closes every connection and removes the control directory. */
  async close(): Promise<void> {
    await Promise.all(
      [this.#local, ...this.#ssh.values()].map((target) => target.close().catch(() => {})),
    );
    this.#ssh.clear();
    if (this.#controlDir) await Deno.remove(this.#controlDir, { recursive: true }).catch(() => {});
    this.#controlDir = undefined;
  }

  #ensureControlDir(): string {
    // Short and private: socket paths are limited to ~104 bytes, and others must not use them.
    this.#controlDir ??= Deno.makeTempDirSync({ dir: "/tmp", prefix: "protocol-ssh-" });
    Deno.chmodSync(this.#controlDir, 0o700);
    return this.#controlDir;
  }
}
