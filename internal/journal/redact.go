package journal

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Redacted replaces every secret the journal removes from text.
const Redacted = "[REDACTED]"

// RegisterSecret makes the store replace s, wherever it appears in any text it records, with
// [REDACTED] — also s as URL-, JSON-, base64- and PowerShell-single-quote-encoded. Secrets are
// held in memory only. Empty strings are ignored.
func (s *Store) RegisterSecret(secret string) {
	if secret == "" {
		return
	}
	forms := []string{
		secret,
		url.QueryEscape(secret),
		url.PathEscape(secret),
		strings.ReplaceAll(secret, "'", "''"),
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.RawStdEncoding.EncodeToString([]byte(secret)),
	}
	if j, err := json.Marshal(secret); err == nil {
		forms = append(forms, string(j[1:len(j)-1]))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range forms {
		if f == "" || containsString(s.secrets, f) {
			continue
		}
		s.secrets = append(s.secrets, f)
	}
	sort.SliceStable(s.secrets, func(i, j int) bool { return len(s.secrets[i]) > len(s.secrets[j]) })
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type redactor struct {
	re   *regexp.Regexp
	repl string
}

// The patterns redact the value, keep the key, so the record still says what was passed.
var redactors = []redactor{
	// HTTP/WinRM authorization headers: the rest of the line.
	{regexp.MustCompile(`(?i)\b((?:proxy-)?authorization\s*[:=]\s*)[^\r\n]+`), "${1}" + Redacted},
	// Authentication scheme followed by a token.
	{regexp.MustCompile(`(?i)\b(basic|bearer|negotiate|ntlm|kerberos|digest)\s+[A-Za-z0-9+/=._~-]{8,}`), "${1} " + Redacted},
	// URL user information: scheme://user:password@host.
	{regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@`), "${1}" + Redacted + "@"},
	// PowerShell: ConvertTo-SecureString 'x' -AsPlainText.
	{regexp.MustCompile(`(?i)(convertto-securestring\s+(?:-string\s+)?)("[^"]*"|'(?:[^']|'')*'|\S+)`), "${1}" + Redacted},
	// Command-line switches naming a secret: -Password x, --password x, -AccountPassword (…), -Credential:x.
	{regexp.MustCompile(`(?i)((?:^|[\s(])--?[a-z]*(?:password|passwd|passphrase|secret|token|credential|pwd)[a-z]*(?:\s*:\s*|\s+))("[^"]*"|'(?:[^']|'')*'|\([^)]*\)|[^\s)]+)`), "${1}" + Redacted},
	// key=value and key: value, also JSON "password": "x".
	{regexp.MustCompile(`(?i)(\b[a-z_]*(?:password|passwd|passphrase|secret|token|api[_-]?key|pwd)"?\s*[=:]\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s;&,'"]+)`), "${1}" + Redacted},
	// Samba/smbclient user%password: -U user%pw, --user=user%pw, -Uuser%pw.
	{regexp.MustCompile(`(?i)((?:(?:^|\s)-U\s*|--user(?:name)?[=\s]\s*)[^\s%]+%)("[^"]*"|'[^']*'|\S+)`), "${1}" + Redacted},
	// Windows /switch:value forms: netdom /PasswordD:x, /p:x.
	{regexp.MustCompile(`(?i)((?:^|\s)/(?:password[a-z]*|pass|p[do]?)\s*:)("[^"]*"|\S+)`), "${1}" + Redacted},
}

// Redact returns text with registered secrets and secret-looking values replaced by
// [REDACTED]. It is applied to every text field the store records.
func (s *Store) Redact(text string) string {
	if text == "" {
		return text
	}
	s.mu.Lock()
	secrets := s.secrets
	s.mu.Unlock()
	for _, sec := range secrets {
		// Repeat: a replacement can complete a new occurrence ("]a" in "]]aa"). A secret that
		// is part of the marker itself would never converge; one pass suffices for it.
		for i := 0; i < 8 && strings.Contains(text, sec); i++ {
			text = strings.ReplaceAll(text, sec, Redacted)
			if strings.Contains(Redacted, sec) {
				break
			}
		}
	}
	return RedactPatterns(text)
}

// RedactPatterns applies only the pattern rules (no registered secrets).
func RedactPatterns(text string) string {
	for _, r := range redactors {
		text = r.re.ReplaceAllString(text, r.repl)
	}
	return text
}
