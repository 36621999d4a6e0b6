# The article's cause 5, parent/child: DC3 in child.contoso.com uses its own DNS server, which hosts
# only child.contoso.com and forwards everything else to 192.0.2.99, an address where no DNS server
# runs any more. DC3 cannot resolve DC1's CNAME in _msdcs.contoso.com: an invalid forwarder.

scenario {
  title       = "Child domain DNS server forwards to a dead address"
  description = "192.0.2.31 (DC3) forwards to 192.0.2.99, which does not answer."
  expect = {
    "DC3<-DC1" = "forwarder_or_delegation_invalid"
  }
}

forest {
  root_domain = "contoso.com"
}

# The admin's workstation resolves through the parent domain's DNS server (DC3's own server,
# with its dead forwarder, resolves nothing outside child.contoso.com: planned from there, DC1
# would be source_address_unknown).
workstation {
  dns_servers = ["192.0.2.11"]
}

domain "contoso.com" {
  netbios = "CONTOSO"
}

domain "child.contoso.com" {
  netbios = "CHILD"
}

dc "DC1" {
  guid        = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips         = ["192.0.2.11"]
  dns_servers = ["192.0.2.11"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]
}

dc "DC3" {
  guid        = "3c1d5e0b-6f7a-4b2c-9d8e-0a1b2c3d4e5f"
  domain      = "child.contoso.com"
  ips         = ["192.0.2.31"]
  dns_servers = ["192.0.2.31"]
  fsmo        = ["pdc", "rid", "infrastructure"]
}

dns_server "192.0.2.11" {
  host  = "DC1"
  zones = ["contoso.com", "_msdcs.contoso.com"]
  delegation "child.contoso.com" {
    servers = ["192.0.2.31"]
  }
}

dns_server "192.0.2.31" {
  host       = "DC3"
  zones      = ["child.contoso.com"]
  forwarders = ["192.0.2.99"]
}
