# The article's cause 3: the destination's DNS client points at DNS servers that do not host,
# forward or delegate the forest's zones. DC1's first (sticky) DNS server is an ISP resolver that
# answers NXDOMAIN for everything in contoso.com, so DC1 cannot resolve DC2's CNAME.

scenario {
  title       = "Destination DC points at an ISP DNS server"
  description = "DC1 uses 198.51.100.53 (an ISP resolver) first; DC2 registered fine."
  expect = {
    "DC1<-DC2" = "destination_dns_client_invalid"
  }
}

forest {
  root_domain = "contoso.com"
}

dc "DC1" {
  guid        = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips         = ["192.0.2.11"]
  dns_servers = ["198.51.100.53", "192.0.2.11"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]
}

dc "DC2" {
  guid        = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips         = ["192.0.2.12"]
  dns_servers = ["192.0.2.12", "192.0.2.11"]
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
