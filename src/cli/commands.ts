/**
 * Every command of the CLI, in one place: its name, the summary `--help` lists, and the module
 * that registers it, imported only when that command runs. A command costs its own imports and
 * no other's (dax, zod and yaml alone take hundreds of milliseconds to load), so start-up stays
 * small whichever command runs.
 *
 * Adding a command: a file in `src/cli/` exporting `registerXCommand(program)`, and one entry
 * here per command name it registers (`test/cli/commands_test.ts` proves the two agree).
 *
 * @example
 * ```ts
 * import { COMMANDS } from "./commands.ts";
 * COMMANDS["run"].summary; // "run a runbook against the targets of the project configuration"
 * ```
 * @module
 */
import type { Command } from "commander";

/** Runs the CLI with `args` (what `main` does), for commands that run other commands. */
export type Main = (args: string[]) => Promise<number>;

/** Adds one module's commands to `program`. */
export type Register = (program: Command, main: Main) => void;

/** A command: what `--help` says of it, and how to load the module that registers it. */
export interface CommandEntry {
  /** The beginning of the command's own description: the line `--help` lists. */
  summary: string;
  /** Imports the command's module and returns its register function. */
  load: () => Promise<Register>;
}

/** Every command by name, in the order `--help` lists them. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  "run": {
    summary: "run a runbook against the targets of the project configuration",
    load: async () => (await import("./run.ts")).registerRunCommand,
  },
  "plan": {
    summary:
      "print every command a run would execute, per node and batch, without running anything",
    load: async () => (await import("./plan.ts")).registerPlanCommands,
  },
  "checklist": {
    summary: "print the change-ticket checklist generated from a runbook",
    load: async () => (await import("./plan.ts")).registerPlanCommands,
  },
  "validate": {
    summary: "check every runbook and task file",
    load: async () => (await import("./validate.ts")).registerProjectCommands,
  },
  "list": {
    summary: "list the runbooks with their SOP number and when to use them",
    load: async () => (await import("./validate.ts")).registerProjectCommands,
  },
  "schema": {
    summary: "write the JSON Schemas of runbooks and tasks to schema/",
    load: async () => (await import("./validate.ts")).registerProjectCommands,
  },
  "init": {
    summary: "write a commented protocol.yaml to start from",
    load: async () => (await import("./validate.ts")).registerProjectCommands,
  },
  "audit:keygen": {
    summary: "create the Ed25519 audit signing key",
    load: async () => (await import("./audit.ts")).registerAuditCommands,
  },
  "audit:verify": {
    summary: "verify the audit log",
    load: async () => (await import("./audit.ts")).registerAuditCommands,
  },
  "audit:checkpoint": {
    summary: "verify the log, then sign a C2SP checkpoint",
    load: async () => (await import("./audit.ts")).registerAuditCommands,
  },
  "audit:rotate-key": {
    summary: "replace the signing key",
    load: async () => (await import("./audit.ts")).registerAuditCommands,
  },
  "audit:rotate-log": {
    summary: "move deployments.log to deployments.log.<N>",
    load: async () => (await import("./audit.ts")).registerAuditCommands,
  },
  "deploy:log": {
    summary: "show the deployment history, one line per entry",
    load: async () => (await import("./audit.ts")).registerAuditCommands,
  },
  "audit:export": {
    summary: "verify the audit log, then print its entries for a SIEM",
    load: async () => (await import("./audit_export.ts")).registerAuditExportCommands,
  },
  "audit:forward": {
    summary: "send the entries a syslog receiver has not had yet",
    load: async () => (await import("./audit_export.ts")).registerAuditExportCommands,
  },
  "targets": {
    summary: "list the nodes of the configuration; --check connects to each",
    load: async () => (await import("./targets.ts")).registerTargetCommands,
  },
  "unlock": {
    summary: "remove the deploy lock of nodes whose run is gone",
    load: async () => (await import("./targets.ts")).registerTargetCommands,
  },
  "demo": {
    summary: "deploy a throwaway app: v1.2.0 passes, v1.3.0 fails its health check and rolls back",
    load: async () => (await import("./demo.ts")).registerDemoCommand,
  },
  "secrets:setup": {
    summary: "create the encryption key",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "secrets:encrypt": {
    summary: "encrypt FILE to FILE.enc",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "secrets:decrypt": {
    summary: "decrypt FILE.enc to FILE",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "secrets:key": {
    summary: "print the encryption key for a password-manager backup",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "key:generate": {
    summary: "create an ed25519 deploy key for git",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "cron:add": {
    summary: "install the @reboot entry that starts the app after a reboot",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "cron:remove": {
    summary: "remove the app's @reboot entry from the crontab",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "config:switch": {
    summary: "check out the environment's branch of the config repository",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "config:init": {
    summary:
      "encrypt every plaintext .env* file of the checkout to .enc, verify, delete the plaintext and make .gitignore cover it",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "config:save": {
    summary: "commit the encrypted files and .gitignore of the current environment and push them",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "config:refresh": {
    summary:
      "pull the current environment branch and decrypt its files for the app into config_repo.env_dir",
    load: async () => (await import("./secrets.ts")).registerSecretsCommands,
  },
  "security:audit": {
    summary:
      "run the security audit: code, permissions, dependencies, processes, compose, recent changes",
    load: async () => (await import("./policy.ts")).registerPolicyCommands,
  },
  "soc2:check": {
    summary: "run the SOC 2 readiness checks",
    load: async () => (await import("./policy.ts")).registerPolicyCommands,
  },
  "security:trojansearch": {
    summary: "run scan recently changed files for trojan/webshell patterns, scored per file",
    load: async () => (await import("./policy.ts")).registerPolicyCommands,
  },
  "security:changedfiles": {
    summary: "run list files modified in the last N days",
    load: async () => (await import("./policy.ts")).registerPolicyCommands,
  },
  "policy": {
    summary: "run any policy file",
    load: async () => (await import("./policy.ts")).registerPolicyCommands,
  },
  "policy:schema": {
    summary: "write the JSON Schemas of policy and waivers files to schema/",
    load: async () => (await import("./policy.ts")).registerPolicyCommands,
  },
  "release:create": {
    summary: "tag the next semantic version on HEAD",
    load: async () => (await import("./release.ts")).registerReleaseCommands,
  },
  "release:list": {
    summary: "list the release tags, newest first, with date and where each is deployed",
    load: async () => (await import("./release.ts")).registerReleaseCommands,
  },
  "deploy:push": {
    summary: "deploy a release tag to the app's nodes",
    load: async () => (await import("./release.ts")).registerReleaseCommands,
  },
  "deploy:rollback": {
    summary: "roll back to each node's recorded previous release, or to VERSION",
    load: async () => (await import("./release.ts")).registerReleaseCommands,
  },
  "status": {
    summary:
      "per node: active and previous release, deployed when and by whom, app running, health, lock",
    load: async () => (await import("./release.ts")).registerReleaseCommands,
  },
  "docker:logs": {
    summary: "print the app's recent logs on each node",
    load: async () => (await import("./release.ts")).registerReleaseCommands,
  },
  "docker:compose:rebuild": {
    summary: "rebuild and restart the app in place on each node, one at a time",
    load: async () => (await import("./release.ts")).registerReleaseCommands,
  },
  "schedule": {
    summary: "report when each recurring control was last done and what is overdue",
    load: async () => (await import("./schedule.ts")).registerScheduleCommand,
  },
  "drill": {
    summary:
      "run an incident-response drill with injected faults in a throwaway sandbox, then report",
    load: async () => (await import("./drill.ts")).registerDrillCommand,
  },
  "shadow:init": {
    summary: "start the node's front proxy on the live port",
    load: async () => (await import("./shadow.ts")).registerShadowCommands,
  },
  "shadow:build": {
    summary: "fetch VERSION into the shadow slot, start it on a free port, health-check it",
    load: async () => (await import("./shadow.ts")).registerShadowCommands,
  },
  "shadow:status": {
    summary: "show the proxy, the live slot and the shadow/standby slot, with health",
    load: async () => (await import("./shadow.ts")).registerShadowCommands,
  },
  "shadow:start": {
    summary: "promote: the shadow takes new connections, the old release stays as standby",
    load: async () => (await import("./shadow.ts")).registerShadowCommands,
  },
  "shadow:rollback": {
    summary: "switch new connections back to the standby release",
    load: async () => (await import("./shadow.ts")).registerShadowCommands,
  },
  "witness:serve": {
    summary: "serve an HTTP witness",
    load: async () => (await import("./witness.ts")).registerWitnessCommand,
  },
  "identity:keygen": {
    summary: "create your personal signing key",
    load: async () => (await import("./identity.ts")).registerIdentityCommand,
  },
  "request": {
    summary: "ask for approval of an exact run: writes a signed change request",
    load: async () => (await import("./request.ts")).registerRequestCommand,
  },
  "approve": {
    summary: "approve a change request with your own key",
    load: async () => (await import("./approve.ts")).registerApproveCommand,
  },
  "audit:population": {
    summary: "list every production change of a period",
    load: async () => (await import("./population.ts")).registerPopulationCommand,
  },
  "evidence:pack": {
    summary: "write an offline evidence pack for a period",
    load: async () => (await import("./evidence_pack.ts")).registerEvidencePackCommand,
  },
  "runs": {
    summary: "list recent runs, newest first: status, runbook, parameters, nodes",
    load: async () => (await import("./runs.ts")).registerRunsCommand,
  },
};
