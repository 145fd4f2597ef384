/**
 * Where scripts run: the one `Target` interface, the local machine and SSH nodes, the pool that
 * connects a run's nodes, the inventory of nodes and groups, deploy locks and files put on a
 * node. The rest of the tool imports targets through this face.
 *
 * @example
 * ```ts
 * import { LocalTarget } from "./mod.ts";
 * const result = await new LocalTarget().exec({ script: "echo hello" });
 * result.stdout; // "hello\n"
 * ```
 * @module
 */
export type { ExecRequest, ExecResult, OutputListener, Target } from "./target.ts";
export { LocalTarget } from "./local.ts";
export { SshConnectError, SshTarget } from "./ssh.ts";
export { type PoolOptions, TargetPool } from "./pool.ts";
export {
  Inventory,
  type InventoryNode,
  LOCAL_NODE,
  nodeApp,
  UnknownTargetError,
} from "./inventory.ts";
export {
  acquireLock,
  forceUnlock,
  LockedError,
  LockFailedError,
  type LockInfo,
  lockPath,
  nodeLockPath,
  readLock,
  releaseLock,
} from "./lock.ts";
export { NODE_STATE_DIR, putFile, PutFileError, stateDirOn } from "./files.ts";
