# The latent form of link-address-stale: DC2 was demoted by force and promoted again under the
# same name. DC1 replicates from the new DSA, but its replication link (repsFrom) still dials
# the GUID name of the earlier incarnation. Nobody removed that CNAME yet, so replication works
# today; once DNS scavenging (or a cleanup of the old DC's records) removes it, DC1 logs 8524.
# No link fails: the plan proposes nothing and warns about DC1<-DC2.

scenario {
  title       = "Source re-promoted: the destination's link dials the old GUID name, which still resolves"
  description = "DC1 replicates from DSA 5b2e... through 8a7baee5-...._msdcs.contoso.com, a CNAME nothing registers any more."
  expect = {
    "DC1<-DC2" = "healthy"
  }
  expect_warnings = {
    "DC1<-DC2" = ["link_address_latent"]
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

# The CNAME of DC2's earlier incarnation, left behind (AD-integrated: on both servers).
dns_server "192.0.2.11" {
  host = "DC1"
  record {
    name = "8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com"
    type = "CNAME"
    data = "dc2.contoso.com."
  }
}

dns_server "192.0.2.12" {
  host = "DC2"
  record {
    name = "8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com"
    type = "CNAME"
    data = "dc2.contoso.com."
  }
}

link {
  destination  = "DC1"
  source       = "DC2"
  address_guid = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
}
