# The article's cause 2, host records: DC2 registered its GUID CNAME but not its host A record
# (the DNS client's registration failed), so the CNAME points at a name that does not resolve.
# Remedy: ipconfig /registerdns (Register-DnsClient) on DC2, then retry.

scenario {
  title       = "Source DC did not register its host record"
  description = "dc2.contoso.com has no A record on any DNS server; the CNAME exists."
  expect = {
    "DC1<-DC2" = "source_host_not_registered"
  }
}

forest {
  root_domain = "contoso.com"
}

# DC2 registered no host record anywhere, so no DNS server and no AD zone knows its address:
# the operator's inventory does (without it, DC2 is source_address_unknown: whether it runs is
# unknown).
workstation {
  inventory "DC2" {
    ips = ["192.0.2.12"]
  }
}

dc "DC1" {
  guid        = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips         = ["192.0.2.11"]
  dns_servers = ["192.0.2.11", "192.0.2.12"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]
}

dc "DC2" {
  guid         = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips          = ["192.0.2.12"]
  dns_servers  = ["192.0.2.12", "192.0.2.11"]
  unregistered = ["host"]
}

dns_server "192.0.2.11" {
  host = "DC1"
}

dns_server "192.0.2.12" {
  host = "DC2"
}
