package report

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/fix8524/fix8524/plan"
)

var (
	//go:embed assets/report.html.tmpl
	pageTemplate string
	//go:embed assets/report.css
	pageCSS string
	//go:embed assets/report.js
	pageJS string
)

// CSP is the page's Content-Security-Policy: nothing is fetched, nothing is sent, and only the
// page's own style and script run, admitted by their SHA-256.
var CSP = "default-src 'none'; style-src " + hashSource(pageCSS) + "; script-src " + hashSource(pageJS) +
	"; img-src 'none'; font-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'"

func hashSource(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"add": func(a, b float64) float64 { return a + b },
	"half": func(f float64) float64 {
		return f / 2
	},
	"lines":  func(s string) []string { return strings.Split(s, "\n") },
	"status": func(s plan.Status) string { _, t := statusTone(s); return t },
	"tone":   func(s plan.Status) string { t, _ := statusTone(s); return t },
	"short":  func(s string) string { return clip(s, 240) },
}).Parse(pageTemplate))

// htmlData is what the template sees.
type htmlData struct {
	*model
	CSP     string
	CSS     template.CSS
	JS      template.JS
	Drawing *drawing
}

// HTML renders the report as one self-contained HTML page.
func HTML(in Input) ([]byte, error) {
	m, err := build(in)
	if err != nil {
		return nil, err
	}
	d := htmlData{model: m, CSP: CSP, CSS: template.CSS(pageCSS), JS: template.JS(pageJS), Drawing: draw(m)}
	var b bytes.Buffer
	b.Grow(64 << 10)
	if err := page.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return b.Bytes(), nil
}

// jsonText is v as indented JSON (map keys sorted), for parameters shown as data.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "(not representable: " + err.Error() + ")"
	}
	return strings.TrimRight(b.String(), "\n")
}

// Formats.
const (
	FormatHTML     = "html"
	FormatMarkdown = "markdown"
)

// FormatOf is the format a report file's name asks for: Markdown for .md and .markdown, HTML
// otherwise.
func FormatOf(path string) string {
	p := strings.ToLower(path)
	if strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".markdown") {
		return FormatMarkdown
	}
	return FormatHTML
}

// Render renders in in format (FormatHTML or FormatMarkdown).
func Render(format string, in Input) ([]byte, error) {
	switch format {
	case FormatHTML:
		return HTML(in)
	case FormatMarkdown, "md":
		return Markdown(in)
	}
	return nil, fmt.Errorf("report: unknown format %q (want html or markdown)", format)
}
