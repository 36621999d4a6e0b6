# The article's catch-all (cause 5, "DNS servers ... are not functioning properly"): DC1's DNS
# server serves contoso.com and _msdcs.contoso.com fine, but a bogus delegation of DC2's very CNAME
# to 192.0.2.250 (where nothing answers) makes it SERVFAIL that one name. None of the specific
# causes matches: run DCDIAG /TEST:DNS on both DCs.

scenario {
  title       = "The destination's DNS server fails on the source's CNAME only"
  description = "192.0.2.11 answers SERVFAIL for DC2's GUID CNAME (a lame delegation of that name)."
  expect = {
    "DC1<-DC2" = "dns_unexplained"
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
  host = "DC1"
  delegation "8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com" {
    servers = ["192.0.2.250"]
  }
}

dns_server "192.0.2.12" {
  host = "DC2"
}
