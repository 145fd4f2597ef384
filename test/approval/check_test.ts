/**
 * The approval gate: a run starts only under an unexpired request that matches it exactly and
 * carries enough valid approvals from listed people other than the operator.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import {
  type AboutToRun,
  type Approver,
  approveRequest,
  type ChangeRequest,
  checkApproval,
  newRequest,
  publicKeyText,
  resumeChain,
  type SignedApproval,
  type SignedRequest,
  signRequest,
} from "../../src/approval/mod.ts";

function person(name: string, roles: Approver["roles"]) {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { name, privateKey, publicKey: publicKeyText(publicKey), roles };
}

const bob = person("bob@example.com", ["deployer"]);
const alice = person("alice@example.com", ["deployer", "approver"]);
const carol = person("carol@example.com", ["approver"]);
const mallory = person("mallory@example.com", ["approver"]); // not listed
const approvers: Approver[] = [bob, alice, carol].map(({ name, publicKey, roles }) => ({
  name,
  publicKey,
  roles,
}));
const policy = { required: 1, by: "approver", not_operator: true };
const NOW = new Date("2026-07-01T10:00:00Z");
const COMMIT = "a".repeat(40);

const about: AboutToRun = {
  runbook: "deploy",
  params: { version: "v1.2.0" },
  nodes: ["web-2", "web-1"],
  commit: COMMIT,
  operator: bob.name,
};

function requested(by = bob, change: Partial<ChangeRequest> = {}): SignedRequest {
  const request = newRequest({
    runbook: "deploy",
    params: { version: "v1.2.0" },
    nodes: ["web-1", "web-2"],
    commit: COMMIT,
    operator: by.name,
    operatorKey: by.publicKey,
  }, NOW);
  return signRequest({ ...request, ...change }, by.privateKey);
}

function check(
  request: SignedRequest | undefined,
  approvals: SignedApproval[],
  overrides: Partial<AboutToRun> = {},
  now = new Date(NOW.getTime() + 3_600_000),
) {
  return checkApproval({
    request,
    approvals,
    approvers,
    about: { ...about, ...overrides },
    policy,
    now,
  });
}

const codes = (verdict: ReturnType<typeof check>) => verdict.refusals.map((r) => r.code);

Deno.test("approval gate: an approved request that matches the run passes", () => {
  const request = requested();
  const verdict = check(request, [approveRequest(request.request, alice, "prior", NOW)]);
  assert.equal(verdict.ok, true, JSON.stringify(verdict.refusals));
  assert.deepEqual(verdict.approvedBy, ["alice@example.com"]);
});

Deno.test("approval gate: no request, no approval, refused", () => {
  assert.deepEqual(codes(check(undefined, [])), ["no_request"]);
  assert.deepEqual(codes(check(requested(), [])), ["too_few_approvals"]);
});

Deno.test("approval gate: the operator approving their own request is refused", () => {
  const request = requested(alice);
  const verdict = check(request, [approveRequest(request.request, alice, "prior", NOW)], {
    operator: alice.name,
  });
  assert.deepEqual(codes(verdict), ["not_operator", "too_few_approvals"]);
});

Deno.test("approval gate: changed parameters, nodes, commit or runbook are refused", () => {
  const request = requested();
  const approvals = [approveRequest(request.request, alice, "prior", NOW)];
  const params = check(request, approvals, { params: { version: "v1.2.1" } });
  assert.deepEqual(codes(params), ["params_changed"]);
  assert.match(params.refusals[0].message, /version="v1\.2\.1" \(approved: "v1\.2\.0"\)/);
  assert.deepEqual(codes(check(request, approvals, { nodes: ["web-1"] })), ["nodes_changed"]);
  assert.deepEqual(codes(check(request, approvals, { commit: "b".repeat(40) })), [
    "commit_changed",
  ]);
  assert.deepEqual(codes(check(request, approvals, { runbook: "rollback" })), [
    "runbook_changed",
  ]);
  assert.deepEqual(codes(check(request, approvals, { operator: alice.name })), [
    "operator_changed",
    "not_operator",
    "too_few_approvals",
  ]);
});

Deno.test("approval gate: a request edited after signing fails its signature and its approvals", () => {
  const request = requested();
  const approvals = [approveRequest(request.request, alice, "prior", NOW)];
  const edited = { ...request, request: { ...request.request, params: { version: "v9.9.9" } } };
  const verdict = check(edited, approvals, { params: { version: "v9.9.9" } });
  assert.deepEqual(codes(verdict), ["bad_signature", "too_few_approvals"]);
});

Deno.test("approval gate: an expired request is refused", () => {
  const request = requested();
  const approvals = [approveRequest(request.request, alice, "prior", NOW)];
  const later = new Date(NOW.getTime() + 24 * 3_600_000 + 1);
  assert.deepEqual(codes(check(request, approvals, {}, later)), ["expired"]);
});

Deno.test("approval gate: only listed approvers with the role and their listed key count", () => {
  const request = requested();
  const byUnlisted = approveRequest(request.request, mallory, "prior", NOW);
  const byDeployerOnly = approveRequest(
    request.request,
    { ...bob, name: "bob@example.com" },
    "prior",
    NOW,
  );
  const impostor = approveRequest(
    request.request,
    { ...mallory, name: carol.name },
    "prior",
    NOW,
  );
  const retro = approveRequest(request.request, carol, "retro", NOW);
  const verdict = check(request, [byUnlisted, byDeployerOnly, impostor, retro]);
  assert.deepEqual(codes(verdict), ["too_few_approvals"]);
  const otherRequest = requested();
  const forOther = approveRequest(otherRequest.request, carol, "prior", NOW);
  assert.deepEqual(codes(check(request, [forOther])), ["too_few_approvals"]);
});

Deno.test("approval gate: two approvals needed means two different people", () => {
  const request = requested();
  const twice = [
    approveRequest(request.request, alice, "prior", NOW),
    approveRequest(request.request, alice, "prior", NOW),
  ];
  const two = { ...policy, required: 2 };
  const run = (approvals: SignedApproval[]) =>
    checkApproval({ request, approvals, approvers, about, policy: two, now: NOW });
  assert.deepEqual(run(twice).refusals.map((r) => r.code), ["too_few_approvals"]);
  const verdict = run([...twice, approveRequest(request.request, carol, "prior", NOW)]);
  assert.equal(verdict.ok, true);
  assert.deepEqual(verdict.approvedBy, ["alice@example.com", "carol@example.com"]);
});

Deno.test("approval gate: a request by someone who is not a listed deployer is refused", () => {
  const byCarol = requested(carol);
  const verdict = check(byCarol, [approveRequest(byCarol.request, alice, "prior", NOW)], {
    operator: carol.name,
  });
  assert.deepEqual(codes(verdict), ["not_deployer"]);
  const byMallory = requested(mallory);
  assert.deepEqual(
    codes(check(byMallory, [approveRequest(byMallory.request, alice, "prior", NOW)], {
      operator: mallory.name,
    })),
    ["unknown_operator"],
  );
});

Deno.test("approval gate: a request another run carried out is spent; its resume may go on", () => {
  const request = requested();
  const approvals = [approveRequest(request.request, alice, "prior", NOW)];
  const input = {
    request,
    approvals,
    approvers,
    about,
    policy,
    now: new Date(NOW.getTime() + 3_600_000),
  };
  const replay = checkApproval({ ...input, carriedOutBy: ["20260701T100000Z-aaaaaa"] });
  assert.deepEqual(replay.refusals.map((r) => r.code), ["already_used"]);
  assert.match(replay.refusals[0].message, /carried out by run 20260701T100000Z-aaaaaa/);
  const resumed = checkApproval({
    ...input,
    carriedOutBy: ["20260701T100000Z-aaaaaa"],
    resuming: ["20260701T100000Z-aaaaaa"],
  });
  assert.equal(resumed.ok, true, JSON.stringify(resumed.refusals));
  const runs = [
    { run: "20260701T100000Z-aaaaaa" },
    { run: "20260701T110000Z-bbbbbb", resumes: "20260701T100000Z-aaaaaa" },
    { run: "20260701T120000Z-cccccc" },
  ];
  assert.deepEqual(resumeChain(runs, "20260701T110000Z-bbbbbb"), [
    "20260701T110000Z-bbbbbb",
    "20260701T100000Z-aaaaaa",
  ]);
  const again = checkApproval({
    ...input,
    carriedOutBy: runs.slice(0, 2).map((r) => r.run),
    resuming: resumeChain(runs, "20260701T110000Z-bbbbbb"),
  });
  assert.equal(again.ok, true, JSON.stringify(again.refusals));
  const other = checkApproval({
    ...input,
    carriedOutBy: runs.map((r) => r.run),
    resuming: resumeChain(runs, "20260701T110000Z-bbbbbb"),
  });
  assert.deepEqual(other.refusals.map((r) => r.code), ["already_used"]);
  assert.match(other.refusals[0].message, /run 20260701T120000Z-cccccc:/);
});
