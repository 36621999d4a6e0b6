# Two healthy Windows DCs that resolve each other: nothing to do.

scenario {
  title       = "Healthy forest"
  description = "Every replication link succeeds; fix8524 proposes nothing."
  expect      = {}
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
