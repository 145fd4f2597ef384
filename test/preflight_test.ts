/**
 * The test suite's preflight: the package list parses, every listed program is installed here
 * (so no test can meet a missing tool), and a machine that lacks a package and cannot install
 * it stops with one line naming the package and the command.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  installCommand,
  missingLine,
  missingPackages,
  PACKAGE_LIST,
  parsePackageList,
} from "./preflight.ts";

Deno.test("preflight: the list parses and everything on it is installed here", async () => {
  const wanted = parsePackageList(await Deno.readTextFile(PACKAGE_LIST));
  for (const name of ["openssh-server", "openssh-client", "php-cli", "cron", "socat", "procps"]) {
    assert.ok(wanted.some((p) => p.name === name), `${name} is listed`);
  }
  assert.deepEqual(await missingPackages(wanted), []);
});

Deno.test("preflight: a malformed entry is refused", () => {
  assert.throws(() => parsePackageList("socat\n"), /entry 1: expected "package program"/);
  assert.deepEqual(parsePackageList("# c\n\nsocat  socat  # why\n"), [
    { name: "socat", probe: "socat" },
  ]);
});

Deno.test("preflight: the install command, with sudo unless root", () => {
  assert.equal(
    installCommand(["php-cli", "cron"], false),
    "sudo apt-get update && sudo apt-get install -y php-cli cron",
  );
  assert.match(missingLine(["cron"], true), /cron; install them with: apt-get update && apt-get/);
});

Deno.test("preflight: missing and not installable stops with one line, exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "preflight-" });
  try {
    const list = join(dir, "packages.txt");
    await Deno.writeTextFile(list, "no-such-package /nonexistent/no-such-program\nsh sh\n");
    // No apt-get on this PATH: the preflight cannot install, so it must say what to run.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(import.meta.dirname!, "preflight.ts"), list],
      env: { PATH: "/usr/bin/nonexistent", NO_COLOR: "1" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 1);
    assert.equal(stderr.split("\n").length, 1, stderr);
    assert.match(
      stderr,
      /not installed: no-such-package sh; install them with: .*apt-get install -y no-such-package sh$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
