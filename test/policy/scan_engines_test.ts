/**
 * The pattern scan reads the same files the same way whichever program a node has: ripgrep's
 * script and grep's print exactly the same lines over a tree of awkward cases (hidden, ignored,
 * excluded, binary, UTF-16, BOM, CRLF, bytes that are not UTF-8, names with blanks and colons,
 * links, directories named like files), for the shipped malicious-code check and for a plain
 * scan of every file. And `auto` falls back to grep when the node has no `rg` or one that
 * refuses the flags, with the same findings.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  PatternScanSpec,
  scanCommand,
  type ScanEngine,
} from "../../src/policy/collectors/pattern_scan.ts";
import { loadPolicy } from "../../src/policy/mod.ts";
import { ROOT } from "../fixtures/helpers.ts";

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(
    parts.flatMap((p) => typeof p === "string" ? [...new TextEncoder().encode(p)] : p),
  );

/** Relative path → content: every case where two programs could read a tree differently. */
const TREE: Record<string, string | Uint8Array> = {
  "index.php": "<?php\neval($_POST['x']);\n$redis->eval($s);\nFoo::system('x');\n",
  "mentions.php": '<?php\n$h = "never eval() here";\n// system($cmd);\n',
  "many.php": "<?php eval(base64_decode(gzinflate($p))); exec($c);\n",
  "no-newline.php": "<?php system($c);",
  "crlf.php": "<?php\r\neval($a);\r\n",
  "utf8-bom.php": bytes([0xef, 0xbb, 0xbf], "<?php eval($a);\n"),
  "latin1.php": bytes("<?php ", [0xe9], "eval($a); // ", [0xff, 0xfe], "\n"),
  "unicode-boundary.php": "<?php éeval($a); eval\u00a0($b); Ωsystem($c);\n",
  "utf16.php": bytes(
    [0xff, 0xfe],
    ..."<?php eval($a);\n".split("").map((c) => [c.charCodeAt(0), 0]),
  ),
  "binary.php": bytes([0], "eval($a);\n"),
  "a b:c.php": "<?php eval($name);\n",
  ".hidden.php": "<?php eval($h);\n",
  ".hid/x.php": "<?php system($h);\n",
  "ignored.php": "<?php exec($ignored);\n",
  ".gitignore": "ignored.php\nsub/\n",
  ".ignore": "*.php\n",
  ".rgignore": "*\n",
  "sub/deep/x.php": "<?php passthru($x);\n",
  "sub/vendor/lib.php": "<?php eval($vendored);\n",
  "vendor/lib.php": "<?php eval($vendored);\n",
  "node_modules/m.php": "<?php eval($m);\n",
  ".git/hooks/h.php": "<?php eval($git);\n",
  "lib.php/inner.php": "<?php eval($inner);\n",
  "lib.php/inner.txt": "eval($text_in_php_dir);\n",
  "notes.txt": "eval(text) and system(text)\n",
  "upper.PHP": "<?php eval($upper);\n",
  "long.php": `<?php ${"x".repeat(10_000)} eval($long);\n`,
};

async function writeTree(dir: string): Promise<void> {
  for (const [rel, content] of Object.entries(TREE)) {
    const path = join(dir, rel);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
  }
  // Links are not followed below a path given: a file link and a directory link.
  await Deno.symlink(join(dir, "index.php"), join(dir, "link.php"));
  await Deno.symlink(join(dir, "sub"), join(dir, "linked-dir"));
}

/** Runs a scan script as collectors do (C locale) and returns its exit code and sorted lines. */
async function scan(script: string, path?: string) {
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    env: { LC_ALL: "C", ...(path ? { PATH: path } : {}) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  return { code: out.code, lines: stdout.split("\n").filter(Boolean).sort() };
}

/** A PATH with the tools the grep scan needs, and `rg` only as given. */
async function toolPath(dir: string, rg?: string): Promise<string> {
  await Deno.mkdir(dir);
  for (const tool of ["sh", "find", "xargs", "grep", "mktemp", "nproc", "cat", "rm"]) {
    const found = await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`] }).output();
    await Deno.symlink(new TextDecoder().decode(found.stdout).trim(), join(dir, tool));
  }
  if (rg) await Deno.writeTextFile(join(dir, "rg"), rg, { mode: 0o755 });
  return dir;
}

Deno.test("ripgrep and grep scans print the same lines", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "scan-engines-" });
  const tree = join(dir, "tree");
  try {
    await writeTree(tree);
    await Deno.mkdir(join(dir, "elsewhere", "vendor", "node_modules"), { recursive: true });
    await Deno.writeTextFile(join(dir, "elsewhere", "vendor", "v.php"), "<?php eval($v);\n");
    await Deno.writeTextFile(
      join(dir, "elsewhere", "vendor", "node_modules", "n.php"),
      "eval(1);\n",
    );
    const policy = await loadPolicy("security-audit", ROOT);
    const check = policy.checks.find((c) => c.id === "malicious-code")!;
    const specs = {
      "the shipped malicious-code check (PHP files, call sites)": PatternScanSpec.parse({
        ...check.collect,
        paths: [tree],
      }),
      "every file, and an excluded directory given explicitly as a second path": PatternScanSpec
        .parse({
          kind: "pattern_scan",
          paths: [tree, join(dir, "elsewhere", "vendor")],
          patterns: [
            { id: "eval", regex: "\\beval\\s*\\(" },
            { id: "system", regex: "\\bsystem[[:space:]]*\\(" },
            { id: "any", regex: "^<\\?php .*x{3,}" },
          ],
        }),
    };
    for (const [name, spec] of Object.entries(specs)) {
      await t.step(name, async () => {
        const results: Record<string, Awaited<ReturnType<typeof scan>>> = {};
        for (const engine of ["grep", "rg", "auto"] as ScanEngine[]) {
          results[engine] = await scan(scanCommand(spec, engine));
          assert.equal(results[engine].code, 0, engine);
        }
        assert.ok(results.grep.lines.length >= 8, results.grep.lines.join("\n"));
        assert.deepEqual(results.rg.lines, results.grep.lines);
        assert.deepEqual(results.auto.lines, results.grep.lines);
      });
    }

    const spec = specs["the shipped malicious-code check (PHP files, call sites)"];
    const expected = (await scan(scanCommand(spec, "grep"))).lines;
    await t.step("auto without rg on the node: grep, same lines", async () => {
      const path = await toolPath(join(dir, "no-rg"));
      assert.deepEqual((await scan(scanCommand(spec), path)).lines, expected);
    });
    await t.step(
      "auto with an rg that refuses the flags (an old one): grep, same lines",
      async () => {
        const path = await toolPath(
          join(dir, "old-rg"),
          "#!/bin/sh\necho 'unknown flag' >&2\nexit 2\n",
        );
        assert.deepEqual((await scan(scanCommand(spec), path)).lines, expected);
      },
    );
    await t.step("modified_within and globs ripgrep reads otherwise always take grep", () => {
      for (
        const narrowed of [
          { ...spec, modified_within: "24h" },
          { ...spec, include: ["*.{php,inc}"] },
          { ...spec, exclude_dirs: ["a/b"] },
          { ...spec, include: ["**/*.php"] },
          { ...spec, paths: [tree, join(tree, "vendor")] },
        ]
      ) {
        assert.equal(scanCommand(narrowed), scanCommand(narrowed, "grep"));
      }
      assert.match(scanCommand(spec), /^if command -v rg /);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
