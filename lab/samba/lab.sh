#!/bin/bash
# lab.sh - a Samba AD lab for fix8524: two or three real domain controllers (Debian 12,
# Samba 4.17) in a private network namespace, and breakers that put them into the states
# that the 8524 article ("DNS lookup failure") describes.  See README.md beside this file.
#
#   lab.sh install                 apt packages (guarded: nothing starts in the main namespace)
#   lab.sh up [-f] N               build N DCs (2 or 3); -f: tear down an existing lab first
#   lab.sh down                    stop everything by PID, delete the namespace and all state
#   lab.sh start|stop DC           DC = dc1|dc2|dc3: samba + sshd ("the machine")
#   lab.sh restart DC              restart samba only (the DC's service), sshd stays
#   lab.sh status                  JSON: lab paths, DCs, pids, resolvers, current break
#   lab.sh guid DC [--on SERVER]   objectGUID of DC's NTDS Settings (DC's own view, or SERVER's)
#   lab.sh ntds SERVER             JSON list of nTDSDSA objects as SERVER (dcN) sees them
#   lab.sh showrepl DC             samba-tool drs showrepl --json on DC (by IP)
#   lab.sh repsfrom DC             repsFrom read over LDAP and decoded (showrepl's keys + result)
#   lab.sh replicate DEST SRC [NC] DsReplicaSync on DEST from SRC (all five NCs by default); JSON
#   lab.sh kcc DC                  samba-tool drs kcc on DC: run its KCC now
#   lab.sh dns SERVER NAME TYPE    one DNS query at SERVER (dcN or an IP): "STATUS answer..."
#   lab.sh break KIND              see KINDS below; destination is dc1, source is dc2
#   lab.sh heal-by-hand KIND       the manual fix an admin would do (floor MTTR)
#   lab.sh reset                   back to the baseline (all DCs up, defaults, all links green)
#   lab.sh inject-8524 DC NC [SRC] write 8524 into DC's repsFrom for NC while DC is stopped
#   lab.sh exec CMD...             run CMD inside the namespace (lab resolver, KRB5_CONFIG set)
#   lab.sh ssh DC [CMD...]         ssh root@DC with the lab key and known_hosts
#
# KINDS: source-records source-records-local dest-cname-only dest-resolver source-offline
#        source-offline-scavenged source-gone repromoted link-address link-address-latent
#        inject-8524
#
# Environment: LAB (state dir, default /tmp/fix8524-lab), LAB_NS (namespace, default
# fix8524lab), LABDNS (path of the labdns binary; built with `go build` when missing),
# LABDNS_MODE (nxdomain|refused|servfail, for dest-resolver).
# Nothing listens outside the namespace. The only files outside $LAB: /etc/netns/$LAB_NS/
# and /run/sshd (sshd's privilege-separation directory).
#
# Lists of DC names and addresses (dc1 dc2, 127.0.10.1 …) are split on purpose:
# shellcheck disable=SC2046
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NS=${LAB_NS:-fix8524lab}
LAB=${LAB:-/tmp/fix8524-lab}
REALM=LAB.EXAMPLE.COM
DOMAIN=LAB
DNSDOMAIN=lab.example.com
BASEDN=DC=lab,DC=example,DC=com
# A constant used only inside the lab. Passed to tools through the environment (PASSWD for
# samba-tool, LAB_ADMINPW for labtool.py), never on a command line.
ADMINPW='Passw0rd!Lab1'
BADDNS_IP=127.0.10.9
PY=/usr/bin/python3   # Samba's python module lives only in Debian's interpreter
LABDNS=${LABDNS:-$LAB/bin/labdns}
export KRB5_CONFIG=$LAB/krb5.conf

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root (network namespace, mounts)"; }
valid_dc() { [[ ${1:-} =~ ^dc[1-3]$ ]] || die "bad DC name '${1:-}' (want dc1, dc2 or dc3)"; }
ip_of() { valid_dc "$1"; echo "127.0.10.${1#dc}"; }
upper() { echo "${1^^}"; }
NX() { ip netns exec "$NS" "$@"; }
# samba-tool with the lab's admin credentials (password via PASSWD, NTLM: no DNS needed)
st() { PASSWD="$ADMINPW" NX samba-tool "$@" -U Administrator --use-kerberos=off; }
lt() { LAB_ADMINPW="$ADMINPW" NX "$PY" "$HERE/labtool.py" "$@"; }
dcs() { cat "$LAB/dcs" 2>/dev/null || true; }          # DCs that exist (have state)
have_dc() { [[ " $(dcs) " == *" $1 "* ]]; }
ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$NS"; }
# a process that exists and is not a zombie (daemons are reaped by PID 1, sometimes late)
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
group_alive() { local p; for p in $(pgrep -g "$1" 2>/dev/null); do alive "$p" && return 0; done; return 1; }
samba_pid() { cat "$LAB/$1/run/samba.pid" 2>/dev/null || true; }
sshd_pid() { cat "$LAB/$1/ssh/sshd.pid" 2>/dev/null || true; }
running() { alive "$(samba_pid "$1")"; }
running_dcs() { local d; for d in $(dcs); do running "$d" && echo "$d"; done; return 0; }

# Run a command in the namespace with DC's own /etc/resolv.conf (a private mount namespace
# with $LAB/DC/resolv.conf bind-mounted). Samba and sshd of a DC are started this way, so
# each DC has its own DNS client configuration, like a real machine.
in_dc() {
  local dc=$1; shift
  NX unshare -m --propagation private /bin/bash -c \
    'mount --bind "$1" /etc/resolv.conf || exit 97; shift; exec "$@"' in_dc "$LAB/$dc/resolv.conf" "$@"
}

# Point DC's DNS client at IP. Written in place (same inode), so the bind mounts of
# running processes see it; glibc re-reads resolv.conf when it changes.
set_resolver() {
  local dc=$1 ip=$2
  mkdir -p "$LAB/$dc"
  printf 'nameserver %s\nsearch %s\n' "$ip" "$DNSDOMAIN" >"$LAB/$dc/resolv.conf"
}
resolver_of() { awk '/^nameserver/{print $2; exit}' "$LAB/$1/resolv.conf" 2>/dev/null || true; }

# ---------------------------------------------------------------------------------------
install_pkgs() {
  need_root
  local missing=0 c
  for c in samba samba-tool ldbsearch ldapsearch dig sshd unshare; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || missing=1
  done
  [ -e /usr/share/samba/setup/ad-schema ] || missing=1
  [ -x "$PY" ] && "$PY" -c 'import samba' 2>/dev/null || missing=1
  if [ $missing = 1 ]; then
    log "apt-get install (samba AD DC, tools, openssh-server)"
    # Never let package scripts start smbd/nmbd/samba/sshd in the main namespace.
    local guard=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; guard=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind \
      krb5-user smbclient ldb-tools ldap-utils dnsutils python3-samba iproute2 procps bc \
      openssh-server openssh-client util-linux >/dev/null
    [ $guard = 1 ] && rm -f /usr/sbin/policy-rc.d
  fi
  mkdir -p /run/sshd && chmod 0755 /run/sshd
  return 0
}

make_netns() {
  local n=$1 i
  ns_exists || ip netns add "$NS"
  NX ip link set lo up
  for i in $(seq 1 "$n") 9; do NX ip addr replace "127.0.10.$i/8" dev lo; done
  mkdir -p "/etc/netns/$NS"
  # the namespace default (lab tooling, tests): DC1's DNS
  printf 'nameserver 127.0.10.1\nsearch %s\n' "$DNSDOMAIN" >"/etc/netns/$NS/resolv.conf"
  # DC names resolve only through Samba DNS: an /etc/hosts entry would hide every DNS break
  printf '127.0.0.1 localhost\n' >"/etc/netns/$NS/hosts"
}

# One lab CA and a certificate per DC with subjectAltNames (DNS dcN.lab.example.com, dcN,
# IP 127.0.10.N). Samba's auto-generated certificates carry the name only in the CN, which
# Go's crypto/tls refuses ("certificate relies on legacy Common Name field"), and each DC
# would have its own CA.
lab_ca() {
  [ -e "$LAB/tls/ca.pem" ] && return 0
  mkdir -p "$LAB/tls"; chmod 0755 "$LAB/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/O=fix8524 lab/CN=fix8524 lab CA" -keyout "$LAB/tls/ca.key" -out "$LAB/tls/ca.pem" 2>/dev/null
  chmod 0600 "$LAB/tls/ca.key"
}

dc_cert() {
  local dc=$1 d=$LAB/$1/tls
  lab_ca
  mkdir -p "$d"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/O=fix8524 lab/CN=$dc.$DNSDOMAIN" -keyout "$d/key.pem" -out "$d/req.pem" 2>/dev/null
  printf 'subjectAltName=DNS:%s.%s,DNS:%s,IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "$dc" "$DNSDOMAIN" "$dc" "$(ip_of "$dc")" >"$d/ext.cnf"
  openssl x509 -req -in "$d/req.pem" -CA "$LAB/tls/ca.pem" -CAkey "$LAB/tls/ca.key" -CAcreateserial \
    -days 30 -extfile "$d/ext.cnf" -out "$d/cert.pem" 2>/dev/null
  chmod 0600 "$d/key.pem"
  rm -f "$d/req.pem" "$d/ext.cnf"
}

# Make a provisioned/joined smb.conf self-contained under $LAB/DC (no /var/run/samba sharing)
fixconf() {
  local d=$LAB/$1
  mkdir -p "$d/run/ncalrpc" "$d/run/winbindd" "$d/log" "$d/ntp_signd" "$d/cache"
  chmod 0750 "$d/ntp_signd"            # samba refuses to start if it is 0755
  dc_cert "$1"
  "$PY" - "$d" "$LAB/tls/ca.pem" <<'PY'
import sys, re
d = sys.argv[1]; ca = sys.argv[2]; conf = d + "/etc/smb.conf"
out, skip = [], False
for line in open(conf):
    m = re.match(r'\s*\[(.*)\]', line)
    if m:
        skip = m.group(1) in ("homes", "printers", "print$")
    if skip: continue
    if re.match(r'\s*(dns forwarder|log file|tls \w+)\s*=', line): continue
    out.append(line)
    if line.strip() == "[global]":
        for k, v in [("pid directory", d + "/run"),
                     ("ncalrpc dir", d + "/run/ncalrpc"),
                     ("winbindd socket directory", d + "/run/winbindd"),
                     ("ntp signd socket directory", d + "/ntp_signd"),
                     ("log file", d + "/log/samba.log"),
                     ("log level", "1"),
                     ("max log size", "10000"),
                     # no periodic self-healing of DNS records during tests (default 600 s)
                     ("dnsupdate:name interval", "86400"),
                     # allow simple binds on plain ldap:// (ldaps/StartTLS work anyway)
                     ("ldap server require strong auth", "no"),
                     ("load printers", "no"), ("printing", "bsd"),
                     ("printcap name", "/dev/null"), ("disable spoolss", "yes"),
                     # loopback IPs are ignored by samba_dnsupdate unless --all-interfaces
                     ("dns update command", "/usr/sbin/samba_dnsupdate --all-interfaces -s " + conf),
                     ("spn update command", "/usr/sbin/samba_spnupdate -s " + conf),
                     # LDAPS/StartTLS with the lab CA (SAN certificates)
                     ("tls enabled", "yes"),
                     ("tls keyfile", d + "/tls/key.pem"),
                     ("tls certfile", d + "/tls/cert.pem"),
                     ("tls cafile", ca)]:
            out.append("\t%s = %s\n" % (k, v))
open(conf, "w").write("".join(out))
PY
  # The DC's own Kerberos client (drepl, samba_dnsupdate, samba_kcc) asks its own KDC,
  # as a Windows DC does. With KDC discovery by DNS SRV it would pick any DC at random,
  # and a DC holding stale keys (the repromoted case) makes that fail at random.
  cat >"$d/private/krb5.conf" <<EOF
[libdefaults]
	default_realm = $REALM
	dns_lookup_realm = false
	dns_lookup_kdc = false

[realms]
$REALM = {
	kdc = $(ip_of "$1")
	default_domain = $DNSDOMAIN
}

[domain_realm]
	$1 = $REALM
EOF
}

wait_port() { # wait_port IP PORT TRIES(0.25 s each)
  local i
  for i in $(seq 1 "$3"); do
    NX bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0
    sleep 0.25
  done
  return 1
}

wait_auth() { # wait_auth IP TRIES(0.5 s each): an authenticated (NTLM) LDAP search works
  local i
  for i in $(seq 1 "$2"); do
    lt self --server "$1" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

retry() { # retry TRIES DELAY_S CMD...: run CMD until it succeeds, at most TRIES times
  local n=$1 delay=$2 i; shift 2
  for i in $(seq 1 "$n"); do
    "$@" && return 0
    [ "$i" -lt "$n" ] && { log "$* failed (try $i of $n); again in ${delay} s"; sleep "$delay"; }
  done
  return 1
}

samba_start() {
  local dc=$1 ip opts=() o
  ip=$(ip_of "$dc")
  running "$dc" && { log "$dc samba already running (pid $(samba_pid "$dc"))"; return 0; }
  if [ -s "$LAB/$dc/samba.opts" ]; then
    while IFS= read -r o; do [ -n "$o" ] && opts+=("--option=$o"); done <"$LAB/$dc/samba.opts"
  fi
  rm -f "$LAB/$dc/run/samba.pid"
  KRB5_CONFIG=$LAB/$dc/private/krb5.conf in_dc "$dc" samba -D -s "$LAB/$dc/etc/smb.conf" "${opts[@]}"
  local i
  for i in $(seq 1 240); do
    if wait_port "$ip" 389 1 && NX dig +time=1 +tries=1 +short @"$ip" "$DNSDOMAIN" SOA 2>/dev/null | grep -q .; then
      # the ports answer before NTLM logons do (seen in CI: a DNS RPC call and a demote right
      # after a restart failed with NT_STATUS_LOGON_FAILURE): up means an authenticated search works
      wait_auth "$ip" 40 || log "warning: $dc does not accept an authenticated bind yet"
      log "$dc samba up (pid $(samba_pid "$dc"))${opts:+ with ${opts[*]}}"; return 0
    fi
    running "$dc" || [ $i -lt 20 ] || break
    sleep 0.25
  done
  tail -20 "$LAB/$dc/log/samba.log" >&2 || true
  die "$dc samba did not come up"
}

kill_wait() { # kill_wait PID WHAT: TERM, wait up to 20 s, then KILL
  local pid=$1 what=$2 i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 200); do alive "$pid" || return 0; sleep 0.1; done
  log "$what (pid $pid) ignored TERM; KILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

samba_stop() {
  local dc=$1 pid
  pid=$(samba_pid "$dc")
  alive "$pid" || return 0
  kill_wait "$pid" "$dc samba"
  # the master's process group (prefork workers, dnsupdate children) goes with it; wait for it
  local i
  for i in $(seq 1 40); do
    group_alive "$pid" || break
    sleep 0.25
  done
  if group_alive "$pid"; then
    local p
    for p in $(pgrep -g "$pid"); do alive "$p" && kill -KILL "$p" 2>/dev/null; done
  fi
  rm -f "$LAB/$dc/run/samba.pid"
  log "$dc samba stopped (pid $pid)"
}

samba_restart() { samba_stop "$1"; samba_start "$1"; }

# --- sshd: one per DC, on the DC's address, root by the lab key only ------------------------
ssh_client_keys() {
  mkdir -p "$LAB/ssh"; chmod 0700 "$LAB/ssh"
  [ -e "$LAB/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C fix8524-lab -f "$LAB/ssh/id_ed25519"
  cp "$LAB/ssh/id_ed25519.pub" "$LAB/ssh/authorized_keys"
  touch "$LAB/ssh/known_hosts"
}

sshd_setup() { # host key, config, known_hosts entry
  local dc=$1 ip d=$LAB/$1/ssh
  ip=$(ip_of "$dc")
  mkdir -p "$d" "$LAB/$dc/log"; chmod 0700 "$d"
  [ -e "$d/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$dc" -f "$d/ssh_host_ed25519_key"
  cat >"$d/sshd_config" <<EOF
# sshd for lab $dc: listens on $ip inside namespace $NS only
ListenAddress $ip:22
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
AuthorizedKeysFile $LAB/ssh/authorized_keys
PermitRootLogin prohibit-password
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
# what a session on this "machine" needs to reach its own Samba configuration
SetEnv SMB_CONF_PATH=$LAB/$dc/etc/smb.conf KRB5_CONFIG=$LAB/$dc/private/krb5.conf LAB=$LAB LAB_DC=$dc
Subsystem sftp internal-sftp
EOF
  # known_hosts: replace this DC's line (a re-installed machine gets a new host key)
  local kh=$LAB/ssh/known_hosts tmp
  tmp=$(mktemp "$LAB/ssh/kh.XXXXXX")
  grep -v "^$dc.$DNSDOMAIN," "$kh" >"$tmp" 2>/dev/null || true
  printf '%s.%s,%s,%s %s\n' "$dc" "$DNSDOMAIN" "$dc" "$ip" "$(cut -d' ' -f1-2 "$d/ssh_host_ed25519_key.pub")" >>"$tmp"
  mv "$tmp" "$kh"
}

sshd_start() {
  local dc=$1 ip
  ip=$(ip_of "$dc")
  alive "$(sshd_pid "$dc")" && return 0
  [ -e "$LAB/$dc/ssh/sshd_config" ] || sshd_setup "$dc"
  KRB5_CONFIG=$LAB/$dc/private/krb5.conf in_dc "$dc" /usr/sbin/sshd -f "$LAB/$dc/ssh/sshd_config" -E "$LAB/$dc/log/sshd.log"
  wait_port "$ip" 22 80 || die "$dc sshd did not come up"
  log "$dc sshd up (pid $(sshd_pid "$dc"))"
}

sshd_stop() {
  local pid; pid=$(sshd_pid "$1")
  alive "$pid" || return 0
  kill_wait "$pid" "$1 sshd"
  rm -f "$LAB/$1/ssh/sshd.pid"
  log "$1 sshd stopped (pid $pid)"
}

dc_start() { samba_start "$1"; sshd_start "$1"; }
dc_stop() { sshd_stop "$1"; samba_stop "$1"; }

# ---------------------------------------------------------------------------------------
guid_self() { lt self --server "$(ip_of "$1")" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["objectGUID"])'; }
guid_on() { # guid_on DC SERVER: objectGUID of DC's NTDS Settings in SERVER's copy
  lt ntds --server "$(ip_of "$2")" | "$PY" -c '
import json, sys
for o in json.load(sys.stdin):
    if o["server"].lower() == sys.argv[1].lower():
        print(o["objectGUID"]); break
' "$1"
}

dnsq() { # dnsq SERVER_IP NAME TYPE -> "STATUS answer answer..."
  local out status
  out=$(NX dig +time=2 +tries=1 +noall +comments +answer @"$1" "$2" "$3" 2>&1) || { echo "ERROR"; return 0; }
  status=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out" | head -1)
  echo "${status:-ERROR}" $(awk -v t="$3" '!/^;/ && NF>=5 && $4==t {print $5}' <<<"$out")
}
has_rec() { local r; r=$(dnsq "$1" "$2" "$3"); [[ $r == NOERROR\ ?* ]]; }
wait_rec() { # wait_rec present|absent SERVER NAME TYPE TRIES(0.5 s)
  local want=$1 i; shift
  for i in $(seq 1 "$4"); do
    if has_rec "$1" "$2" "$3"; then [ "$want" = present ] && return 0
    else [ "$want" = absent ] && return 0; fi
    sleep 0.5
  done
  return 1
}

replicate() { # replicate DEST SRC [NC] [labtool options...] -> JSON on stdout, rc 1 on failure
  local dest=$1 src=$2; shift 2
  local args=(--dest "$(ip_of "$dest")" --src "$(upper "$src")")
  if [ $# -gt 0 ] && [[ $1 != --* ]]; then args+=(--nc "$1"); shift; fi
  lt replicate "${args[@]}" "$@"
}

# make every running DC pull every NC from every other running DC (retrying through
# restarts); the lab's "all green" baseline
failed_pulls() { # JSON results on stdin -> "SRC NC result ERROR" lines of the failed ones
  "$PY" -c '
import json, sys
try:
    rs = json.load(sys.stdin)
except ValueError:
    print("unreadable results"); sys.exit()
if isinstance(rs, dict):
    print(rs.get("error", rs)); sys.exit()
for r in rs:
    if r["result"]:
        print("%s %s %d %s (attempts %d)" % (r["source"], r["nc"], r["result"], r["error"], r["attempts"]))
'
}

fix_addresses() { # fix_addresses DC: repsFrom names <source GUID>._msdcs.<forest>, restart
  local out
  samba_stop "$1"
  out=$("$PY" "$HERE/labtool.py" fixaddr --conf "$LAB/$1/etc/smb.conf") || die "fixaddr on $1 failed"
  [ "$out" = "[]" ] || log "$1: repsFrom addresses rewritten: $out"
  samba_start "$1"
}

converge() {
  local d s srcs out try
  for d in $(running_dcs); do
    srcs=()
    for s in $(others "$d"); do srcs+=(--src "$(upper "$s")"); done
    [ ${#srcs[@]} -gt 0 ] || continue
    for try in 1 2 3; do
      out=$(lt replicate --dest "$(ip_of "$d")" "${srcs[@]}" --retries 6) && continue 2
      log "converge: pulls into $d fail (try $try): $(failed_pulls <<<"$out" | tr '\n' ';')"
      # A DC that saw a partner change its NTDS GUID (re-promotion) can keep the old
      # incarnation's name in repsFrom, and dial it from an in-memory connection until
      # samba restarts: rewrite the addresses while it is stopped.
      [ $try = 1 ] && fix_addresses "$d"
    done
    return 1
  done
}

wait_dc_registered() { # wait_dc_registered DC DNS_SERVER_IP: its GUID CNAME and A record exist
  local dc=$1 srv=$2 g try
  g=$(guid_self "$dc")
  for try in 1 2 3; do
    if wait_rec present "$srv" "$g._msdcs.$DNSDOMAIN" CNAME 20 && wait_rec present "$srv" "$dc.$DNSDOMAIN" A 4; then
      return 0
    fi
    # the startup registration can run before the DC's own KDC answers; do it again
    log "$dc records not on $srv yet; samba_dnsupdate on $dc (try $try)"
    reregister "$dc"
  done
  die "$dc CNAME $g._msdcs / A $dc never appeared on $srv"
}

join_dc() { # join_dc DC VIA_DC
  local dc=$1 via=$2
  log "join $dc (via $via)"
  mkdir -p "$LAB/$dc"
  [ -e "$LAB/$dc/resolv.conf" ] || set_resolver "$dc" "$(ip_of "$via")"
  PASSWD="$ADMINPW" in_dc "$dc" samba-tool domain join "$DNSDOMAIN" DC --server="$via.$DNSDOMAIN" \
    -U "$DOMAIN\\Administrator" --use-kerberos=off --dns-backend=SAMBA_INTERNAL --targetdir="$LAB/$dc" \
    --option="netbios name = $(upper "$dc")" --option="interfaces = $(ip_of "$dc")" \
    --option="bind interfaces only = yes" --option="disable netbios = yes" \
    >"$LAB/join-$dc.log" 2>&1 || { tail -20 "$LAB/join-$dc.log" >&2; die "join of $dc failed"; }
  fixconf "$dc"
  sshd_setup "$dc"
}

up() {
  need_root
  local force=0
  [ "${1:-}" = -f ] && { force=1; shift; }
  local n=${1:-2}
  [[ $n =~ ^[23]$ ]] || die "up N: N must be 2 or 3"
  local t0=$SECONDS
  install_pkgs
  if [ -e "$LAB/dcs" ] || [ -e "$LAB/dc1" ] || ns_exists; then
    [ $force = 1 ] || die "a lab exists ($LAB, namespace $NS); run 'down' first or 'up -f $n'"
    down
  fi
  mkdir -p "$LAB/log" "$LAB/bin"
  chmod 0755 "$LAB"
  make_netns "$n"
  ssh_client_keys
  log "provision dc1"
  set_resolver dc1 127.0.10.1
  : >"$LAB/dcs"
  PASSWD="$ADMINPW" in_dc dc1 bash -c 'exec samba-tool domain provision --adminpass="$PASSWD" "$@"' provision \
    --realm=$REALM --domain=$DOMAIN --server-role=dc \
    --dns-backend=SAMBA_INTERNAL --use-rfc2307 \
    --host-name=dc1 --host-ip=127.0.10.1 --targetdir="$LAB/dc1" \
    --option="interfaces = 127.0.10.1" --option="bind interfaces only = yes" \
    --option="disable netbios = yes" >"$LAB/provision-dc1.log" 2>&1 \
    || { tail -20 "$LAB/provision-dc1.log" >&2; die "provision failed"; }
  cp "$LAB/dc1/private/krb5.conf" "$LAB/krb5.conf"   # for clients: KDCs found by DNS SRV
  fixconf dc1
  echo dc1 >"$LAB/dcs"
  dc_start dc1
  local i dc
  for i in $(seq 2 "$n"); do
    dc=dc$i
    set_resolver "$dc" 127.0.10.1
    join_dc "$dc" dc1
    echo "$(dcs) $dc" >"$LAB/dcs"
    dc_start "$dc"
    wait_dc_registered "$dc" 127.0.10.1
  done
  log "KCC + initial replication"
  for dc in $(dcs); do st drs kcc "$(ip_of "$dc")" >/dev/null 2>&1 || true; done
  converge || die "initial replication failed"
  rm -f "$LAB/broken"
  log "lab up in $((SECONDS - t0)) s: $(dcs)"
  status
}

down() {
  need_root
  local dc p
  for dc in dc3 dc2 dc1; do
    [ -d "$LAB/$dc" ] || continue
    sshd_stop "$dc" || true
    samba_stop "$dc" || true
  done
  labdns_stop || true
  if ns_exists; then
    # anything still in the namespace was started by this lab (a stray tool or child)
    for p in $(ip netns pids "$NS" 2>/dev/null); do
      log "stray process $p in $NS: $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-80)"
      kill_wait "$p" "stray" || true
    done
    ip netns delete "$NS"
  fi
  rm -rf "/etc/netns/$NS"
  rmdir /etc/netns 2>/dev/null || true
  rm -rf "$LAB"
  log "lab removed"
}

status() {
  local dc
  {
    echo "ns=$NS"; echo "lab=$LAB"; echo "broken=$(cat "$LAB/broken" 2>/dev/null || true)"
    echo "ns_exists=$(ns_exists && echo 1 || echo 0)"
    for dc in dc1 dc2 dc3; do
      [ -d "$LAB/$dc" ] || have_dc "$dc" || continue
      local sp hp
      sp=$(samba_pid "$dc"); hp=$(sshd_pid "$dc")
      alive "$sp" || sp=0
      alive "$hp" || hp=0
      echo "dc=$dc $(ip_of "$dc") $sp $hp $(have_dc "$dc" && echo 1 || echo 0) $(resolver_of "$dc") $( [ -e "$LAB/$dc/samba.opts" ] && tr "\n" , <"$LAB/$dc/samba.opts" )"
    done
  } | "$PY" -c '
import json, sys
st = {"dcs": []}
for line in sys.stdin:
    k, _, v = line.rstrip("\n").partition("=")
    if k != "dc":
        st[k] = v
        continue
    f = v.split(" ")
    while len(f) < 7: f.append("")
    name, ip, sp, hp, exists, res, opts = f[:7]
    lab = st["lab"]
    st["dcs"].append({"name": name, "ip": ip, "fqdn": name + ".lab.example.com",
        "exists": exists == "1", "sambaPid": int(sp), "sshdPid": int(hp),
        "resolver": res, "sambaOptions": [o for o in opts.split(",") if o],
        "smbConf": lab + "/" + name + "/etc/smb.conf",
        "certFile": lab + "/" + name + "/tls/cert.pem"})
st["nsExists"] = st.pop("ns_exists") == "1"
lab = st["lab"]
st.update({"realm": "LAB.EXAMPLE.COM", "domain": "LAB", "dnsDomain": "lab.example.com",
    "baseDN": "DC=lab,DC=example,DC=com", "krb5Conf": lab + "/krb5.conf",
    "caFile": lab + "/tls/ca.pem", "sshKey": lab + "/ssh/id_ed25519", "knownHosts": lab + "/ssh/known_hosts",
    "badDNS": "127.0.10.9"})
json.dump(st, sys.stdout, indent=1); print()
'
}

# ---------------------------------------------------------------------------------------
# breakers. Destination D = dc1 (records the failure), source S = dc2.
mark_broken() { echo "$1" >"$LAB/broken"; }
require_dcs() { local d; for d in "$@"; do running "$d" || die "$d is not running (break needs $*)"; done; }

# D's first pull after a DNS change can still use a cached DRS connection; after S stops,
# the first pull fails with 64 (dead connection). Record the real result: retry only on 64.
record_failure() { # record_failure DEST SRC
  local out rc=0
  out=$(replicate "$1" "$2" --retries 3 --retry-on 64) || rc=$?
  printf '%s\n' "$out"
  [ $rc = 1 ] || { log "expected $2 -> $1 replication to fail, rc=$rc"; return 1; }
}

delete_records() { # delete_records DC GUID SERVER...: S's GUID CNAME and host A record
  local dc=$1 g=$2 s; shift 2
  for s in "$@"; do
    st dns delete "$s" "_msdcs.$DNSDOMAIN" "$g" CNAME "$dc.$DNSDOMAIN" >/dev/null 2>&1 || true
    st dns delete "$s" "$DNSDOMAIN" "$dc" A "$(ip_of "$dc")" >/dev/null 2>&1 || true
  done
  for s in "$@"; do
    wait_rec absent "$s" "$g._msdcs.$DNSDOMAIN" CNAME 20 || die "CNAME $g._msdcs still on $s"
    wait_rec absent "$s" "$dc.$DNSDOMAIN" A 20 || die "A $dc still on $s"
  done
}

server_ips() { local d; for d in "$@"; do ip_of "$d"; done; }
others() { local d; for d in $(running_dcs); do [[ " $* " == *" $d "* ]] || echo "$d"; done; return 0; }

break_source_records() { # S failed to register: CNAME + A gone on every DNS server
  require_dcs dc1 dc2
  local g; g=$(guid_self dc2)
  delete_records dc2 "$g" $(server_ips $(running_dcs))
  samba_restart dc1            # drop D's cached DRS connection to S
  mark_broken source-records
  record_failure dc1 dc2
}

break_source_records_local() { # S's CNAME + A only on S's own DNS server; D's resolver: dc1, then dc2
  require_dcs dc1 dc2
  local g d p=(); g=$(guid_self dc2)
  delete_records dc2 "$g" $(server_ips $(running_dcs))
  # every DC that pulls from S must forget its cached connection, else it would pull S's
  # re-added records and pass them on to D
  for d in $(others dc2); do samba_restart "$d" & p+=($!); done
  for d in "${p[@]}"; do wait "$d" || die "restart failed"; done
  # the records come back on S's own DNS server only: the others' copies lack them, and they
  # cannot pull them (their pulls from S need exactly those names, which they ask dc1 for)
  retry 3 2 st dns add 127.0.10.2 "_msdcs.$DNSDOMAIN" "$g" CNAME "dc2.$DNSDOMAIN" >/dev/null
  retry 3 2 st dns add 127.0.10.2 "$DNSDOMAIN" dc2 A "$(ip_of dc2)" >/dev/null
  wait_rec present 127.0.10.2 "$g._msdcs.$DNSDOMAIN" CNAME 20 || die "CNAME not re-added on dc2"
  wait_rec present 127.0.10.2 "dc2.$DNSDOMAIN" A 20 || die "A not re-added on dc2"
  # D's DNS client lists S's DNS server second, as a DC often lists a partner: D asks dc1 first,
  # which answers NXDOMAIN, and a resolver does not ask further after an answer
  printf 'nameserver %s\nnameserver %s\nsearch %s\n' 127.0.10.1 127.0.10.2 "$DNSDOMAIN" >"$LAB/dc1/resolv.conf"
  mark_broken source-records-local
  record_failure dc1 dc2
  has_rec 127.0.10.1 "$g._msdcs.$DNSDOMAIN" CNAME && die "dc1 got the CNAME back"
  has_rec 127.0.10.1 "dc2.$DNSDOMAIN" A && die "dc1 got the A record back"
  return 0
}

break_dest_cname_only() { # zone copies differ: CNAME on S's DNS server, not on D's
  require_dcs dc1 dc2
  local g d; g=$(guid_self dc2)
  st dns delete 127.0.10.1 "_msdcs.$DNSDOMAIN" "$g" CNAME "dc2.$DNSDOMAIN" >/dev/null 2>&1 || true
  for d in $(running_dcs); do
    st dns delete "$(ip_of "$d")" "_msdcs.$DNSDOMAIN" "$g" CNAME "dc2.$DNSDOMAIN" >/dev/null 2>&1 || true
  done
  for d in $(running_dcs); do
    wait_rec absent "$(ip_of "$d")" "$g._msdcs.$DNSDOMAIN" CNAME 20 || die "CNAME still on $d"
  done
  # every DC that pulls from S must forget its cached connection, else it would pull S's
  # re-added record and pass it on to D
  local p=()
  for d in $(others dc2); do samba_restart "$d" & p+=($!); done
  for d in "${p[@]}"; do wait "$d" || die "restart failed"; done
  # S re-registers on its own DNS server only (as a DC pointing at itself would); D cannot
  # pull it: the pull needs exactly that name
  retry 3 2 st dns add 127.0.10.2 "_msdcs.$DNSDOMAIN" "$g" CNAME "dc2.$DNSDOMAIN" >/dev/null
  wait_rec present 127.0.10.2 "$g._msdcs.$DNSDOMAIN" CNAME 20 || die "CNAME not re-added on dc2"
  mark_broken dest-cname-only
  record_failure dc1 dc2
  has_rec 127.0.10.1 "$g._msdcs.$DNSDOMAIN" CNAME && die "dc1 got the CNAME back"
  return 0
}

labdns_start() { # a DNS server on 127.0.10.9 that hosts no zone
  local mode=${LABDNS_MODE:-nxdomain}
  labdns_stop
  if [ ! -x "$LABDNS" ]; then
    command -v go >/dev/null || die "labdns binary $LABDNS missing and no go toolchain to build it"
    log "building labdns"
    mkdir -p "$(dirname "$LABDNS")"
    (cd "$REPO" && go build -o "$LABDNS" ./lab/samba/cmd/labdns) || die "go build labdns failed"
  fi
  rm -f "$LAB/labdns.pid"
  NX "$LABDNS" -listen "$BADDNS_IP:53" -mode "$mode" -pidfile "$LAB/labdns.pid" >"$LAB/log/labdns.log" 2>&1 &
  local i
  for i in $(seq 1 40); do
    NX dig +time=1 +tries=1 @"$BADDNS_IP" "$DNSDOMAIN" SOA >/dev/null 2>&1 && { log "labdns up on $BADDNS_IP ($mode, pid $(cat "$LAB/labdns.pid"))"; return 0; }
    sleep 0.25
  done
  die "labdns did not answer"
}
labdns_stop() {
  local pid; pid=$(cat "$LAB/labdns.pid" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  kill_wait "$pid" labdns
  rm -f "$LAB/labdns.pid"
}

break_dest_resolver() { # D's DNS client points at a server that hosts none of the zones
  require_dcs dc1 dc2
  labdns_start
  set_resolver dc1 "$BADDNS_IP"
  samba_restart dc1
  mark_broken dest-resolver
  record_failure dc1 dc2
}

break_source_offline() { # S stopped, DNS records intact
  require_dcs dc1 dc2
  dc_stop dc2
  mark_broken source-offline
  record_failure dc1 dc2
}

break_source_offline_scavenged() { # S stopped long enough for its records to be scavenged
  require_dcs dc1 dc2
  local g; g=$(guid_self dc2)
  dc_stop dc2
  delete_records dc2 "$g" $(server_ips $(running_dcs))
  samba_restart dc1
  mark_broken source-offline-scavenged
  record_failure dc1 dc2
}

break_source_gone() { # S gone for good; its NTDS Settings stay in D's copy (stale metadata)
  require_dcs dc1 dc2
  [ "$(running_dcs | wc -l)" -ge 3 ] || log "warning: with two DCs, dc1 becomes the last DC (use 'up 3')"
  local g; g=$(guid_self dc2)
  dc_stop dc2
  rm -rf "$LAB/dc2"
  echo $(for d in $(dcs); do [ "$d" = dc2 ] || echo "$d"; done) >"$LAB/dcs"
  grep -v "^dc2\.$DNSDOMAIN," "$LAB/ssh/known_hosts" >"$LAB/ssh/known_hosts.tmp" || true
  mv "$LAB/ssh/known_hosts.tmp" "$LAB/ssh/known_hosts"
  echo "$g" >"$LAB/gone-dc2.guid"
  delete_records dc2 "$g" $(server_ips $(running_dcs))   # scavenged
  samba_restart dc1
  mark_broken source-gone
  record_failure dc1 dc2
}

break_repromoted() { # S re-promoted under the same name; D still holds the old NTDS GUID
  require_dcs dc1 dc2 dc3
  local oldg newg d
  oldg=$(guid_self dc2)
  dc_stop dc2
  # replication latency, made to last: D pulls only when told, dc3 notifies no one
  printf 'dreplsrv:periodic_interval=3600\ndreplsrv:periodic_startup_interval=3600\n' >"$LAB/dc1/samba.opts"
  printf 'dreplsrv:notify_interval=3600\n' >"$LAB/dc3/samba.opts"
  samba_restart dc1 & d=$!
  samba_restart dc3
  wait $d || die "dc1 restart failed"
  # the admin cleans up the dead DC's metadata on dc3 and promotes a fresh dc2 there. dc3 was
  # just restarted (samba_start waited for an authenticated bind); retry a demote that failed to
  # connect all the same (it changed nothing then)
  local try
  for try in 1 2 3; do
    st domain demote --remove-other-dead-server=DC2 -H "ldap://127.0.10.3" >"$LAB/log/demote-dc2.log" 2>&1 && break
    if [ $try -lt 3 ] && grep -q 'in connect' "$LAB/log/demote-dc2.log"; then
      log "metadata cleanup of dc2 on dc3: could not connect (try $try); again"
      sleep 3
      continue
    fi
    tail "$LAB/log/demote-dc2.log" >&2; die "metadata cleanup of dc2 on dc3 failed"
  done
  rm -rf "$LAB/dc2"
  set_resolver dc2 127.0.10.3
  join_dc dc2 dc3
  dc_start dc2
  wait_dc_registered dc2 127.0.10.3
  newg=$(guid_self dc2)
  # DNS application partitions reach D, the configuration partition does not (yet)
  replicate dc1 dc3 "DC=DomainDnsZones,$BASEDN" --retries 3 >/dev/null || die "dns NC dc3 -> dc1 failed"
  replicate dc1 dc3 "DC=ForestDnsZones,$BASEDN" --retries 3 >/dev/null || die "dns NC dc3 -> dc1 failed"
  d=$(guid_on dc2 dc1)
  [ "$d" = "$oldg" ] || die "dc1 does not hold the old GUID (has '$d', old $oldg, new $newg)"
  [ "$newg" != "$oldg" ] || die "re-promotion kept the GUID"
  has_rec 127.0.10.1 "$oldg._msdcs.$DNSDOMAIN" CNAME && die "old CNAME still on dc1"
  echo "$oldg" >"$LAB/repromoted-dc2.oldguid"
  log "dc2 re-promoted: old GUID $oldg (dc1's view), new GUID $newg (dc2's own)"
  mark_broken repromoted
  record_failure dc1 dc2
}

break_link_address() { # [latent] D's links to S dial the GUID name of an earlier incarnation of S (P2)
  require_dcs dc1 dc2
  local g stale sg mode=${1:-}
  g=$(guid_on dc2 dc1)
  sg=$(cat /proc/sys/kernel/random/uuid)
  stale="$sg._msdcs.$DNSDOMAIN"
  samba_stop dc1
  "$PY" "$HERE/labtool.py" setaddr --conf "$LAB/dc1/etc/smb.conf" --source "$g" --name "$stale" >/dev/null \
    || die "setaddr on dc1 failed"
  # keep the stale name in repsFrom until someone runs the KCC (its periodic run would rewrite
  # it, though not the connection samba already holds)
  printf 'kccsrv:periodic_interval=3600\nkccsrv:periodic_startup_interval=3600\n' >"$LAB/dc1/samba.opts"
  samba_start dc1
  echo "$stale" >"$LAB/link-address.stale"
  log "dc1's links to DC2 ($g) now dial $stale"
  if [ "$mode" = latent ]; then
    # the old incarnation's CNAME still exists (not scavenged yet): the link works, for now
    retry 3 2 st dns add 127.0.10.1 "_msdcs.$DNSDOMAIN" "$sg" CNAME "dc2.$DNSDOMAIN" >/dev/null \
      || die "adding the old CNAME failed"
    wait_rec present 127.0.10.1 "$stale" CNAME 10 || die "the old CNAME $stale does not resolve"
    mark_broken link-address-latent
    replicate dc1 dc2 --retries 3 || die "dc1 <- dc2 fails although the old CNAME resolves"
    return
  fi
  mark_broken link-address
  record_failure dc1 dc2
}

undo_link_address() { # the stale address and the old CNAME a link-address breaker left
  local stale
  [ -s "$LAB/link-address.stale" ] || return 0
  stale=$(cat "$LAB/link-address.stale")
  st dns delete 127.0.10.1 "_msdcs.$DNSDOMAIN" "${stale%%.*}" CNAME "dc2.$DNSDOMAIN" >/dev/null 2>&1 || true
  # a working link is not rewritten by converge (its pulls succeed): rewrite it here
  running dc1 && fix_addresses dc1
  rm -f "$LAB/link-address.stale"
}

inject_8524() { # inject_8524 DC NC [SRC]
  local dc=$1 nc=$2 src=${3:-}
  valid_dc "$dc"
  require_dcs "$dc"
  local srcg=""
  [ -n "$src" ] && srcg=$(guid_on "$src" "$dc")
  samba_stop "$dc"
  "$PY" "$HERE/labtool.py" inject8524 --conf "$LAB/$dc/etc/smb.conf" --nc "$nc" ${srcg:+--source "$srcg"}
  # keep the planted value: no periodic pull overwrites it
  printf 'dreplsrv:periodic_interval=3600\ndreplsrv:periodic_startup_interval=3600\n' >"$LAB/$dc/samba.opts"
  samba_start "$dc"
  mark_broken inject-8524
}

# ---------------------------------------------------------------------------------------
# heal by hand: what an admin does, to measure the lab's floor MTTR
ssh_dc() { # ssh_dc DC CMD...: through the DC's own sshd, like an admin would
  local dc=$1; shift
  NX ssh -i "$LAB/ssh/id_ed25519" -o UserKnownHostsFile="$LAB/ssh/known_hosts" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR \
    "root@$(ip_of "$dc")" "$@"
}

reregister() { # samba_dnsupdate on the source (Netlogon restart equivalent); rc = failed updates
  ssh_dc "$1" samba_dnsupdate --all-interfaces >"$LAB/log/dnsupdate-$1.log" 2>&1 || true
}

heal_done() { # D pulls once from every running DC; JSON results on stdout; rc 1 if any failed
  local out rc=0 s srcs=()
  rm -f "$LAB/broken"
  for s in $(others dc1); do srcs+=(--src "$(upper "$s")"); done
  [ ${#srcs[@]} -gt 0 ] || { echo '[]'; log "heal: dc1 is the only DC left"; return 0; }
  out=$(lt replicate --dest 127.0.10.1 "${srcs[@]}" --retries 4) || rc=1
  printf '%s\n' "$out"
  [ $rc = 0 ] || { log "heal: a pull into dc1 still fails"; return 1; }
}

# back to the baseline: every DC of the lab running with default options and resolver,
# labdns stopped, all links green. Not part of any MTTR.
reset() {
  local d g p=()
  labdns_stop
  for d in $(dcs); do
    set_resolver "$d" 127.0.10.1
    if [ -s "$LAB/$d/samba.opts" ]; then
      rm -f "$LAB/$d/samba.opts"
      running "$d" && { samba_restart "$d" & p+=($!); }
    fi
  done
  for d in "${p[@]}"; do wait "$d" || die "restart failed"; done
  for d in $(dcs); do running "$d" || dc_start "$d"; alive "$(sshd_pid "$d")" || sshd_start "$d"; done
  undo_link_address
  for d in $(dcs); do
    g=$(guid_self "$d")
    has_rec 127.0.10.1 "$g._msdcs.$DNSDOMAIN" CNAME && has_rec 127.0.10.1 "$d.$DNSDOMAIN" A || reregister "$d"
  done
  converge || die "reset: replication does not converge"
  rm -f "$LAB/broken"
  log "lab reset: $(dcs)"
}

heal_by_hand() {
  local kind=${1:-}
  case $kind in
    source-records|dest-cname-only)
      reregister dc2
      heal_done dc2 ;;
    source-records-local)
      reregister dc2   # S's resolver is dc1: the update lands there
      set_resolver dc1 127.0.10.1
      heal_done dc2 ;;
    dest-resolver)
      set_resolver dc1 127.0.10.1
      labdns_stop
      heal_done dc2 ;;
    source-offline|source-offline-scavenged)
      dc_start dc2
      wait_dc_registered dc2 127.0.10.1
      heal_done dc2 ;;
    source-gone)
      st domain demote --remove-other-dead-server=DC2 -H ldap://127.0.10.1 >"$LAB/log/demote-dc2.log" 2>&1 \
        || { tail "$LAB/log/demote-dc2.log" >&2; die "metadata cleanup failed"; }
      local d
      for d in $(running_dcs); do st drs kcc "$(ip_of "$d")" >/dev/null 2>&1 || true; done
      heal_done dc3 ;;
    repromoted)
      rm -f "$LAB/dc1/samba.opts" "$LAB/dc3/samba.opts"
      replicate dc1 dc3 --retries 3 >/dev/null || die "dc3 -> dc1 failed"
      st drs kcc 127.0.10.1 >/dev/null 2>&1 || true
      local p
      samba_restart dc1 & p=$!
      samba_restart dc3
      wait $p
      set_resolver dc2 127.0.10.1
      heal_done dc2 ;;
    link-address|link-address-latent)
      # what the plan's manual step says: run the KCC (it rewrites the address), restart the
      # DC's samba (its replication service keeps the cached connection), retry
      st drs kcc 127.0.10.1 >/dev/null || die "kcc on dc1 failed"
      samba_restart dc1
      heal_done dc2 ;;
    inject-8524)
      local d
      for d in dc1 dc2 dc3; do
        [ -s "$LAB/$d/samba.opts" ] || continue
        rm -f "$LAB/$d/samba.opts"; samba_restart "$d"
      done
      heal_done ;;
    *) die "heal-by-hand: unknown kind '$kind'" ;;
  esac
}

brk() {
  local kind=${1:-}
  [ -e "$LAB/dcs" ] || die "no lab (run up first)"
  case $kind in
    source-records) break_source_records ;;
    source-records-local) break_source_records_local ;;
    dest-cname-only) break_dest_cname_only ;;
    dest-resolver) break_dest_resolver ;;
    source-offline) break_source_offline ;;
    source-offline-scavenged) break_source_offline_scavenged ;;
    source-gone) break_source_gone ;;
    repromoted) break_repromoted ;;
    link-address) break_link_address ;;
    link-address-latent) break_link_address latent ;;
    *) die "break: unknown kind '$kind'" ;;
  esac
}

main() {
  local cmd=${1:-}; shift || true
  case $cmd in
    install) install_pkgs ;;
    up) up "$@" ;;
    down) down ;;
    start) need_root; valid_dc "${1:-}"; dc_start "$1" ;;
    stop) need_root; valid_dc "${1:-}"; dc_stop "$1" ;;
    restart) need_root; valid_dc "${1:-}"; samba_restart "$1" ;;
    status) status ;;
    guid)
      valid_dc "${1:-}"
      if [ "${2:-}" = --on ]; then valid_dc "${3:-}"; guid_on "$1" "$3"; else guid_self "$1"; fi ;;
    ntds) valid_dc "${1:-}"; lt ntds --server "$(ip_of "$1")" ;;
    showrepl) valid_dc "${1:-}"; st drs showrepl --json "$(ip_of "$1")" ;;
    repsfrom) valid_dc "${1:-}"; lt repsfrom --server "$(ip_of "$1")" ;;
    replicate) [ $# -ge 2 ] || die "replicate DEST SRC [NC]"; valid_dc "$1"; valid_dc "$2"; replicate "$@" ;;
    kcc) valid_dc "${1:-}"; st drs kcc "$(ip_of "$1")" ;;
    dns)
      [ $# = 3 ] || die "dns SERVER NAME TYPE"
      local s=$1; [[ $s =~ ^dc ]] && s=$(ip_of "$s")
      dnsq "$s" "$2" "$3" ;;
    break) need_root; brk "$@" ;;
    heal-by-hand) need_root; heal_by_hand "$@" ;;
    reset) need_root; reset ;;
    inject-8524) need_root; [ $# -ge 2 ] || die "inject-8524 DC NC [SRC]"; inject_8524 "$@" ;;
    exec) NX "$@" ;;
    ssh) valid_dc "${1:-}"; ssh_dc "$@" ;;
    *) sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
