/**
 * The inventory: the nodes of the project configuration, and how a selector (`on: web`,
 * `--limit web-2`) picks among them. Pure: nothing here connects anywhere.
 *
 * Selectors are comma-separated names: a node, a group, `local` (this machine), `all` (every
 * node) or `app` (the nodes that run the app: `app.targets`, else every node). With no nodes
 * configured, `all` and `app` mean `local`, so a project can start on one machine and grow.
 *
 * @example
 * ```ts
 * import { Inventory } from "./inventory.ts";
 * const inventory = new Inventory({
 *   "web-1": { host: "10.0.0.1", groups: ["web"], vars: {} },
 *   "web-2": { host: "10.0.0.2", groups: ["web"], vars: {} },
 * });
 * inventory.select("web", ["web-2"]).map((node) => node.name); // ["web-2"]
 * ```
 * @module
 */
import { InputError } from "../errors.ts";
import type { Config, NodeConfig, SshConfig } from "../config/mod.ts";
import type { SshEndpoint } from "./ssh_command.ts";

/** A place steps run: this machine, or a node reached over SSH. */
export interface InventoryNode {
  name: string;
  /** Undefined for `local`. */
  ssh?: NodeConfig;
  groups: string[];
}

/** The node every inventory has: the machine the tool runs on. */
export const LOCAL_NODE: InventoryNode = { name: "local", groups: [] };

/**
 * The app settings on `node`: the configuration's, with the node's own overrides.
 *
 * @example
 * ```ts
 * import { LOCAL_NODE, nodeApp } from "./inventory.ts";
 * const app = { name: "shop", dir: "/opt/shop", driver: "process" as const, start: "", stop: "" };
 * nodeApp({ app } as Parameters<typeof nodeApp>[0], LOCAL_NODE).dir; // "/opt/shop"
 * ```
 */
export function nodeApp(
  config: Pick<Config, "app">,
  node: InventoryNode = LOCAL_NODE,
): Config["app"] {
  const overrides = Object.entries(node.ssh?.app ?? {}).filter(([, v]) => v !== undefined);
  return { ...config.app, ...Object.fromEntries(overrides) };
}

/** How to reach an SSH node: its own user, port and key, else the `ssh:` defaults. */
export function sshEndpoint(
  name: string,
  node: NodeConfig,
  defaults: Pick<SshConfig, "user" | "port" | "identity">,
): SshEndpoint & { port: number } {
  return {
    name,
    host: node.host,
    port: node.port ?? defaults.port,
    user: node.user ?? defaults.user,
    identity: node.identity ?? defaults.identity,
  };
}

/** A selector named nothing the inventory knows. */
export class UnknownTargetError extends InputError {
  constructor(readonly target: string, known: string[]) {
    super(`unknown target "${target}"; known: ${known.join(", ")}`);
    this.name = "UnknownTargetError";
  }
}

/** The nodes of a configuration and their groups. */
export class Inventory {
  readonly nodes: InventoryNode[];

  constructor(nodes: Record<string, NodeConfig>, readonly appTargets?: string) {
    this.nodes = Object.entries(nodes).map(([name, ssh]) => ({ name, ssh, groups: ssh.groups }));
  }

  /** Every group name, sorted. */
  groups(): string[] {
    return [...new Set(this.nodes.flatMap((node) => node.groups))].sort();
  }

  /** Names a selector may use. */
  known(): string[] {
    return ["local", "all", "app", ...this.nodes.map((n) => n.name), ...this.groups()];
  }

  /**
   * The nodes `selector` names, in inventory order, narrowed to those `limit` names (when
   * given). Throws {@link UnknownTargetError} for a name that is neither node nor group.
   */
  select(selector: string, limit?: string[]): InventoryNode[] {
    const chosen = this.#expand(selector);
    if (!limit?.length) return chosen;
    const allowed = new Set(limit.flatMap((part) => this.#expand(part)).map((n) => n.name));
    return chosen.filter((node) => allowed.has(node.name));
  }

  /** The node called `name` (or `local`). */
  node(name: string): InventoryNode {
    if (name === "local") return LOCAL_NODE;
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new UnknownTargetError(name, this.known());
    return node;
  }

  #expand(selector: string): InventoryNode[] {
    const names = selector.split(",").map((part) => part.trim()).filter(Boolean);
    const picked = new Set<InventoryNode>();
    for (const name of names) {
      for (const node of this.#one(name)) picked.add(node);
    }
    const order = [LOCAL_NODE, ...this.nodes];
    return order.filter((node) => picked.has(node));
  }

  #one(name: string): InventoryNode[] {
    if (name === "local") return [LOCAL_NODE];
    if (name === "all") return this.nodes.length ? this.nodes : [LOCAL_NODE];
    if (name === "app") {
      return this.appTargets ? this.#expand(this.appTargets) : this.#one("all");
    }
    const node = this.nodes.find((n) => n.name === name);
    if (node) return [node];
    const members = this.nodes.filter((n) => n.groups.includes(name));
    if (members.length) return members;
    throw new UnknownTargetError(name, this.known());
  }
}
