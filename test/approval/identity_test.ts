/** Personal identities, the approvers file and retro-review deadlines. */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import {
  addBusinessDays,
  approvalEntry,
  approveRequest,
  createIdentity,
  identityDir,
  loadIdentity,
  newRequest,
  parseApprovers,
  publicKeyText,
  requestEntry,
  retroReviews,
  signRequest,
} from "../../src/approval/mod.ts";
import { formatProblem, InvalidFileError } from "../../src/source/mod.ts";

Deno.test("identity: lives in the person's home, 0600, never in the state directory", async () => {
  assert.equal(identityDir({ HOME: "/home/alice" }), "/home/alice/.config/protocol/identity");
  assert.equal(identityDir({ HOME: "/h", XDG_CONFIG_HOME: "/x" }), "/x/protocol/identity");
  const home = await Deno.makeTempDir();
  try {
    const dir = join(home, ".config", "protocol", "identity");
    const made = await createIdentity(dir, "alice@example.com", join(home, ".protocol"));
    assert.match(made.publicKey, /^ed25519:[A-Za-z0-9+/]{43}=$/);
    assert.equal((await Deno.stat(made.path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    const loaded = await loadIdentity(dir);
    assert.equal(loaded.name, "alice@example.com");
    assert.equal(loaded.publicKey, made.publicKey);
    await assert.rejects(
      createIdentity(dir, "alice@example.com", join(home, ".protocol")),
      /exists; pass --force/,
    );
    await assert.rejects(
      createIdentity(join(home, ".protocol", "id"), "alice", join(home, ".protocol")),
      /inside the state directory/,
    );
    await assert.rejects(createIdentity(dir, "alice smith", "/nowhere"), /without spaces/);
    await Deno.chmod(made.path, 0o644);
    await assert.rejects(loadIdentity(dir), /readable by others/);
    await assert.rejects(loadIdentity(join(home, "none")), /identity:keygen/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

const KEY = publicKeyText(generateKeyPairSync("ed25519").publicKey);

Deno.test("approvers.yaml: valid file parsed; mistakes named with file:line:col", () => {
  const ok = parseApprovers(
    "approvers.yaml",
    `approvers:\n  - name: alice@example.com\n    public_key: ${KEY}\n    roles: [approver]\n`,
  );
  assert.deepEqual(ok, [{ name: "alice@example.com", publicKey: KEY, roles: ["approver"] }]);
  const problems = (text: string) => {
    try {
      parseApprovers("approvers.yaml", text);
    } catch (error) {
      assert.ok(error instanceof InvalidFileError);
      return error.problems.map(formatProblem);
    }
    assert.fail("expected problems");
  };
  assert.deepEqual(
    problems(
      "approvers:\n  - name: a\n    public_key: ed25519:short\n    roles: [approver, boss]\n" +
        "    rol: x\n",
    ),
    [
      'approvers.yaml:4:23: approvers[0].roles[1]: expected one of "deployer", "approver", got string "boss"',
      "approvers.yaml:5:5: approvers[0].rol: unknown key `rol` (did you mean `roles`?)",
    ],
  );
  assert.deepEqual(
    problems(
      `approvers:\n  - name: a\n    public_key: ed25519:short\n    roles: [approver]\n` +
        `  - name: a\n    public_key: ${KEY}\n    roles: [deployer]\n` +
        `  - name: b\n    public_key: ${KEY}\n    roles: [deployer]\n`,
    ),
    [
      "approvers.yaml:3:17: approvers[0].public_key: expected `ed25519:` and 44 base64 characters (identity:keygen prints it)",
      "approvers.yaml:5:11: approvers[1].name: listed twice (also approvers[0])",
      "approvers.yaml:9:17: approvers[2].public_key: is approvers[1]'s key too: one key, one person",
    ],
  );
});

Deno.test("retro-review: due two business days later, overdue after, closed by another person", () => {
  // Wednesday → Friday; Friday → Tuesday; Saturday → Tuesday 00:00.
  assert.equal(
    addBusinessDays(new Date("2026-07-01T10:00:00Z"), 2).toISOString(),
    "2026-07-03T10:00:00.000Z",
  );
  assert.equal(
    addBusinessDays(new Date("2026-07-03T17:00:00Z"), 2).toISOString(),
    "2026-07-07T17:00:00.000Z",
  );
  assert.equal(
    addBusinessDays(new Date("2026-07-04T12:00:00Z"), 2).toISOString(),
    "2026-07-08T00:00:00.000Z",
  );
  // Real signed entries, as the log holds them (a retro-review counts only if its signature
  // verifies from the log alone).
  const person = (name: string) => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    return { name, publicKey: publicKeyText(publicKey), privateKey };
  };
  const bob = person("bob");
  const alice = person("alice");
  const request = newRequest({
    runbook: "hotfix",
    params: {},
    nodes: ["web-1"],
    commit: null,
    operator: bob.name,
    operatorKey: bob.publicKey,
    emergency: "payments down",
  }, new Date("2026-07-03T17:00:00Z"));
  const opened = {
    seq: 4,
    ts: "2026-07-03T17:00:00.000Z",
    ...requestEntry(signRequest(request, bob.privateKey)),
  } as Record<string, string | number | boolean>;
  const review = (who: typeof bob, seq: number, ts: string) =>
    ({
      seq,
      ts,
      ...approvalEntry(approveRequest(request, who, "retro", new Date(ts))),
    }) as Record<string, string | number | boolean>;
  const self = review(bob, 5, "2026-07-03T18:00:00.000Z");
  const entries = [opened, self];
  assert.equal(retroReviews(entries, new Date("2026-07-07T16:00:00Z"))[0].status, "pending");
  assert.equal(retroReviews(entries, new Date("2026-07-07T18:00:00Z"))[0].status, "overdue");
  const signed = review(alice, 6, "2026-07-08T09:00:00.000Z");
  const forged = { ...signed, signature: Buffer.alloc(64, 1).toString("base64") };
  const unsigned = retroReviews([...entries, forged], new Date("2026-07-09T00:00:00Z"));
  assert.equal(unsigned[0].status, "overdue", "a review whose signature fails counts for nothing");
  const [closed] = retroReviews([...entries, signed], new Date("2026-07-09T00:00:00Z"));
  assert.equal(closed.status, "reviewed");
  assert.equal(closed.reviewedBy, "alice");
});
