// Package apply applies an approved plan to a forest, and is the one place that decides
// whether anything may change. `fix8524 apply` and `fix8524 heal` both call Run; they differ
// only in where approvals come from (a human's approval file or TTY answer, or a heal policy).
//
// # The sequence
//
//  1. Gates, each journaled before (started) and after (allowed or refused):
//     plan      the plan parses, is of this format and was made with this playbook (digest);
//     approval  Approvals.ApprovePlan admits the plan (not expired, same fingerprint, plan
//     bytes not changed since approval, signed by a trusted key when keys are required);
//     window    now is inside one of the loaded playbook's change windows (the plan's copy is
//     only shown, and the plan gate refuses a copy that differs), or Emergency is set with a
//     reason (recorded), or the caller declares windows irrelevant (the demo);
//     lock      the forest's lock is free (journal.AcquireLock; a stale lock is released only by
//     an explicit `fix8524 journal --break-lock`).
//  2. Drift: the plan's links are gathered again and the plan is made again from the fresh
//     facts. A finding whose links are healthy now is skipped and reported. A finding whose
//     evidence changed (another fingerprint), whose partnership differs, or whose actions differ
//     in any field apply acts on (target host and addresses, transport, script, argv, params,
//     DN and GUID, verification: see plan/README.md) from what the playbook gives for the fresh
//     facts makes the plan stale: nothing runs, and the refusal names the field. A finding this
//     plan has already started on (journal) is resumed instead: its own changes are expected,
//     but its actions' targets must still be where the fresh facts say they are.
//  3. Per-action approvals (see below), and never a destructive action when unattended.
//  4. Per finding, per action in plan order (the replication retry is kept for step 5):
//     re-check if the journal has seen the step before (a completed or possibly completed step
//     whose effect is in place is not run again; a destructive step whose effect cannot be
//     checked is refused); guards re-evaluated on freshly gathered facts right before a
//     destructive action (the playbook's guards and the built-in ones, a false or unknown
//     guard is a hard refusal); an ldap_delete of an object already deleted on another DC's
//     copy in this run is not run or guarded again: it waits for the deletion to replicate to
//     its target's copy (skipped when it arrives, pending at the verification deadline);
//     window and lock checked again; the action begun in the journal (durably, before
//     anything is sent); run; its verification checks polled with backoff
//     until they pass or the deadline (default 5 minutes, per action verify_timeout, the
//     Options override; extended to outlast a DNS negative-caching TTL seen in the answers);
//     the action finished in the journal with exit code, output digest and verification.
//  5. Replication retried (the plan's retry action, once its own verify checks pass or time out;
//     then actions.RetryReplication for the NCs still failing; on Samba one pull per NC, all
//     begun in the journal first, then sent side by side, at most four at once) and
//     confirmed by re-reading the link status until every naming context reports result 0
//     (or the link is gone after a metadata cleanup); retried up to ReplicationAttempts times.
//
// Outcomes are succeeded, failed or pending (the change ran but the verification did not pass
// before its deadline with nothing failed, e.g. unknown observations), per action and per
// finding. Nothing is ever "succeeded" without its check.
//
// # Single-use approvals
//
// An approval file admits one apply (Grant.Digest identifies it). The approval gate refuses an
// approval the journal records as used by a run that ended; a run that acts under an approval
// records its use (journal.UseApproval) before its first change, and its end
// (journal.FinishApprovalUse) when it returns. A run that got past every gate and found
// nothing to do uses the plan's approval too. A run killed after its first change leaves its
// use open, and one interrupted (its context ended) or pending verification ends it as
// pending: the next apply of the same plan with the same approval resumes that run (steps
// re-checked) and then spends it. Refusals at a gate use nothing. Per-action approvals are
// single-use the same way, from the moment their action begins.
//
// # Explicit per-action approval
//
// An action needs an approval of its own, besides the plan's, when the playbook marks it
// requires_approval_each, or when it is an ldap_delete and this apply would run more than one
// ldap_delete. Such approvals are ordinary approvals (internal/approval: by, expiry, optional
// signature, bound to the plan's digest) whose fingerprint is EachFingerprint(plan
// fingerprint, action id); `fix8524 approve PLAN --by NAME --allow-each ACTION_ID` writes them,
// one per --allow-each, into "<plan>.approve-each.json" next to the plan.
//
// # Crash safety
//
// Every action is begun in the journal (fsync'd) before it is sent and finished after its
// verification. A run killed in between leaves the step unfinished: the next apply of the same
// plan re-checks it (its verification checks, or for an ldap_delete whether the object is
// still there) and records the re-check before it decides to skip or repeat it. Journal write
// failures stop the run before the next change.
package apply
