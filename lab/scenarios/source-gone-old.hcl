# As source-gone-fresh, 20 days later (older than gone_after_days): still no address of DC2 is
# known, so it is not called gone by age: a running DC whose records were lost looks the same.
scenario {
  title       = "A source DC gone for good with no records (older than gone_after_days)"
  description = "DC2 no longer exists and DNS holds nothing of it; the last success is 20 days old."
  expect = {
    "DC1<-DC2" = "source_address_unknown"
    "DC3<-DC2" = "source_address_unknown"
  }
  expect_actions = {
    "DC1<-DC2" = []
    "DC3<-DC2" = []
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
  last_success = "2026-10-31T09:00:00Z"
}

link {
  destination  = "DC3"
  source       = "DC2"
  failures     = 900
  last_success = "2026-10-31T09:00:00Z"
}
