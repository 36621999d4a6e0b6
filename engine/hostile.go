package engine

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// maxValueBytes bounds a fact value fix8524 will render or pass on. No AD name, GUID, address
// or DN it works with comes close; anything longer is flagged and never rendered.
const maxValueBytes = 1024

// unsafeRune reports characters that must never reach a rendered command: they end lines,
// hide text or reorder it on screen (termtext.Unsafe, the terminal views' rule).
func unsafeRune(r rune) bool { return termtext.Unsafe(r) }

// unrenderable reports why a value cannot be shown in a command at all ("" when it can).
func unrenderable(s string) string {
	if len(s) > maxValueBytes {
		return fmt.Sprintf("oversized value (%d bytes)", len(s))
	}
	if printableASCII(s) {
		return ""
	}
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		if r == 0 {
			return "contains a NUL byte"
		}
		if unsafeRune(r) {
			return fmt.Sprintf("contains the control or format character U+%04X", r)
		}
	}
	return ""
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isDNSName accepts host and zone names (letters, digits, '-', '_', dots; RFC 1035 lengths).
func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func isDCName(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// valueProblem checks a fact value against what its attribute should hold and returns the
// problem, or "" when it looks sane. Empty values are not problems here (unknown or absent
// facts are handled as such).
func valueProblem(attr, v string) string {
	if v == "" {
		return ""
	}
	if p := unrenderable(v); p != "" {
		return p
	}
	switch attr {
	case "name", "source_name":
		if !isDCName(v) {
			return "not a valid DC name (letters, digits, '-' and '_' only): may hold shell metacharacters"
		}
	case "dns_host_name", "domain", "root_domain", "dns_name":
		if !isDNSName(v) {
			return "not a valid DNS name"
		}
	case "dsa_guid", "own_dsa_guid", "invocation_id", "source_dsa_guid", "destination_guid":
		if !isGUID(v) {
			return "not a GUID"
		}
	case "ips", "dns_servers":
		if !isIP(v) {
			return "not an IP address"
		}
	case "server_dn", "ntds_settings_dn", "computer_dn", "source_dsa_dn", "nc":
		if !looksLikeDN(v) {
			return "not a distinguished name"
		}
	}
	return ""
}

// looksLikeDN: "CN=...,DC=..." (an attribute type, then '='), never an option-like "-x".
func looksLikeDN(s string) bool {
	i := strings.IndexByte(s, '=')
	if i < 1 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || j > 0 && ('0' <= c && c <= '9' || c == '-')) {
			return false
		}
	}
	return true
}

// dcFlags lists the hostile-looking values of a DC (Fact relative to the DC).
func dcFlags(dc *facts.DC) []plan.Flag {
	var out []plan.Flag
	add := func(attr, v string) {
		if p := valueProblem(attr, v); p != "" {
			out = append(out, plan.Flag{Fact: attr, Value: displayValue(v), Problem: p, Raw: v})
		}
	}
	add("name", dc.Name)
	add("dns_host_name", dc.DNSHostName)
	add("domain", dc.Domain)
	add("site", dc.Site)
	add("server_dn", dc.ServerDN)
	add("ntds_settings_dn", dc.NTDSSettingsDN)
	add("computer_dn", dc.ComputerDN)
	add("dsa_guid", dc.DSAGUID)
	add("invocation_id", dc.InvocationID)
	if v, ok := dc.OwnDSAGUID.Get(); ok {
		add("own_dsa_guid", v)
	}
	if v, ok := dc.Platform.Get(); ok {
		add("platform", v)
	}
	if v, ok := dc.OperatingSystem.Get(); ok {
		add("operating_system", v)
	}
	for _, list := range []struct {
		attr string
		m    facts.Maybe[[]string]
	}{{"ips", dc.IPs}, {"dns_servers", dc.DNSServers}} {
		if vs, ok := list.m.Get(); ok {
			for i, v := range vs {
				if p := valueProblem(list.attr, v); p != "" {
					out = append(out, plan.Flag{Fact: fmt.Sprintf("%s[%d]", list.attr, i), Value: displayValue(v), Problem: p, Raw: v})
				}
			}
		}
	}
	return out
}

// linkFlags lists the hostile-looking values of a link (Fact relative to link).
func linkFlags(l *facts.Link) []plan.Flag {
	var out []plan.Flag
	add := func(attr, v string) {
		if p := valueProblem(attr, v); p != "" {
			out = append(out, plan.Flag{Fact: attr, Value: displayValue(v), Problem: p, Raw: v})
		}
	}
	add("source_dsa_guid", l.SourceDSAGUID)
	add("destination_guid", l.DestinationGUID)
	add("source_dsa_dn", l.SourceDSADN)
	add("source_address", l.SourceAddress)
	add("nc", l.NC)
	return out
}

// displayValue renders any value safely for a human: Go-quoted (control characters escaped)
// and cut to 80 bytes.
func displayValue(s string) string {
	const max = 80
	cut := ""
	if len(s) > max {
		n := max
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		cut = fmt.Sprintf("…(%d bytes)", len(s))
		s = s[:n]
	}
	return strconv.Quote(s) + cut
}

// safeText makes text rendered from a playbook template safe to print on one line: control
// characters (newlines included: a fact must not be able to fake a line of a plan) and format
// characters are escaped, and the length is bounded.
func safeText(s string) string {
	if printableASCII(s) && len(s) <= 4*maxValueBytes {
		return s
	}
	if len(s) <= 4*maxValueBytes && unrenderable(s) == "" {
		return s
	}
	if len(s) > 4*maxValueBytes {
		n := 4 * maxValueBytes
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return termtext.Escape(s[:n]) + "…"
	}
	return termtext.Escape(s)
}
