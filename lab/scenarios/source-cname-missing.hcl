# The article's running example: CONTOSO-DC1 cannot replicate from CONTOSO-DC2 with 8524 because
# DC2 never registered its GUID CNAME (<guid>._msdcs.contoso.com) on any DNS server.
# Remedy: restart Netlogon on DC2 (it registers the CNAME at start), re-run the PING test, retry.

scenario {
  title       = "Source DC did not register its GUID CNAME"
  description = "DC2's Netlogon registration of 8a7baee5-...._msdcs.contoso.com failed; DC1 logs 8524 and event 2087."
  expect = {
    "DC1<-DC2" = "source_cname_not_registered"
  }
}

forest {
  root_domain = "contoso.com"
}

domain "contoso.com" {
  netbios = "CONTOSO"
}

dc "DC1" {
  guid        = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips         = ["192.0.2.11"]
  dns_servers = ["192.0.2.11", "192.0.2.12"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]

  event {
    id         = 2087
    source     = "DC2"
    error_code = 8524
  }
  event {
    id         = 1925
    source     = "DC2"
    nc         = "DC=contoso,DC=com"
    error_code = 8524
  }
}

dc "DC2" {
  guid         = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips          = ["192.0.2.12"]
  dns_servers  = ["192.0.2.12", "192.0.2.11"]
  unregistered = ["cname"]
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
  failures    = 23
}
