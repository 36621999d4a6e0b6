# Issue 12's second case: DC2's A record and GUID CNAME are missing only on DC1's DNS server
# (192.0.2.11 receives no replication of the DNS partitions), which is also the server the
# workstation asks. DC2's and DC3's DNS servers hold both records. fix8524 finds DC2 through
# DC3's DNS server (DC3's DNS client settings name 192.0.2.12 and 192.0.2.13), reads it, and
# diagnoses the zone copies that differ; DC1's resolver and AD copy disagree with the others,
# which the plan shows.

scenario {
  title       = "The source's records are missing only on the destination's (and workstation's) DNS server"
  description = "192.0.2.11 lacks DC2's records; 192.0.2.12 and 192.0.2.13 hold them. DC1 logs 8524."
  expect = {
    "DC1<-DC2" = "dns_zone_copies_differ"
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
  dns_servers = ["192.0.2.12"]
}

dc "DC3" {
  guid        = "3c1d5e0b-6f7a-4b2c-9d8e-0a1b2c3d4e5f"
  ips         = ["192.0.2.13"]
  dns_servers = ["192.0.2.13", "192.0.2.12"]
}

dns_server "192.0.2.11" {
  host       = "DC1"
  replicates = false
  missing    = ["all:DC2"]
}

dns_server "192.0.2.12" {
  host = "DC2"
}

dns_server "192.0.2.13" {
  host = "DC3"
}
