# The article's cause 4: DC2 registered its CNAME on its own DNS server, but DC1's DNS server does
# not receive AD replication of the DNS partitions (replicates = false), so its copy of
# _msdcs.contoso.com never got the record. The zone copies differ.

scenario {
  title       = "The destination's DNS server has a stale copy of the zone"
  description = "192.0.2.11 does not replicate the DNS partitions; DC2's CNAME is only on 192.0.2.12."
  expect = {
    "DC1<-DC2" = "dns_zone_copies_differ"
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

dns_server "192.0.2.11" {
  host       = "DC1"
  replicates = false
  missing    = ["cname:DC2"]
}

dns_server "192.0.2.12" {
  host = "DC2"
}
