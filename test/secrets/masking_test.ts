/** The masker: known values and decrypted env values become *** wherever they appear. */
import assert from "node:assert/strict";
import { envValues, MASK, SecretMasker } from "../../src/secrets/mod.ts";

Deno.test("envValues reads KEY=VALUE lines as dotenv tools do", () => {
  const text = [
    "# comment=not-a-secret",
    "",
    "DB_PASSWORD=hunter22",
    "export API_TOKEN = tok-123456 ",
    'QUOTED="two words here"',
    "SINGLE='it''s'",
    'ESCAPED="line1\\nline2"',
    "WITH_COMMENT=value1234 # trailing",
    "EMPTY=",
    "not a line",
  ].join("\n");
  assert.deepEqual(envValues(text), [
    "hunter22",
    "tok-123456",
    "two words here",
    "it''s",
    "line1\\nline2",
    "line1\nline2",
    "value1234 # trailing",
    "value1234",
    "",
  ]);
});

Deno.test("SecretMasker", async (t) => {
  await t.step("masks every occurrence of every value, longest first", () => {
    const masker = new SecretMasker(["abcd", "abcdefgh"]);
    assert.equal(
      masker.mask("x abcdefgh y abcd z abcdabcd"),
      `x ${MASK} y ${MASK} z ${MASK}${MASK}`,
    );
  });
  await t.step("values shorter than 4 characters are not masked", () => {
    const masker = new SecretMasker(["1", "on", "abc"]);
    assert.equal(masker.size, 0);
    assert.equal(masker.mask("1 on abc"), "1 on abc");
  });
  await t.step("regular-expression characters in values are literal", () => {
    const masker = new SecretMasker(["a.b*c+(d)|$1", "p@ss/w\\rd?"]);
    assert.equal(masker.mask("a.b*c+(d)|$1 axbbc p@ss/w\\rd?"), `${MASK} axbbc ${MASK}`);
  });
  await t.step("addEnv learns decrypted env values (length >= 4)", () => {
    const masker = new SecretMasker().addEnv("DB_PASSWORD=hunter22\nDEBUG=1\nNAME='s3cr3t val'\n");
    const out = masker.mask("login with hunter22 and 's3cr3t val'; DEBUG=1");
    assert.equal(out, `login with ${MASK} and '${MASK}'; DEBUG=1`);
    assert.ok(!out.includes("hunter22"));
  });
  await t.step("maskFields masks string fields only", () => {
    const masker = new SecretMasker(["hunter22"]);
    assert.deepEqual(
      masker.maskFields({ action: "run", output: "pw=hunter22", code: 0, ok: true }),
      { action: "run", output: `pw=${MASK}`, code: 0, ok: true },
    );
  });
  await t.step("learning more values later is honoured", () => {
    const masker = new SecretMasker(["first-secret"]);
    assert.equal(masker.mask("first-secret second-secret"), `${MASK} second-secret`);
    masker.add("second-secret");
    assert.equal(masker.mask("first-secret second-secret"), `${MASK} ${MASK}`);
  });
  await t.step("an empty masker returns text unchanged", () => {
    assert.equal(new SecretMasker().mask("anything"), "anything");
  });
});
