# DC2 has not replicated for 90 days, longer than the forest's tombstone lifetime (60 days, the
# default: the directory sets none): whether it runs or not, it must never replicate again. The
# plan is stale_metadata, with the manual step to isolate and force-demote DC2 if it still runs.
# No address of DC2 was probed, so the cleanup's dsa_not_alive guard is unknown: the cleanup is
# shown and blocked until its address is given (stale-metadata shows the runnable cleanup).
scenario {
  title       = "A source DC silent for longer than the tombstone lifetime"
  description = "DC2 no longer exists, DNS holds nothing of it; it last replicated 90 days ago."
  expect = {
    "DC1<-DC2" = "stale_metadata"
    "DC3<-DC2" = "stale_metadata"
  }
  expect_actions = {
    "DC1<-DC2" = ["metadata_cleanup (blocked)"]
    "DC3<-DC2" = ["metadata_cleanup (blocked)"]
  }
}
forest {
  root_domain = "contoso.com"
}

dc "DC1" {
  guid        = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips         = ["192.0.2.11"]
  dns_servers = ["192.0.2.11"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]
}

dc "DC2" {
  guid  = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips   = ["192.0.2.12"]
  state = "gone"
}

dc "DC3" {
  guid        = "3c1d5e0b-6f7a-4b2c-9d8e-0a1b2c3d4e5f"
  ips         = ["192.0.2.13"]
  dns_servers = ["192.0.2.13", "192.0.2.11"]
}

dns_server "192.0.2.11" {
  host = "DC1"
}

dns_server "192.0.2.13" {
  host = "DC3"
}

link {
  destination  = "DC1"
  source       = "DC2"
  failures     = 900
  last_success = "2026-08-22T09:00:00Z"
}

link {
  destination  = "DC3"
  source       = "DC2"
  failures     = 900
  last_success = "2026-08-22T09:00:00Z"
}
