/**
 * The malicious-code scan tells a call from a mention: calls of the listed functions fail the
 * audit; the same names in strings and comments are informational; method and static calls
 * (`$redis->eval(`, `Foo::system(`) are not the functions at all. And a `vendor` directory
 * given explicitly is scanned. Over the local target with the shipped policy.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/mod.ts";
import { phpCallSitePattern, phpHitContext } from "../../src/policy/collectors/php_context.ts";
import { OUTPUT_LIMIT } from "../../src/targets/target.ts";
import { type CheckResult, evaluatePolicy, loadPolicy } from "../../src/policy/mod.ts";
import { LocalTarget } from "../../src/targets/local.ts";
import { ROOT } from "../fixtures/helpers.ts";
import { LISTED_FUNCTIONS, type PolicyWorld, policyWorld } from "./world.ts";

const FUNCTIONS = [...LISTED_FUNCTIONS, "preg_replace"];

async function audit(world: PolicyWorld, params: Record<string, string> = {}) {
  const policy = await loadPolicy("security-audit", ROOT);
  const results: Record<string, CheckResult> = {};
  for (const only of ["malicious-code", "malicious-code-mentions"]) {
    const report = await evaluatePolicy(policy, new LocalTarget(), {
      stateDir: world.stateDir,
      config: await loadConfig(world.config),
      params,
      only,
    });
    results[only] = report.results[0];
  }
  return results;
}

const lines = (result: CheckResult) => result.findings.map((f) => f.line).sort((a, b) => a! - b!);

Deno.test("malicious-code: calls fail, mentions inform, methods and statics are not calls", async (t) => {
  const world = await policyWorld();
  try {
    await t.step("method and static calls of every listed function are not findings", async () => {
      const text = [
        "<?php",
        ...FUNCTIONS.flatMap((f) => [
          `$redis->${f}($script);`,
          `$x?->${f} ($a);`,
          `Foo::${f}($y);`,
          `parent :: ${f}($z);`,
          `function ${f}Wrapper() {}`,
        ]),
      ].join("\n");
      await Deno.writeTextFile(join(world.source, "methods.php"), text + "\n");
      const results = await audit(world);
      assert.equal(results["malicious-code"].status, "pass", JSON.stringify(results, null, 1));
      assert.equal(results["malicious-code-mentions"].status, "pass");
      await Deno.remove(join(world.source, "methods.php"));
    });

    await t.step("mentions in strings and comments are informational, not failures", async () => {
      await Deno.writeTextFile(
        join(world.source, "help.php"),
        [
          "<?php",
          '$help = "never use eval() here";',
          "// system($cmd);",
          "# exec('ls');",
          "/* passthru($x); */",
          " * base64_decode($blob) in a doc block",
          "$msg = 'shell_exec( is dangerous';",
          "",
        ].join("\n"),
      );
      const results = await audit(world);
      assert.equal(results["malicious-code"].status, "pass", JSON.stringify(results, null, 1));
      const mentions = results["malicious-code-mentions"];
      assert.equal(mentions.status, "fail");
      assert.equal(mentions.severity, "info");
      assert.equal(mentions.level, "warn");
      assert.deepEqual(lines(mentions), [2, 3, 4, 5, 6, 7]);
      assert.match(mentions.findings[0].message, /eval mentioned in a string/);
      assert.match(mentions.findings[1].message, /system mentioned in a comment/);
      await Deno.remove(join(world.source, "help.php"));
    });

    await t.step("real calls are found, however written", async () => {
      await Deno.writeTextFile(
        join(world.source, "shell.php"),
        [
          "<?php",
          "eval ($_POST['c']);",
          "$f = 'sys' . 'tem'; $f($_GET['cmd']);",
          "$_GET['fn']($_GET['arg']);",
          "assert($_REQUEST['a']);",
          "preg_replace('/.*/e', $_POST['code'], '');",
          "$g = create_function('$a', \"return $a;\");",
          'echo "ok"; system($_GET["s"]); // run it',
          "",
        ].join("\n"),
      );
      const code = (await audit(world))["malicious-code"];
      assert.equal(code.status, "fail");
      assert.deepEqual(lines(code), [2, 3, 4, 5, 6, 7, 8]);
      assert.match(code.findings[0].message, /^eval call: eval \(\$_POST/);
      await Deno.remove(join(world.source, "shell.php"));
    });

    await t.step("a vendor directory given explicitly is scanned", async () => {
      // The world's vendor/lib/x.php calls eval; vendor is pruned below the source, not as it.
      const clean = (await audit(world))["malicious-code"];
      assert.equal(clean.status, "pass", JSON.stringify(clean.findings));
      const vendor = await audit(world, { source: join(world.source, "vendor") });
      assert.equal(vendor["malicious-code"].status, "fail");
      assert.match(vendor["malicious-code"].findings[0].file!, /vendor\/lib\/x\.php$/);
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("trojansearch reads PHP files as malicious-code does; other files as they are", async () => {
  const world = await policyWorld();
  const trojans = async () => {
    const policy = await loadPolicy("trojansearch", ROOT);
    const report = await evaluatePolicy(policy, new LocalTarget(), {
      stateDir: world.stateDir,
      config: await loadConfig(world.config),
      params: { source: world.source },
    });
    return report.results.flatMap((r) => r.findings.map((f) => `${r.id} ${f.message}`));
  };
  try {
    assert.deepEqual(await trojans(), []);
    // Method and static calls and definitions are other functions: they score nothing.
    const text = [
      "<?php",
      ...FUNCTIONS.flatMap((f) => [`$redis->${f}($s);`, `Foo::${f}($y);`, `function ${f}() {}`]),
    ].join("\n");
    await Deno.writeTextFile(join(world.source, "methods.php"), text + "\n");
    assert.deepEqual(await trojans(), []);
    // The same calls as functions do; so does a script in another language, read as it is.
    await Deno.writeTextFile(join(world.source, "calls.php"), "<?php\neval($x);\nsystem($y);\n");
    await Deno.writeTextFile(join(world.source, "tool.py"), "import os\nexec(code)\n");
    const found = await trojans();
    assert.ok(
      found.some((f) => /^trojan-files .*calls\.php:2: score 4 \(eval, system_exec\)/.test(f)),
      found.join("\n"),
    );
    assert.ok(
      found.some((f) => /^trojan-suspects .*tool\.py:2: score 2 \(system_exec\)/.test(f)),
      found.join("\n"),
    );
    assert.ok(!found.some((f) => f.includes("methods.php")), found.join("\n"));
  } finally {
    await world.cleanup();
  }
});

Deno.test("on the node, grep leaves out exactly the method and static calls, nothing more", async () => {
  const lines = [
    "$pdo->exec($sql);",
    "$pdo -> exec ($sql);",
    "Foo::exec($y); parent :: exec($z);",
    "exec($cmd);",
    "$a >exec($x);",
    "x:exec($p);",
    ">exec($k);",
    ":exec($k);",
    "$r->exec($s); exec($t);",
    "echo 1; $r->exec($a); /* exec( */",
    '$s = "->exec(";',
    "// $x->exec($y);",
    "   * $db->exec() runs SQL",
    '$pdo->exec("x"); # ok',
    "\texec ($c);",
  ];
  const classify = (line: string) => {
    const re = /\bexec\s*\(/g;
    return [...line.matchAll(re)].some((m) => phpHitContext(line, m.index) !== "method");
  };
  const grep = await new Deno.Command("grep", {
    args: ["-E", "-e", phpCallSitePattern("\\bexec\\s*\\(")],
    stdin: "piped",
    stdout: "piped",
    env: { LC_ALL: "C" },
  }).spawn();
  const writer = grep.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  await writer.close();
  const kept = new TextDecoder().decode((await grep.output()).stdout).split("\n").filter(Boolean);
  assert.deepEqual(kept, lines.filter(classify));
});

Deno.test("a scan that outgrows the target's output limit is an error, not lost findings", async () => {
  const world = await policyWorld();
  try {
    const line = "eval($_POST['a']); // " + "x".repeat(60);
    await Deno.writeTextFile(
      join(world.source, "big.php"),
      "<?php\n" + `${line}\n`.repeat(Math.ceil(OUTPUT_LIMIT / line.length)),
    );
    const code = (await audit(world))["malicious-code"];
    assert.equal(code.status, "error", JSON.stringify(code).slice(0, 300));
    assert.match(
      code.message,
      /more than the 1 MiB of output a check can judge .*; narrow the scan/,
    );
  } finally {
    await world.cleanup();
  }
});

Deno.test("PHP context of a match: code, string or comment, and calls that are not", () => {
  const at = (line: string, needle: string) => phpHitContext(line, line.indexOf(needle));
  assert.equal(at("eval($x);", "eval"), "code");
  assert.equal(at('echo "a\\"b"; eval($x);', "eval"), "code");
  assert.equal(at('echo "eval(";', "eval"), "string");
  assert.equal(at("echo 'it''s'; // eval(", "eval"), "comment");
  assert.equal(at("#[Attr] eval($x);", "eval"), "code");
  assert.equal(at("/* a */ eval($x); /* eval( */", "eval"), "code");
  assert.equal(at("   * eval() in a doc comment", "eval"), "comment");
  assert.equal(at("$r->eval($s);", "eval"), "method");
  assert.equal(at("Foo :: eval($s);", "eval"), "method");
  assert.equal(at("function exec() {}", "exec"), "definition");
});
