# DC2 runs behind a firewall that drops everything from the admin workstation (LDAP, RPC, WinRM);
# its replication partners reach it. Its host record is intact everywhere; its GUID CNAME was
# scavenged from DC1's DNS server, so DC1 logs 8524 (20 days now). fix8524 knows DC2's address
# and sees no answer on it: source_offline, whose text says it may be a firewall and how to tell
# (the same test from DC1). Its host records are present, so it is never called gone.
scenario {
  title       = "A running source DC behind a firewall, records intact"
  description = "DC2 runs but drops the workstation's probes; its CNAME is missing on DC1's DNS server."
  expect = {
    "DC1<-DC2" = "source_offline"
  }
  expect_actions = {
    "DC1<-DC2" = []
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
  guid        = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips         = ["192.0.2.12"]
  dns_servers = ["192.0.2.12", "192.0.2.11"]
  filtered    = true
}

dc "DC3" {
  guid        = "3c1d5e0b-6f7a-4b2c-9d8e-0a1b2c3d4e5f"
  ips         = ["192.0.2.13"]
  dns_servers = ["192.0.2.13", "192.0.2.11"]
}

dns_server "192.0.2.11" {
  host    = "DC1"
  missing = ["cname:DC2"]
}

dns_server "192.0.2.13" {
  host = "DC3"
}

dns_server "192.0.2.12" {
  host = "DC2"
}

link {
  destination  = "DC1"
  source       = "DC2"
  failures     = 900
  last_success = "2026-10-31T09:00:00Z"
}
