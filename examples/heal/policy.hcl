# fix8524 heal policy: what `fix8524 heal` may change on domain controllers without a human.
#
# Check it with:   fix8524 validate --policy policy.hcl
# Use it with:     fix8524 heal --dc dc1.contoso.com --policy policy.hcl --state /var/lib/fix8524
# Without --policy heal uses a built-in default (low-risk actions only, 1h cooldown per DC and
# action, 3 actions per run, 2 DCs per 24h, breaker after 3 failed verifications in 6h) and
# says so. Every setting below is optional; an omitted one keeps that default value.
#
# What no policy can change: metadata cleanup (an LDAP delete of a DC's NTDS Settings object),
# and any other high-risk action, is never run unattended. heal saves it in a plan for a human
# to approve (`fix8524 approve`) and notifies. `max_risk = "high"` is refused.

# At most 3 actions in one run; the rest wait for the next run (1-100).
max_actions_per_run = 3

# An absolute cap: never change more than 2 distinct DCs in any 24 hours (1-1000). Not a
# percentage: a percentage of a large forest is still a large outage.
max_dcs_per_24h = 2

# After running an action on a DC, do not run the same action on the same DC again for 1h
# (at least 1m, at most 30d; "90m", "4h", "1d" and "1d12h" are all valid).
cooldown = "1h"

# Actions that never run unattended under this policy, by the playbook's action name.
# ["*"] turns heal into a monitor: everything is escalated, nothing is changed.
deny = []

# Allow rules: an action runs unattended only if at least one rule admits it.
# This one admits every low-risk action of the playbook (register_cname, register_host,
# retry_replication in the shipped 8524 playbook).
allow "low-risk" {
  max_risk = "low"        # "low" or "medium"; an action above it is held for a human
}

# A narrower rule would name the actions it admits, e.g. a medium-risk action of your own
# playbook:
#   allow "my-medium-action" {
#     max_risk = "medium"
#     actions  = ["my_medium_action"]
#   }

# A longer cooldown for one action: re-running replication every 15 minutes helps nobody.
action "retry_replication" {
  cooldown = "2h"
}

# The circuit breaker: 3 failed verifications within 6h open it. While open, heal changes
# nothing and escalates; it stays open (even after the failures age out) until a human runs
#   fix8524 heal --reset-breaker --reason "why it is safe again" --state /var/lib/fix8524
# which is recorded in the journal.
breaker {
  failures = 3
  within   = "6h"
}

# Change windows: heal changes DCs only inside one of them (none = any time). Same shape as
# the playbook's window blocks; the playbook's own windows apply too, so both must admit.
# Here: weekdays 07:00-18:00 Berlin time, when someone can answer an escalation.
window "office-hours" {
  cron      = "0 7 * * MON-FRI"   # opens at 07:00 (minute hour day-of-month month day-of-week)
  duration  = "11h"               # and stays open 11 hours
  time_zone = "Europe/Berlin"     # IANA zone; DST handled (empty = UTC)
}

# Escalation to a chat channel (Slack or Teams incoming webhook): held items, failed
# verifications, the breaker opening, errors, and warnings (links that replicate now but will
# fail; only targets that list "warning" get them). The webhook URL of Slack and Teams is
# itself a secret, so it comes from an environment variable, never from this file.
notify "ops-chat" {
  url_env  = "FIX8524_CHAT_WEBHOOK_URL"
  events   = ["held", "verification_failed", "breaker_open", "error", "warning"]
  timeout  = "10s"        # per attempt
  attempts = 3            # 5xx and timeouts are retried with backoff; 4xx are not
}

# Escalation to a ticketing or paging receiver that takes a bearer token. Plain headers may be
# written here; secret ones name the environment variable that holds the value.
notify "tickets" {
  url            = "https://tickets.example.net/api/fix8524"
  headers        = { "X-Source" = "fix8524" }
  secret_headers = { Authorization = "FIX8524_TICKETS_AUTHORIZATION" }  # e.g. "Bearer ..."
  events         = ["held", "breaker_open"]
}
