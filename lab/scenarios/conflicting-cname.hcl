# The article's note on conflicting records: DC2 was renamed from DC2-OLD. Its GUID CNAME is a
# leftover static record that still points at dc2-old.contoso.com, which no longer exists, and DC2
# does not overwrite it. The CNAME "exists", yet the PING test fails.

scenario {
  title       = "The source's GUID CNAME points at an old host name"
  description = "8a7b...._msdcs.contoso.com is a CNAME for dc2-old.contoso.com on every DNS server."
  expect = {
    "DC1<-DC2" = "conflicting_cname"
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
  dns_servers  = ["192.0.2.12"]
  unregistered = ["cname"]
}

dns_server "192.0.2.11" {
  host = "DC1"
  record {
    name = "8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com"
    type = "CNAME"
    data = "dc2-old.contoso.com."
  }
}

dns_server "192.0.2.12" {
  host = "DC2"
  record {
    name = "8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com"
    type = "CNAME"
    data = "dc2-old.contoso.com."
  }
}
