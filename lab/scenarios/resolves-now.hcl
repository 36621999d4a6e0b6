# The article's PING test passes: DC1 logged 8524 during a DNS outage that is over. Every DNS
# server DC1 uses resolves DC2's GUID CNAME now, so this is not (or no longer) a DNS problem:
# retry the failing replication.

scenario {
  title       = "The name resolves again: retry replication"
  description = "DC1 still shows 8524 from an earlier DNS outage; DC2's CNAME resolves everywhere now."
  expect = {
    "DC1<-DC2" = "dns_resolves_now"
  }
}

forest {
  root_domain = "contoso.com"
}

dc "DC1" {
  guid        = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips         = ["192.0.2.11"]
  dns_servers = ["192.0.2.11", "192.0.2.12"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]
}

dc "DC2" {
  guid        = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips         = ["192.0.2.12"]
  dns_servers = ["192.0.2.12", "192.0.2.11"]
}

dns_server "192.0.2.11" {
  host = "DC1"
}

dns_server "192.0.2.12" {
  host = "DC2"
}

link {
  destination = "DC1"
  source      = "DC2"
  result      = 8524
  failures    = 3
}
