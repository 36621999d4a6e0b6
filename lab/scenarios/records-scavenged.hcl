# The article's note on records that vanish: DC2 registered its GUID CNAME, replication worked, and
# then the record disappeared from every DNS server. DC1's DNS server logged DNS Server event 2501
# (a scavenging cycle that deleted records) an hour ago: overly aggressive scavenging, duplicate
# zones or KB 953317. Re-registering fixes it until the next scavenging; review the aging settings.

scenario {
  title       = "Source's CNAME registered, then scavenged"
  description = "DC2's CNAME vanished from both DNS servers after DC1's DNS server scavenged records."
  expect = {
    "DC1<-DC2" = "records_vanished"
  }
}

forest {
  root_domain = "contoso.com"
}

dc "DC1" {
  guid        = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips         = ["192.0.2.11"]
  dns_servers = ["192.0.2.11", "192.0.2.12"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]

  # DNS Server log: scavenging cycle completed, records scavenged.
  event {
    id  = 2501
    age = "1h"
  }
  event {
    id         = 2087
    source     = "DC2"
    error_code = 8524
  }
}

dc "DC2" {
  guid        = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips         = ["192.0.2.12"]
  dns_servers = ["192.0.2.11", "192.0.2.12"]
}

dns_server "192.0.2.11" {
  host    = "DC1"
  missing = ["cname:DC2"]
}

dns_server "192.0.2.12" {
  host    = "DC2"
  missing = ["cname:DC2"]
}

link {
  destination = "DC1"
  source      = "DC2"
  failures    = 9
}
