// Package hclscan checks HCL source with one cheap pass before it is parsed (playbooks,
// -var-files and -var values, inventories, heal policies, profiles, scenario files), and bounds
// the diagnostics a parse may produce.
//
// The HCL parser and the decoders after it recurse once per nesting level: source nested
// 100,000 deep (about 200 KB of "[" or "!") makes the process die with "fatal error: stack
// overflow" after growing its stack past a gigabyte, which no recover can catch. Check refuses
// such source first:
//
//   - a NUL byte, or bytes that are not UTF-8 (not a text file; the parser would report one
//     diagnostic per byte);
//   - brackets ({, [, ( including template ${ and %{) nested deeper than MaxDepth, counted
//     everywhere, strings and comments included: counting more than the parser nests only
//     errs on the safe side, and no playbook comes near;
//   - more than MaxDepth unary operators (! and -) in a row, or conditionals (?) chained in one
//     expression, each of which is a nesting level too.
//
// Cap keeps at most MaxDiagnostics diagnostics and says how many more there were.
package hclscan

import (
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// MaxDepth bounds nesting; the parser's stack stays a few megabytes below it.
const MaxDepth = 256

// MaxDiagnostics bounds the diagnostics kept from one file or load.
const MaxDiagnostics = 50

// Check scans src (of the file filename) and returns one error diagnostic for the first reason
// not to parse it, or nil.
func Check(filename string, src []byte) hcl.Diagnostics {
	line := 1
	depth, unary := 0, 0
	// cond[d] counts the conditionals chained at depth d since the last separator there (a
	// comma, or a newline at the top or in an object or block); open[d] is the bracket
	// opened at depth d.
	var cond [MaxDepth + 1]int
	var open [MaxDepth + 1]byte
	bad := func(summary, detail string) hcl.Diagnostics {
		pos := hcl.Pos{Line: line, Column: 1}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail,
			Subject: &hcl.Range{Filename: filename, Start: pos, End: pos}}}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == 0:
			return bad("Not a text file", fmt.Sprintf("%s contains a NUL byte (line %d): HCL source is UTF-8 text.", filename, line))
		case c >= 0x80:
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n <= 1 {
				return bad("Not a text file", fmt.Sprintf("%s holds bytes that are not UTF-8 (line %d): HCL source is UTF-8 text.", filename, line))
			}
			i += n - 1
			unary = 0
			continue
		}
		switch c {
		case '\n':
			line++
			if depth == 0 || open[depth] == '{' {
				cond[depth] = 0
			}
			unary = 0
			continue
		case ' ', '\t', '\r':
			continue
		case '{', '[', '(':
			depth++
			if depth > MaxDepth {
				return bad("Nested too deeply", fmt.Sprintf("%s nests brackets more than %d deep (line %d); no playbook, inventory or policy needs that.", filename, MaxDepth, line))
			}
			cond[depth], open[depth] = 0, c
		case '}', ']', ')':
			if depth > 0 {
				depth--
			}
		case ',':
			cond[depth] = 0
		case '!', '-':
			unary++
			if unary > MaxDepth {
				return bad("Nested too deeply", fmt.Sprintf("%s has more than %d operators ! or - in a row (line %d).", filename, MaxDepth, line))
			}
			continue
		case '?':
			cond[depth]++
			if cond[depth] > MaxDepth {
				return bad("Nested too deeply", fmt.Sprintf("%s chains more than %d conditionals in one expression (line %d).", filename, MaxDepth, line))
			}
		}
		unary = 0
	}
	return nil
}

// Cap returns at most MaxDiagnostics of diags, errors first kept in order, with one more
// saying how many were left out.
func Cap(diags hcl.Diagnostics) hcl.Diagnostics {
	if len(diags) <= MaxDiagnostics {
		return diags
	}
	out := make(hcl.Diagnostics, 0, MaxDiagnostics+1)
	for _, d := range diags {
		if len(out) == MaxDiagnostics {
			break
		}
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	for _, d := range diags {
		if len(out) == MaxDiagnostics {
			break
		}
		if d.Severity != hcl.DiagError {
			out = append(out, d)
		}
	}
	sev := hcl.DiagWarning
	if diags.HasErrors() {
		sev = hcl.DiagError
	}
	return append(out, &hcl.Diagnostic{Severity: sev, Summary: "Too many diagnostics",
		Detail: fmt.Sprintf("%d more diagnostics were not shown; fix the ones above first.", len(diags)-MaxDiagnostics)})
}
