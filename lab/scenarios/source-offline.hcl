# The article's first row: the source is a valid DC that is currently offline. Its GUID CNAME was
# scavenged while it was down, so the destination logs 8524; its host record is still in DNS and it
# replicated two hours ago, so it is offline, not gone. Remedy: make it operational (manual). No
# metadata cleanup is offered for a DC that may come back.

scenario {
  title       = "Source DC is offline (but still a valid DC)"
  description = "DC2 is down; its CNAME aged out of DC1's DNS server. DC1 logs 8524."
  expect = {
    "DC1<-DC2" = "source_offline"
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
  dns_servers = ["192.0.2.12", "192.0.2.11"]
  state       = "offline"
}

dns_server "192.0.2.11" {
  host    = "DC1"
  missing = ["cname:DC2"]
}

# DC2 runs this DNS server, and DC2 is down.
dns_server "192.0.2.12" {
  host = "DC2"
  kind = "dead"
}
