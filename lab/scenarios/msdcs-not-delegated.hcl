# The article's note on the Windows 2000 layout: on DC1's DNS server, _msdcs.contoso.com is not a
# zone of its own but a non-delegated sub-domain of contoso.com, while DC2's DNS server hosts the
# forest-wide _msdcs.contoso.com zone. DC2 registered its CNAME in that zone; DC1's server answers
# from its own sub-domain, which lacks it. The SOA query for _msdcs.contoso.com shows the layout.

scenario {
  title       = "_msdcs is a non-delegated sub-domain on the destination's DNS server"
  description = "192.0.2.11 hosts contoso.com with _msdcs inside it; 192.0.2.12 hosts _msdcs.contoso.com."
  expect = {
    "DC1<-DC2" = "msdcs_not_delegated"
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
  host    = "DC1"
  zones   = ["contoso.com"]
  missing = ["cname:DC2"]
}

dns_server "192.0.2.12" {
  host = "DC2"
}
