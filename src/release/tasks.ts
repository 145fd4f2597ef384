/**
 * The runbook tasks that carry the release record's scripts: `tasks/release-fetch.yaml` and
 * `tasks/release-switch.yaml` are built here from `record.ts`, so the scripts have one owner
 * and a runbook step runs exactly what blue-green switches run. A test fails when a file on
 * disk differs from what this module builds; `deno run -A src/release/tasks.ts` writes them.
 *
 * @example
 * ```ts
 * import { releaseTaskFiles } from "./tasks.ts";
 * Object.keys(releaseTaskFiles()); // ["tasks/release-fetch.yaml", "tasks/release-switch.yaml"]
 * ```
 * @module
 */
import { ACTIVE_SCRIPT, FETCH_SCRIPT, SWITCH_KINDS, SWITCH_SCRIPT } from "./record.ts";

function block(script: string, indent: string): string {
  return script.split("\n").map((line) => line ? `${indent}${line}` : "").join("\n");
}

const HEADER = "# yaml-language-server: $schema=../schema/task.schema.json\n" +
  "# Generated from src/release/record.ts by src/release/tasks.ts: edit those, then run\n" +
  "# `deno run -A src/release/tasks.ts`.\n";

/**
 * The text of each generated task file, by path relative to the project root. Pure.
 *
 * @example
 * ```ts
 * releaseTaskFiles()["tasks/release-switch.yaml"].includes("id: release-switch"); // true
 * ```
 */
export function releaseTaskFiles(): Record<string, string> {
  const plainKinds = SWITCH_KINDS.filter((kind) => !kind.startsWith("shadow-"));
  const fetch = `${HEADER}id: release-fetch
title: Fetch a release into its own directory, with its manifest
description: >
  Keeps a mirror of the app repository in <dir>/repo.git and exports the tagged tree into
  <dir>/releases/<version>; the files of the tag and their SHA-256 go to
  <dir>/manifests/<version>.sha256. A release directory already there is reused only when it
  matches that manifest: otherwise it is rebuilt from the tag into a fresh directory and the
  added or changed files are moved to <dir>/quarantine/ with their hashes (printed as
  "quarantined ..."). With rebuild "always" it is rebuilt even when it matches. A tag that
  moved is refused.
inputs:
  repo: { type: string, required: true }
  dir: { type: string, required: true, description: App directory on the target }
  version: { type: string, required: true }
  rebuild:
    type: string
    default: ""
    values: ["", always]
    description: "always: rebuild from the tag even when the release matches"
steps:
  - id: checkout
    name: Fetch \${{ inputs.version }} into releases/\${{ inputs.version }} (verified against its manifest)
    env:
      APP_DIR: \${{ inputs.dir }}
      REPO: \${{ inputs.repo }}
      VERSION: \${{ inputs.version }}
      REBUILD: \${{ inputs.rebuild }}
    timeout: 10m
    run: |
${block(FETCH_SCRIPT, "      ")}
`;
  const switchTask = `${HEADER}id: release-switch
title: Switch the active release atomically, and record the switch
description: >
  Points <dir>/current at releases/<version> with a rename, and records the switch on the node:
  <dir>/history (every release ever active here), a line "time kind version from operator run"
  in <dir>/deploys.log, and <dir>/previous (where a rollback without a version goes). Refused
  before anything changes on a node whose blue-green proxy runs (use the shadow commands there).
inputs:
  dir: { type: string, required: true }
  version: { type: string, required: true }
  kind:
    type: string
    default: deploy
    values: [${plainKinds.join(", ")}]
    description: What caused the switch (deploys.log)
steps:
  - id: previous
    name: Record the release being replaced
    env: { APP_DIR: "\${{ inputs.dir }}" }
    run: |
${block(ACTIVE_SCRIPT, "      ")}
  - name: Switch current to \${{ inputs.version }}
    changes: true
    env:
      APP_DIR: \${{ inputs.dir }}
      VERSION: \${{ inputs.version }}
      KIND: \${{ inputs.kind }}
      OPERATOR: \${{ run.operator }}
      RUN: \${{ run.id }}
    run: |
${block(SWITCH_SCRIPT, "      ")}
`;
  return { "tasks/release-fetch.yaml": fetch, "tasks/release-switch.yaml": switchTask };
}

if (import.meta.main) {
  const root = new URL("../../", import.meta.url).pathname;
  for (const [path, text] of Object.entries(releaseTaskFiles())) {
    await Deno.writeTextFile(`${root}${path}`, text);
    console.log(`wrote ${path}`);
  }
}
