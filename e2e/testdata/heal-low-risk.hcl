# Heal policy of the end-to-end suite: the low-risk re-registration and replication retry may
# run unattended; anything else (metadata cleanup above all) is held for a human.
max_actions_per_run = 4
max_dcs_per_24h     = 3
cooldown            = "1m"

allow "low-risk" {
  max_risk = "low"
  actions  = ["register_cname", "register_host", "retry_replication"]
}
