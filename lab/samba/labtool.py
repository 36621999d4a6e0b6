#!/usr/bin/python3
"""labtool.py - small Samba helpers used by lab.sh (Samba 4.17, Debian 12).

Run it inside the lab's network namespace with Debian's /usr/bin/python3 (the
samba module is not in other interpreters). The Administrator password is read
from the environment variable LAB_ADMINPW, never from the command line, so it
does not show up in `ps` or in logs.

Subcommands (all print JSON on stdout):
  ntds --server IP                     every nTDSDSA object as SERVER sees it
  self --server IP                     SERVER's own dsServiceName and its objectGUID
  repsfrom --server IP                 every repsFrom value on SERVER's NC heads, decoded
  replicate --dest IP --src NAME... [--nc NC]... [--forced] [--retries N] [--retry-on CODE]...
                                       DsReplicaSync on DEST from each SRC for each NC
                                       (same call as `samba-tool drs replicate`, one
                                       process for all NCs); exit 1 if any NC failed
  inject8524 --conf SMBCONF --nc NC [--source GUID]
                                       offline (DC stopped): set result_last_attempt
                                       = 8524 in the repsFrom values of NC (all, or
                                       only the one from source DSA GUID)
  setaddr --conf SMBCONF --source GUID --name NAME
                                       offline: the repsFrom values from GUID dial NAME
  fixaddr --conf SMBCONF               offline (DC stopped): point every repsFrom value
                                       at its source's current name, <source DSA
                                       GUID>._msdcs.<forest>; prints what changed
"""

import argparse
import json
import os
import sys
import time

import ldb
from samba import WERRORError, NTSTATUSError, nttime2string
from samba.auth import system_session
from samba.credentials import Credentials, DONT_USE_KERBEROS
from samba.dcerpc import drsuapi, misc, drsblobs
from samba.drs_utils import drsuapi_connect, drsException
from samba.ndr import ndr_unpack, ndr_pack
from samba.param import LoadParm
from samba.samdb import SamDB

WERR_DS_DNS_LOOKUP_FAILURE = 0x214C  # 8524
RETRYABLE = {64, 1722, 1727, 1225}    # dead cached connection, RPC hiccups after a restart


def load_lp(conf=None):
    lp = LoadParm()
    if conf:
        lp.load(conf)
    else:
        lp.load_default()
    return lp


def admin_creds(lp):
    pw = os.environ.get("LAB_ADMINPW")
    if not pw:
        sys.exit("labtool: LAB_ADMINPW is not set")
    c = Credentials()
    c.guess(lp)
    c.set_username("Administrator")
    c.set_domain("LAB")
    c.set_password(pw)
    # NTLM only: the lab's own tooling must not depend on the DNS that the
    # breakers take apart (Kerberos would need SRV lookups for the KDC).
    c.set_kerberos_state(DONT_USE_KERBEROS)
    return c


def samdb(server, lp, creds):
    return SamDB(url="ldap://%s" % server, session_info=system_session(),
                 credentials=creds, lp=lp)


def guid_str(db, raw):
    return str(misc.GUID(db.schema_format_value("objectGUID", raw)))


def cmd_ntds(args):
    lp = load_lp()
    db = samdb(args.server, lp, admin_creds(lp))
    res = db.search(base=db.get_config_basedn(), scope=ldb.SCOPE_SUBTREE,
                    expression="(objectClass=nTDSDSA)",
                    attrs=["objectGUID", "whenCreated", "options", "invocationId"],
                    controls=["show_deleted:0"] if args.deleted else [])
    out = []
    for m in res:
        server = m.dn.parent()
        srv = db.search(base=server, scope=ldb.SCOPE_BASE, attrs=["dNSHostName", "name"],
                        controls=["show_deleted:0"] if args.deleted else [])
        out.append({
            "dn": str(m.dn),
            "server": str(srv[0]["name"][0]) if srv and "name" in srv[0] else "",
            "dnsHostName": str(srv[0]["dNSHostName"][0]) if srv and "dNSHostName" in srv[0] else "",
            "objectGUID": guid_str(db, m["objectGUID"][0]),
            "whenCreated": str(m["whenCreated"][0]) if "whenCreated" in m else "",
            "options": int(str(m["options"][0])) if "options" in m else 0,
        })
    json.dump(sorted(out, key=lambda d: d["dn"]), sys.stdout, indent=1)
    print()


def cmd_self(args):
    lp = load_lp()
    db = samdb(args.server, lp, admin_creds(lp))
    root = db.search(base="", scope=ldb.SCOPE_BASE, attrs=["dsServiceName", "dnsHostName"])
    dn = str(root[0]["dsServiceName"][0])
    res = db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["objectGUID", "whenCreated"])
    json.dump({"dsServiceName": dn,
               "dnsHostName": str(root[0]["dnsHostName"][0]),
               "objectGUID": guid_str(db, res[0]["objectGUID"][0]),
               "whenCreated": str(res[0]["whenCreated"][0])}, sys.stdout)
    print()


def cmd_repsfrom(args):
    """repsFrom of every NC head on SERVER, decoded from the NDR blobs read over LDAP.
    Same keys as `samba-tool drs showrepl --json` repsFrom entries, plus "result" and
    "dns name". Works where showrepl fails (DsReplicaGetInfo 8442 when repsTo names an
    unknown DSA, as after a re-promotion)."""
    lp = load_lp()
    db = samdb(args.server, lp, admin_creds(lp))
    root = db.search(base="", scope=ldb.SCOPE_BASE, attrs=["namingContexts"])
    out = []
    for nc in sorted(str(v) for v in root[0]["namingContexts"]):
        res = db.search(base=nc, scope=ldb.SCOPE_BASE, attrs=["repsFrom"])
        if len(res) == 0 or "repsFrom" not in res[0]:
            continue
        for v in res[0]["repsFrom"]:
            c = ndr_unpack(drsblobs.repsFromToBlob, v).ctr
            guid = str(c.source_dsa_obj_guid)
            code, name = c.result_last_attempt if isinstance(c.result_last_attempt, tuple) \
                else (c.result_last_attempt, "")
            code &= 0xFFFFFFFF
            ntds = db.search(base="<GUID=%s>" % guid, scope=ldb.SCOPE_BASE, attrs=["isDeleted"],
                             controls=["show_deleted:0"]) if guid else []
            e = {"NC dn": nc, "DSA objectGUID": guid,
                 "dns name": c.other_info.dns_name if c.other_info else "",
                 "result": code,
                 "last attempt message": "was successful" if code == 0
                 else "failed, result %u (%s)" % (code, name),
                 "consecutive failures": c.consecutive_sync_failures,
                 "last attempt time": nttime2string(c.last_attempt),
                 "last success": nttime2string(c.last_success),
                 "is deleted": bool(ntds) and "isDeleted" in ntds[0]}
            if ntds:
                e["NTDS DN"] = str(ntds[0].dn)
            out.append(e)
    json.dump({"repsFrom": out}, sys.stdout, indent=1)
    print()


def werr_of(exc):
    """(code, name) from a WERRORError/NTSTATUSError/drsException."""
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):
        return args[0] & 0xFFFFFFFF, str(args[1])
    if args and isinstance(args[0], tuple) and len(args[0]) >= 2:
        return args[0][0] & 0xFFFFFFFF, str(args[0][1])
    return 0xFFFFFFFF, str(exc)


def source_guid(db, src):
    """The source DSA's NTDS Settings GUID as the DESTINATION knows it (like samba-tool)."""
    msg = db.search(base=db.get_config_basedn(),
                    expression="(&(objectCategory=server)(|(name=%s)(dNSHostName=%s)))" % (
                        ldb.binary_encode(src), ldb.binary_encode(src)), attrs=[])
    if len(msg) == 0:
        return None
    ntds = db.search(base=msg[0].dn, scope=ldb.SCOPE_ONELEVEL,
                     expression="(objectCategory=nTDSDSA)", attrs=["objectGUID"])
    if len(ntds) == 0:
        return None
    return guid_str(db, ntds[0]["objectGUID"][0])


def sync_ncs(drs, handle, src, src_guid, ncs, forced, retries, retry_on):
    opts = drsuapi.DRSUAPI_DRS_WRIT_REP
    if forced:
        opts |= drsuapi.DRSUAPI_DRS_SYNC_FORCED
    results = []
    for nc in ncs:
        code, name, attempts = 0, "WERR_OK", 0
        while True:
            attempts += 1
            req1 = drsuapi.DsReplicaSyncRequest1()
            ident = drsuapi.DsReplicaObjectIdentifier()
            ident.dn = nc
            req1.naming_context = ident
            req1.options = opts
            req1.source_dsa_guid = misc.GUID(src_guid)
            try:
                drs.DsReplicaSync(handle, 1, req1)
                code, name = 0, "WERR_OK"
            except (WERRORError, NTSTATUSError, RuntimeError) as e:
                code, name = werr_of(e)
            if code in retry_on and attempts <= retries:
                time.sleep(min(attempts, 5))   # 1, 2, 3, 4, 5, 5 … s: patient on a loaded host
                continue
            break
        results.append({"nc": nc, "source": src, "sourceGUID": src_guid,
                        "result": code, "error": name, "attempts": attempts})
    return results


def all_ncs(db):
    base = str(db.get_default_basedn())
    return [base, "CN=Configuration," + base, "CN=Schema,CN=Configuration," + base,
            "DC=DomainDnsZones," + base, "DC=ForestDnsZones," + base]


def cmd_replicate(args):
    lp = load_lp()
    creds = admin_creds(lp)
    retry_on = set(args.retry_on) if args.retry_on else RETRYABLE
    results, failed = [], False
    for src in args.src:
        db = samdb(args.dest, lp, creds)
        src_guid = source_guid(db, src)
        if src_guid is None:
            json.dump({"error": "source DC %s not found on %s" % (src, args.dest)}, sys.stdout)
            print()
            return 2
        try:
            (drs, handle, _) = drsuapi_connect(args.dest, lp, creds)
        except drsException as e:
            json.dump({"error": "DRS connection to %s failed: %s" % (args.dest, e)}, sys.stdout)
            print()
            return 2
        drs.request_timeout = 120
        rs = sync_ncs(drs, handle, src, src_guid, args.nc or all_ncs(db), args.forced,
                      args.retries, retry_on)
        failed = failed or any(r["result"] != 0 for r in rs)
        results.extend(rs)
    json.dump(results, sys.stdout, indent=1)
    print()
    return 1 if failed else 0


def cmd_inject8524(args):
    lp = load_lp(args.conf)
    db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
    res = db.search(base=args.nc, scope=ldb.SCOPE_BASE, attrs=["repsFrom"])
    if len(res) == 0 or "repsFrom" not in res[0]:
        sys.exit("labtool: no repsFrom on %s" % args.nc)
    vals, patched = [], 0
    for v in res[0]["repsFrom"]:
        b = ndr_unpack(drsblobs.repsFromToBlob, v)
        if args.source and str(b.ctr.source_dsa_obj_guid) != args.source:
            vals.append(bytes(v))
            continue
        patched += 1
        b.ctr.result_last_attempt = WERR_DS_DNS_LOOKUP_FAILURE
        b.ctr.consecutive_sync_failures = max(b.ctr.consecutive_sync_failures, 3)
        vals.append(ndr_pack(b))
    m = ldb.Message()
    m.dn = ldb.Dn(db, args.nc)
    m["repsFrom"] = ldb.MessageElement(vals, ldb.FLAG_MOD_REPLACE, "repsFrom")
    db.modify(m, controls=["relax:0"])
    if patched == 0:
        sys.exit("labtool: no repsFrom value from %s on %s" % (args.source, args.nc))
    json.dump({"nc": args.nc, "patched": patched}, sys.stdout)
    print()


def cmd_setaddr(args):
    """Offline (DC stopped): make the repsFrom values from source GUID dial NAME, the state a
    re-promotion leaves on a partner (lab P2), so that it can be reproduced on demand."""
    lp = load_lp(args.conf)
    db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
    root = db.search(base="", scope=ldb.SCOPE_BASE, attrs=["namingContexts"])
    patched = 0
    for nc in sorted(str(v) for v in root[0]["namingContexts"]):
        res = db.search(base=nc, scope=ldb.SCOPE_BASE, attrs=["repsFrom"])
        if len(res) == 0 or "repsFrom" not in res[0]:
            continue
        vals, n = [], 0
        for v in res[0]["repsFrom"]:
            b = ndr_unpack(drsblobs.repsFromToBlob, v)
            if b.version == 1 and str(b.ctr.source_dsa_obj_guid) == args.source and b.ctr.other_info is not None:
                b.ctr.other_info.dns_name = args.name
                n += 1
            vals.append(ndr_pack(b))
        if n:
            m = ldb.Message()
            m.dn = ldb.Dn(db, nc)
            m["repsFrom"] = ldb.MessageElement(vals, ldb.FLAG_MOD_REPLACE, "repsFrom")
            db.modify(m, controls=["relax:0"])
            patched += n
    if patched == 0:
        sys.exit("labtool: no repsFrom value from %s" % args.source)
    json.dump({"patched": patched, "name": args.name}, sys.stdout)
    print()


def cmd_fixaddr(args):
    """After a partner is re-promoted, Samba 4.17's KCC may keep the old incarnation's
    address (<old GUID>._msdcs.<forest>) in a repsFrom value that already carries the new
    DSA GUID, and dreplsrv keeps dialling the cached old name even after the KCC corrects
    it, until samba restarts. Rewrite the addresses with the DC stopped."""
    lp = load_lp(args.conf)
    db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
    forest = db.forest_dns_name()
    root = db.search(base="", scope=ldb.SCOPE_BASE, attrs=["namingContexts"])
    changed = []
    for nc in sorted(str(v) for v in root[0]["namingContexts"]):
        res = db.search(base=nc, scope=ldb.SCOPE_BASE, attrs=["repsFrom"])
        if len(res) == 0 or "repsFrom" not in res[0]:
            continue
        vals, n = [], 0
        for v in res[0]["repsFrom"]:
            b = ndr_unpack(drsblobs.repsFromToBlob, v)
            want = "%s._msdcs.%s" % (b.ctr.source_dsa_obj_guid, forest)
            oi = b.ctr.other_info
            if b.version == 1 and oi is not None and oi.dns_name.lower() != want.lower():
                changed.append({"nc": nc, "from": oi.dns_name, "to": want})
                oi.dns_name = want
                n += 1
            vals.append(ndr_pack(b))
        if n:
            m = ldb.Message()
            m.dn = ldb.Dn(db, nc)
            m["repsFrom"] = ldb.MessageElement(vals, ldb.FLAG_MOD_REPLACE, "repsFrom")
            db.modify(m, controls=["relax:0"])
    json.dump(changed, sys.stdout)
    print()


def main():
    p = argparse.ArgumentParser(prog="labtool.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("ntds")
    s.add_argument("--server", required=True)
    s.add_argument("--deleted", action="store_true")
    s = sub.add_parser("repsfrom")
    s.add_argument("--server", required=True)
    s = sub.add_parser("self")
    s.add_argument("--server", required=True)
    s = sub.add_parser("replicate")
    s.add_argument("--dest", required=True)
    s.add_argument("--src", required=True, action="append",
                   help="source DC name (repeatable: one process for several sources)")
    s.add_argument("--nc", action="append")
    s.add_argument("--forced", action="store_true")
    s.add_argument("--retries", type=int, default=0)
    s.add_argument("--retry-on", type=int, action="append",
                   help="result codes worth a retry (default: 64 1722 1727 1225)")
    s = sub.add_parser("inject8524")
    s.add_argument("--conf", required=True)
    s.add_argument("--nc", required=True)
    s.add_argument("--source", help="only the repsFrom value of this source DSA GUID")
    s = sub.add_parser("setaddr")
    s.add_argument("--conf", required=True)
    s.add_argument("--source", required=True, help="source DSA GUID")
    s.add_argument("--name", required=True, help="the DNS name to dial")
    s = sub.add_parser("fixaddr")
    s.add_argument("--conf", required=True)
    args = p.parse_args()
    fn = {"ntds": cmd_ntds, "self": cmd_self, "repsfrom": cmd_repsfrom, "replicate": cmd_replicate,
          "inject8524": cmd_inject8524, "fixaddr": cmd_fixaddr, "setaddr": cmd_setaddr}[args.cmd]
    rc = fn(args)
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
