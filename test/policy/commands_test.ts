/**
 * Commands are built as data and parsed as data: the pure builders and parsers of the
 * collectors, the safe-regex gate, matchers and waivers — no target needed. Plus the real
 * `crontab` binary on the user's own crontab, saved and restored.
 */
import assert from "node:assert/strict";
import $ from "dax";
import { crontab, crontabCommand, parseCrontab } from "../../src/policy/collectors/crontab.ts";
import { fileStatCommand, parseFileStat } from "../../src/policy/collectors/file_stat.ts";
import {
  findFiles,
  findFilter,
  gitStateOf,
  parseGitFiles,
} from "../../src/policy/collectors/find_files.ts";
import { parseScan, scanCommand, scoreFiles } from "../../src/policy/collectors/pattern_scan.ts";
import { parseProcesses } from "../../src/policy/collectors/processes.ts";
import { phpCallSitePattern } from "../../src/policy/collectors/php_context.ts";
import { shellQuote } from "../../src/shell/quote.ts";
import { parseCompose } from "../../src/policy/collectors/compose_services.ts";
import { checkValue } from "../../src/policy/matchers.ts";
import { unsafeRegexReason } from "../../src/policy/safe_regex.ts";
import { applyWaivers } from "../../src/policy/waivers.ts";
import { bindPolicyParams } from "../../src/policy/params.ts";
import { LocalTarget } from "../../src/targets/local.ts";
import { exclusive } from "../fixtures/helpers.ts";

Deno.test("collector commands are quoted shell built from data", () => {
  assert.equal(
    findFilter(["/srv/a b", "/x'y"], [".git", "vendor"], ["*.php"], "24h"),
    "find -H '/srv/a b' '/x'\\''y' \\( -name '.git' -o -name 'vendor' \\) ! -path '/srv/a b' " +
      "! -path '/x'\\''y' -prune -o -type f " +
      "\\( -name '*.php' \\) -mmin -1440",
  );
  const scan = scanCommand({
    paths: ["/app"],
    include: [],
    exclude_dirs: [],
    patterns: [{ id: "eval", regex: "\\beval\\s*\\(", weight: 1 }],
  }, "grep");
  assert.match(scan, /^jobs=\$\(nproc/);
  assert.match(
    scan,
    /find -H '\/app' -type f -print0 \| xargs -0 -r -P "\$jobs" -n 2048 sh -c 'exec grep -EnIHZ "\$@" > "\$0\/\$\$"' "\$out" -e '\\beval\\s\*\\\(' --/,
  );
  // Each grep writes its own file (no line-buffered writes to a shared pipe), removed on exit.
  assert.match(scan, /out=\$\(mktemp -d [^\n]*\ntrap 'rm -rf "\$out"' EXIT\n/);
  assert.match(scan, /\ncat "\$out"\/\* 2>\/dev\/null\n/);
  // PHP-only scans leave plain method and static calls on the node.
  const php = scanCommand({
    paths: ["/app"],
    include: ["*.php"],
    exclude_dirs: [],
    patterns: [{ id: "eval", regex: "\\beval\\s*\\(", weight: 1 }],
    language: "php",
  });
  assert.ok(php.includes(shellQuote(phpCallSitePattern("\\beval\\s*\\("))), php);
  assert.match(fileStatCommand("/k'ey"), /stat -c '%a\|%U\|%Y\|%s\|%F' -- '\/k'\\''ey'/);
  assert.match(crontabCommand("deploy"), /crontab -u 'deploy' -l/);
});

Deno.test("collector parsers", () => {
  assert.deepEqual(parseFileStat("/k", "1000000\n600|root|913600|64|regular file\n"), {
    path: "/k",
    exists: true,
    mode: "0600",
    owner: "root",
    type: "regular file",
    size: 64,
    age_days: 1,
    world_readable: false,
    world_writable: false,
    group_readable: false,
  });
  assert.deepEqual(parseFileStat("/k", "1\nmissing\n"), { path: "/k", exists: false });
  const patterns = [
    { id: "eval", regex: "\\beval\\s*\\(", weight: 2 },
    { id: "b64", regex: "\\bbase64_decode\\s*\\(", weight: 1 },
  ];
  const hits = parseScan(
    "/a:b.php\x0012:eval(base64_decode($x));\n/c.php\x003:eval($y)\n",
    patterns,
  );
  assert.deepEqual(hits.map((h) => [h.file, h.line, h.pattern]), [
    ["/a:b.php", 12, "eval"],
    ["/a:b.php", 12, "b64"],
    ["/c.php", 3, "eval"],
  ]);
  assert.deepEqual(scoreFiles(hits).map((f) => [f.file, f.score]), [["/a:b.php", 3], [
    "/c.php",
    2,
  ]]);
  assert.deepEqual(parseProcesses("1 root init /sbin/init\n 77 www sleep xmrig 60\n", 1), [
    { pid: 77, user: "www", comm: "sleep", name: "xmrig", args: "xmrig 60" },
  ]);
  assert.deepEqual(parseCrontab("# x\n\nMAILTO=ops\n@reboot start\n"), [
    { line: "@reboot start", schedule: "@reboot", command: "start", cd: "", block: "" },
  ]);
  assert.deepEqual(
    parseCrontab(
      "# BEGIN protocol shop\n@reboot cd '/opt/my app/current' && up\n# END protocol shop\n" +
        '17 3 * * * cd "/srv/x" ; backup\n',
    ).map((e) => [e.schedule, e.cd, e.block]),
    [["@reboot", "/opt/my app/current", "shop"], ["17 3 * * *", "/srv/x", ""]],
  );
  const view = parseGitFiles("/r\0/\0a\0b\0/\0b\0/\0c\0");
  assert.deepEqual(
    ["/r/a", "/r/b", "/r/c", "/r/d", "/elsewhere"].map((f) => gitStateOf(view, f)),
    ["clean", "modified", "untracked", "ignored", "no_repo"],
  );
  const [svc] = parseCompose(
    "c.yml",
    "services:\n  x:\n    cap_add: [cap_sys_admin]\n    user: '0'\n",
  );
  assert.deepEqual([svc.line, svc.cap_add, svc.user], [2, ["SYS_ADMIN"], "0"]);
});

Deno.test("safe regex gate and matchers", () => {
  assert.equal(unsafeRegexReason("\\beval\\s*\\("), undefined);
  assert.equal(unsafeRegexReason("(^|[^>:A-Za-z0-9_])exec\\s*\\("), undefined);
  for (const bad of ["(a+)+$", "(a|b*)*", "(x{2,})+", "(a)\\1", "(?=a)"]) {
    assert.ok(unsafeRegexReason(bad), bad);
  }
  assert.deepEqual(checkValue("0600", { at_most: "0600" }), []);
  assert.deepEqual(checkValue("0400", { at_most: "0600" }), []);
  assert.deepEqual(checkValue("0604", { at_most: "0600" }), ["is 0604, expected at most 0600"]);
  assert.deepEqual(checkValue("0700", { at_most: "0600" }).length, 1, "execute bit is beyond 0600");
  assert.deepEqual(checkValue(["SYS_ADMIN"], { contains_any: ["ALL", "SYS_ADMIN"] }), []);
  assert.deepEqual(checkValue(undefined, { exists: true }), ["is absent"]);
});

Deno.test("int parameters: a negative number is told it must be 0 or more", () => {
  const policy = { params: { days: { type: "int" as const, default: 15 } } };
  assert.deepEqual(bindPolicyParams(policy, { days: "0" }), { days: 0 });
  assert.throws(
    () => bindPolicyParams(policy, { days: "-1" }),
    /^PolicyParamError: parameter days must be 0 or more, got -1$/,
  );
  assert.throws(
    () => bindPolicyParams(policy, { days: "soon" }),
    /parameter days must be a whole number, got "soon"/,
  );
});

Deno.test("waivers: match by glob or item; expired ones stop waiving", () => {
  const waiver = {
    check: "c",
    match: "uploads/*.php",
    justification: "j",
    approver: "a",
    expires: "2026-06-30",
  };
  const findings = [{ message: "m", file: "/app/uploads/x.php" }, {
    message: "n",
    file: "/app/y.php",
  }];
  const valid = applyWaivers("c", findings, [waiver], "2026-06-30");
  assert.deepEqual([valid.remaining.length, valid.waived.length, valid.notes], [1, 1, []]);
  const expired = applyWaivers("c", findings, [waiver], "2026-07-01");
  assert.deepEqual([expired.remaining.length, expired.waived.length], [2, 0]);
  assert.match(expired.notes[0], /expired on 2026-06-30/);
  assert.equal(applyWaivers("other", findings, [waiver], "2026-01-01").waived.length, 0);
});

Deno.test(
  "crontab collector: the real crontab binary, the user's own crontab (restored after)",
  // The user's crontab is shared with the cron:add test: one at a time.
  exclusive("crontab", async () => {
    const ctx = { target: new LocalTarget(), stateDir: "/nonexistent" };
    const saved = await $`crontab -l`.noThrow().quiet();
    try {
      await $`crontab -r`.noThrow().quiet();
      assert.deepEqual(await crontab({ kind: "crontab" }, ctx), { items: [], count: 0 });
      await $`crontab -`.stdinText("# test\n@reboot /bin/true\n").quiet();
      assert.deepEqual(await crontab({ kind: "crontab" }, ctx), {
        items: [{
          line: "@reboot /bin/true",
          schedule: "@reboot",
          command: "/bin/true",
          cd: "",
          block: "",
        }],
        count: 1,
      });
    } finally {
      if (saved.code === 0) await $`crontab -`.stdinText(saved.stdout).quiet();
      else await $`crontab -r`.noThrow().quiet();
    }
  }),
);

Deno.test("find_files with git: only the directory asked about is listed, however large the repository", async () => {
  // 12,000 tracked paths of ~100 bytes elsewhere in the work tree (a committed vendor/): git's
  // listing of the whole tree outgrew the target's 1 MiB, and the check errored (before that, it
  // was silently cut and files read as "ignored").
  const repo = await Deno.makeTempDir({ prefix: "find-git-" });
  try {
    await $`git init -q ${repo}`;
    await Deno.mkdir(`${repo}/app`);
    await Deno.writeTextFile(`${repo}/app/x.php`, "<?php\n");
    await Deno.writeTextFile(`${repo}/app/new.php`, "<?php\n");
    const emptyBlob = (await $`git -C ${repo} hash-object -w --stdin`.stdinText("").text()).trim();
    const index = Array.from(
      { length: 12_000 },
      (_, i) => `100644 ${emptyBlob} 0\tvendor/${"v".repeat(80)}/${String(i).padStart(6, "0")}.php`,
    ).join("\n");
    await $`git -C ${repo} update-index --add --index-info`.stdinText(`${index}\n`);
    await $`git -C ${repo} add app/x.php`;
    await $`git -C ${repo} -c user.name=t -c user.email=t@t commit -q -m init`;
    const ctx = { target: new LocalTarget(), stateDir: "/nonexistent" };
    try {
      const found = await findFiles(
        {
          kind: "find_files",
          paths: [`${repo}/app`],
          exclude_dirs: [],
          include: [],
          git: true,
          limit: 100,
          if_missing: "error",
          world_writable: false,
        },
        ctx,
      ) as { items: { file: string; git: string }[] };
      const real = await Deno.realPath(repo);
      assert.deepEqual(
        found.items.map((i) => [i.file.replace(repo, real), i.git]),
        [[`${real}/app/new.php`, "untracked"], [`${real}/app/x.php`, "clean"]],
      );
    } finally {
      await ctx.target.close();
    }
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});
