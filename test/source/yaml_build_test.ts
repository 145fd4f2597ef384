/**
 * `src/source/yaml.ts` loads the `yaml` package's ES module build instead of the CommonJS one
 * Deno's `node` condition picks. Both must parse every file alike: the same data, the same
 * errors and warnings at the same positions — the positions every problem a user reads names.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as commonJs from "yaml";
import * as esm from "../../src/source/yaml.ts";

/** What a parse says: data, and each error and warning with its code, message and position. */
function outcome(parse: typeof esm.parseDocument, Counter: typeof esm.LineCounter, text: string) {
  const lineCounter = new Counter();
  const doc = parse(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const said = (list: typeof doc.errors) =>
    list.map((e) => ({ code: e.code, message: e.message, pos: e.pos, linePos: e.linePos }));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    data = `threw: ${(error as Error).message}`;
  }
  return {
    data,
    errors: said(doc.errors),
    warnings: said(doc.warnings),
    lines: [...lineCounter.lineStarts],
  };
}

const MALFORMED = [
  "id: x\nsteps:\n  - name: a\n    run: b: c\n",
  "a: 1\na: 2\n",
  'a: "never closed\nb: 2\n',
  "a: [1, 2\n",
  "- a\nb: c\n",
  "a: &x [1]\nb: *y\n",
  "%YAML 9.9\n---\na: 1\n",
  "a:\n\t- tab\n",
  'x: &a ["lol","lol"]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nz: [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n',
  "? complex\n: key\n",
  "a: 'single\n",
  "",
];

async function projectFiles(): Promise<string[]> {
  const texts: string[] = [];
  for (const dir of ["runbooks", "tasks", "policies"]) {
    const url = new URL(`../../${dir}/`, import.meta.url);
    for await (const entry of Deno.readDir(url)) {
      if (entry.isFile && entry.name.endsWith(".yaml")) {
        texts.push(await Deno.readTextFile(fileURLToPath(new URL(entry.name, url))));
      }
    }
  }
  return texts;
}

Deno.test("the ES module build of yaml parses like the CommonJS one, errors and positions included", async () => {
  const texts = [...MALFORMED, ...await projectFiles()];
  assert.ok(texts.length > MALFORMED.length + 10, "the project's runbooks, tasks and policies");
  for (const text of texts) {
    assert.deepEqual(
      outcome(esm.parseDocument, esm.LineCounter, text),
      outcome(commonJs.parseDocument, commonJs.LineCounter, text),
      text,
    );
  }
  // The malformed ones do say something (a comparison of two silences proves nothing).
  const refused = MALFORMED.filter((text) => {
    const { errors, warnings, data } = outcome(esm.parseDocument, esm.LineCounter, text);
    return errors.length + warnings.length > 0 || String(data).startsWith("threw: ");
  });
  assert.equal(refused.length, MALFORMED.length - 2, "all but the complex key and the empty text");
});

Deno.test("yaml.ts is the ES module build, not the CommonJS one under another name", () => {
  assert.notEqual(esm.parseDocument, commonJs.parseDocument);
  // Nodes of either build are recognised by both (the type tags are global symbols).
  const doc = esm.parseDocument("a: 1\n");
  assert.ok(commonJs.isMap(doc.contents) && esm.isMap(doc.contents));
});
