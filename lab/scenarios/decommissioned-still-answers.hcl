# The operator declares DC2 decommissioned (-var 'decommissioned=["DC2"]'), but DC2 still runs
# and answers on its address. The plan is stale_metadata as told, and its cleanup is refused by
# the dsa_not_alive guard with the evidence: the ports on which DC2 answered.

scenario {
  title       = "A DC declared decommissioned that still answers"
  description = "DC2 is listed in decommissioned but answers LDAP and RPC; its CNAME is missing on DC1's DNS server."
  vars        = ["decommissioned=[\"DC2\"]"]
  expect = {
    "DC1<-DC2" = "stale_metadata"
  }
  expect_actions = {
    "DC1<-DC2" = ["metadata_cleanup (blocked)"]
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
}

dns_server "192.0.2.11" {
  host    = "DC1"
  missing = ["cname:DC2"]
}

dns_server "192.0.2.12" {
  host = "DC2"
}
