/**
 * The shipped policy checks over an SSH target, end to end: `--target web-1` resolves a node of
 * the configuration's inventory, facts are gathered by commands run through a real sshd on
 * loopback, and `app.dir` is the node's own override (the top-level `app.dir` does not exist).
 * Each check passes on the clean world and fails with its problem planted, as in checks_test.ts.
 * The local `crontab`/`composer` stand-ins are put first on the CLI's PATH on purpose: the
 * node's shell gets its PATH from sshd, so the results must come from the node, not from them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort } from "../../src/demo/app.ts";
import { cli, eventually, exclusive } from "../fixtures/helpers.ts";
import { inProcess } from "../fixtures/in_process.ts";
import { type SshFleet, startSshNodes } from "../fixtures/sshd.ts";
import { sshBlock } from "../fixtures/fleet.ts";
import { parseCrontab } from "../../src/policy/collectors/crontab.ts";
import { git, plantWebshell, type PolicyWorld, policyWorld, RISKY_COMPOSE } from "./world.ts";

interface Finding {
  message: string;
  file?: string;
  line?: number;
  item?: string;
}
interface Result {
  id: string;
  status: string;
  level: string;
  message: string;
  findings: Finding[];
}
interface Run {
  code: number;
  stdout: string;
  stderr: string;
  results: Result[];
}

/** The node's configuration: web-1 over SSH with its own app dir, web-down on a dead port. */
function nodeConfig(world: PolicyWorld, ssh: SshFleet, strategy = "release"): string {
  const q = JSON.stringify;
  return [
    "app:",
    "  name: test-app",
    `  repo: ${q(join(world.dir, "remote.git"))}`,
    `  dir: ${q(join(world.dir, "not-the-node-app"))}`,
    '  start: "true"',
    '  stop: "true"',
    "  health: http://127.0.0.1:9/health",
    "deployment:",
    `  strategy: ${strategy}`,
    "  secrets: encrypted",
    ...sshBlock(ssh),
    "nodes:",
    "  web-1:",
    "    host: 127.0.0.1",
    `    port: ${ssh.nodes[0].port}`,
    "    groups: [web]",
    `    state_dir: ${q(world.stateDir)}`,
    `    app: { dir: ${q(world.app)} }`,
    "  web-down:",
    "    host: 127.0.0.1",
    `    port: ${freePort()}`,
    "",
  ].join("\n");
}

Deno.test(
  "policy checks over SSH: pass on a clean node, fail with problems planted",
  exclusive("processes", async (t) => {
    const world = await policyWorld();
    let ssh: SshFleet | undefined;
    const spawned: Deno.ChildProcess[] = [];
    try {
      ssh = await startSshNodes(world.dir, 1);
      await Deno.writeTextFile(world.config, nodeConfig(world, ssh));
      const waivers = join(world.dir, "no-waivers.yaml");
      await Deno.writeTextFile(waivers, "waivers: []\n");

      const run = async (command: string, check?: string, ...extra: string[]): Promise<Run> => {
        const args = [command, "--target", "web-1", "--format", "json", "--waivers", waivers];
        if (check) args.push("--check", check);
        // In this process: a run is the policy over SSH, not a Deno start-up (the two error
        // paths below run the real process for its exit code).
        const result = await inProcess([...args, ...extra, ...world.args]);
        const report = result.stdout.trim() ? JSON.parse(result.stdout) : undefined;
        if (report) assert.equal(report.target, "web-1", "facts gathered on the node");
        return { ...result, results: report?.results ?? [] };
      };
      const show = (r: Run) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
      const statuses = (r: Run) => Object.fromEntries(r.results.map((x) => [x.id, x.status]));
      /** Asserts check `id` of a run failed with findings matching `expected`. */
      const failed = (r: Run, id: string, ...expected: RegExp[]) => {
        const result = r.results.find((x) => x.id === id);
        assert.equal(result?.status, "fail", show(r));
        const text = result.findings.map((f) => `${f.file ?? ""}:${f.line ?? ""} ${f.message}`)
          .join("\n");
        for (const pattern of expected) assert.match(text, pattern);
        return result;
      };
      /** Runs one check that must fail (exit 1 when fail-level) with findings matching. */
      const fails = async (
        command: string,
        check: string,
        expected: RegExp[],
        ...extra: string[]
      ) => {
        const r = await run(command, check, ...extra);
        const result = failed(r, check, ...expected);
        assert.equal(
          r.code,
          result.level === "warn" && !extra.includes("--strict") ? 0 : 1,
          show(r),
        );
        return result;
      };
      const key = join(world.stateDir, "key");

      await t.step("clean node: every security-audit check passes over SSH (exit 0)", async () => {
        const r = await run("security:audit");
        assert.equal(r.code, 0, show(r));
        assert.deepEqual(statuses(r), {
          "malicious-code": "pass",
          "malicious-code-mentions": "pass",
          "file-permissions": "pass",
          // composer is a stand-in on the CLI's PATH only; the node's PATH (from sshd) has none.
          "dependencies": "skip",
          "suspicious-processes": "pass",
          "compose-risks": "pass",
          "recent-changes": "pass",
          // The node's source was not deployed by this tool: it has no release manifest.
          "release-manifest": "not_applicable",
        });
        const deps = r.results.find((x) => x.id === "dependencies")!;
        assert.equal(deps.message, "skipped: composer not installed");
      });

      await t.step("clean node: soc2 checks pass over SSH; crontab is the node's own", (t) =>
        // The real crontab is read twice (by the check, then here) and other test files change it
        // (cron:add, node setup): hold it still meanwhile.
        exclusive("crontab", async () => {
          const r = await run("soc2:check");
          const status = statuses(r);
          for (
            const id of ["encrypted-secrets", "deploy-strategy", "git-integrity", "key-permissions"]
          ) {
            assert.equal(status[id], "pass", `${id}\n${show(r)}`);
          }
          assert.equal(status["key-rotation"], "pass", show(r));
          // The audit log that records the node's actions is this machine's: it verifies here.
          assert.equal(status["audit-logging"], "pass", show(r));
          // reboot-recovery reads the login user's real crontab on the node (the same machine). It is
          // read, never changed, so its actual state is what can be asserted; the PATH stand-in
          // (always @reboot) must not be what answered.
          const local = await new Deno.Command("sh", {
            args: ["-c", "crontab -l 2>/dev/null"],
            env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
            clearEnv: true,
          }).output();
          const crontab = await Deno.stat("/usr/bin/crontab").then(() => true, () => false);
          // Only test-app's entry starting the node's own current release counts.
          const reboot = parseCrontab(new TextDecoder().decode(local.stdout)).some((e) =>
            e.schedule === "@reboot" && e.block === "test-app" && e.cd === `${world.app}/current`
          );
          assert.equal(status["reboot-recovery"], !crontab ? "skip" : reboot ? "pass" : "fail");
          const blocking = r.results.some((x) => x.level === "fail" && x.status === "fail");
          assert.equal(r.code, blocking ? 1 : 0, show(r));
        })(t));

      await t.step("clean node: trojansearch passes over SSH (exit 0)", async () => {
        const r = await run("security:trojansearch");
        assert.equal(r.code, 0, show(r));
        assert.deepEqual(statuses(r), { "trojan-files": "pass", "trojan-suspects": "pass" });
      });

      await t.step(
        "malicious-code: the webshell on the node is found, pattern by pattern",
        async () => {
          const shell = await plantWebshell(world);
          const result = await fails("security:audit", "malicious-code", [
            /uploads\/shell\.php:2 eval call: /,
          ]);
          const found = new Set(result.findings.map((f) => f.message.split(" call: ")[0]));
          assert.equal(found.size, 13, [...found].join(", "));
          assert.ok(result.findings.every((f) => f.file === shell && f.line! >= 2));
          await Deno.remove(join(world.source, "uploads"), { recursive: true });
        },
      );

      await t.step("file-permissions: key 0644, dir 0755, a world-writable file fail", async () => {
        await Deno.chmod(key, 0o644);
        await Deno.chmod(world.stateDir, 0o755);
        await Deno.writeTextFile(join(world.source, "open.txt"), "x");
        await Deno.chmod(join(world.source, "open.txt"), 0o666);
        await fails("security:audit", "file-permissions", [
          /the key's mode is 0644; other users can read it/,
          /the state directory's mode is 0755; other users can enter it/,
          /open\.txt is world-writable \(mode 0666\)/,
        ]);
        await Deno.chmod(key, 0o600);
        await Deno.chmod(world.stateDir, 0o700);
        await Deno.remove(join(world.source, "open.txt"));
      });

      await t.step("dependencies: without composer.json on the node, not applicable", async () => {
        // Only skip (above) and n/a are deterministic over SSH: an advisory needs `composer` on the
        // node's PATH, which comes from sshd, not from this test. No pass/fail pair is possible.
        await Deno.rename(join(world.source, "composer.json"), join(world.dir, "composer.json"));
        const r = await run("security:audit", "dependencies");
        assert.equal(r.results[0]?.status, "not_applicable", show(r));
        assert.equal(r.code, 0);
        await Deno.rename(join(world.dir, "composer.json"), join(world.source, "composer.json"));
      });

      await t.step(
        "suspicious-processes: a process started as xmrig, a reverse shell",
        async () => {
          const miner = new Deno.Command("bash", { args: ["-c", "exec -a xmrig sleep 60"] })
            .spawn();
          spawned.push(miner);
          const shell = new Deno.Command("bash", {
            args: ["-c", "exec -a ncat bash -c 'sleep 60; :' ncat -e /bin/sh 127.0.0.1 4444"],
          }).spawn();
          spawned.push(shell);
          // Ready when each has exec'd under its new name (not after a guessed sleep: under
          // load a 200 ms wait was too short and the check saw plain `bash`).
          const cmdline = (pid: number) =>
            Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
          assert.ok(
            await eventually(async () =>
              (await cmdline(miner.pid)).startsWith("xmrig") &&
              (await cmdline(shell.pid)).startsWith("ncat")
            ),
            "the planted processes never started",
          );
          await fails("security:audit", "suspicious-processes", [
            new RegExp(`pid ${miner.pid} .*xmrig 60`),
            new RegExp(`pid ${shell.pid} .*ncat .*-e /bin/sh`),
          ]);
          // Gone at once: other test files look at this machine's processes too.
          for (const child of spawned.splice(0)) {
            child.kill("SIGKILL");
            await child.status;
          }
        },
      );

      await t.step("compose-risks: the risky service is found with its line", async () => {
        await Deno.writeTextFile(join(world.source, "docker-compose.yml"), RISKY_COMPOSE);
        const result = await fails("security:audit", "compose-risks", [/service admin/]);
        assert.ok(result.findings.every((f) => f.item === "admin" && f.line === 4));
        assert.equal(
          result.findings.length,
          6,
          "privileged, root, caps, network, pid, docker.sock",
        );
        await git(world.source, "checkout", "-q", "--", "docker-compose.yml");
      });

      await t.step("recent-changes: untracked and modified files are listed", async () => {
        await Deno.writeTextFile(join(world.source, "new.php"), "<?php echo 1;\n");
        await Deno.writeTextFile(join(world.source, "index.php"), "<?php echo 2;\n");
        await fails("security:audit", "recent-changes", [
          /new\.php: untracked/,
          /index\.php: modified/,
        ]);
        await Deno.remove(join(world.source, "new.php"));
        await git(world.source, "checkout", "-q", "--", "index.php");
      });

      await t.step("soc2 audit-logging: a world-readable log fails", async () => {
        const log = join(world.stateDir, "deployments.log");
        await Deno.chmod(log, 0o644);
        await fails("soc2:check", "audit-logging", [
          /every user on the machine can read the audit log/,
        ]);
        await Deno.chmod(log, 0o600);
      });

      await t.step("soc2 key-permissions: key 0640 and dir 0750 fail", async () => {
        await Deno.chmod(key, 0o640);
        await Deno.chmod(world.stateDir, 0o750);
        await fails("soc2:check", "key-permissions", [
          /the key's mode is 0640/,
          /directory's mode is 0750/,
        ]);
        await Deno.chmod(key, 0o600);
        await Deno.chmod(world.stateDir, 0o700);
      });

      await t.step(
        "soc2 deploy-strategy (branch) and encrypted-secrets (no key) fail",
        async () => {
          await Deno.writeTextFile(world.config, nodeConfig(world, ssh!, "branch"));
          await Deno.rename(key, `${key}.away`);
          const r = await run("soc2:check");
          assert.equal(r.code, 1, show(r));
          failed(r, "deploy-strategy", /deployment\.strategy is branch, not release/);
          failed(r, "encrypted-secrets", /there is no encryption key/);
          await Deno.rename(`${key}.away`, key);
          await Deno.writeTextFile(world.config, nodeConfig(world, ssh!));
        },
      );

      await t.step("soc2 git-integrity: a directory that is no repository fails", async () => {
        await fails(
          "soc2:check",
          "git-integrity",
          [/it is not a git repository/],
          "-p",
          `repo=${world.dir}`,
        );
      });

      await t.step("trojansearch: the webshell scores high; only recent files count", async () => {
        const shell = await plantWebshell(world);
        const result = await fails("security:trojansearch", "trojan-files", [
          /shell\.php:2 .*score \d+/,
        ]);
        assert.equal(result.findings[0].file, shell);
        const old = new Date(Date.now() - 20 * 86_400_000);
        await Deno.utime(shell, old, old);
        await fails("security:trojansearch", "trojan-files", [/shell\.php/], "-p", "days=30");
      });

      await t.step("changed-files: N days, git state; warns (exit 0), --strict fails", async () => {
        const r = await run("security:changedfiles");
        assert.equal(r.code, 0, show(r));
        const result = r.results[0];
        assert.equal(result.level, "warn");
        failed(r, "changed-files", /index\.php .*git: clean/);
        assert.ok(!result.findings.some((f) => f.file?.endsWith("shell.php")), "20 days old");
        await fails(
          "security:changedfiles",
          "changed-files",
          [/shell\.php .*git: untracked/],
          "--strict",
          "-p",
          "days=30",
        );
        const old = new Date(Date.now() - 40 * 86_400_000);
        for await (const entry of Deno.readDir(world.source)) {
          if (entry.isFile) await Deno.utime(join(world.source, entry.name), old, old);
        }
        await Deno.remove(join(world.source, "uploads"), { recursive: true });
        const quiet = await run("security:changedfiles", undefined, "--strict");
        assert.equal(quiet.results[0]?.status, "pass", show(quiet));
        assert.equal(quiet.code, 0);
      });

      await t.step("an unknown target exits 2 naming the known ones", async () => {
        const r = await cli(["soc2:check", "--target", "web-9", ...world.args], { env: world.env });
        assert.equal(r.code, 2, show({ ...r, results: [] }));
        assert.match(r.stderr, /unknown target "web-9"; known: .*web-1/);
        assert.match(r.stderr, /web-down/);
      });

      await t.step("an unreachable node exits 1: cannot connect", async () => {
        const r = await cli(["security:audit", "--target", "web-down", ...world.args], {
          env: world.env,
        });
        assert.equal(r.code, 1, show({ ...r, results: [] }));
        assert.match(r.stderr, /web-down: cannot connect/);
      });
    } finally {
      for (const child of spawned) {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
        await child.status;
      }
      await ssh?.stop();
      await world.cleanup();
    }
  }),
);
