# Issue 12's first case: DC2 runs and answers LDAP on its address, but its A record and GUID
# CNAME are missing on every DNS server (its registrations were lost: the article's cause 2), and
# AD's zones hold no record of it. The workstation resolves through DC1's DNS server. fix8524
# looks for DC2's address everywhere it can (its resolver, AD's zones, every DNS server of the
# forest), finds none, and does not dial a name: DC2's liveness is unknown, and the plan says
# so. It is neither offline nor gone; no cleanup is offered.
scenario {
  title       = "A running source DC whose records are lost everywhere"
  description = "DC2 runs; its A record and GUID CNAME are on no DNS server. DC1 and DC3 log 8524."
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
  guid         = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips          = ["192.0.2.12"]
  dns_servers  = ["192.0.2.11"]
  unregistered = ["cname", "host"]
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
