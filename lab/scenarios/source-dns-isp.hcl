# The article's cause 2 (and cause 3 the other way round): DC2's DNS client points only at an ISP
# resolver. The ISP hosts none of the forest's zones and accepts no dynamic updates, so DC2 never
# registered its CNAME or host record (DC1 logs 8524), and DC2 cannot resolve DC1 either.

scenario {
  title       = "Source DC points at an ISP DNS server"
  description = "DC2 uses 198.51.100.53 (an ISP resolver) as its only DNS server."
  expect = {
    "DC1<-DC2" = "source_dns_client_invalid"
    "DC2<-DC1" = "destination_dns_client_invalid"
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
  dns_servers = ["192.0.2.11"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]
}

dc "DC2" {
  guid         = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips          = ["192.0.2.12"]
  dns_servers  = ["198.51.100.53"]
  unregistered = ["cname", "host"]
}

dns_server "192.0.2.11" {
  host = "DC1"
}

dns_server "192.0.2.12" {
  host = "DC2"
}

dns_server "198.51.100.53" {
  kind = "isp"
}
