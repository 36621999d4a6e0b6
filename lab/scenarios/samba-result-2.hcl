# Two Samba AD DCs. DC2's GUID CNAME and A record are gone from both DNS servers. A Samba
# destination records result 2 (WERR_FILE_NOT_FOUND) where Windows records 8524 for the same
# failed lookup (shared/research/samba-lab.md §4.3); the playbook matches both.

scenario {
  title       = "Samba destination records result 2 for the failed CNAME lookup"
  description = "DC2 (Samba) lost its CNAME and host records; DC1 (Samba) records WERR_FILE_NOT_FOUND."
  expect = {
    "DC1<-DC2" = "source_cname_not_registered"
  }
}

forest {
  root_domain = "lab.example.com"
}

# DC2 registered no host record anywhere, so no DNS server and no AD zone knows its address:
# the operator's inventory does (without it, DC2 is source_address_unknown: whether it runs is
# unknown).
workstation {
  inventory "DC2" {
    ips = ["192.0.2.102"]
  }
}

domain "lab.example.com" {
  netbios = "LAB"
}

dc "DC1" {
  guid        = "56afb0f4-2545-427f-83a3-e70a342356c2"
  platform    = "samba"
  ips         = ["192.0.2.101"]
  dns_servers = ["192.0.2.101"]
  fsmo        = ["schema", "naming", "pdc", "rid", "infrastructure"]
}

dc "DC2" {
  guid         = "9fcf3c6e-8b1d-4c55-a6f0-3d2b1e7c9a10"
  platform     = "samba"
  ips          = ["192.0.2.102"]
  dns_servers  = ["192.0.2.101"]
  unregistered = ["cname", "host"]
}

dns_server "192.0.2.101" {
  host = "DC1"
}

dns_server "192.0.2.102" {
  host = "DC2"
}
