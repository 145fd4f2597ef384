/**
 * A scan stopped mid-way (a timeout, Ctrl-C: TERM to the step's process group) leaves no
 * temporary directory on the node, under dash — the `/bin/sh` steps run in — as under bash:
 * dash runs no EXIT trap when a signal ends it, so the grep scan turns a signal into an exit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { scanCommand } from "../../src/policy/collectors/pattern_scan.ts";
import { eventually, exists, listDir } from "../fixtures/helpers.ts";

Deno.test("a grep scan stopped mid-way removes its temporary directory", async (t) => {
  for (const shell of ["dash", "bash"]) {
    await t.step(shell, async () => {
      const dir = await Deno.makeTempDir({ prefix: "scan-stop-" });
      try {
        const [tmp, bin, tree] = ["tmp", "bin", "tree"].map((name) => join(dir, name));
        for (const path of [tmp, bin, tree]) await Deno.mkdir(path);
        await Deno.writeTextFile(join(tree, "a.php"), "<?php eval($x);\n");
        // A grep that hangs: the stop comes while the scan is under way.
        const started = join(dir, "grep-started");
        await Deno.writeTextFile(join(bin, "grep"), `#!/bin/sh\n: > ${started}\nexec sleep 30\n`, {
          mode: 0o755,
        });
        const script = scanCommand({
          paths: [tree],
          include: ["*.php"],
          exclude_dirs: [],
          patterns: [{ id: "eval", regex: "eval", weight: 1 }],
        }, "grep");
        const scan = new Deno.Command("setsid", {
          args: [shell, "-c", script],
          env: { PATH: `${bin}:${Deno.env.get("PATH")}`, TMPDIR: tmp },
          stdout: "null",
          stderr: "null",
        }).spawn();
        assert.ok(await eventually(() => exists(started)), "the scan never reached grep");
        assert.equal((await listDir(tmp)).length, 1, "the scan's directory exists meanwhile");
        Deno.kill(-scan.pid, "SIGTERM");
        await scan.status;
        assert.deepEqual(await listDir(tmp), [], "the scan left its directory behind");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});
