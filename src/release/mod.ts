/**
 * Releases and what is deployed where: release tags (`release:create`, `release:list`), each
 * node's release record and status (`status`), rollback decisions, and the app drivers that
 * make the lifecycle commands (`process`, `compose`). Deploys and rollbacks themselves are the
 * runbooks `deploy` and `rollback`, run by the runbook engine.
 *
 * @example
 * ```ts
 * import { composeShell, nextVersion, rollbackRefusal } from "./mod.ts";
 * nextVersion(["v1.2.0"], "patch"); // "v1.2.1"
 * composeShell({ file: "docker-compose.yml", services: [] }, "shop").start;
 * rollbackRefusal("web-1", { history: [], releases: [], running: "unknown" }, "v1.0.0");
 * ```
 * @module
 */
export {
  type Bump,
  bumpVersion,
  compareVersions,
  nextVersion,
  parseVersion,
  RELEASE_TAG,
  releaseTags,
  type Version,
} from "./semver.ts";
export {
  type ComposeCommands,
  composeLifecycle,
  composeProject,
  type ComposeSettings,
  composeShell,
  type Lifecycle,
  processRebuild,
  resolveLifecycle,
} from "../config/driver.ts";
export { git, gitArgv, GitError, gitOut } from "./git.ts";
export {
  createRelease,
  planRelease,
  type ReleasePlan,
  ReleaseRefusedError,
  tagMessage,
} from "./create.ts";
export {
  formatReleases,
  parseTagTable,
  placeReleases,
  readReleaseTags,
  type ReleaseRow,
  type ReleaseTag,
  updateMirror,
} from "./list.ts";
export {
  NODE_STATE_SCRIPT,
  type NodeState,
  nodeStateRequest,
  parseNodeState,
  parseSwitch,
  rollbackRefusal,
  type Switch,
} from "./node_state.ts";
export {
  checkHealth,
  formatStatus,
  gatherStatus,
  type Health,
  type NodeStatus,
  readNodeState,
  statusRow,
} from "./status.ts";
export {
  APP_ACTION_SCRIPT,
  type AppAction,
  appActionCommand,
  appActionRequest,
} from "./app_commands.ts";
export { type Outcome as AppActionOutcome, rebuildNode, runAppCommand } from "./app_run.ts";
