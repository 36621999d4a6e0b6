# A heal test forest whose remedy cannot work: DC2 never registered its GUID CNAME, and the DNS
# server DC1 asks (192.0.2.11, DC1's own) does not receive AD replication of the DNS partitions
# (replicates = false). Re-registering the CNAME on DC2 succeeds and verifies (DC2's own server
# answers it), but DC1 still cannot resolve DC2, so the replication retry is never confirmed:
# every heal run ends in a failed verification, which is what opens heal's circuit breaker.
# The diagnosis is what the article says for the symptoms at hand: the CNAME is not registered.

scenario {
  title       = "Registration fixes the source, but the destination's DNS server never gets it"
  description = "DC2's CNAME is missing everywhere; 192.0.2.11 does not replicate the DNS partitions, so re-registering on 192.0.2.12 never reaches DC1."
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
  dns_servers = ["192.0.2.11"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]
}

dc "DC2" {
  guid         = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips          = ["192.0.2.12"]
  dns_servers  = ["192.0.2.12"]
  unregistered = ["cname"]
}

dns_server "192.0.2.11" {
  host       = "DC1"
  replicates = false
}

dns_server "192.0.2.12" {
  host = "DC2"
}

link {
  destination = "DC1"
  source      = "DC2"
  failures    = 23
}
