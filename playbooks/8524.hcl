# fix8524 playbook: Active Directory replication error 8524
# "The DSA operation is unable to proceed because of a DNS lookup failure"
#
# This file IS the decision table fix8524 follows. It encodes the Microsoft article
# "Replication error 8524 The DSA operation is unable to proceed because of a DNS lookup failure"
# (shared/seed/8524-dns-lookup-failure.md). Read it, change it, then run `fix8524 validate`.
#
# How it is used, for every partnership (one destination DC and one source DSA, all failing NCs
# together, because one DNS diagnosis covers every NC of the pair):
#   1. `playbook.matches` says whether a failing link is ours.
#   2. Decisions are walked in file order; the first whose `when` holds wins. A `when` that is
#      unknown (a fact or DNS answer was not gathered) stops the walk: "diagnosis incomplete,
#      gather X". It never skips to a later decision, which could give a wrong diagnosis.
#   3. The winner's remedy (actions) and manual steps are rendered for this link.
#
# Names: D = destination DC (logs the failure), S = source DC, G = the DSA GUID of S as D knows it,
# R = the forest root domain. D looks up the CNAME G._msdcs.R, then S's host A/AAAA record.

playbook "ad-replication-8524" {
  title       = "The DSA operation is unable to proceed because of a DNS lookup failure"
  description = "Diagnose and fix replication links failing with 8524 (Windows) or 2 (Samba) because the destination cannot resolve the source's GUID CNAME or host record."

  # Windows records 8524 (ERROR_DS_DNS_LOOKUP_FAILURE). A Samba destination records 2
  # (WERR_FILE_NOT_FOUND) for the same failed lookup of the source's GUID CNAME
  # (shared/research/samba-lab.md §4.3), so result 2 is ours only when the destination is Samba.
  matches = link.last_result == 8524 || (link.last_result == 2 && link.destination.platform == "samba")

  # Supporting evidence shown for every finding (never decides anything): the destination's
  # events 2087 (could not resolve the source) and 2088 (resolved only by the NetBIOS fallback).
  evidence = [check.destination_logged_2087, check.destination_logged_2088, check.source_addresses_agree]
}

variable "decommissioned" {
  type        = list(string)
  default     = []
  description = "DCs you know are gone for good (e.g. -var 'decommissioned=[\"DC3\"]'). A source listed here is diagnosed as stale metadata; its cleanup is still refused while it answers on a known address, and blocked while no address of it was probed."
}

variable "gone_after_days" {
  type        = number
  default     = 14
  description = "A source with known addresses that answers on none of them (LDAP 389/636, RPC 135), whose host records are absent from every DNS server and AD zone fix8524 read, and that has not replicated for this many days is considered gone (stale metadata) rather than offline."
}

variable "event_lookback" {
  type        = string
  default     = "168h"
  description = "How far back events count as evidence."
}

# ---------------------------------------------------------------------------------------------
# Checks: the evidence. dns and tcp checks name the observations they need; fix8524 gathers
# exactly those (engine.Needs), so a check added here is gathered without any Go change.
# ---------------------------------------------------------------------------------------------

check "source_answers" {
  doc = "The source DC answers LDAP (389, 636) or RPC (135) on one of its known addresses: it is running. Each known address is dialled; with no known address the check is unknown (never \"does not answer\"), and a name that does not resolve is unknown too."
  tcp {
    host  = link.source.dns_host_name
    ports = [389, 636, 135]
    match = "any"
  }
}

check "source_addresses_agree" {
  doc       = "The places that know the source's addresses agree: no DNS server, AD zone copy or the workstation's resolver says its host does not exist while another holds it, and none holds other addresses. When they disagree, copies of the zones differ; link.source.address_evidence says which said what."
  condition = !link.source.addresses_disagree
}

check "source_beyond_tombstone" {
  doc       = "The source has not replicated for longer than the forest's tombstone lifetime (forest.tombstone_lifetime_days, read from CN=Directory Service; 60 days when absent): it must never replicate again, running or not."
  ok_means  = "problem"
  condition = !link.never_succeeded && link.days_since_success > forest.tombstone_lifetime_days
}

check "source_gone" {
  doc       = "The source is gone for good, on positive evidence only: you said so (var.decommissioned); or it has not replicated for longer than the tombstone lifetime; or it has known addresses, answers on none of them, its host records are absent from every DNS server and AD zone fix8524 read, and it has not replicated for var.gone_after_days days. A source whose liveness is unknown (no address known) is never gone by age."
  ok_means  = "problem"
  condition = contains(var.decommissioned, link.source.name) || check.source_beyond_tombstone.ok || (link.source.located && !check.source_answers.ok && link.source.host_records == "absent" && (link.never_succeeded || link.days_since_success >= var.gone_after_days))
}

check "guid_mismatch" {
  doc       = "The source's own view of its DSA GUID (its rootDSE dsServiceName) differs from the GUID the destination knows it by: the DC was promoted again and one NTDS Settings object is stale."
  ok_means  = "problem"
  condition = link.source.own_dsa_guid != link.source_dsa_guid
}

check "link_address_current" {
  doc       = "The address the destination dials for the source (repsFrom's DNS name, pszSourceDsaAddress in msDS-ReplAllInboundNeighbors) is the GUID CNAME of the DSA it replicates from. After a re-promotion a link can keep the GUID name of an earlier incarnation: that name stops resolving once the old CNAME is removed, while G._msdcs.R resolves fine."
  condition = !is_guid(link.source_dsa_guid) || !endswith(link.source_address, ".${forest.msdcs}") || link.source_address == link.cname
}

check "ping_from_destination" {
  doc = "The article's PING test: every DNS server of the destination resolves G._msdcs.R to an IPv4 address (the resolver is sticky, so any of them may be the one asked)."
  dns {
    name    = link.cname
    type    = "A"
    servers = link.destination.dns_servers
    match   = "all"
  }
}

check "ping_from_destination_v6" {
  doc = "The PING test for an IPv6-only source: G._msdcs.R resolves to an IPv6 address on every DNS server of the destination."
  dns {
    name    = link.cname
    type    = "AAAA"
    servers = link.destination.dns_servers
    match   = "all"
  }
}

check "destination_resolves_source" {
  doc       = "The PING test passes (IPv4 or IPv6)."
  condition = check.ping_from_destination.ok || check.ping_from_destination_v6.ok
}

check "stale_dsa_removed" {
  doc       = "After a metadata cleanup: the stale NTDS Settings object (DSA link.source_dsa_guid) is gone. The topology read again no longer holds it, no longer under that GUID (the DC's name now belongs to its current object), or the destination itself resolves it as a deleted DSA (repadmin /showrepl: \"deleted DSA\"). fix8524 also reads the object on the destination's copy before this check. Unlike destination_resolves_source, it can pass once the stale DC is gone: nothing registers its GUID CNAME any more."
  condition = !link.source.exists || link.source.dsa_guid != link.source_dsa_guid || link.source_deleted
}

check "source_dns_hosts_domain" {
  doc = "Every DNS server of the source hosts, forwards or delegates the source's domain zone (nslookup -type=soa <domain> <server>: an SOA in the answer or the authority section)."
  dns {
    name    = link.source.domain
    type    = "SOA"
    servers = link.source.dns_servers
    in_authority = true
  }
}

check "source_dns_hosts_msdcs" {
  doc = "Every DNS server of the source hosts, forwards or delegates _msdcs.R, where every DC registers its GUID CNAME."
  dns {
    name    = forest.msdcs
    type    = "SOA"
    servers = link.source.dns_servers
    in_authority = true
  }
}

check "cname_on_source_dns" {
  doc = "The source registered its GUID CNAME: some DNS server it points to answers CNAME G._msdcs.R."
  dns {
    name    = link.cname
    type    = "CNAME"
    servers = link.source.dns_servers
    match   = "any"
  }
}

check "host_on_source_dns_a" {
  doc = "The source registered its host A record on some DNS server it points to."
  dns {
    name    = link.source.dns_host_name
    type    = "A"
    servers = link.source.dns_servers
    match   = "any"
  }
}

check "host_on_source_dns_aaaa" {
  doc = "The source registered its host AAAA record on some DNS server it points to."
  dns {
    name    = link.source.dns_host_name
    type    = "AAAA"
    servers = link.source.dns_servers
    match   = "any"
  }
}

check "source_host_registered" {
  doc       = "The source registered a host record (A or AAAA)."
  condition = check.host_on_source_dns_a.ok || check.host_on_source_dns_aaaa.ok
}

check "scavenging_on_source_dns" {
  doc      = "A DNS server the source registers on scavenged records recently (DNS Server event 2501): registered records that later vanish point at scavenging, duplicate zones or the zone-transfer delete bug (KB 953317)."
  ok_means = "problem"
  event {
    on     = dcs_with_ip(link.source.dns_servers)
    ids    = [2501]
    within = var.event_lookback
  }
}

check "destination_dns_hosts_domain" {
  doc = "Every DNS server of the destination hosts, forwards or delegates the destination's own domain zone. An ISP resolver or a dead server fails this."
  dns {
    name    = link.destination.domain
    type    = "SOA"
    servers = link.destination.dns_servers
    in_authority = true
  }
}

check "msdcs_not_delegated_on_destination_dns" {
  doc      = "On some DNS server of the destination, _msdcs.R is a non-delegated sub-domain of R (the Windows 2000 layout): SOA _msdcs.R answers NODATA with R's SOA in the authority section."
  ok_means = "problem"
  dns {
    name    = forest.msdcs
    type    = "SOA"
    servers = link.destination.dns_servers
    match   = "any"
    answer  = false
    expect  = length(reply.answers) == 0 && length([for rr in reply.authority : rr if rr.type == "SOA" && rr.name == forest.root_domain]) > 0
  }
}

check "destination_dns_resolves_msdcs" {
  doc = "Every DNS server of the destination resolves the _msdcs.R zone (hosts it, or forwards or delegates to a server that does)."
  dns {
    name    = forest.msdcs
    type    = "SOA"
    servers = link.destination.dns_servers
    in_authority = true
  }
}

check "destination_dns_resolves_source_domain" {
  doc = "Every DNS server of the destination resolves the source's domain zone (parent/child: delegation and forwarders)."
  dns {
    name    = link.source.domain
    type    = "SOA"
    servers = link.destination.dns_servers
    in_authority = true
  }
}

check "cname_wrong_on_destination_dns" {
  doc      = "Some DNS server of the destination holds a CNAME for G._msdcs.R whose target is not the source's host name (a conflicting, CNF-mangled or leftover record)."
  ok_means = "problem"
  dns {
    name    = link.cname
    type    = "CNAME"
    servers = link.destination.dns_servers
    match   = "any"
    expect  = length([for rr in reply.answers : rr if rr.type == "CNAME" && lower(trimsuffix(rr.data, ".")) != link.source.dns_host_name]) > 0
  }
}

check "cname_missing_on_destination_dns" {
  doc      = "Some DNS server of the destination answers that G._msdcs.R does not exist (NXDOMAIN, or NOERROR without a CNAME): its copy of the zone lacks the record."
  ok_means = "problem"
  dns {
    name    = link.cname
    type    = "CNAME"
    servers = link.destination.dns_servers
    match   = "any"
    absent  = true
  }
}

check "host_missing_on_destination_dns_a" {
  doc      = "Some DNS server of the destination answers that the source's host has no A record."
  ok_means = "problem"
  dns {
    name    = link.source.dns_host_name
    type    = "A"
    servers = link.destination.dns_servers
    match   = "any"
    absent  = true
  }
}

check "host_missing_on_destination_dns_aaaa" {
  doc      = "Some DNS server of the destination answers that the source's host has no AAAA record."
  ok_means = "problem"
  dns {
    name    = link.source.dns_host_name
    type    = "AAAA"
    servers = link.destination.dns_servers
    match   = "any"
    absent  = true
  }
}

check "records_differ_between_dns_servers" {
  doc       = "The source's records exist where it registered them but not where the destination asks."
  ok_means  = "problem"
  condition = check.cname_on_source_dns.ok && check.source_host_registered.ok && (check.cname_missing_on_destination_dns.ok || (check.host_missing_on_destination_dns_a.ok && check.host_missing_on_destination_dns_aaaa.ok))
}

check "destination_logged_2087" {
  doc      = "The destination logged event 2087 (could not resolve the source by CNAME, FQDN or NetBIOS name) for this source."
  ok_means = "problem"
  event {
    on     = link.destination
    ids    = [2087]
    within = var.event_lookback
    match  = event.failing_name == "" || event.failing_name == link.cname || event.source_dsa_dn == link.source_dsa_dn
  }
}

check "destination_logged_2088" {
  doc      = "The destination logged event 2088 (DNS failed; replication fell back to the NetBIOS or FQDN name)."
  ok_means = "problem"
  event {
    on     = link.destination
    ids    = [2088]
    within = var.event_lookback
    match  = event.failing_name == "" || event.failing_name == link.cname || event.source_dsa_dn == link.source_dsa_dn
  }
}

# ---------------------------------------------------------------------------------------------
# Decisions, in the article's order. The first whose `when` holds wins.
# ---------------------------------------------------------------------------------------------

decision "source_address_unknown" {
  when  = !link.source.located && !check.source_gone.ok
  cause = "No address of ${link.source.name} is known: ${link.source.address_evidence}. Whether it runs is unknown: fix8524 did not dial it, and cannot tell a DC that is down or gone from a running one whose DNS registrations were lost. ${link.destination.name} fails to resolve it for the same reason."
  see   = "Verify whether the 8524 is caused by an offline DC or stale DC metadata"
  doc   = "Issue 12: a source whose name resolves nowhere (no DNS server of the forest, no AD zone, not the workstation's resolver, not the inventory). Its liveness is unknown, so neither offline nor gone is claimed, and no cleanup is offered."

  manual "Find the DC" {
    text = "Look for ${link.source.name} (${link.source.dns_host_name}) where your infrastructure records it: its console, the hypervisor, IPAM or DHCP records, the CMDB."
  }
  manual "If it runs: give fix8524 its address and plan again" {
    text  = "Add its address to the inventory (dc \"${link.source.name}\" { ips = [\"ADDRESS\"] }) and plan again with --inventory: fix8524 then probes it and offers the gated re-registration actions on it. Or, on its console, check its DNS client settings, re-register its host records and restart Netlogon (which registers its GUID CNAME), then plan again."
    on    = link.source
    shell = "cmd"
    commands = [
      ["ipconfig", "/all"],
      ["ipconfig", "/registerdns"],
      ["net", "stop", "netlogon"],
      ["net", "start", "netlogon"],
    ]
  }
  manual "If it is gone for good" {
    text = "Plan again with -var 'decommissioned=[\"${link.source.name}\"]' to get the metadata cleanup. It stays blocked until an address of ${link.source.name} was probed and did not answer: a DC that may run is never cleaned up."
  }
}

decision "source_offline" {
  when  = !check.source_answers.ok && !check.source_gone.ok
  cause = "${link.source.name} does not answer LDAP or RPC on its known addresses (${join(", ", link.source.ips)}), and nothing shows it is gone: it replicated ${link.never_succeeded ? "never (so far)" : "${link.days_since_success} day(s) ago"}${link.source.host_records == "present" ? " and DNS still holds its host record" : ""}. It is offline, or a firewall between this workstation and it drops fix8524's probes. Addresses: ${link.source.address_evidence}."
  see   = "Verify whether the 8524 is caused by an offline DC or stale DC metadata"
  doc   = "Article: 'A DC that is currently offline but still a valid DC in the forest: make it operational.' No cleanup is offered for a DC that may come back. 'Does not answer' means every known address was dialled on 389, 636 and 135 and none answered; a DC without a known address is source_address_unknown instead."

  manual "Make the source DC operational" {
    text  = "Start ${link.source.name} (or fix its network) so that it answers again. When it is up it re-registers its DNS records at Netlogon start; then retry replication. Run the test from ${link.destination.name} too: if ${link.source.name} answers there, a firewall between this workstation and it drops the probes. If ${link.source.name} is gone for good, plan again with -var 'decommissioned=[\"${link.source.name}\"]' to get the guarded metadata cleanup."
    shell = "powershell"
    commands = concat(
      [for ip in link.source.ips : ["Test-NetConnection", "-ComputerName", ip, "-Port", "389"]],
      [for ip in link.source.ips : ["Test-NetConnection", "-ComputerName", ip, "-Port", "135"]],
    )
  }
  manual "Once the source is back, retry replication" {
    on    = link.destination
    shell = "cmd"
    commands = [for nc in link.ncs : ["repadmin", "/replicate", link.destination.dns_host_name, link.source.dns_host_name, nc]]
  }
}

decision "stale_metadata" {
  when   = check.source_gone.ok
  cause  = "${link.source.name} is gone for good: ${contains(var.decommissioned, link.source.name) ? "you declared it decommissioned" : (check.source_beyond_tombstone.ok ? "it has not replicated for ${link.days_since_success} days, longer than the forest's tombstone lifetime (${forest.tombstone_lifetime_days} days), so it must never replicate again" : "it does not answer on its known addresses (${join(", ", link.source.ips)}), its host records are absent from DNS and AD's zones, and it last replicated ${link.never_succeeded ? "never" : "${link.days_since_success} day(s) ago"}")}. Its NTDS Settings object ${link.source_dsa_guid} remains in ${link.destination.name}'s copy of Active Directory: stale metadata. Addresses: ${link.source.address_evidence}."
  see    = "Remove stale DC metadata if present"
  doc    = "Article cause 1: the source no longer exists but its NTDS Settings object still exists in the destination's copy. Remove it from the destination's copy. The cleanup's guards refuse it while the source answers on a known address, and block it while no address of the source was probed."
  remedy = [action.metadata_cleanup]

  manual "Beyond the tombstone lifetime: isolate and force-demote it if it still runs" {
    text  = "${link.source.name} last replicated ${link.days_since_success} days ago, longer than the tombstone lifetime (${forest.tombstone_lifetime_days} days): it must never replicate again (it would reintroduce deleted objects). If it still runs, disconnect it from the network first, then force its demotion on its console (Samba: stop its samba service for good), and only then clean up its metadata."
    on    = link.source
    shell = "powershell"
    when  = check.source_beyond_tombstone.ok
    command = ["Uninstall-ADDSDomainController", "-ForceRemoval", "-DemoteOperationMasterRole", "-Confirm"]
  }
  manual "Or clean up with the article's tools" {
    text  = "Instead of the LDAP tree delete: Active Directory Sites and Services focused on ${link.destination.name}: delete the NTDS Settings object under ${link.source.server_dn}; or ntdsutil \"metadata cleanup\" (MSKB 216498)."
    on    = link.destination
    shell = "cmd"
    command = ["dssite.msc"]
  }
  manual "Remove what the NTDS Settings deletion leaves behind" {
    text  = "The tree delete removes only the NTDS Settings object and its connections. Then remove the server object, the computer object and the DNS records of ${link.source.name}. Check each object before deleting it."
    on    = link.destination
    shell = "powershell"
    when  = link.destination.platform == "windows"
    commands = [
      ["Remove-ADObject", "-Identity", link.source.server_dn, "-Recursive", "-Server", link.destination.dns_host_name, "-Confirm"],
      ["Remove-ADObject", "-Identity", link.source.computer_dn, "-Recursive", "-Server", link.destination.dns_host_name, "-Confirm"],
      ["Remove-DnsServerResourceRecord", "-ComputerName", link.destination.dns_host_name, "-ZoneName", forest.msdcs, "-Name", link.source_dsa_guid, "-RRType", "CName", "-Confirm"],
      ["Remove-DnsServerResourceRecord", "-ComputerName", link.destination.dns_host_name, "-ZoneName", link.source.domain, "-Name", trimsuffix(link.source.dns_host_name, ".${link.source.domain}"), "-RRType", "A", "-Confirm"],
    ]
  }
  manual "On Samba: remove everything the dead DC left" {
    text  = "samba-tool removes the NTDS Settings object, the server and computer objects and most DNS records of the dead DC in one step (it leaves gc._msdcs A records)."
    on    = link.destination
    shell = "posix"
    when  = link.destination.platform == "samba"
    command = ["samba-tool", "domain", "demote", "--remove-other-dead-server=${link.source.name}"]
  }
}

decision "guid_mismatch" {
  when   = check.guid_mismatch.ok
  cause  = "${link.source.name} says it is DSA ${link.source.own_dsa_guid}, but ${link.destination.name} replicates from DSA ${link.source_dsa_guid} (${link.cname}): ${link.source.name} was promoted again and ${link.destination.name} holds the NTDS Settings object of an earlier promotion. The object created earlier is stale."
  see    = "Check Active Directory Name Resolution using PING"
  doc    = "Article, PING section steps 1-3: compare the source's own DSA object GUID (repadmin /showreps <source>) with the GUID the destination lists for it; if they differ, the NTDS Settings object with the earlier create date is likely stale and should be removed."
  remedy = [action.metadata_cleanup]

  manual "Compare the two GUIDs yourself" {
    text  = "The DSA object GUID in the header of the first command is the source's current one; the second lists the GUID ${link.destination.name} knows ${link.source.name} by."
    shell = "cmd"
    commands = [
      ["repadmin", "/showreps", link.source.dns_host_name],
      ["repadmin", "/showreps", link.destination.dns_host_name],
    ]
  }
}

decision "link_address_stale" {
  when  = !check.link_address_current.ok
  cause = "${link.destination.name} replicates from ${link.source.name} as DSA ${link.source_dsa_guid}, but its replication link dials ${link.source_address}, not ${link.cname}: the GUID name of an earlier incarnation of ${link.source.name} (a re-promotion). Replication fails looking up that name (result ${link.last_result}) whatever the DNS servers hold for ${link.cname}: the link must be rebuilt."
  see   = "Check Active Directory Name Resolution using PING"
  doc   = "Seen on Samba 4.17 after a partner was re-promoted: the KCC keeps the old address in repsFrom (and the replication service keeps dialling its cached connection until it restarts). The article's PING test passes for G._msdcs.R, so without this check the plan would retry replication forever."

  manual "Let the KCC rebuild the links, then check the address" {
    text  = "repadmin /showrepl must list ${link.source.name} with DSA object GUID ${link.source_dsa_guid} and no longer the address ${link.source_address}."
    on    = link.destination
    shell = "cmd"
    when  = link.destination.platform == "windows"
    commands = [["repadmin", "/kcc", link.destination.dns_host_name], ["repadmin", "/showrepl", link.destination.dns_host_name]]
  }
  manual "If the old address remains: delete the stale links, let the KCC re-create them, retry" {
    on    = link.destination
    shell = "cmd"
    when  = link.destination.platform == "windows"
    commands = concat(
      [for nc in link.ncs : ["repadmin", "/delete", nc, link.destination.dns_host_name, link.source_address]],
      [["repadmin", "/kcc", link.destination.dns_host_name]],
      [for nc in link.ncs : ["repadmin", "/replicate", link.destination.dns_host_name, link.source.dns_host_name, nc]],
    )
  }
  manual "On Samba: rebuild the links, restart the DC service, retry" {
    text  = "samba-tool drs kcc rewrites the repsFrom address; Samba's replication service keeps dialling the old name from its cached connection until the samba service restarts (a short outage of this DC's LDAP, Kerberos and DNS: do it in a change window). Then retry replication."
    on    = link.destination
    shell = "posix"
    when  = link.destination.platform == "samba"
    commands = concat(
      [["samba-tool", "drs", "kcc", link.destination.dns_host_name], ["systemctl", "restart", "samba-ad-dc"]],
      [for nc in link.ncs : ["samba-tool", "drs", "replicate", link.destination.dns_host_name, link.source.dns_host_name, nc]],
    )
  }
}

decision "dns_resolves_now" {
  when   = check.destination_resolves_source.ok
  cause  = "Every DNS server ${link.destination.name} uses now resolves ${link.cname} (the PING test passes): this is not, or no longer, a DNS problem. Retry the failing replication."
  see    = "Check Active Directory Name Resolution using PING"
  doc    = "Article: 'If PING works, retry the failing operation in Active Directory.'"
  remedy = [action.retry_replication]

  manual "On Samba: if the retry fails again with 2" {
    text  = "Samba 4.17's replication service can keep dialling an address of ${link.source.name} from a cached connection after a re-promotion, even once the KCC has corrected the link (the address shown is then right). If replication from ${link.source.name} still fails with 2 although ${link.cname} resolves, restart the samba service on ${link.destination.name} (a short outage of its LDAP, Kerberos and DNS: do it in a change window), then retry."
    on    = link.destination
    shell = "posix"
    when  = link.destination.platform == "samba"
    commands = concat(
      [["systemctl", "restart", "samba-ad-dc"]],
      [for nc in link.ncs : ["samba-tool", "drs", "replicate", link.destination.dns_host_name, link.source.dns_host_name, nc]],
    )
  }
}

decision "source_dns_client_invalid" {
  when  = !check.source_dns_hosts_domain.ok || !check.source_dns_hosts_msdcs.ok
  cause = "${link.source.name}'s DNS client points at DNS servers that do not host, forward or delegate its domain zone ${link.source.domain} and/or ${forest.msdcs} (failing: ${join(", ", distinct(concat(check.source_dns_hosts_domain.failed_servers, check.source_dns_hosts_msdcs.failed_servers)))}), so it cannot register its CNAME and host records there."
  see   = "Verify that the source DC points to valid DNS Servers"
  doc   = "Article cause 2. ISP DNS servers are invalid for DCs unless contracted to host, forward or delegate the forest's zones; they accept no dynamic updates."

  manual "Confirm with nslookup (the article's test)" {
    on    = link.source
    shell = "cmd"
    commands = concat(
      [["ipconfig", "/all"]],
      [for s in link.source.dns_servers : ["nslookup", "-type=soa", link.source.domain, s]],
      [for s in link.source.dns_servers : ["nslookup", "-type=soa", forest.msdcs, s]],
    )
  }
  manual "Point the source's DNS client exclusively at valid DNS servers" {
    text  = "Set the DNS client of ${link.source.name} to DNS servers that host, forward or delegate ${link.source.domain} and ${forest.msdcs} (an AD-integrated DNS server of the forest), and remove every other one (the resolver is sticky). Then re-register: restart Netlogon and run ipconfig /registerdns, and plan again."
    on    = link.source
    shell = "powershell"
    when  = link.source.platform == "windows"
    commands = [
      ["Get-DnsClientServerAddress", "-AddressFamily", "IPv4"],
      ["Restart-Service", "-Name", "Netlogon"],
      ["ipconfig", "/registerdns"],
    ]
  }
  manual "On Samba: fix the source's /etc/resolv.conf" {
    text  = "Make /etc/resolv.conf of ${link.source.name} list only DNS servers that host the forest's zones (usually the DC itself), then run samba_dnsupdate and plan again."
    on    = link.source
    shell = "posix"
    when  = link.source.platform == "samba"
    commands = [["cat", "/etc/resolv.conf"], ["samba_dnsupdate", "--verbose"]]
  }
}

decision "records_vanished" {
  when     = (!check.cname_on_source_dns.ok || !check.source_host_registered.ok) && check.scavenging_on_source_dns.ok
  optional = [check.scavenging_on_source_dns]
  cause    = "${link.source.name}'s records are missing from the DNS servers it registers on, and those servers scavenged records recently (DNS Server event 2501): records that were registered then vanished point at overly aggressive scavenging, duplicate zones in different replication scopes, or the zone-transfer delete bug (KB 953317). Re-registering fixes it only until the next scavenging."
  see      = "Verify that the source DC has registered its CNAME record."
  doc      = "Article note: 'If a DC's CNAME record was successfully registered but later disappears, check for the zone transfer delete bug, duplicate DNS zones in different replication scopes or overly aggressive scavenging.' Skipped (not stopped on) when the events cannot be read."
  remedy   = [action.register_cname, action.register_host, action.retry_replication]

  manual "Review scavenging and duplicate zones" {
    text  = "Check the no-refresh/refresh intervals and the scavenging period (records must be refreshed before they are scavenged), and look for the same zone stored in two replication scopes (DomainDnsZones, ForestDnsZones, the domain partition)."
    shell = "powershell"
    commands = concat(
      [for s in link.source.dns_servers : ["Get-DnsServerScavenging", "-ComputerName", s]],
      [for s in link.source.dns_servers : ["Get-DnsServerZoneAging", "-ComputerName", s, "-Name", forest.msdcs]],
      [for s in link.source.dns_servers : ["Get-DnsServerZone", "-ComputerName", s]],
    )
  }
}

decision "source_cname_not_registered" {
  when   = !check.cname_on_source_dns.ok
  cause  = "${link.source.name} has not registered its GUID CNAME ${link.cname} on any DNS server it points to (${join(", ", link.source.dns_servers)}), so ${link.destination.name} cannot resolve it."
  see    = "Verify that the source DC has registered its CNAME record."
  doc    = "Article cause 2. Net Logon registers the CNAME at boot, at service start and periodically: restart it (or nltest /dsregdns), then recheck the CNAME and retry replication."
  remedy = [action.register_cname, action.retry_replication]

  manual "Check the registration yourself" {
    shell = "cmd"
    commands = [for s in link.source.dns_servers : ["nslookup", "-type=cname", link.cname, s]]
  }
  manual "If registration keeps failing" {
    text  = "Review NETLOGON events in the System log of ${link.source.name} for DNS registration failures (5774, 5775, 5781). Each promotion creates a new NTDS Settings object and so a new CNAME: verify the CNAME of the last promotion."
    on    = link.source
    shell = "powershell"
    when  = link.source.platform == "windows"
    command = ["Get-WinEvent", "-ProviderName", "NETLOGON", "-MaxEvents", "50"]
  }
}

decision "source_host_not_registered" {
  when   = !check.source_host_registered.ok
  cause  = "${link.source.name} has not registered its host record ${link.source.dns_host_name} (A/AAAA) on any DNS server it points to (${join(", ", link.source.dns_servers)}): ${link.cname} resolves to nothing."
  see    = "Verify that the source DC has registered its host records"
  doc    = "Article cause 2: ipconfig /registerdns on the source, then recheck."
  remedy = [action.register_host, action.retry_replication]

  manual "Check the registration yourself" {
    shell = "cmd"
    commands = [for s in link.source.dns_servers : ["nslookup", "-type=A", link.source.dns_host_name, s]]
  }
}

decision "destination_dns_client_invalid" {
  when  = !check.destination_dns_hosts_domain.ok
  cause = "${link.destination.name}'s DNS client points at DNS servers that do not host, forward or delegate its own zones (failing: ${join(", ", check.destination_dns_hosts_domain.failed_servers)}), for example an ISP resolver or a dead server, so it cannot resolve ${link.cname}."
  see   = "Verify that the destination DC points to valid DNS Servers"
  doc   = "Article cause 3. The resolver is sticky: it keeps asking a responsive server even when that server does not host the zone, so every configured server must be valid."

  manual "Confirm with nslookup (the article's test)" {
    on    = link.destination
    shell = "cmd"
    when  = link.destination.platform == "windows"
    commands = concat(
      [["ipconfig", "/all"]],
      [for s in link.destination.dns_servers : ["nslookup", "-type=soa", link.destination.domain, s]],
      [for s in link.destination.dns_servers : ["nslookup", "-type=soa", forest.msdcs, s]],
    )
  }
  manual "Point the destination's DNS client exclusively at valid DNS servers" {
    text  = "Remove ${join(", ", check.destination_dns_hosts_domain.failed_servers)} from the DNS client settings of ${link.destination.name} and list only DNS servers that host, forward or delegate ${link.destination.domain} and ${forest.msdcs}. Then plan again."
    on    = link.destination
    shell = "powershell"
    when  = link.destination.platform == "windows"
    command = ["Get-DnsClientServerAddress", "-AddressFamily", "IPv4"]
  }
  manual "On Samba: confirm with dig" {
    on    = link.destination
    shell = "posix"
    when  = link.destination.platform == "samba"
    commands = concat(
      [for s in link.destination.dns_servers : ["dig", "SOA", link.destination.domain, "@${s}"]],
      [for s in link.destination.dns_servers : ["dig", "SOA", forest.msdcs, "@${s}"]],
    )
  }
  manual "On Samba: fix the destination's /etc/resolv.conf" {
    on    = link.destination
    shell = "posix"
    when  = link.destination.platform == "samba"
    command = ["cat", "/etc/resolv.conf"]
  }
}

decision "msdcs_not_delegated" {
  when  = check.msdcs_not_delegated_on_destination_dns.ok
  cause = "On ${join(", ", check.msdcs_not_delegated_on_destination_dns.ok_servers)}, ${forest.msdcs} is a non-delegated sub-domain of ${forest.root_domain} (the Windows 2000 layout) rather than its own zone, so the CNAME that ${link.source.name} registered in the ${forest.msdcs} zone is not what these servers answer from."
  see   = "Verify that the destination DC points to valid DNS Servers"
  doc   = "Article note: the SOA query for _msdcs.<forest root> does not resolve correctly when _msdcs is a non-delegated sub-domain of the root zone. Create the forest-wide _msdcs zone and delegate it, then remove the sub-domain."

  manual "Create the forest-wide _msdcs zone and its delegation" {
    text  = "On a DNS server that hosts ${forest.root_domain}: create ${forest.msdcs} as an AD-integrated zone replicated to every DNS server of the forest, delegate _msdcs from ${forest.root_domain} to the DNS servers hosting it, and remove the old _msdcs sub-domain from ${forest.root_domain} once the new zone holds every DC's records."
    shell = "powershell"
    commands = [for s in check.msdcs_not_delegated_on_destination_dns.ok_servers : ["Get-DnsServerZone", "-ComputerName", s]]
  }
  manual "The commands that change the layout (review before running)" {
    shell = "powershell"
    commands = [
      ["Add-DnsServerPrimaryZone", "-Name", forest.msdcs, "-ReplicationScope", "Forest"],
      ["Add-DnsServerZoneDelegation", "-Name", forest.root_domain, "-ChildZoneName", "_msdcs", "-NameServer", link.destination.dns_host_name],
    ]
  }
}

decision "forwarder_or_delegation_invalid" {
  when  = !check.destination_dns_resolves_msdcs.ok || !check.destination_dns_resolves_source_domain.ok
  cause = "${link.destination.name}'s DNS servers host its own zone but cannot resolve ${forest.msdcs} or ${link.source.domain} (failing: ${join(", ", distinct(concat(check.destination_dns_resolves_msdcs.failed_servers, check.destination_dns_resolves_source_domain.failed_servers)))}): an invalid forwarder or delegation between parent and child DNS zones."
  see   = "Review the relationship between the DNS Servers used by the source and destination DCs"
  doc   = "Article cause 5: invalid delegations on the DNS that owns the parent zone, or invalid forwarder IP addresses on the DNS server trying to resolve the superior zone."

  manual "Inspect forwarders, conditional forwarders and delegations" {
    shell = "powershell"
    commands = concat(
      [for s in link.destination.dns_servers : ["Get-DnsServerForwarder", "-ComputerName", s]],
      [for s in link.destination.dns_servers : ["Get-DnsServerZone", "-ComputerName", s]],
      [for s in link.destination.dns_servers : ["Get-DnsServerZoneDelegation", "-ComputerName", s, "-Name", forest.root_domain]],
    )
  }
  manual "Confirm with nslookup" {
    on    = link.destination
    shell = "cmd"
    commands = concat(
      [for s in link.destination.dns_servers : ["nslookup", "-type=soa", forest.msdcs, s]],
      [for s in link.destination.dns_servers : ["nslookup", "-type=soa", link.source.domain, s]],
    )
  }
}

decision "conflicting_cname" {
  when  = check.cname_wrong_on_destination_dns.ok
  cause = "A DNS server of ${link.destination.name} (${join(", ", check.cname_wrong_on_destination_dns.ok_servers)}) holds a CNAME for ${link.cname} that points at ${join(", ", check.cname_wrong_on_destination_dns.answers)} instead of ${link.source.dns_host_name}: a conflicting (CNF-mangled or leftover) record in that copy of the zone."
  see   = "Review the relationship between the DNS Servers used by the source and destination DCs"
  doc   = "Article: the zone hosting the record may reside in different replication scopes, or be CNF / conflict-mangled on one or more DCs."

  manual "Inspect and remove the conflicting record" {
    text  = "Look at the record on each server; delete the wrong one where it is wrong, then let ${link.source.name} re-register (restart Netlogon) and plan again."
    shell = "powershell"
    commands = [for s in check.cname_wrong_on_destination_dns.ok_servers : ["Get-DnsServerResourceRecord", "-ComputerName", s, "-ZoneName", forest.msdcs, "-Name", link.source_dsa_guid]]
  }
}

decision "dns_zone_copies_differ" {
  when  = check.records_differ_between_dns_servers.ok
  cause = "${link.source.name} registered its records where it points (${join(", ", link.source.dns_servers)}), but ${link.destination.name}'s DNS servers (${join(", ", check.cname_missing_on_destination_dns.ok_servers)}) do not have them: the copies of the zone differ (replication latency or failure between AD-integrated DNS servers, or a failed zone transfer to a secondary). Addresses of ${link.source.name}: ${link.source.address_evidence}."
  see   = "Review the relationship between the DNS Servers used by the source and destination DCs"
  doc   = "Article causes 4/5: replication latency, replication failure, different replication scopes, or for primary/secondary zones: zone transfers not allowed, the secondary missing from the allow list, or an empty secondary (KB 953317)."

  manual "If the zones are AD-integrated: replicate the DNS partitions" {
    text  = "Wait for replication or force it, then run the PING test again. If the DNS partitions do not replicate, fix that replication first."
    shell = "cmd"
    commands = [
      ["repadmin", "/showrepl", link.destination.dns_host_name],
      ["repadmin", "/syncall", link.destination.dns_host_name, "DC=ForestDnsZones,${forest.root_dn}", "/d", "/e"],
      ["repadmin", "/syncall", link.destination.dns_host_name, "DC=DomainDnsZones,${join("", [for d in forest.domains : d.dn if d.dns_name == link.destination.domain])}", "/d", "/e"],
    ]
  }
  manual "If the zones are primary/secondary: check zone transfers" {
    text  = "On the primary: allow zone transfers and list the secondary in 'Only the following servers'. On the secondary: transfer again; an empty secondary may be KB 953317."
    shell = "powershell"
    commands = concat(
      [for s in link.source.dns_servers : ["Get-DnsServerZone", "-ComputerName", s, "-Name", forest.msdcs]],
      [for s in link.destination.dns_servers : ["Start-DnsServerZoneTransfer", "-ComputerName", s, "-Name", forest.msdcs]],
    )
  }
}

decision "dns_unexplained" {
  when  = true
  cause = "${link.destination.name} cannot resolve ${link.cname} and none of the article's specific causes matches the evidence: a DNS server used by the destination, the source or in between is not working properly."
  see   = "Run DCDIAG /TEST:DNS on the source DC + destination DC."
  doc   = "The article's catch-all: DCDIAG /TEST:DNS vets the DNS health of both DCs; reconcile what it reports."

  manual "Run DCDIAG /TEST:DNS on both DCs" {
    shell = "cmd"
    commands = [
      ["dcdiag", "/test:dns", "/v", "/s:${link.destination.dns_host_name}", "/f:dcdiag-dns-${link.destination.name}.txt"],
      ["dcdiag", "/test:dns", "/v", "/s:${link.source.dns_host_name}", "/f:dcdiag-dns-${link.source.name}.txt"],
    ]
  }
  manual "Run the PING test from the destination" {
    on    = link.destination
    shell = "cmd"
    command = ["ping", link.cname]
  }
}

# ---------------------------------------------------------------------------------------------
# Warnings: partnerships whose links all replicate today (last result 0) but will fail with 8524
# once something they depend on goes away. Every warning that holds is reported (not only the
# first); they propose no action. A warning may only use facts and assert checks: it is
# evaluated for every healthy partnership, and must not make fix8524 query DNS for them.
# ---------------------------------------------------------------------------------------------

warning "link_address_latent" {
  when    = !check.link_address_current.ok
  message = "${link.destination.name} replicates from ${link.source.name} (DSA ${link.source_dsa_guid}) by dialing ${link.source_address}, not ${link.cname}: the GUID name of an earlier incarnation of ${link.source.name} (a re-promotion). It works only while that old CNAME still resolves. Nothing registers it any more (Net Logon registers ${link.cname}), so DNS scavenging or a cleanup of the old DC's records will remove it, and replication will then fail with 8524 (2 on a Samba destination). Let the KCC rebuild the link before that happens."
  see     = "Verify that the source DC has registered its CNAME record."
  doc     = "The latent form of decision link_address_stale, measured on Samba 4.17 after a partner was re-promoted: the link keeps the old GUID name while the old CNAME still exists. The article notes that each promotion registers a different CNAME, and that a registered CNAME can later disappear (scavenging)."

  manual "Let the KCC rebuild the links, then check the address" {
    text  = "repadmin /showrepl must list ${link.source.name} with DSA object GUID ${link.source_dsa_guid} and no longer the address ${link.source_address}."
    on    = link.destination
    shell = "cmd"
    when  = link.destination.platform == "windows"
    commands = [["repadmin", "/kcc", link.destination.dns_host_name], ["repadmin", "/showrepl", link.destination.dns_host_name]]
  }
  manual "On Samba: rebuild the links, then restart the DC service in a change window" {
    text  = "samba-tool drs kcc rewrites the repsFrom address; Samba's replication service keeps dialling the old name from its cached connection until the samba service restarts (a short outage of this DC's LDAP, Kerberos and DNS: do it in a change window). drs showrepl must then list ${link.source.name} at ${link.cname}."
    on    = link.destination
    shell = "posix"
    when  = link.destination.platform == "samba"
    commands = [
      ["samba-tool", "drs", "kcc", link.destination.dns_host_name],
      ["systemctl", "restart", "samba-ad-dc"],
      ["samba-tool", "drs", "showrepl", link.destination.dns_host_name],
    ]
  }
}

# ---------------------------------------------------------------------------------------------
# Actions: what fix8524 may do. Go holds the kinds (PowerShell over WinRM, argv over SSH, LDAP
# delete); this file holds what to run. Facts never become command text: PowerShell reads them
# from $P (params, passed as data); argv elements are passed as separate arguments.
# ---------------------------------------------------------------------------------------------

action "register_cname" {
  title = "Re-register ${link.source.name}'s DNS records (GUID CNAME ${link.cname})"
  doc   = "Windows: restart Netlogon (it registers the CNAME and SRV records at start) and nltest /dsregdns. Samba: samba_dnsupdate; its exit code counts TSIG complaints even when the records are written, so it is ignored and the CNAME is verified by DNS."
  on    = link.source
  risk  = "low"
  windows {
    powershell = <<-EOT
      Restart-Service -Name Netlogon -Force -ErrorAction Stop
      $out = & nltest.exe /dsregdns 2>&1 | Out-String
      Write-Output $out
      if ($LASTEXITCODE -ne 0) { throw "nltest /dsregdns failed with exit code $LASTEXITCODE" }
    EOT
  }
  samba {
    argv        = ["samba_dnsupdate", "--all-interfaces"]
    ignore_exit = true
  }
  verify         = [check.cname_on_source_dns]
  verify_timeout = "5m"
}

action "register_host" {
  title = "Re-register ${link.source.name}'s host records (${link.source.dns_host_name})"
  doc   = "Windows: Register-DnsClient (ipconfig /registerdns). Samba: samba_dnsupdate, verified by DNS."
  on    = link.source
  risk  = "low"
  windows {
    powershell = <<-EOT
      Register-DnsClient -ErrorAction Stop
      Write-Output "Register-DnsClient done"
    EOT
  }
  samba {
    argv        = ["samba_dnsupdate", "--all-interfaces"]
    ignore_exit = true
  }
  verify         = [check.source_host_registered]
  verify_timeout = "5m"
}

action "retry_replication" {
  title  = "Retry replication ${link.destination.name} <- ${link.source.name} (${length(link.ncs)} NC(s))"
  doc    = "Windows: repadmin /replicate for every failing NC. Samba: samba-tool drs replicate for the first failing NC; apply pulls the other failing NCs in the same attempt with its built-in retry (same command, one per NC, side by side)."
  on     = link.destination
  risk   = "low"
  params = {
    destination = link.destination.dns_host_name
    source      = link.source.dns_host_name
    ncs         = link.ncs
  }
  windows {
    powershell = <<-EOT
      $failed = @()
      # Params reach the script as strings: a list arrives as JSON text.
      foreach ($nc in @($P.ncs | ConvertFrom-Json)) {
        $out = & repadmin.exe /replicate $P.destination $P.source $nc 2>&1 | Out-String
        Write-Output $out
        if ($LASTEXITCODE -ne 0) { $failed += $nc }
      }
      if ($failed.Count -gt 0) { throw ("repadmin /replicate failed for: " + ($failed -join '; ')) }
    EOT
  }
  samba {
    argv = ["samba-tool", "drs", "replicate", link.destination.dns_host_name, link.source.dns_host_name, link.nc]
  }
  verify         = [check.destination_resolves_source]
  verify_timeout = "5m"
}

action "metadata_cleanup" {
  title = "Delete the stale NTDS Settings object of ${link.source.name} (DSA ${link.source_dsa_guid}) from ${link.destination.name}'s copy (LDAP tree delete)"
  doc   = "Tree delete (control 1.2.840.113556.1.4.805) of the NTDS Settings object and its connections, on the destination's copy, only if the object still has the GUID the destination replicates from. Every guard must hold; each cleanup needs its own approval."
  on    = link.destination
  risk  = "high"
  requires_approval_each = true
  ldap_delete {
    dn          = link.source_dsa_dn
    tree        = true
    expect_guid = link.source_dsa_guid
  }
  # Not destination_resolves_source: a cleaned-up DSA's GUID CNAME never resolves again.
  verify = [check.stale_dsa_removed]

  guard "dsa_not_alive" {
    # Unknown (so the cleanup is blocked) when no address of the source was probed.
    condition = !check.source_answers.ok || (known(link.source.own_dsa_guid) && link.source.own_dsa_guid != link.source_dsa_guid)
    message   = check.source_answers.status == "unknown" ? "Whether ${link.source.name} runs is unknown: no address of it was probed (${link.source.address_evidence}). A DC that may run is never cleaned up: give its address in the inventory (ips) and plan again." : "${link.source.name} still answers as DSA ${link.source_dsa_guid} (${join(", ", [for p in check.source_answers.ports : "${p.address}:${p.port}" if p.status == "ok"])})${contains(var.decommissioned, link.source.name) ? ", although it was declared decommissioned" : ""}: it is alive, not stale. Isolate and demote it first."
  }
  guard "guid_is_not_current" {
    condition = !known(link.source.own_dsa_guid) || link.source.own_dsa_guid != link.source_dsa_guid
    message   = "The destination's GUID for ${link.source.name} equals the source's own current GUID: nothing is stale."
  }
  guard "stale_object_is_older" {
    condition = !known(link.source.own_dsa_guid) || link.source.own_dsa_guid == link.source_dsa_guid || !link.current_source.exists || link.source.when_created_unix < link.current_source.when_created_unix
    message   = "The object ${link.destination.name} replicates from is newer than the one ${link.source.name} runs as: the other one is the stale object."
  }
  guard "not_the_seed_dc" {
    condition = !link.source.is_seed
    message   = "${link.source.name} is the DC fix8524 is bound to."
  }
  guard "not_last_dc_of_domain" {
    condition = link.source.domain_dc_count > 1
    message   = "${link.source.name} is the last DC of ${link.source.domain}: removing it removes the domain."
  }
  guard "holds_no_fsmo_role" {
    condition = !link.source.holds_fsmo
    message   = "${link.source.name} holds FSMO roles (${join(", ", link.source.fsmo_roles)}): seize them first, with a separate approval."
  }
  guard "not_protected_from_deletion" {
    condition = !link.source.protected_from_deletion
    message   = "${link.source.name}'s objects are protected from accidental deletion: clear the protection deliberately first."
  }
}

# Change windows: apply runs actions only inside one of them (unless --emergency --reason).
window "weeknights" {
  cron      = "0 22 * * MON-FRI"
  duration  = "6h"
  time_zone = "UTC"
}

window "weekend" {
  cron      = "0 8 * * SAT"
  duration  = "36h"
  time_zone = "UTC"
}
