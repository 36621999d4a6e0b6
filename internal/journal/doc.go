// Package journal is fix8524's crash-safe record of every gate decision and action, and the
// home of the state that gated apply and scheduled heal share: per-forest locks, idempotent
// step tracking across crashes, cooldown and budget queries, and the circuit breaker.
//
// # Storage
//
// One SQLite database, journal.db, in a state directory (--state DIR; DefaultDir otherwise),
// through the pure-Go modernc.org/sqlite driver: WAL mode, synchronous=FULL (a committed entry
// survives power loss), a 10 s busy timeout, and write transactions that start with BEGIN
// IMMEDIATE, so concurrent processes serialize instead of failing. Every write is one
// transaction: an entry is recorded whole or not at all. Entries are append-only (triggers
// refuse UPDATE and DELETE).
//
// Open needs an existing, writable directory; Create makes it first (mode 0700). Failures are
// classified: errors.Is(err, ErrStateDirMissing | ErrStateDirReadOnly | ErrDiskFull (SQLITE_FULL
// or ENOSPC) | ErrBusy | ErrCorrupt). On ErrDiskFull nothing of the failed step was recorded,
// and the caller must not run an action whose BeginAction failed.
//
// # Entries
//
// Entry fields: run id, time, actor ("user@host", or "heal"), kind (gate | action | verify |
// lock | note), forest, name, target (DC), link, plan fingerprint, outcome (allowed | refused |
// started | succeeded | failed | pending | skipped; empty only for notes), reason, command
// display text, exit code, output digest (SHA-256 of stdout followed by stderr) and a short
// excerpt of the output, verification result, error text, step key, and ref (the begin record
// a finish or re-check refers to).
//
// Secrets never reach the database: every text field passes through Redact, which replaces
// strings registered with Store.RegisterSecret (and their URL, JSON, base64 and PowerShell
// quoted forms), and values of password=/pwd=/secret=/token= pairs, -Password/--password
// switches, ConvertTo-SecureString arguments, user%password (Samba -U), /Password*: switches,
// URL user:password@ and Authorization headers, with [REDACTED]. Callers should still build
// command display text without secrets; redaction is the safety net. The output digest is over
// the raw output, so a saved copy can be matched; the excerpt is redacted first, then cut.
//
// # Two-phase actions and crash recovery
//
// BeginAction commits a "started" action entry before the action runs; FinishAction appends
// the outcome afterwards, referring to it. If the process dies in between (kill -9), the begin
// record is left without a finish: Unfinished(forest) lists such actions. The apply command
// must treat them as possibly completed: re-check the target, record the finding with
// MarkRechecked (succeeded: the effect is in place; failed: it is not and the step may run
// again; skipped), and only then decide to repeat. Each action carries a step key
// (StepKey(plan fingerprint, link, action)); Step and Steps tell a resumed apply which steps
// of the plan are done, failed, or need a re-check.
//
// # Approval use
//
// Approvals are single-use. UseApproval(entry, digest) records, in one transaction with the
// check, a note "approval-used" (outcome started, step key "approval:<digest>") before a run's
// first change under an approval, and refuses with ErrApprovalSpent when the latest such
// record was finished with any outcome other than pending; FinishApprovalUse records the run's
// end (a note referring to it). ApprovalUse(digest) says unused, interrupted (no finish, or
// pending: a resume may use it) or spent.
//
// # Locks
//
// AcquireLock(forest, holder, ttl) admits one apply or heal per forest. A held lock refuses
// with a *LockError naming the holder (user@host pid N, since, expires); an expired lock is
// reported as stale (errors.Is(err, ErrStaleLock)) and is never taken over silently: only
// BreakLock(forest, who, reason) removes it, and it refuses to break a lock that has not
// expired unless the holder ran on this host and its process is gone. Acquisitions, refusals,
// renewals (apply renews before each step; a renewal that finds the lock gone is recorded as
// failed and the run stops before its next change), releases and breaks are all recorded as
// lock entries.
//
// # Heal bookkeeping
//
// Queries over the journal: LastAction (per forest, DC and action, for cooldowns; any begun
// attempt counts), TargetsTouchedSince (distinct DCs acted on, for the 24 h cap), ActionsInRun,
// FailedVerificationsSince (verify entries with outcome failed, re-checks excluded). The circuit
// breaker is a table (Breaker, OpenBreaker, ResetBreaker), each change also recorded as a note
// (breaker-opened, breaker-reset) with who and why.
//
// # JSON shape (fix8524 journal --json)
//
// WriteJSON writes one document; every entry has every key, so consumers can rely on them:
//
//	{
//	  "schema": "fix8524.journal/v1",
//	  "entries": [
//	    {
//	      "id": 7,                          // increasing; ties in time are ordered by id
//	      "run_id": "20250607T200000Z-1a2b3c4d5e6f",
//	      "time": "2025-06-07T20:00:01.123456789Z",   // RFC 3339, UTC
//	      "actor": "alice@admin01",         // or "heal"
//	      "kind": "action",                 // gate | action | verify | lock | note
//	      "forest": "corp.example",
//	      "name": "restart-netlogon",       // gate name, action name, "recheck:<action>", lock op
//	      "target": "dc2.corp.example",     // "" if none
//	      "link": "dc1<-dc2 DC=corp,DC=example",
//	      "plan_fingerprint": "…",
//	      "outcome": "succeeded",           // allowed | refused | started | succeeded | failed | pending | skipped | ""
//	      "reason": "…",
//	      "command": "Restart-Service -Name Netlogon -Force",
//	      "exit_code": 0,                   // null when no exit status
//	      "output_sha256": "…",             // hex; "" when no output was recorded
//	      "output_excerpt": "…",            // redacted, at most ~1 KiB
//	      "verification": "…",
//	      "error": "",
//	      "step_key": "…",                  // actions and re-checks
//	      "ref": 6                          // 0, or the begin record this entry finishes/re-checks
//	    }
//	  ]
//	}
//
// WriteTable renders the same entries for people. ParseSince parses --since.
package journal
