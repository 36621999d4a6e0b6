package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// Markdown renders the report as Markdown (CommonMark with GitHub's tables and task lists) for
// a change ticket or a pull request: the same content as the HTML page without the drawing.
// Values are in code spans and fenced blocks whose fences are longer than any backtick run
// inside, so no value can end them; prose is backslash-escaped.
func Markdown(in Input) ([]byte, error) {
	m, err := build(in)
	if err != nil {
		return nil, err
	}
	var w mdWriter
	p := m.Plan
	w.line("# " + mdText(m.Title))
	w.blank()
	w.line("**" + mdText(m.Headline) + "**")
	w.blank()
	if m.Coverage.Partial {
		w.line("> **PARTIAL:** " + mdText(m.Coverage.BannerText()) + " See [Coverage](#coverage).")
		w.blank()
	}
	w.line("| | |")
	w.line("| --- | --- |")
	for _, kv := range m.Meta {
		v := mdText(kv.V)
		if kv.Code {
			v = mdCode(kv.V)
		}
		w.row(mdText(kv.K), v)
	}
	w.blank()
	w.line("## Summary")
	w.blank()
	var heads, vals []string
	for _, c := range m.Counts {
		heads = append(heads, mdText(c.Label))
		v := strconv.Itoa(c.N)
		if c.Note != "" {
			v += " (" + mdText(c.Note) + ")"
		}
		vals = append(vals, v)
	}
	w.row(heads...)
	w.line("|" + strings.Repeat(" ---: |", len(heads)))
	w.row(vals...)
	w.blank()
	if len(m.Findings) > 0 {
		w.line("| # | destination ← source | status | diagnosis | actions | manual steps |")
		w.line("| ---: | --- | --- | --- | ---: | ---: |")
		for _, f := range m.Findings {
			dec := "—"
			if f.Decision != nil {
				dec = mdCode(f.Decision.Name)
			}
			w.row(strconv.Itoa(f.N), mdCode(f.ID), mdText(f.StatusText), dec, strconv.Itoa(len(f.Actions)), strconv.Itoa(len(f.Manual)))
		}
		w.blank()
	}
	mdCoverage(&w, m.Coverage)
	for _, f := range m.Findings {
		mdFinding(&w, &f)
	}
	if len(m.Warnings) > 0 {
		w.line("## Warnings")
		w.blank()
		w.line("These partnerships replicate now and will fail once something they depend on goes away. Nothing is proposed for them.")
		w.blank()
		for _, wv := range m.Warnings {
			w.line("### " + mdCode(wv.ID) + ": " + mdCode(wv.Name))
			w.blank()
			w.line(mdText(wv.Message))
			w.blank()
			if wv.See != "" {
				w.line("Article section: “" + mdText(wv.See) + "”")
				w.blank()
			}
			mdManual(&w, wv.Manual)
			mdFlags(&w, wv.Flags)
		}
	}
	if len(m.Unmatched) > 0 {
		w.line("## Failing links this playbook does not handle")
		w.blank()
		w.line("They fail with other errors: a person must look (`repadmin /showrepl`, `samba-tool drs showrepl`).")
		w.blank()
		w.line("| destination | source | result | links | naming contexts |")
		w.line("| --- | --- | ---: | ---: | --- |")
		for _, u := range m.Unmatched {
			w.row(mdCode(u.Destination), mdCode(u.Source), strconv.Itoa(u.Result), strconv.Itoa(u.Count), mdCode(u.NCs))
		}
		w.blank()
	}
	if j := m.Journal; j != nil {
		w.line("## What the journal recorded for this plan")
		w.blank()
		if j.Total == 0 {
			w.line("From " + mdText(j.Source) + ": nothing recorded for this plan yet (it has not been applied).")
			w.blank()
		} else {
			s := fmt.Sprintf("From %s: %d entries with this plan's fingerprint", mdText(j.Source), j.Total)
			if len(j.Rows) < j.Total {
				s += fmt.Sprintf(", the first %d shown", len(j.Rows))
			}
			w.line(s + ".")
			w.blank()
			w.line("| time (UTC) | who | kind | name | target | outcome | detail |")
			w.line("| --- | --- | --- | --- | --- | --- | --- |")
			for _, e := range j.Rows {
				detail := e.Reason
				if e.Error != "" {
					detail += " " + e.Error
				}
				if e.Verification != "" {
					detail += " " + e.Verification
				}
				w.row(e.Time.UTC().Format("2006-01-02 15:04:05"), mdText(e.Actor), mdText(string(e.Kind)), mdCode(e.Name), mdCode(e.Target), mdText(string(e.Outcome)), mdText(detail))
			}
			w.blank()
		}
	}
	w.line("---")
	w.blank()
	foot := "Made by `fix8524 report`"
	if m.PlanFile != "" {
		foot += " from " + mdCode(m.PlanFile)
	}
	w.line(foot + "; plan fingerprint " + mdCode(p.Fingerprint) + ".")
	return []byte(w.b.String()), nil
}

// mdCoverage says how much of the forest was read, every DC not read and why, and the
// gathering problems folded by message.
func mdCoverage(w *mdWriter, c coverageView) {
	w.line("## Coverage")
	w.blank()
	w.line(mdText(c.Text()))
	w.blank()
	if len(c.NotRead) > 0 {
		w.line("| DC not read | why |")
		w.line("| --- | --- |")
		for _, d := range c.NotRead {
			w.row(mdCode(d.Name), mdText(d.Reason))
		}
		w.blank()
	}
	if len(c.Problems) == 0 {
		return
	}
	w.line(fmt.Sprintf("Gathering problems (%d):", c.ProblemCount))
	w.blank()
	w.line("| problem | times | where |")
	w.line("| --- | ---: | --- |")
	for _, g := range c.Problems {
		var where []string
		for _, sc := range g.Scopes {
			where = append(where, mdCode(sc))
		}
		if g.More > 0 {
			where = append(where, fmt.Sprintf("and %d more", g.More))
		}
		w.row(mdText(g.Message), strconv.Itoa(g.N), strings.Join(where, " "))
	}
	w.blank()
	if c.MoreGroups > 0 {
		w.line(fmt.Sprintf("%d more kinds of problem are not shown here: `fix8524 show` lists every one.", c.MoreGroups))
		w.blank()
	}
}

func mdFinding(w *mdWriter, f *findingView) {
	w.line(fmt.Sprintf("## %d. %s", f.N, mdCode(f.ID)))
	w.blank()
	if d := f.Decision; d != nil {
		w.line("**Diagnosis:** " + mdCode(d.Name) + " (" + mdText(f.StatusText) + ")")
		w.blank()
		w.line("**Cause:** " + mdText(d.Cause))
		w.blank()
		w.line("**Article section:** “" + mdText(d.See) + "”")
		w.blank()
	} else {
		s := "**Diagnosis incomplete**"
		if f.Incomplete != "" {
			s += ": " + mdText(f.Incomplete)
		}
		w.line(s)
		w.blank()
	}
	if len(f.Assumptions) > 0 {
		w.line("**Assumed:** this diagnosis rests on settings that were not read; heal will not act on it unattended.")
		w.blank()
		for _, a := range f.Assumptions {
			w.line("- " + mdText(a))
		}
		w.blank()
	}
	src := "an unknown DSA"
	if f.Link.Source != "" {
		src = mdCode(f.Link.Source)
	}
	s := fmt.Sprintf("Destination %s replicates from %s (source DSA %s): result %s, up to %d consecutive failures",
		mdCode(f.Link.Destination), src, mdCode(f.Link.SourceDSAGUID), mdText(f.Results), f.MaxFailures)
	if f.LastSuccess != "" {
		s += ", last success " + mdText(f.LastSuccess)
	}
	w.line(s + ".")
	w.blank()
	w.line("| naming context | last result | consecutive failures | last success |")
	w.line("| --- | ---: | ---: | --- |")
	for _, nc := range f.Link.NCs {
		last := "never"
		if !nc.LastSuccess.IsZero() {
			last = nc.LastSuccess.UTC().Format("2006-01-02 15:04:05Z")
		}
		w.row(mdCode(nc.NC), strconv.Itoa(nc.LastResult), strconv.Itoa(nc.ConsecutiveFailures), last)
	}
	w.blank()
	if len(f.Evidence) > 0 {
		w.line("### Evidence")
		w.blank()
		w.line("| check | status | summary |")
		w.line("| --- | --- | --- |")
		for _, ev := range f.Evidence {
			w.row(mdCode(ev.Name), mdText(ev.StatusText), mdText(ev.Summary))
		}
		w.blank()
		for _, ev := range f.Evidence {
			if len(ev.Observations) == 0 {
				continue
			}
			w.line("Check " + mdCode(ev.Name) + ", per DNS server or target:")
			w.blank()
			w.line("| DNS server / target | query | status | rcode / result | answers |")
			w.line("| --- | --- | --- | --- | --- |")
			for _, o := range ev.Observations {
				_, st := statusTone(o.Status)
				res := mdCode(o.Rcode + o.Result)
				if o.Rcode == "" && o.Result == "" {
					res = ""
				}
				if o.AA {
					res += " authoritative"
				}
				if o.Error != "" {
					res += " error: " + mdText(o.Error)
				}
				if o.Note != "" {
					res += " " + mdText(o.Note)
				}
				var ans []string
				for _, a := range o.Answers {
					ans = append(ans, mdCode(a))
				}
				for _, a := range o.Authority {
					ans = append(ans, "authority "+mdCode(a))
				}
				w.row(mdCode(o.Target), mdCode(o.Query), mdText(st), strings.TrimSpace(res), strings.Join(ans, "<br>"))
			}
			w.blank()
		}
	}
	if len(f.Needs) > 0 {
		w.line("### To gather before the diagnosis can go on")
		w.blank()
		for _, n := range f.Needs {
			w.line("- " + mdText(n))
		}
		w.blank()
	}
	if len(f.Actions) > 0 {
		w.line("### Actions")
		w.blank()
		for _, a := range f.Actions {
			s := fmt.Sprintf("- [ ] **%s risk**: %s — %s %s", mdText(string(a.Risk)), mdText(a.Title), mdCode(a.Name), mdText(a.Where))
			if a.RequiresApprovalEach {
				s += ", needs its own approval"
			}
			if a.Blocked {
				s += ", **blocked**"
			}
			w.line(s)
			if a.Command != "" {
				w.fence("  ", a.Lang, a.Command)
			}
			if len(a.Verify) > 0 {
				var vs []string
				for _, v := range a.Verify {
					vs = append(vs, mdCode(v))
				}
				t := "  Verified by re-running " + strings.Join(vs, ", ")
				if a.VerifyTimeout != "" {
					t += " (up to " + mdText(a.VerifyTimeout) + ")"
				}
				w.line(t + ".")
			}
			for _, g := range a.Guards {
				_, st := statusTone(g.Status)
				t := "  - guard " + mdCode(g.Name) + ": " + mdText(st)
				if g.Status != plan.StatusOK && g.Message != "" {
					t += ": " + mdText(g.Message)
				}
				w.line(t)
			}
			for _, r := range a.Reasons {
				w.line("  - **blocked:** " + mdText(r))
			}
		}
		w.blank()
	}
	if len(f.Manual) > 0 {
		mdManual(w, f.Manual)
	}
	mdFlags(w, f.Flags)
	if len(f.Errors) > 0 {
		w.line("### Playbook errors")
		w.blank()
		for _, e := range f.Errors {
			w.line("- " + mdText(e))
		}
		w.blank()
	}
	w.line("Finding fingerprint " + mdCode(f.Fingerprint) + ".")
	w.blank()
}

func mdManual(w *mdWriter, steps []manualView) {
	if len(steps) == 0 {
		return
	}
	w.line("### Manual steps")
	w.blank()
	for i, m := range steps {
		where := m.Where
		if m.Shell != "" {
			where = m.Shell + ", " + where
		}
		w.line(fmt.Sprintf("%d. **%s** (%s)", i+1, mdText(m.Title), mdText(where)))
		if m.Text != "" {
			w.blank()
			w.line("   " + mdText(m.Text))
		}
		if len(m.Commands) > 0 {
			w.blank()
			w.fence("   ", m.Lang, strings.Join(m.Commands, "\n"))
		}
		if m.Flagged {
			w.blank()
			w.line("   **Read these commands before running them: a value in them is flagged.**")
		}
		w.blank()
	}
}

func mdFlags(w *mdWriter, flags []plan.Flag) {
	if len(flags) == 0 {
		return
	}
	w.line("### Flagged values")
	w.blank()
	w.line("| fact | value | problem |")
	w.line("| --- | --- | --- |")
	for _, fl := range flags {
		w.row(mdCode(fl.Fact), mdCode(fl.Value), mdText(fl.Problem))
	}
	w.blank()
}

// mdWriter builds the document line by line.
type mdWriter struct{ b strings.Builder }

func (w *mdWriter) line(s string) {
	w.b.WriteString(s)
	w.b.WriteByte('\n')
}

// blank writes an empty line, never two in a row.
func (w *mdWriter) blank() {
	s := w.b.String()
	if strings.HasSuffix(s, "\n\n") || s == "" {
		return
	}
	w.b.WriteByte('\n')
}

// row writes a table row; a pipe inside a cell is escaped (GitHub reads \| inside code spans
// of a table cell as a pipe, too).
func (w *mdWriter) row(cells ...string) {
	w.b.WriteString("|")
	for _, c := range cells {
		w.b.WriteString(" ")
		w.b.WriteString(strings.ReplaceAll(c, "|", `\|`))
		w.b.WriteString(" |")
	}
	w.b.WriteByte('\n')
}

// fence writes body as a fenced code block indented by indent: the fence is one backtick
// longer than the longest run of backticks in body (at least three), so that nothing in body
// closes it.
func (w *mdWriter) fence(indent, lang, body string) {
	n := max(3, longestRun(body, '`')+1)
	f := strings.Repeat("`", n)
	w.line(indent + f + lang)
	for _, l := range strings.Split(termtext.Text(body), "\n") {
		w.line(indent + l)
	}
	w.line(indent + f)
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// mdCode is s as an inline code span on one line, its delimiters longer than any backtick run
// inside. An empty s is an empty string.
func mdCode(s string) string {
	s = termtext.Escape(s)
	if s == "" {
		return ""
	}
	d := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ")) {
		return d + " " + s + " " + d
	}
	return d + s + d
}

// mdText is s as Markdown text on one line: the characters that Markdown, GitHub's
// extensions or inline HTML read anywhere in a line are backslash-escaped, and so is what would
// start a heading, a list or a quote at the start of s.
func mdText(s string) string {
	s = termtext.Escape(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte("\\`*_[]<>|~&$", c) >= 0:
			b.WriteByte('\\')
		case i == 0 && strings.IndexByte("#-+=", c) >= 0:
			b.WriteByte('\\')
		case digits == i && i > 0 && (c == '.' || c == ')'):
			b.WriteByte('\\')
		}
		if c >= '0' && c <= '9' && digits == i {
			digits++
		}
		b.WriteByte(c)
	}
	return b.String()
}
