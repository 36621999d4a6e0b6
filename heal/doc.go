// Package heal is one run of `fix8524 heal`, scheduled self-healing with guardrails, and the
// loop that repeats it.
//
// # One run (Run)
//
//  1. Gather what the playbook needs (gather.Complete, as `plan` and apply's drift check
//     gather) and make the plan (engine.MakePlan). Its warnings (links that replicate now and
//     will fail later: plan.Plan.Warnings) are printed, one line each, and counted in the
//     fix8524_warnings metric; they change neither the exit code nor the notifications.
//  2. Take the heal lock of the forest ("heal:" + forest, internal/journal): one heal run at a
//     time decides and applies, so two schedulers cannot both pass the same cooldown. A busy
//     lock refuses the run (exit 3); a stale one is an error (exit 1) that a human clears with
//     `fix8524 journal --break-lock heal:FOREST --reason TEXT`.
//  3. The circuit breaker (policy.EvaluateBreaker): when the journal's failed verifications
//     reached the policy's threshold, the breaker is opened in the journal (OpenBreaker) and
//     stays open until `fix8524 heal --reset-breaker --reason TEXT`.
//  4. Decide (policy.Decide) on every planned action. heal adds its own rules on top:
//     an action the playbook marks requires_approval_each is held for a human (heal cannot give
//     a per-action human approval); the actions of a finding whose diagnosis rests on assumed
//     settings (plan.Finding.Assumptions: DNS client settings assumed by gather
//     --assume-self-dns) are held for a human (policy.HoldAssumed, exit 2), who verifies them
//     and approves and applies the escalated plan; a finding is started only as a whole — every action except
//     the replication retry approved, none needing its own approval — so heal never runs half a
//     remedy. The approvals of findings that cannot start are withdrawn, with the reason of the
//     action that holds them, and the budgets (per-run maximum, DCs per 24h) are decided again
//     for the findings that can. Outside the playbook's own change windows nothing is approved
//     either (unless windows are waived, the demo, or Emergency is set with a recorded reason):
//     policy windows and playbook windows must both admit. Every verdict is journaled as a gate entry "policy:<action id>" (allowed or
//     refused, with its reason) before anything runs.
//  5. Apply (apply.Run) a plan of the startable findings (same fingerprint as the full plan,
//     so a later human apply of the same facts resumes rather than repeats), with Approvals
//     that admit exactly the approved actions and the built-in replication retry of a finding
//     whose own retry was approved, and nothing else (never a destructive action, never an
//     explicit per-action approval). The actor is "heal"; the gates, verification, journal and
//     locks are apply's.
//  6. The breaker is evaluated again: the failed verifications of this run may open it.
//  7. Escalation: every finding that was not healed (held, refused, failed, pending, manual
//     steps, incomplete diagnosis) is saved as a plan for a human in the escalation directory
//     (`fix8524 approve FILE --by NAME`, then `fix8524 apply FILE`), and the policy's webhook
//     targets get a notification (internal/notify). A notification identical to the last one
//     delivered for the forest (policy.EscalationKey) is not sent again until RemindAfter; a
//     run stopped by its context (SIGTERM) pages only for a failed verification or a breaker
//     that opened before the stop. The plan's warnings (links that work now and will fail)
//     go out as their own event (notify.EventWarning), only to targets that list it, and are
//     remembered apart, so they neither hide nor repeat an escalation.
//  8. The Report says what happened; Report.ExitCode is policy.Summary.ExitCode (0 healthy or
//     healed, 2 a human is needed, 3 refused by a guardrail, 1 error) and Report.MetricsRun
//     feeds internal/metrics.
//
// # The loop (Loop)
//
// Loop calls a run, then waits Every plus a random jitter (up to Jitter×Every), until its
// context ends (SIGTERM). A run that fails (exit code 1) does not end the loop: the next run
// comes sooner, after a backoff that starts at MinBackoff and doubles up to Every. Runs never
// overlap.
package heal
