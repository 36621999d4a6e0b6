# The article's PING section, steps 1-3: DC2 was demoted by force and promoted again under the same
# name. It now runs as a new DSA (own_guid) and registers the new CNAME, but DC1's copy of the
# configuration NC still holds the NTDS Settings object of the earlier promotion, so DC1 looks up a
# CNAME nobody registers. The object created earlier is stale: remove it (guarded LDAP delete that
# checks the object's GUID first).

scenario {
  title       = "Source re-promoted: the destination holds its stale NTDS Settings object"
  description = "DC2 answers as DSA 5b2e...; DC1 replicates from DSA 8a7b... and logs 8524."
  expect = {
    "DC1<-DC2" = "guid_mismatch"
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
}

dc "DC2" {
  guid        = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  own_guid    = "5b2e7c41-0d9a-4f63-8e15-2a7c9b3d6f80"
  created     = "2025-03-01T10:00:00Z"
  ips         = ["192.0.2.12"]
  dns_servers = ["192.0.2.12", "192.0.2.11"]
}

dns_server "192.0.2.11" {
  host = "DC1"
}

dns_server "192.0.2.12" {
  host = "DC2"
}
