package remote

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxCommandLine is the longest command line cmd.exe accepts (WinRM runs commands through
// cmd.exe; Windows OpenSSH's default shell is cmd.exe too).
const MaxCommandLine = 8191

// MarkerPrefix starts the first line of every script fix8524 sends: "# fix8524:<Command.Name>".
// A server-side handler (lab/winrm) identifies the command by it.
const MarkerPrefix = "# fix8524:"

// The bootstrap is fixed text; only the base64 of the parameter JSON and the script body vary.
// The parameters are data: base64 has no character PowerShell would interpret inside '...'.
const (
	bootstrapPrologue = "try{[Console]::OutputEncoding=New-Object Text.UTF8Encoding $false}catch{}\n" +
		"$ErrorActionPreference='Stop';$ProgressPreference='SilentlyContinue'\n"
	paramsPrefix = "$P=[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('"
	paramsSuffix = "'))|ConvertFrom-Json\n"
)

// PowerShellScript returns the complete script that fix8524 runs for c: the marker line, a
// fixed prologue ($ErrorActionPreference='Stop', UTF-8 output without BOM), $P decoded from
// base64 JSON (an object with one string property per parameter), then c.PowerShell unchanged.
//
// The exit code is the script's "exit N", 1 after an uncaught error, else 0: a script that runs
// a native program (nltest, repadmin) should end with "exit $LASTEXITCODE". Results should be
// one JSON document on stdout (ConvertTo-Json -Compress), which Result.JSON decodes.
func PowerShellScript(c Command) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	if c.PowerShell == "" {
		return "", fmt.Errorf("command %s is not a PowerShell command", c.Name)
	}
	params := c.Params
	if params == nil {
		params = map[string]string{}
	}
	js, err := json.Marshal(params) // map keys are sorted: the encoding is deterministic
	if err != nil {
		return "", fmt.Errorf("encode parameters of %s: %w", c.Name, err)
	}
	var b strings.Builder
	b.WriteString(MarkerPrefix + c.Name + "\n")
	b.WriteString(bootstrapPrologue)
	b.WriteString(paramsPrefix + base64.StdEncoding.EncodeToString(js) + paramsSuffix)
	b.WriteString(c.PowerShell)
	return b.String(), nil
}

// EncodePowerShell returns base64(UTF-16LE(script)), the argument of -EncodedCommand.
func EncodePowerShell(script string) string {
	u := utf16.Encode([]rune(script))
	buf := make([]byte, 2*len(u))
	for i, v := range u {
		binary.LittleEndian.PutUint16(buf[2*i:], v)
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// PowerShellCommandLine returns the command line that runs c on Windows:
//
//	powershell.exe -NoLogo -NoProfile -NonInteractive -EncodedCommand <base64>
//
// It fails when the line would exceed MaxCommandLine: keep scripts small (about 3 KB of script
// and parameters at most: UTF-16 plus base64 multiplies the size by 8/3).
func PowerShellCommandLine(c Command) (string, error) {
	script, err := PowerShellScript(c)
	if err != nil {
		return "", err
	}
	line := "powershell.exe -NoLogo -NoProfile -NonInteractive -EncodedCommand " + EncodePowerShell(script)
	if len(line) > MaxCommandLine {
		return "", fmt.Errorf("command %s: encoded PowerShell command line is %d characters, over the cmd.exe limit of %d: shorten the script or its parameters", c.Name, len(line), MaxCommandLine)
	}
	return line, nil
}

// PowerShellInvocation is a decoded "powershell.exe ... -EncodedCommand <b64>" command line, as a
// WS-Management server sees it.
type PowerShellInvocation struct {
	Script string            // the whole decoded script
	Name   string            // from the "# fix8524:<name>" marker; "" when there is none
	Params map[string]string // decoded $P; nil when the script has no fix8524 bootstrap
	Body   string            // the script after the bootstrap (Command.PowerShell); Script when there is none
}

// ErrNotPowerShell is returned by ParsePowerShellCommandLine for a command line that does not
// run powershell.exe/pwsh with -EncodedCommand.
var ErrNotPowerShell = errors.New("not a powershell -EncodedCommand command line")

// ParsePowerShellCommandLine decodes a command line built by PowerShellCommandLine (or any
// "powershell[.exe]|pwsh[.exe] ... -EncodedCommand|-enc|-e|-ec <base64>" line, such as pywinrm's
// run_ps). It never panics on hostile input.
func ParsePowerShellCommandLine(line string) (*PowerShellInvocation, error) {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return nil, ErrNotPowerShell
	}
	exe := strings.ToLower(strings.Trim(fields[0], `"`))
	exe = path.Base(strings.ReplaceAll(exe, `\`, "/"))
	switch exe {
	case "powershell", "powershell.exe", "pwsh", "pwsh.exe":
	default:
		return nil, ErrNotPowerShell
	}
	var enc string
	for i := 1; i < len(fields)-1; i++ {
		f := strings.ToLower(fields[i])
		if len(f) < 2 || (f[0] != '-' && f[0] != '/') {
			continue
		}
		// PowerShell accepts any unambiguous prefix of -EncodedCommand from -e, plus -ec.
		if f[1:] == "ec" || strings.HasPrefix("encodedcommand", f[1:]) {
			enc = fields[i+1]
			break
		}
	}
	if enc == "" {
		return nil, ErrNotPowerShell
	}
	script, err := DecodePowerShell(enc)
	if err != nil {
		return nil, err
	}
	return ParsePowerShellScript(script)
}

// DecodePowerShell reverses EncodePowerShell.
func DecodePowerShell(enc string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", fmt.Errorf("decode -EncodedCommand: %w", err)
	}
	if len(raw)%2 != 0 {
		return "", fmt.Errorf("decode -EncodedCommand: %d bytes is not UTF-16", len(raw))
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// ParsePowerShellScript splits a script into marker, parameters and body.
func ParsePowerShellScript(script string) (*PowerShellInvocation, error) {
	inv := &PowerShellInvocation{Script: script, Body: script}
	rest, ok := strings.CutPrefix(script, MarkerPrefix)
	if !ok {
		return inv, nil
	}
	name, rest, ok := strings.Cut(rest, "\n")
	if !ok || !validName(name) {
		return nil, fmt.Errorf("malformed fix8524 marker line %s", Excerpt([]byte(MarkerPrefix+name), 80))
	}
	inv.Name = name
	rest, ok = strings.CutPrefix(rest, bootstrapPrologue)
	if !ok {
		return nil, fmt.Errorf("script %s: fix8524 bootstrap prologue missing", name)
	}
	rest, ok = strings.CutPrefix(rest, paramsPrefix)
	if !ok {
		return nil, fmt.Errorf("script %s: $P line missing", name)
	}
	b64, body, ok := strings.Cut(rest, paramsSuffix)
	if !ok {
		return nil, fmt.Errorf("script %s: $P line malformed", name)
	}
	js, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("script %s: decode $P: %w", name, err)
	}
	params := map[string]string{}
	if err := json.Unmarshal(js, &params); err != nil {
		return nil, fmt.Errorf("script %s: decode $P JSON: %w", name, err)
	}
	inv.Params = params
	inv.Body = body
	return inv, nil
}

// ParamNames returns the sorted parameter names of an invocation.
func (p *PowerShellInvocation) ParamNames() []string {
	keys := make([]string, 0, len(p.Params))
	for k := range p.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DecodeCLIXML turns PowerShell's serialized error stream ("#< CLIXML" followed by <Objs>) into
// plain text: the <S S="Error"> (and Warning) strings with _xHHHH_ escapes decoded, one
// message per line; progress records are dropped. Lines outside the CLIXML block are kept.
// It returns the input unchanged and false when there is no CLIXML in b.
func DecodeCLIXML(b []byte) (string, bool) {
	const head = "#< CLIXML"
	idx := bytes.Index(b, []byte(head))
	if idx < 0 {
		return string(b), false
	}
	var out []string
	if pre := strings.TrimSpace(string(b[:idx])); pre != "" {
		out = append(out, pre)
	}
	dec := xml.NewDecoder(bytes.NewReader(b[idx+len(head):]))
	dec.Strict = false
	var cur *strings.Builder
	var msg strings.Builder
	flush := func() {
		if s := strings.TrimRight(msg.String(), "\r\n "); s != "" {
			out = append(out, s)
		}
		msg.Reset()
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "S" {
				for _, a := range t.Attr {
					if a.Name.Local == "S" && (strings.EqualFold(a.Value, "Error") || strings.EqualFold(a.Value, "Warning")) {
						cur = &msg
					}
				}
			}
		case xml.CharData:
			if cur != nil {
				cur.WriteString(decodeXMLEscapes(string(t)))
			}
		case xml.EndElement:
			if t.Name.Local == "S" && cur != nil {
				cur = nil
				// Write-Error splits a message over several <S> elements; each ends with _x000D__x000A_.
				if strings.HasSuffix(msg.String(), "\n") {
					flush()
				}
			}
		}
	}
	flush()
	return strings.Join(out, "\n"), true
}

// decodeXMLEscapes decodes PowerShell's _xHHHH_ escapes (UTF-16 code units, as in
// XmlConvert.DecodeName) in serialized strings.
func decodeXMLEscapes(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var units []uint16
	var b strings.Builder
	flushUnits := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if v, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				units = append(units, uint16(v))
				i += 7
				continue
			}
		}
		flushUnits()
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteByte(s[i])
		} else {
			b.WriteRune(r)
		}
		i += size
	}
	flushUnits()
	return b.String()
}
