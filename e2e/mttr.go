package e2e

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MTTRPrefix starts every MTTR line the suite logs, so that `grep E2E-MTTR` finds them.
const MTTRPrefix = "E2E-MTTR"

// MTTR is one measured repair of a broken lab: how long the breaker took, how long fix8524
// took to diagnose (plan), to repair (approve + apply, or heal), and the mean time to repair
// itself: from the moment the lab was broken to the moment replication into the destination
// reported result 0 again (checked by the suite, not by fix8524). Floor is the same repair
// done by hand (lab.sh heal-by-hand: the fix, one pull), without any detection time.
type MTTR struct {
	Case  string        // the suite's case name
	Path  string        // apply, heal, winrm, manual (a human did the fix fix8524 prescribed)
	Break time.Duration // breaker
	Plan  time.Duration // fix8524 plan --dc (gather + diagnosis); 0 when not separate (heal)
	Fix   time.Duration // approve + apply, or heal (incl. fix8524's own verification)
	Total time.Duration // broken -> replication result 0 (MTTR)
	Floor time.Duration // heal-by-hand of the same break; 0 when not measured
}

var mttrWordRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// String is the parseable log line; a plan or floor that was not measured prints as "-" rather
// than as a misleading 0.0:
//
//	E2E-MTTR case=source-records path=apply break_s=7.7 plan_s=9.1 fix_s=20.4 mttr_s=29.5 floor_s=6.0
//	E2E-MTTR case=windows-heal path=heal break_s=6.7 plan_s=- fix_s=17.0 mttr_s=20.7 floor_s=-
func (m MTTR) String() string {
	return fmt.Sprintf("%s case=%s path=%s break_s=%.1f plan_s=%s fix_s=%.1f mttr_s=%.1f floor_s=%s",
		MTTRPrefix, word(m.Case), word(m.Path), m.Break.Seconds(), optSeconds(m.Plan), m.Fix.Seconds(), m.Total.Seconds(), optSeconds(m.Floor))
}

// optSeconds prints a duration that may not have been measured: "-" for none (or one too short
// to print).
func optSeconds(d time.Duration) string {
	if d < 50*time.Millisecond {
		return "-"
	}
	return fmt.Sprintf("%.1f", d.Seconds())
}

func word(s string) string {
	if mttrWordRE.MatchString(s) {
		return s
	}
	return "invalid"
}

// ParseMTTR reads a line written by MTTR.String (anything before the prefix is ignored, so a
// `go test -v` log line parses too). Durations keep a tenth of a second.
func ParseMTTR(line string) (MTTR, error) {
	i := strings.Index(line, MTTRPrefix+" ")
	if i < 0 {
		return MTTR{}, errors.New("no " + MTTRPrefix + " line")
	}
	var m MTTR
	seen := map[string]bool{}
	for _, f := range strings.Fields(line[i+len(MTTRPrefix):]) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return MTTR{}, fmt.Errorf("MTTR field %q: want key=value", clipField(f))
		}
		if seen[k] {
			return MTTR{}, fmt.Errorf("MTTR field %q twice", clipField(k))
		}
		seen[k] = true
		switch k {
		case "case", "path":
			if !mttrWordRE.MatchString(v) {
				return MTTR{}, fmt.Errorf("MTTR %s %q: bad name", k, clipField(v))
			}
			if k == "case" {
				m.Case = v
			} else {
				m.Path = v
			}
		case "break_s", "plan_s", "fix_s", "mttr_s", "floor_s":
			var d time.Duration // "-": a plan or floor that was not measured
			var err error
			if unmeasured := v == "-" && (k == "plan_s" || k == "floor_s"); !unmeasured {
				d, err = seconds(v)
			}
			if err != nil {
				return MTTR{}, fmt.Errorf("MTTR %s: %w", k, err)
			}
			switch k {
			case "break_s":
				m.Break = d
			case "plan_s":
				m.Plan = d
			case "fix_s":
				m.Fix = d
			case "mttr_s":
				m.Total = d
			default:
				m.Floor = d
			}
		default:
			return MTTR{}, fmt.Errorf("MTTR: unknown field %q", clipField(k))
		}
	}
	for _, k := range []string{"case", "path", "mttr_s"} {
		if !seen[k] {
			return MTTR{}, fmt.Errorf("MTTR line without %s", k)
		}
	}
	return m, nil
}

var secondsRE = regexp.MustCompile(`^[0-9]{1,7}(\.[0-9])?$`)

func seconds(v string) (time.Duration, error) {
	if !secondsRE.MatchString(v) {
		return 0, fmt.Errorf("%q is not a number of seconds with at most one decimal", clipField(v))
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(f*10+0.5) * time.Second / 10, nil
}

func clipField(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
