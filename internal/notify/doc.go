// Package notify escalates what scheduled healing could not do alone: a JSON POST to webhook
// targets (Slack and Microsoft Teams incoming webhooks, or any HTTP receiver).
//
// # Body
//
// Every POST carries one Event as JSON (Payload), version 1:
//
//	{
//	  "text": "fix8524 heal on contoso.com: 1 item needs a human …",   // Slack and Teams show this
//	  "version": 1,
//	  "event": "held",                  // held | verification_failed | breaker_open | refused | error | warning
//	  "forest": "contoso.com",
//	  "run_id": "20261120T093000Z-1a2b",
//	  "time": "2026-11-20T09:30:00Z",
//	  "host": "ops-vm1",                // the machine that ran heal (optional)
//	  "plan_path": "/var/lib/fix8524/plans/….json",   // the plan saved for a human (optional)
//	  "exit_code": 2,                   // heal's exit code for this run
//	  "summary": "1 held for a human, 1 refused by a guardrail",
//	  "items": [
//	    {"status": "held", "code": "high_risk", "finding": "DC1<-DC2", "action": "metadata_cleanup",
//	     "action_id": "DC1<-DC2/metadata_cleanup", "target": "DC1", "risk": "high",
//	     "reason": "high-risk actions never run unattended"}
//	  ],
//	  "breaker": {"open": true, "since": "…", "reason": "3 failed verifications within 6h0m0s"}
//	}
//
// The top-level "text" is the message Slack and Teams incoming webhooks display: a plain-text
// rendering of the event, with '&', '<' and '>' escaped as Slack requires (so a value from the
// directory cannot form a mention or a link), control characters removed and the item list
// bounded. Receivers that want structure read the other fields.
//
// # Warnings
//
// The event "warning" reports links that replicate now but will fail (the plan's warnings,
// e.g. a link that dials the GUID name of an earlier incarnation of its source): one item per
// warning, status "warning", code the playbook's warning name, finding the partnership,
// target the destination DC, reason the rendered message. A target receives it only when its
// events list names it: nothing is broken yet, so it is news for a channel, not a pager, and a
// target configured before the event existed keeps receiving what it did.
//
// # Secrets
//
// A Target never holds a secret value, only the names of environment variables: URLEnv for a
// webhook URL that is itself a secret (Slack's and Teams' are), SecretHeaders for header values
// (an Authorization token). They are read at send time with Sender.Getenv, and are never
// written to the body, an error or a log line: errors and logs show the target's name and
// its URL reduced to scheme and host (RedactURL). Response bodies are discarded unread, so a
// receiver that echoes the request cannot leak a header into a log either.
//
// # Delivery
//
// Each attempt has a timeout (Target.Timeout, default 10s). Network errors, timeouts, 5xx,
// 408 and 429 are retried with exponential backoff (1s, 2s, 4s … capped at 30s, with jitter;
// a Retry-After of up to 60s is honoured) up to Target.Attempts attempts in all (default 3,
// at most 10). Any other status is final: 2xx is success, other 4xx are a failure that
// retrying cannot fix. Redirects are not followed (a POST with an Authorization header must
// not be re-sent to wherever a 3xx points): configure the final URL. Plain http:// is refused
// for a target with secret headers unless the host is a loopback address.
package notify
