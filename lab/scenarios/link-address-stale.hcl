# Found in the Samba lab: DC2 was demoted by force and promoted again under the same name, and
# the metadata of its earlier promotion was cleaned up everywhere. DC1 replicates from the new
# DSA, but its replication link (repsFrom) still dials the GUID name of the earlier incarnation.
# That CNAME was removed with the old metadata, so DC1 logs 8524 while the PING test for DC2's
# current GUID CNAME passes. Rebuild the link (KCC), then retry.

scenario {
  title       = "Source re-promoted: the destination's link still dials the old GUID name"
  description = "DC1 replicates from DSA 5b2e... but dials 8a7baee5-...._msdcs.contoso.com, which no longer exists."
  expect = {
    "DC1<-DC2" = "link_address_stale"
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
  guid        = "5b2e7c41-0d9a-4f63-8e15-2a7c9b3d6f80"
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

link {
  destination  = "DC1"
  source       = "DC2"
  address_guid = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
}
