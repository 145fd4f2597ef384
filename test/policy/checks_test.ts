/**
 * Every shipped check, passing on a clean world and failing with its problem planted, over the
 * local target. Evaluated in-process (the CLI end to end is in cli_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/mod.ts";
import { type CheckResult, evaluatePolicy, loadPolicy } from "../../src/policy/mod.ts";
import { rebootEntry } from "../../src/secrets/mod.ts";
import { LocalTarget } from "../../src/targets/local.ts";
import { exclusive, holding, ROOT } from "../fixtures/helpers.ts";
import {
  commitFile,
  git,
  LISTED_FUNCTIONS,
  plantWebshell,
  type PolicyWorld,
  policyWorld,
  RISKY_COMPOSE,
} from "./world.ts";

async function check(
  world: PolicyWorld,
  policyId: string,
  checkId: string,
  params: Record<string, string> = {},
): Promise<CheckResult> {
  const policy = await loadPolicy(policyId, ROOT);
  const report = await evaluatePolicy(policy, new LocalTarget(), {
    stateDir: world.stateDir,
    config: await loadConfig(world.config),
    params,
    only: checkId,
  });
  return report.results[0];
}

/**
 * Runs `fn` with the world's stand-ins (crontab, composer) first on PATH. PATH is the process's:
 * test files running in parallel share it (one process, an isolate each), so a crontab test
 * elsewhere would read the stand-in meanwhile; the crontab lock keeps them apart.
 */
function withShims<T>(world: PolicyWorld, fn: () => Promise<T>): Promise<T> {
  return holding("crontab", async () => {
    const path = Deno.env.get("PATH")!;
    Deno.env.set("PATH", world.env.PATH);
    try {
      return await fn();
    } finally {
      Deno.env.set("PATH", path);
    }
  });
}

function passes(result: CheckResult) {
  assert.equal(result.status, "pass", JSON.stringify(result, null, 2));
}

function fails(result: CheckResult, ...expected: RegExp[]) {
  assert.equal(result.status, "fail", JSON.stringify(result, null, 2));
  const text = result.findings.map((f) => `${f.file ?? ""}:${f.line ?? ""} ${f.message}`).join(
    "\n",
  );
  for (const pattern of expected) assert.match(text, pattern);
}

Deno.test(
  "security-audit checks: pass when clean, fail with the problem planted",
  exclusive("processes", async (t) => {
    const world = await policyWorld();
    try {
      await t.step(
        "malicious-code: word boundaries, vendor excluded; the webshell is found",
        async () => {
          passes(await check(world, "security-audit", "malicious-code"));
          const shell = await plantWebshell(world);
          const result = await check(world, "security-audit", "malicious-code");
          fails(result);
          const found = new Set(result.findings.map((f) => f.message.split(" call: ")[0]));
          for (const id of [...LISTED_FUNCTIONS, "preg_replace_e"]) {
            assert.ok(found.has(id), `pattern ${id} not found in ${[...found]}`);
          }
          assert.ok(result.findings.every((f) => f.file === shell && f.line! >= 2));
          await Deno.remove(shell);
        },
      );

      await t.step("file-permissions: key 0600, dir 0700, no world-writable files", async () => {
        passes(await check(world, "security-audit", "file-permissions"));
        await Deno.chmod(join(world.stateDir, "key"), 0o644);
        await Deno.chmod(world.stateDir, 0o755);
        await Deno.writeTextFile(join(world.source, "open.txt"), "x");
        await Deno.chmod(join(world.source, "open.txt"), 0o666);
        fails(
          await check(world, "security-audit", "file-permissions"),
          /the key's mode is 0644; other users can read it/,
          /the state directory's mode is 0755; other users can enter it/,
          /open\.txt is world-writable \(mode 0666\)/,
        );
        await Deno.chmod(join(world.stateDir, "key"), 0o600);
        await Deno.chmod(world.stateDir, 0o700);
        await Deno.remove(join(world.source, "open.txt"));
      });

      await t.step("dependencies: advisories fail, none pass, no composer skips", async () => {
        await withShims(world, async () => {
          passes(await check(world, "security-audit", "dependencies"));
          await Deno.writeTextFile(
            join(world.dir, "composer-audit.json"),
            JSON.stringify({
              advisories: {
                "guzzlehttp/guzzle": [{
                  cve: "CVE-2022-29248",
                  title: "Cookie leak",
                  severity: "high",
                }],
              },
            }),
          );
          fails(
            await check(world, "security-audit", "dependencies"),
            /guzzlehttp\/guzzle: CVE-2022-29248/,
          );
        });
        const skipped = await check(world, "security-audit", "dependencies");
        assert.equal(skipped.status, "skip");
        assert.equal(skipped.message, "skipped: composer not installed");
      });

      await t.step(
        "suspicious-processes: a process started as xmrig, a reverse shell",
        async () => {
          passes(await check(world, "security-audit", "suspicious-processes"));
          const miner = new Deno.Command("bash", { args: ["-c", "exec -a xmrig sleep 60"] })
            .spawn();
          const shell = new Deno.Command("bash", {
            args: ["-c", "exec -a ncat bash -c 'sleep 60; :' ncat -e /bin/sh 127.0.0.1 4444"],
          }).spawn();
          try {
            await new Promise((r) => setTimeout(r, 200));
            fails(
              await check(world, "security-audit", "suspicious-processes"),
              new RegExp(`pid ${miner.pid} .*xmrig 60`),
              new RegExp(`pid ${shell.pid} .*ncat .*-e /bin/sh`),
            );
          } finally {
            miner.kill("SIGKILL");
            shell.kill("SIGKILL");
            await miner.status;
            await shell.status;
          }
        },
      );

      await t.step("compose-risks: the risky service is found with its line", async () => {
        passes(await check(world, "security-audit", "compose-risks"));
        await Deno.writeTextFile(join(world.source, "docker-compose.yml"), RISKY_COMPOSE);
        const result = await check(world, "security-audit", "compose-risks");
        fails(result, /service admin/);
        assert.ok(result.findings.every((f) => f.item === "admin" && f.line === 4));
        assert.equal(
          result.findings.length,
          6,
          "privileged, root, caps, network, pid, docker.sock",
        );
      });

      await t.step(
        "recent-changes: untracked and modified files are listed, committed ones not",
        async () => {
          await git(world.source, "checkout", "-q", "--", "docker-compose.yml");
          passes(await check(world, "security-audit", "recent-changes"));
          await Deno.writeTextFile(join(world.source, "new.php"), "<?php echo 1;\n");
          await Deno.writeTextFile(join(world.source, "index.php"), "<?php echo 2;\n");
          fails(
            await check(world, "security-audit", "recent-changes"),
            /new\.php: untracked/,
            /index\.php: modified/,
          );
        },
      );
    } finally {
      await world.cleanup();
    }
  }),
);

Deno.test("soc2 checks: pass when ready, fail (or warn) when not", async (t) => {
  const world = await policyWorld();
  try {
    await t.step("encrypted-secrets and deploy-strategy follow the configuration", async () => {
      passes(await check(world, "soc2", "encrypted-secrets"));
      passes(await check(world, "soc2", "deploy-strategy"));
      const text = await Deno.readTextFile(world.config);
      await Deno.writeTextFile(
        world.config,
        text.replace("strategy: release", "strategy: branch").replace("encrypted", "plaintext"),
      );
      fails(
        await check(world, "soc2", "encrypted-secrets"),
        /deployment\.secrets is plaintext, not encrypted/,
      );
      fails(
        await check(world, "soc2", "deploy-strategy"),
        /deployment\.strategy is branch, not release/,
      );
      await Deno.writeTextFile(world.config, text);
      await Deno.remove(join(world.stateDir, "key"));
      fails(await check(world, "soc2", "encrypted-secrets"), /there is no encryption key/);
      await Deno.writeTextFile(join(world.stateDir, "key"), "ab".repeat(32), { mode: 0o600 });
    });

    await t.step("audit-logging: verifies; fails when world-readable or tampered", async () => {
      passes(await check(world, "soc2", "audit-logging"));
      const log = join(world.stateDir, "deployments.log");
      await Deno.chmod(log, 0o644);
      fails(
        await check(world, "soc2", "audit-logging"),
        /every user on the machine can read the audit log/,
      );
      await Deno.chmod(log, 0o600);
      const text = await Deno.readTextFile(log);
      await Deno.writeTextFile(log, text.replace("v1.0.0", "v6.6.6"));
      fails(await check(world, "soc2", "audit-logging"), /the audit log does not verify: line \d+/);
      await Deno.writeTextFile(log, text);
    });

    await t.step("git-integrity: mirror passes; no remote, or HEAD not pushed, fails", async () => {
      passes(await check(world, "soc2", "git-integrity"));
      passes(await check(world, "soc2", "git-integrity", { repo: world.source }));
      await commitFile(world, "unpushed.txt", "not reviewed\n");
      fails(
        await check(world, "soc2", "git-integrity", { repo: world.source }),
        /HEAD is on no remote branch or tag/,
      );
      await git(world.source, "remote", "remove", "origin");
      fails(
        await check(world, "soc2", "git-integrity", { repo: world.source }),
        /the repository has no remote/,
      );
    });

    await t.step(
      "reboot-recovery: only this app's @reboot entry for this node's current passes",
      async () => {
        const crontab = join(world.dir, "crontab.txt");
        const block = (app: string, line: string) =>
          `# BEGIN protocol ${app}\n${line}\n# END protocol ${app}\n`;
        await withShims(world, async () => {
          passes(await check(world, "soc2", "reboot-recovery"));
          const quoted = rebootEntry({ dir: world.app, start: "docker compose up -d" });
          const mine = `test-app ${world.app}`;
          await Deno.writeTextFile(crontab, `MAILTO=ops\n${block(mine, quoted)}`);
          passes(await check(world, "soc2", "reboot-recovery"));
          // The earlier form, named by the app alone, still recovers this install.
          await Deno.writeTextFile(crontab, `MAILTO=ops\n${block("test-app", quoted)}`);
          passes(await check(world, "soc2", "reboot-recovery"));
          for (
            const [why, text] of [
              ["no @reboot at all", "0 3 * * * /usr/bin/backup\n"],
              ["another app's entry", block("other-app", `@reboot cd ${world.app}/current && x`)],
              ["another directory", block("test-app", "@reboot cd /srv/elsewhere/current && x")],
              [
                "another install's block",
                block("test-app /srv/elsewhere", `@reboot cd ${world.app}/current && x`),
              ],
              ["another node's release dir", block("test-app", `@reboot cd ${world.app} && x`)],
              ["any @reboot line", `@reboot cd ${world.app}/current && ./start\n`],
              ["a comment", `# ${block("test-app", `@reboot cd ${world.app}/current && x`)}`],
            ]
          ) {
            await Deno.writeTextFile(crontab, text);
            const result = await check(world, "soc2", "reboot-recovery");
            assert.equal(result.status, "fail", why);
            assert.equal(
              result.findings[0].message,
              `no @reboot entry of test-app starts ${world.app}/current`,
            );
          }
        });
      },
    );

    await t.step("key-permissions: 0600/0700 pass, 0640/0750 fail", async () => {
      passes(await check(world, "soc2", "key-permissions"));
      await Deno.chmod(join(world.stateDir, "key"), 0o640);
      await Deno.chmod(world.stateDir, 0o750);
      fails(await check(world, "soc2", "key-permissions"), /0640/, /0750/);
      await Deno.chmod(join(world.stateDir, "key"), 0o600);
      await Deno.chmod(world.stateDir, 0o700);
    });

    await t.step("key-rotation: a key older than 90 days warns", async () => {
      passes(await check(world, "soc2", "key-rotation"));
      const old = new Date(Date.now() - 100 * 86_400_000);
      await Deno.utime(join(world.stateDir, "key"), old, old);
      const result = await check(world, "soc2", "key-rotation");
      fails(result, /the key is 100 days old \(rotate every 90 days\)/);
      assert.equal(result.level, "warn");
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("trojansearch and changed-files: recent files only, N days a parameter", async (t) => {
  const world = await policyWorld();
  try {
    await t.step("trojan-files: clean passes; the webshell scores high", async () => {
      passes(await check(world, "trojansearch", "trojan-files"));
      passes(await check(world, "trojansearch", "trojan-suspects"));
      const shell = await plantWebshell(world);
      const result = await check(world, "trojansearch", "trojan-files");
      fails(result, /shell\.php:2: score \d+/);
      assert.equal(result.findings[0].file, shell);
      const old = new Date(Date.now() - 20 * 86_400_000);
      await Deno.utime(shell, old, old);
      passes(await check(world, "trojansearch", "trojan-files"));
      fails(await check(world, "trojansearch", "trojan-files", { days: "30" }), /shell\.php/);
    });

    await t.step(
      "changed-files: lists files modified in the last N days with git state",
      async () => {
        const result = await check(world, "changed-files", "changed-files");
        fails(result, /index\.php .*git: clean/);
        assert.ok(!result.findings.some((f) => f.file?.endsWith("shell.php")), "20 days old");
        fails(
          await check(world, "changed-files", "changed-files", { days: "30" }),
          /shell\.php .*git: untracked/,
        );
        for await (const entry of Deno.readDir(world.source)) {
          if (entry.isFile) {
            const old = new Date(Date.now() - 40 * 86_400_000);
            await Deno.utime(join(world.source, entry.name), old, old);
          }
        }
        const quiet = await check(world, "changed-files", "changed-files");
        assert.ok(quiet.findings.every((f) => f.file?.includes("/.git/") === false));
      },
    );
  } finally {
    await world.cleanup();
  }
});
