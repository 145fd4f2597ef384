/**
 * The @reboot entry: building the crontab text (pure), then the real `crontab` binary from
 * Debian's cron package — idempotent add, other lines preserved, remove, "no crontab for user".
 * The user's existing crontab is saved first and restored in a finally block.
 */
import assert from "node:assert/strict";
import {
  cronAdd,
  cronBlockName,
  cronMarkers,
  cronRemove,
  readCrontab,
  rebootEntry,
  SecretsInputError,
  withCronBlock,
  withoutAppBlocks,
  withoutCronBlock,
} from "../../src/secrets/mod.ts";
import { cli, exclusive, tempWorld } from "../fixtures/helpers.ts";

const BLOCK = "# BEGIN protocol app\n@reboot x\n# END protocol app\n";
const MYAPP = { name: "myapp", dir: "/opt/myapp" };

Deno.test("crontab text", async (t) => {
  await t.step("the reboot entry cds into the active release and escapes %", () => {
    assert.equal(
      rebootEntry({ dir: "/opt/myapp", start: "docker compose up -d" }),
      "@reboot cd /opt/myapp/current && docker compose up -d",
    );
    assert.equal(
      rebootEntry({ dir: "/opt/my app", start: "date +%s > started" }),
      "@reboot cd '/opt/my app/current' && date +\\%s > started",
    );
    assert.throws(() => rebootEntry({ dir: "/a", start: "x\ny" }), SecretsInputError);
  });
  await t.step("adding appends one block and keeps other lines", () => {
    assert.equal(withCronBlock("", "app", ["@reboot x"]), BLOCK);
    assert.equal(
      withCronBlock("MAILTO=ops\n0 * * * * job", "app", ["@reboot x"]),
      `MAILTO=ops\n0 * * * * job\n${BLOCK}`,
    );
  });
  await t.step("adding again replaces the block in place of the old one, once", () => {
    const once = withCronBlock("A=1\n", "app", ["@reboot x"]);
    assert.equal(withCronBlock(once, "app", ["@reboot x"]), once);
    assert.equal(withCronBlock(once, "app", ["@reboot y"]), "A=1\n" + BLOCK.replace("x", "y"));
  });
  await t.step("removing drops only the app's block; other apps' blocks stay", () => {
    const other = "# BEGIN protocol other\n@reboot o\n# END protocol other\n";
    assert.equal(withoutCronBlock(`A=1\n${BLOCK}${other}`, "app"), `A=1\n${other}`);
    assert.equal(withoutCronBlock("A=1", "app"), "A=1", "no block: unchanged");
    assert.equal(withoutCronBlock(BLOCK, "app"), "");
  });
  await t.step("an unterminated block or a multi-line name is refused", () => {
    assert.throws(() => withoutCronBlock("# BEGIN protocol app\n@reboot x\n", "app"), /without/);
    assert.throws(() => cronMarkers("a\nb"), SecretsInputError);
  });
  await t.step("each install of an app has its own block; an old one goes only if ours", () => {
    const app = (dir: string) => ({ name: "shop", dir });
    assert.equal(cronBlockName(app("/srv/web-1/app")), "shop /srv/web-1/app");
    const two = withCronBlock(
      withCronBlock("", cronBlockName(app("/a")), ["@reboot a"]),
      cronBlockName(app("/b")),
      ["@reboot b"],
    );
    assert.match(two, /@reboot a\n[^]*@reboot b\n/);
    const old = "# BEGIN protocol shop\n@reboot a\n# END protocol shop\n";
    assert.equal(withoutAppBlocks(old, app("/a"), ["@reboot a"]), "");
    assert.equal(withoutAppBlocks(old, app("/b"), ["@reboot b"]), old);
  });
});

Deno.test({
  name: "the real crontab: idempotent add, preserve, remove, no crontab",
  // The user's crontab is shared with the policy collector's test: one at a time.
  fn: exclusive("crontab", async (t) => {
    const saved = await new Deno.Command("crontab", {
      args: ["-l"],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    const install = (text: string) => {
      const child = new Deno.Command("crontab", { args: ["-"], stdin: "piped" }).spawn();
      const writer = child.stdin.getWriter();
      return writer.write(new TextEncoder().encode(text)).then(() => writer.close()).then(() =>
        child.status
      );
    };
    const world = await tempWorld({ prefix: "secrets-cron-" });
    try {
      await t.step("no crontab for the user reads as empty", async () => {
        await new Deno.Command("crontab", { args: ["-r"], stderr: "null" }).output();
        assert.equal(await readCrontab(), "");
      });
      await t.step("add twice: one block; other lines kept", async () => {
        await install("MAILTO=ops@example.com\n17 3 * * * /usr/local/bin/backup\n");
        const entry = rebootEntry({ dir: "/opt/myapp", start: "docker compose up -d" });
        assert.equal((await cronAdd(MYAPP, [entry])).changed, true);
        assert.equal((await cronAdd(MYAPP, [entry])).changed, false);
        const text = await readCrontab();
        assert.equal(text.split("# BEGIN protocol myapp").length, 2, text);
        assert.match(text, /^MAILTO=ops@example\.com\n17 3 \* \* \* \/usr\/local\/bin\/backup\n/);
        assert.ok(
          text.includes(
            `# BEGIN protocol myapp /opt/myapp\n${entry}\n# END protocol myapp /opt/myapp\n`,
          ),
        );
      });
      await t.step("remove twice: block gone, other lines kept", async () => {
        const entry = rebootEntry({ dir: "/opt/myapp", start: "docker compose up -d" });
        assert.equal((await cronRemove(MYAPP, [entry])).changed, true);
        assert.equal((await cronRemove(MYAPP, [entry])).changed, false);
        const text = await readCrontab();
        assert.ok(!text.includes("protocol myapp"), text);
        assert.match(text, /17 3 \* \* \* \/usr\/local\/bin\/backup/);
      });
      await t.step("two nodes of one app on one host keep an entry each", async () => {
        await install("");
        const nodes = ["/srv/web-1/app", "/srv/web-2/app"].map((dir) => ({ name: "shop", dir }));
        const entries = nodes.map((n) => rebootEntry({ dir: n.dir, start: "./start" }));
        for (const [i, node] of nodes.entries()) await cronAdd(node, [entries[i]]);
        const both = await readCrontab();
        for (const entry of entries) assert.ok(both.includes(`${entry}\n`), both);
        await cronRemove(nodes[0], [entries[0]]);
        const one = await readCrontab();
        assert.ok(!one.includes(entries[0]) && one.includes(entries[1]), one);
        await cronRemove(nodes[1], [entries[1]]);
      });
      await t.step(
        "a block of the earlier form (app name alone) is replaced when it is ours",
        async () => {
          const ours = rebootEntry({ dir: "/srv/web-1/app", start: "./start" });
          const theirs = rebootEntry({ dir: "/srv/web-2/app", start: "./start" });
          await install(`# BEGIN protocol shop\n${ours}\n# END protocol shop\n`);
          await cronAdd({ name: "shop", dir: "/srv/web-1/app" }, [ours]);
          assert.equal(
            await readCrontab(),
            `# BEGIN protocol shop /srv/web-1/app\n${ours}\n# END protocol shop /srv/web-1/app\n`,
          );
          // Another install's old block stays until that install is set up again.
          await install(`# BEGIN protocol shop\n${theirs}\n# END protocol shop\n`);
          await cronAdd({ name: "shop", dir: "/srv/web-1/app" }, [ours]);
          assert.ok((await readCrontab()).startsWith(`# BEGIN protocol shop\n${theirs}\n`));
          await install("");
        },
      );
      await t.step("the CLI: cron:add prints the entry, records an audit entry", async () => {
        const args = ["--config", world.config, "--state-dir", world.stateDir];
        const first = await cli(["cron:add", ...args]);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /added to the crontab: @reboot cd .*\/app\/current && true/);
        const again = await cli(["cron:add", ...args]);
        assert.match(again.stdout, /already in the crontab/);
        const removed = await cli(["cron:remove", ...args]);
        assert.match(removed.stdout, /removed the entry/);
        assert.ok(!(await readCrontab()).includes("protocol test-app"));
        const log = await Deno.readTextFile(`${world.stateDir}/deployments.log`);
        const entries = log.trim().split("\n").map((line) => JSON.parse(line))
          .filter((e) => e.action !== "key.rotated"); // each command ends sealed
        assert.deepEqual(
          entries.map((e) => [e.action, e.operation, e.changed, e.status]),
          [["cron", "add", true, "success"], ["cron", "add", false, "success"], [
            "cron",
            "remove",
            true,
            "success",
          ]],
        );
      });
    } finally {
      if (saved.success) await install(new TextDecoder().decode(saved.stdout));
      else await new Deno.Command("crontab", { args: ["-r"], stderr: "null" }).output();
      await world.cleanup();
    }
  }),
});
