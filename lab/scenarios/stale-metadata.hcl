# The article's cause 1, second half: DC2 was removed without a demotion months ago. Nothing
# answers for it and DNS no longer holds its records, but its NTDS Settings object is still in the
# configuration NC, so DC1 and DC3 keep trying to replicate from it and log 8524. Remedy: the guarded
# LDAP tree delete of its NTDS Settings object (high risk, one approval per cleanup).

scenario {
  title       = "Stale metadata of a DC that no longer exists"
  description = "DC2 is gone for good; its NTDS Settings object remains. DC1 and DC3 log 8524."
  expect = {
    "DC1<-DC2" = "stale_metadata"
    "DC3<-DC2" = "stale_metadata"
  }
}

forest {
  root_domain = "contoso.com"
}

# DC2's old address is still in the operator's inventory: fix8524 probes it and nothing answers,
# the observation the cleanup's dsa_not_alive guard needs. (Without it, no address of DC2 is
# known and the cleanup stays blocked: stale-metadata-unlocated.)
workstation {
  inventory "DC2" {
    ips = ["192.0.2.12"]
  }
}

dc "DC1" {
  guid        = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips         = ["192.0.2.11"]
  dns_servers = ["192.0.2.11", "192.0.2.13"]
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
  failures     = 4120
  last_success = "2026-07-02T03:10:00Z"
}

link {
  destination  = "DC3"
  source       = "DC2"
  failures     = 4118
  last_success = "2026-07-02T03:12:00Z"
}
