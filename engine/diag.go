package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/fix8524/fix8524/internal/termtext"
)

// WriteDiagnostics renders diagnostics the way terraform does: "Error: summary", the file and
// line with the enclosing block, the source line with the range underlined, then the detail.
// With color, severities are coloured and the range is also highlighted. Every text from a
// file (summary, detail, file name, context, the source line) is escaped for the terminal: a
// playbook or policy cannot send escape sequences or forge lines through its diagnostics.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) error {
	bw := bufio.NewWriter(w)
	for _, d := range diags {
		writeDiagnostic(bw, files, d, color)
	}
	return bw.Flush()
}

func writeDiagnostic(w *bufio.Writer, files map[string]*hcl.File, d *hcl.Diagnostic, color bool) {
	sev, code := "Error", "\x1b[1;31m"
	if d.Severity == hcl.DiagWarning {
		sev, code = "Warning", "\x1b[1;33m"
	}
	esc := termtext.Escape
	if color {
		fmt.Fprintf(w, "%s%s:\x1b[0m \x1b[1m%s\x1b[0m\n\n", code, sev, esc(d.Summary))
	} else {
		fmt.Fprintf(w, "%s: %s\n\n", sev, esc(d.Summary))
	}
	if d.Subject != nil {
		sn := snippetFor(files, d.Subject)
		in := ""
		if sn != nil && sn.Context != "" {
			in = ", in " + esc(sn.Context)
		}
		fmt.Fprintf(w, "  on %s line %d%s:\n", esc(d.Subject.Filename), d.Subject.Start.Line, in)
		if sn != nil {
			prefix := fmt.Sprintf("%4d: ", sn.StartLine)
			code := sn.Code
			hs, he := sn.HighlightStartOffset, sn.HighlightEndOffset
			// escaped piece by piece, so that the underline stays under the range
			before, mid, after := esc(code[:hs]), esc(code[hs:he]), esc(code[he:])
			if color && he > hs {
				fmt.Fprintf(w, "%s%s\x1b[1;4m%s\x1b[0m%s\n", prefix, before, mid, after)
			} else {
				fmt.Fprintf(w, "%s%s%s%s\n", prefix, before, mid, after)
			}
			if he > hs {
				pad := utf8.RuneCountInString(before)
				n := max(1, utf8.RuneCountInString(mid))
				fmt.Fprintf(w, "%s%s%s\n", strings.Repeat(" ", len(prefix)+pad), strings.Repeat("^", n), "")
			}
		} else {
			fmt.Fprintf(w, "  (source code not available)\n")
		}
		fmt.Fprintln(w)
	}
	if d.Detail != "" {
		fmt.Fprintf(w, "%s\n\n", esc(d.Detail))
	}
}

// Snippet is the source excerpt of a diagnostic, shaped like terraform's.
type Snippet struct {
	Context              string `json:"context"` // the enclosing block, e.g. `decision "x"`
	Code                 string `json:"code"`    // the first line of the range
	StartLine            int    `json:"start_line"`
	HighlightStartOffset int    `json:"highlight_start_offset"` // byte offsets into Code
	HighlightEndOffset   int    `json:"highlight_end_offset"`
	Values               []any  `json:"values"`
}

// JSONPos and JSONRange are terraform's source positions.
type JSONPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// JSONRange is a diagnostic's source range.
type JSONRange struct {
	Filename string  `json:"filename"`
	Start    JSONPos `json:"start"`
	End      JSONPos `json:"end"`
}

// JSONDiagnostic is one diagnostic of `validate --json`.
type JSONDiagnostic struct {
	Severity string     `json:"severity"` // "error" | "warning"
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail"`
	Range    *JSONRange `json:"range,omitempty"`
	Snippet  *Snippet   `json:"snippet,omitempty"`
}

// ValidateJSON is the output of `fix8524 validate --json`, shaped like `terraform validate -json`.
type ValidateJSON struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []JSONDiagnostic `json:"diagnostics"`
}

// ValidateResult converts diagnostics for `validate --json`.
func ValidateResult(files map[string]*hcl.File, diags hcl.Diagnostics) ValidateJSON {
	out := ValidateJSON{FormatVersion: "1.0", Diagnostics: []JSONDiagnostic{}}
	for _, d := range diags {
		jd := JSONDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			out.WarningCount++
		} else {
			out.ErrorCount++
		}
		if r := d.Subject; r != nil {
			jd.Range = &JSONRange{
				Filename: r.Filename,
				Start:    JSONPos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
				End:      JSONPos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
			}
			jd.Snippet = snippetFor(files, r)
		}
		out.Diagnostics = append(out.Diagnostics, jd)
	}
	out.Valid = out.ErrorCount == 0
	return out
}

// snippetFor extracts the first source line of a range; nil when the source is unavailable.
func snippetFor(files map[string]*hcl.File, r *hcl.Range) *Snippet {
	f := files[r.Filename]
	if f == nil || f.Bytes == nil || r.Start.Byte > len(f.Bytes) {
		return nil
	}
	src := f.Bytes
	start := bytes.LastIndexByte(src[:r.Start.Byte], '\n') + 1
	end := bytes.IndexByte(src[r.Start.Byte:], '\n')
	if end < 0 {
		end = len(src)
	} else {
		end += r.Start.Byte
	}
	line := strings.TrimRight(string(src[start:end]), "\r")
	hs := r.Start.Byte - start
	he := min(r.End.Byte, end) - start
	if he > len(line) {
		he = len(line)
	}
	if hs > len(line) {
		hs = len(line)
	}
	if he < hs {
		he = hs
	}
	if he == hs && hs < len(line) {
		_, size := utf8.DecodeRuneInString(line[hs:])
		he = hs + size
	}
	return &Snippet{Context: blockContext(f, r.Start.Byte), Code: line, StartLine: r.Start.Line, HighlightStartOffset: hs, HighlightEndOffset: he, Values: []any{}}
}

// blockContext names the innermost top-level block containing a byte offset: `check "x"`.
func blockContext(f *hcl.File, offset int) string {
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return ""
	}
	var names []string
	for {
		var inner *hclsyntax.Block
		for _, b := range body.Blocks {
			if r := b.Range(); r.Start.Byte <= offset && offset < r.End.Byte {
				inner = b
				break
			}
		}
		if inner == nil {
			break
		}
		s := inner.Type
		for _, l := range inner.Labels {
			s += fmt.Sprintf(" %q", l)
		}
		names = append(names, s)
		body = inner.Body
	}
	if len(names) == 0 {
		return ""
	}
	return strings.Join(names, ", ")
}

// SortDiagnostics orders diagnostics by file and position, errors first on equal positions.
func SortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil && b == nil:
			return false
		case a == nil:
			return true
		case b == nil:
			return false
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		case a.Start.Byte != b.Start.Byte:
			return a.Start.Byte < b.Start.Byte
		}
		return diags[i].Severity < diags[j].Severity
	})
}
