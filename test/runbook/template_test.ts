/**
 * Templates: `shellQuote` makes one shell word of anything (proved through a real `sh -c`),
 * references are found in order, and quoting problems are found where a template would not stay
 * one quoted word.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  renderTemplate,
  TemplateError,
  templateQuotingProblems,
  templateReferences,
} from "../../src/template.ts";
import { shellQuote } from "../../src/shell/quote.ts";
import { exists } from "../fixtures/helpers.ts";

async function sh(script: string, cwd?: string): Promise<{ code: number; stdout: string }> {
  const out = await new Deno.Command("sh", { args: ["-c", script], cwd, stdin: "null" }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

Deno.test("shellQuote", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "runbook-quote-" });
  const marker = join(dir, "marker");
  const nasty = [
    "",
    "plain",
    "two words",
    "'",
    "''",
    "it's",
    "'; touch " + marker + "; '",
    '"; touch ' + marker + '; "',
    "$(touch " + marker + ")",
    "`touch " + marker + "`",
    "v1.2.0; touch " + marker,
    "v1.2.0 && touch " + marker,
    "v1.2.0 | tee " + marker,
    "v1.2.0 > " + marker,
    "a\ntouch " + marker,
    "tab\there",
    "$HOME ${HOME} $1 $@ $$",
    "back\\slash \\' \\\\",
    "* ? [a-z] ~ ~root",
    "!event #comment",
    "-n",
    "--help",
    "é ünïcode ✓",
    "'\"'\"'",
    "\\",
  ];
  try {
    await t.step("round-trips through sh -c as exactly one word", async () => {
      for (const value of nasty) {
        const quoted = shellQuote(value);
        const { code, stdout } = await sh(`printf '%s' ${quoted}`, dir);
        assert.equal(code, 0, `sh failed for ${JSON.stringify(value)}`);
        assert.equal(stdout, value, `round trip of ${JSON.stringify(value)}`);
        const count = await sh(`set -- ${quoted}; printf '%s' "$#"`, dir);
        assert.equal(count.stdout, "1", `${JSON.stringify(value)} became ${count.stdout} words`);
      }
      assert.equal(await exists(marker), false, "a quoted value ran a command");
    });

    await t.step("is single quotes with each ' closed, escaped and reopened", () => {
      assert.equal(shellQuote("v1.2.0"), "'v1.2.0'");
      assert.equal(shellQuote("it's"), "'it'\\''s'");
      assert.equal(shellQuote(""), "''");
    });

    await t.step("renderTemplate in shell mode keeps each value one argument", async () => {
      const values: Record<string, string> = { "params.x": "a b; touch " + marker, "app.y": "'" };
      const script = renderTemplate(
        'set -- ${{ params.x }} ${{app.y}}; printf \'%s|\' "$#" "$1" "$2"',
        (ref) => values[ref],
        "shell",
      );
      const { stdout } = await sh(script, dir);
      assert.equal(stdout, `2|a b; touch ${marker}|'|`);
      assert.equal(await exists(marker), false);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderTemplate", async (t) => {
  const lookup = (ref: string) =>
    ({ "params.version": "v1.2.0", "params.n": 3, "params.b": false })[ref];

  await t.step("text mode inserts values as they are", () => {
    assert.equal(
      renderTemplate("deploy ${{ params.version }} x${{params.n}} ${{ params.b }}", lookup, "text"),
      "deploy v1.2.0 x3 false",
    );
  });

  await t.step("shell mode quotes numbers and booleans too", () => {
    assert.equal(renderTemplate("echo ${{ params.n }}", lookup, "shell"), "echo '3'");
  });

  await t.step("an unknown reference is an error naming it", () => {
    assert.throws(
      () => renderTemplate("echo ${{ params.nope }}", lookup, "shell"),
      (error: unknown) =>
        error instanceof TemplateError && error.reference === "params.nope" &&
        /params\.nope/.test(error.message),
    );
  });

  await t.step("plans pass a placeholder for unknown references", () => {
    assert.equal(
      renderTemplate("x ${{ steps.a.output }}", lookup, "shell", (ref) => `<${ref}>`),
      "x <steps.a.output>",
    );
  });
});

Deno.test("templateReferences", async (t) => {
  await t.step("finds every reference in order, trimmed", () => {
    assert.deepEqual(
      templateReferences(
        "git ${{ app.repo }} ${{params.version}} ${{   steps.switch.previous.output   }}",
      ),
      ["app.repo", "params.version", "steps.switch.previous.output"],
    );
  });
  await t.step("finds repeated references each time and nothing in plain text", () => {
    assert.deepEqual(templateReferences("${{ a.b }}${{ a.b }}"), ["a.b", "a.b"]);
    assert.deepEqual(templateReferences("echo $HOME ${HOME} $((1+1)) {{ x }}"), []);
  });
});

Deno.test("templateQuotingProblems", async (t) => {
  const ok = [
    "echo ${{ params.x }}",
    "echo \"a\" ${{ params.x }} 'b'",
    'echo "$(cmd ${{ params.x }})"',
    'echo "$(a "$(b ${{ params.x }})")"',
    'test "$(basename "$(readlink current)")" = ${{ params.x }}',
    'echo \\" ${{ params.x }}',
    'echo "refs/tags/"${{ params.x }}" not found"',
    "printf '%s' ${{ params.x }} > out",
  ];
  for (const script of ok) {
    await t.step(`accepts ${script}`, () => {
      assert.deepEqual(templateQuotingProblems(script), []);
    });
  }

  await t.step("refuses a template inside double quotes", () => {
    const problems = templateQuotingProblems('echo "version ${{ params.x }}"');
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^\$\{\{ params\.x \}\} is inside double quotes/);
  });

  await t.step("refuses a template inside single quotes", () => {
    const problems = templateQuotingProblems("echo 'version ${{ params.x }}'");
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^\$\{\{ params\.x \}\} is inside single quotes/);
  });

  await t.step("refuses a template inside double quotes within $(...)", () => {
    const problems = templateQuotingProblems('echo $(echo "${{ params.x }}")');
    assert.equal(problems.length, 1);
    assert.match(problems[0], /inside double quotes/);
  });

  await t.step("refuses a template in a here-document", () => {
    const problems = templateQuotingProblems("cat <<EOF\n${{ params.x }}\nEOF\n");
    assert.equal(problems.length, 1);
    assert.match(problems[0], /here-document/);
  });

  await t.step("reports each bad template and no good one", () => {
    const problems = templateQuotingProblems(
      "echo ${{ a.ok }} \"${{ a.dq }}\" '${{ a.sq }}' ${{ a.ok2 }}",
    );
    assert.equal(problems.length, 2);
    assert.match(problems[0], /a\.dq.*double/);
    assert.match(problems[1], /a\.sq.*single/);
  });
});
