// Package policy decides what `fix8524 heal` may do without a human, and what it must hold
// back or escalate.
//
// # The policy file
//
// A policy is an HCL file with an explicit schema; anything not listed here is an error with
// its file:line:col. Every setting is optional: an omitted one takes the built-in default.
//
//	max_actions_per_run = 3        # actions one run applies at most (1-100)
//	max_dcs_per_24h     = 2        # distinct DCs changed in any 24h, an absolute cap (1-1000)
//	cooldown            = "1h"     # per DC and action: minimum time between two runs of it (1m-30d)
//	deny                = ["restart_netlogon"]   # never unattended under this policy ("*": nothing)
//
//	allow "low-risk" {             # an action may run unattended if some allow rule admits it
//	  max_risk = "low"             # "low" (default) or "medium"; "high" is refused
//	  actions  = ["register_dns"]  # optional: only these action names ("*" or absent: any)
//	}
//
//	action "retry_replication" { cooldown = "30m" }   # a per-action cooldown
//
//	breaker {                      # the circuit breaker
//	  failures = 3                 # failed verifications …
//	  within   = "6h"              # … within this long open it
//	}
//
//	window "weeknights" {          # the playbook's window shape; evaluated by engine/window
//	  cron      = "0 22 * * MON-FRI"
//	  duration  = "8h"
//	  time_zone = "Europe/Berlin"
//	}
//
//	notify "ops" {                 # an escalation webhook (internal/notify)
//	  url_env        = "FIX8524_WEBHOOK_URL"       # or url = "https://…" when the URL is not a secret
//	  headers        = { "X-Team" = "ad-ops" }     # non-secret headers only
//	  secret_headers = { Authorization = "FIX8524_WEBHOOK_TOKEN" }  # header = env var holding it
//	  timeout        = "10s"
//	  attempts       = 3
//	  events         = ["held", "verification_failed", "breaker_open", "error"]
//	}
//
// Durations are Go durations ("90m", "4h") or whole days ("1d", "1d12h").
//
// Without any allow block, the default rule applies: low-risk actions of any name. Without
// --policy, heal uses Default() and prints DefaultNotice (LoadOrDefault).
//
// # Hard rules
//
// Metadata cleanup can never be auto-approved, and no policy setting changes that: an action
// whose kind is an LDAP delete, whose risk is high (or unknown), whose name is a metadata
// cleanup or demotion, or whose command deletes directory or DNS data (ntdsutil, demote,
// Remove-ADObject, dnscmd /RecordDelete …) is always held for a human. A policy that tries
// gets a diagnostic: max_risk = "high" is an error; unknown settings whose names speak of
// cleanup get an explanation instead of a bare "unsupported argument"; allow-listed names that
// look like cleanup get a warning at parse time and, checked against the playbook
// (Policy.Lint), an error when the action is an LDAP delete or high risk.
//
// Guardrails can be loosened but not switched off: the cooldown is at least a minute, the caps
// and the breaker threshold at least 1. Header values that look secret (Authorization, token,
// key …) may only come from environment variables (secret_headers), so a policy file holds no
// secret; diagnostics never print source text.
//
// # Deciding
//
// Decide(policy, candidates, history, now) returns one Verdict per candidate, in order. Each is
// approved, or held with a code, a class and one precise reason:
//
//	never_unattended  human      high risk, LDAP delete, cleanup or destructive command (hard-coded)
//	blocked           human      the plan blocks it (guard, flagged value, unknown platform)
//	assumed_settings  human      its finding rests on assumed settings (Finding.Assumptions)
//	denied            human      the policy's deny list names it
//	not_allowed       human      no allow rule admits its name at its risk
//	breaker_open      guardrail  the circuit breaker is open
//	outside_window    guardrail  outside every change window (Until: the next opening)
//	cooldown          guardrail  it ran on this DC too recently (Until: the end of the cooldown)
//	dc_cap            guardrail  the cap of distinct DCs per 24h is reached
//	run_max           guardrail  this run already approved the maximum
//	history_error     error      the journal could not be read (fail closed)
//
// History is an interface; JournalHistory{Store, Forest} reads it from internal/journal.
// CandidatesFromPlan turns a plan.Plan into candidates, HumanFindings counts its findings
// that need a human anyway; heal.Lint feeds Policy.Lint a playbook's actions. The breaker
// (EvaluateBreaker) is open while the journal records it open, or once Failures verifications
// failed within Within, counting only failures after the last reset; when this run's
// evaluation opened it (Tripped) the caller records the opening. It closes only by a recorded
// reset (fix8524 heal --reset-breaker --reason TEXT).
//
// # Exit codes
//
// Summarize(verdicts) plus Summary.AddOutcome for each applied action give Summary.ExitCode():
// 1 on any journal or apply error; else 2 when a human is needed (held for a human, a failed or
// pending verification, findings with manual steps or incomplete diagnoses); else 3 when a
// guardrail refused something or the breaker is open; else 0. Summary.Event() names the
// notification to send, HeldItems and OutcomeItem build its items.
package policy
