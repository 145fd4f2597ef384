/**
 * SOP 2, 5 and 7 end to end over real sshd nodes: first-time node setup (deploy key, the
 * encryption key at 0600/0700 on the node, decrypted config, the release, @reboot entry, soc2),
 * a configuration change refreshed on every node, and key rotation across every environment
 * branch — plus rotation failing halfway (a branch, or the push) leaving everything as it was.
 * Secret values must never appear in output, run records or the audit log.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decryptEnvelope, keyFromHex, rotateKey } from "../../src/secrets/mod.ts";
import type { FleetWorld } from "../fixtures/fleet.ts";
import { type ConfigFleet, createConfigFleet } from "../fixtures/config_fleet.ts";
import { cli, exclusive, ROOT, runArgs } from "../fixtures/helpers.ts";
import { git } from "./config_repo_helpers.ts";

const SECRETS = { production: "prod-db-pass-8231", staging: "stage-db-pass-5519" };
const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
const keyHex = (stateDir: string) => Deno.readTextFile(join(stateDir, "key"));

/** A fleet with a key and a config repository whose branches hold encrypted `.env` files. */
function world(): Promise<ConfigFleet> {
  return createConfigFleet({
    nodes: 2,
    prefix: "sop-secrets-",
    envs: Object.fromEntries(
      Object.entries(SECRETS).map(([env, secret]) => [env, `DB_PASSWORD=${secret}\nDEBUG=0\n`]),
    ),
  });
}

/** Nothing the tool printed or stored may hold a secret value. */
async function assertNoSecrets(w: FleetWorld, ...outputs: string[]) {
  const stored = [
    await Deno.readTextFile(join(w.stateDir, "deployments.log")),
    ...await Array.fromAsync(
      Deno.readDir(join(w.stateDir, "runs")),
      (e) => Deno.readTextFile(join(w.stateDir, "runs", e.name)),
    ).catch(() => []),
  ];
  const key = await keyHex(w.stateDir);
  for (const text of [...outputs, ...stored]) {
    for (const secret of [...Object.values(SECRETS), key]) {
      assert.ok(!text.includes(secret), `a secret leaked: ${text.slice(0, 300)}`);
    }
  }
}

async function decryptsWith(hex: string, text: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await decryptEnvelope(keyFromHex(hex), text, "x"));
  } catch {
    return undefined;
  }
}

const remoteEnc = (w: { remote: string }, branch: string) =>
  git("--git-dir", w.remote, "show", `${branch}:.env.enc`);

Deno.test(
  "SOP 2, 5 and 7 over SSH nodes",
  // The login user's crontab is changed too (SOP 2's cron:add): one crontab test at a time.
  exclusive(
    "processes",
    exclusive("crontab", async (t) => {
      const w = await world();
      const savedCrontab = await new Deno.Command("crontab", {
        args: ["-l"],
        stdout: "piped",
        stderr: "null",
      }).output();
      try {
        const node = (i: number) => w.nodes[i];
        const nodeState = (i: number) => join(w.dir, node(i).name, "state");

        await t.step("secrets:key --scp copies the key with 0600/0700", async () => {
          const to = join(w.dir, "scp-target", "state");
          const port = w.ssh.nodes[0].port;
          const r = await cli([
            "secrets:key",
            `--scp=${w.ssh.user}@127.0.0.1:${port}`,
            "--to-dir",
            to,
            "--config",
            w.config,
            "--state-dir",
            w.stateDir,
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /installed the encryption key .*0600, directory 0700/);
          assert.equal(await Deno.readTextFile(join(to, "key")), await keyHex(w.stateDir));
          assert.equal(await mode(join(to, "key")), 0o600);
          assert.equal(await mode(to), 0o700);
          const bad = await cli(["secrets:key", "--scp=no such", "--state-dir", w.stateDir]);
          assert.equal(bad.code, 2, bad.stderr);
          await assertNoSecrets(w, r.stdout, r.stderr);
        });

        await t.step("SOP 2: node-setup brings both nodes up from nothing", async () => {
          const r = await cli(runArgs(
            ROOT,
            w,
            "node-setup",
            "v1.1.0",
            "--yes",
            "-p",
            `deploy_key=${join(w.dir, "deploy_key")}`,
          ));
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.equal(await keyHex(nodeState(1)), await keyHex(w.stateDir));
          assert.equal(await mode(join(nodeState(1), "key")), 0o600);
          assert.equal(await mode(nodeState(1)), 0o700);
          const env = join(node(1).appDir, "shared", ".env");
          assert.equal(
            await Deno.readTextFile(env),
            `DB_PASSWORD=${SECRETS.production}\nDEBUG=0\n`,
          );
          assert.equal(await mode(env), 0o600);
          assert.equal((await fetch(node(1).healthUrl).then((res) => res.text())).length > 0, true);
          const crontab = await new Deno.Command("crontab", { args: ["-l"], stdout: "piped" })
            .output();
          // Both nodes live on this machine and share one crontab: each keeps its own entry.
          for (const i of [0, 1]) {
            const dir = node(i).appDir;
            assert.ok(
              new TextDecoder().decode(crontab.stdout).includes(
                `# BEGIN protocol demo-app ${dir}\n@reboot cd '${dir}/current' && `,
              ),
              new TextDecoder().decode(crontab.stdout),
            );
          }
          assert.match(r.stdout + r.stderr, /soc2/);
          assert.match(r.stdout + r.stderr, /ssh-ed25519 /); // the public deploy key, shown for the confirm
          await assertNoSecrets(w, r.stdout, r.stderr);
        });

        await t.step("SOP 5: config-change refreshes every node and restarts it", async () => {
          const r = await cli(runArgs(ROOT, w, "config-change", "production", "--yes"));
          assert.equal(r.code, 0, r.stdout + r.stderr);
          for (const i of [0, 1]) {
            const env = join(node(i).appDir, "shared", ".env");
            assert.match(await Deno.readTextFile(env), new RegExp(SECRETS.production));
            assert.equal(await mode(env), 0o600);
          }
          // Decrypted for editing, encrypted again: no plaintext is left in the checkout.
          assert.equal(await Deno.lstat(join(w.checkout, ".env")).then(() => 1, () => 0), 0);
          await assertNoSecrets(w, r.stdout, r.stderr);
        });

        await t.step("decrypted values are masked in output, records and audit", async () => {
          const root = join(w.dir, "leaky-project");
          await Deno.mkdir(join(root, "runbooks"), { recursive: true });
          await Deno.writeTextFile(
            join(root, "runbooks", "leak.yaml"),
            [
              "id: leak",
              "title: Prints the secrets it decrypted",
              "when: A test needs secrets printed",
              "steps:",
              "  - name: Refresh the config on the nodes",
              "    on: app",
              "    config: refresh",
              "  - name: Print the env file",
              "    on: app",
              "    run: cat ${{ app.dir }}/shared/.env",
              "  - name: Fail while printing it",
              "    on: app",
              "    run: cat ${{ app.dir }}/shared/.env >&2; exit 3",
            ].join("\n"),
          );
          const r = await cli(runArgs(root, w, "leak", "--yes"));
          assert.equal(r.code, 1, r.stdout + r.stderr);
          assert.match(r.stdout + r.stderr, /DB_PASSWORD=\*\*\*/);
          assert.match(r.stdout + r.stderr, /DEBUG=0/); // short values are not secrets
          await assertNoSecrets(w, r.stdout, r.stderr);
        });

        await t.step("SOP 7: a branch failing halfway changes nothing", async () => {
          const before = await keyHex(w.stateDir);
          const heads = await git("--git-dir", w.remote, "for-each-ref");
          await assert.rejects(
            rotateKey(
              {
                path: w.checkout,
                remote: "origin",
                environments: ["production", "staging"],
                env_dir: "/nonexistent",
              },
              w.stateDir,
              {
                beforeCommit: (env) => {
                  if (env === "staging") throw new Error("disk full while re-encrypting staging");
                },
              },
            ),
            /nothing was pushed and the old key stays in force: disk full/,
          );
          assert.equal(await keyHex(w.stateDir), before);
          assert.equal(await git("--git-dir", w.remote, "for-each-ref"), heads);
          for (const env of ["production", "staging"] as const) {
            assert.match(
              (await decryptsWith(before, await remoteEnc(w, env)))!,
              new RegExp(SECRETS[env]),
            );
            const local = await git("-C", w.checkout, "show", `${env}:.env.enc`);
            assert.ok(
              await decryptsWith(before, local),
              `${env} locally still decrypts with the old key`,
            );
          }
          assert.equal((await git("-C", w.checkout, "status", "--porcelain")).trim(), "");
          assert.equal(await Deno.lstat(join(w.stateDir, "key.next")).then(() => 1, () => 0), 0);
        });

        await t.step("SOP 7: a rejected push changes nothing", async () => {
          const before = await keyHex(w.stateDir);
          const hook = join(w.remote, "hooks", "pre-receive");
          await Deno.writeTextFile(hook, "#!/bin/sh\necho 'protected: rejected' >&2\nexit 1\n", {
            mode: 0o755,
          });
          const r = await cli(runArgs(ROOT, w, "key-rotation", "--yes"));
          await Deno.remove(hook);
          assert.equal(r.code, 1, r.stdout + r.stderr);
          assert.match(r.stdout + r.stderr, /nothing was pushed and the old key stays in force/);
          assert.equal(await keyHex(w.stateDir), before);
          assert.ok(
            await decryptsWith(before, await git("-C", w.checkout, "show", "staging:.env.enc")),
          );
        });

        await t.step(
          "SOP 7: key-rotation re-encrypts every branch and reaches every node",
          async () => {
            const before = await keyHex(w.stateDir);
            const r = await cli(runArgs(ROOT, w, "key-rotation", "--yes"));
            assert.equal(r.code, 0, r.stdout + r.stderr);
            const after = await keyHex(w.stateDir);
            assert.notEqual(after, before);
            const kept = [...Deno.readDirSync(w.stateDir)].map((e) => e.name).filter((n) =>
              n.startsWith("key.old-")
            );
            assert.equal(kept.length, 1);
            assert.equal(await Deno.readTextFile(join(w.stateDir, kept[0])), before);
            for (const env of ["production", "staging"] as const) {
              const text = await remoteEnc(w, env);
              assert.match((await decryptsWith(after, text))!, new RegExp(SECRETS[env]));
              assert.equal(await decryptsWith(before, text), undefined);
            }
            for (const i of [0, 1]) {
              assert.equal(await keyHex(nodeState(i)), after);
              assert.equal(await mode(join(nodeState(i), "key")), 0o600);
            }
            await assertNoSecrets(w, r.stdout, r.stderr);
            const verify = await cli(["audit:verify", "--state-dir", w.stateDir]);
            assert.equal(verify.code, 0, verify.stdout + verify.stderr);
          },
        );
      } finally {
        await restoreCrontab(savedCrontab);
        await w.cleanup();
      }
    }),
  ),
);

async function restoreCrontab(saved: Deno.CommandOutput): Promise<void> {
  const child = new Deno.Command("crontab", {
    args: saved.success ? ["-"] : ["-r"],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  if (saved.success) await writer.write(saved.stdout);
  await writer.close();
  await child.status;
}
