/** Commands built as data: git argv, porcelain parsing, env file names, .gitignore rules. */
import assert from "node:assert/strict";
import { git, nulList, porcelainPaths } from "../../src/secrets/git_commands.ts";
import { withGitignoreRules } from "../../src/secrets/env_files.ts";
import { isEncrypted, isPlaintextEnv } from "../../src/secrets/mod.ts";

Deno.test("git argv: explicit checkout, no shell, environment branches", () => {
  assert.deepEqual(git.push("/c", "origin", "production"), [
    "git",
    "-C",
    "/c",
    "push",
    "--quiet",
    "origin",
    "HEAD:refs/heads/production",
  ]);
  assert.deepEqual(git.pull("/c", "origin", "dev"), [
    "git",
    "-C",
    "/c",
    "pull",
    "--quiet",
    "--ff-only",
    "origin",
    "dev",
  ]);
  assert.deepEqual(git.add("/c", [".env.enc", "-weird"]), [
    "git",
    "-C",
    "/c",
    "add",
    "-A",
    "--",
    ".env.enc",
    "-weird",
  ]);
  assert.deepEqual(git.commit("/c", "m", { name: "ops", email: "ops@h" }), [
    "git",
    "-C",
    "/c",
    "-c",
    "user.name=ops",
    "-c",
    "user.email=ops@h",
    "commit",
    "--quiet",
    "-m",
    "m",
  ]);
  assert.deepEqual(git.commit("/c", "m").slice(3), ["commit", "--quiet", "-m", "m"]);
});

Deno.test("git output parsing", () => {
  assert.deepEqual(nulList("a\0b c\0"), ["a", "b c"]);
  assert.deepEqual(nulList(""), []);
  assert.deepEqual(porcelainPaths(" M .env.enc\0?? new dir/.env.x.enc\0"), [
    ".env.enc",
    "new dir/.env.x.enc",
  ]);
  assert.deepEqual(porcelainPaths("R  b.enc\0a.enc\0D  c.enc\0"), ["b.enc", "a.enc", "c.enc"]);
});

Deno.test("plaintext and encrypted env file names", () => {
  for (const name of [".env", ".env.production", "sub/.env.local", ".env.example"]) {
    assert.ok(isPlaintextEnv(name), name);
  }
  for (const name of [".env.enc", "env", "x.env", ".envrc", ".gitignore", "sub/.env.prod.enc"]) {
    assert.ok(!isPlaintextEnv(name), name);
  }
  assert.ok(isEncrypted(".env.enc") && isEncrypted("a/.env.x.enc"));
  assert.ok(!isEncrypted(".enc") && !isEncrypted(".env"));
});

Deno.test(".gitignore rules: added once, as a block, after a negation that came first", () => {
  const added = withGitignoreRules("node_modules/")!;
  assert.match(added, /^node_modules\/\n\n# protocol: .*\n\.env\n\.env\.\*\n!\*\.enc\n$/);
  assert.equal(withGitignoreRules(added), undefined, "idempotent");
  assert.equal(withGitignoreRules("")!.startsWith("# protocol"), true);
  // "!*.enc" before ".env.*" would leave .env.enc ignored: the block is appended again.
  const wrongOrder = "!*.enc\n.env\n.env.*\n";
  assert.ok(withGitignoreRules(wrongOrder)!.endsWith(".env\n.env.*\n!*.enc\n"));
});
