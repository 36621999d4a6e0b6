package window

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zone names must resolve on hosts without a tz database (Windows)

	"github.com/robfig/cron/v3"
)

// MaxDuration is the longest a window may stay open after each opening.
const MaxDuration = 31 * 24 * time.Hour

// horizonDays bounds the forward search for the next opening: long enough for a 29 February
// window across a non-leap century year (2096 -> 2104).
const horizonDays = 8*366 + 2

// Window is one change window. Build it with New or Parse to get validation errors; a literal
// Window is compiled on first use and never admits anything if it is invalid.
type Window struct {
	Name     string        // label shown in decisions and the journal
	Cron     string        // when it opens: 5-field cron or a descriptor such as @daily
	Duration time.Duration // how long it stays open after each opening (elapsed time)
	TimeZone string        // IANA zone the cron is read in; "" means UTC

	c *compiled
}

type compiled struct {
	minute, hour, dom, month, dow uint64
	loc                           *time.Location
}

// starBit marks a day field given as "*" or "?" in robfig/cron's bit sets.
const starBit = 1 << 63

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// New validates a window and returns it ready to evaluate.
func New(name, cronSpec string, d time.Duration, timeZone string) (Window, error) {
	w := Window{Name: name, Cron: cronSpec, Duration: d, TimeZone: timeZone}
	c, err := w.compile()
	if err != nil {
		return Window{}, err
	}
	w.c = c
	return w, nil
}

// Parse is New with the duration given as text, as written in a playbook: a Go duration
// ("6h", "90m", "1h30m") or whole days with an optional Go-duration remainder ("2d", "1d12h").
func Parse(name, cronSpec, duration, timeZone string) (Window, error) {
	d, err := ParseDuration(duration)
	if err != nil {
		return Window{}, fmt.Errorf("window %q: %w", name, err)
	}
	return New(name, cronSpec, d, timeZone)
}

// ParseDuration parses a window duration: a Go duration, or "<N>d" followed by an optional Go
// duration. The result is not range-checked; New does that.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("duration: empty")
	}
	var days int64
	if i := strings.IndexByte(t, 'd'); i >= 0 {
		n, err := strconv.ParseInt(t[:i], 10, 32)
		if err != nil || n < 0 || t[:i] == "" || t[0] == '+' {
			return 0, fmt.Errorf("duration %q: want whole days before \"d\", like 2d or 1d12h", s)
		}
		if n > 366 {
			return 0, fmt.Errorf("duration %q: too long", s)
		}
		days = n
		t = t[i+1:]
		if t == "" {
			return time.Duration(days) * 24 * time.Hour, nil
		}
		if t[0] == '-' || t[0] == '+' {
			return 0, fmt.Errorf("duration %q: no sign allowed after the days", s)
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	if days > 0 && d < 0 {
		return 0, fmt.Errorf("duration %q: negative", s)
	}
	return time.Duration(days)*24*time.Hour + d, nil
}

func (w Window) compile() (c *compiled, err error) {
	label := w.Name
	if strings.TrimSpace(label) == "" {
		return nil, errors.New("window: a name is required")
	}
	if w.Duration <= 0 {
		return nil, fmt.Errorf("window %q: duration must be positive, got %s", label, w.Duration)
	}
	if w.Duration > MaxDuration {
		return nil, fmt.Errorf("window %q: duration %s is longer than the maximum %s", label, w.Duration, MaxDuration)
	}
	loc, err := loadZone(w.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("window %q: %w", label, err)
	}
	spec := strings.TrimSpace(w.Cron)
	switch {
	case spec == "":
		return nil, fmt.Errorf("window %q: cron is empty", label)
	case strings.Contains(spec, "="):
		return nil, fmt.Errorf("window %q: cron %q: TZ=/CRON_TZ= prefixes are not allowed; use time_zone", label, w.Cron)
	case strings.HasPrefix(spec, "@every"):
		return nil, fmt.Errorf("window %q: cron %q: @every is not anchored to the clock; use a cron expression", label, w.Cron)
	}
	if !strings.HasPrefix(spec, "@") && len(strings.Fields(spec)) != 5 {
		return nil, fmt.Errorf("window %q: cron %q: want 5 fields (minute hour day-of-month month day-of-week) or a descriptor like @daily", label, w.Cron)
	}
	sched, err := parseCron(spec)
	if err != nil {
		return nil, fmt.Errorf("window %q: cron %q: %w", label, w.Cron, err)
	}
	ss, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("window %q: cron %q: not a calendar schedule", label, w.Cron)
	}
	c = &compiled{minute: ss.Minute, hour: ss.Hour, dom: ss.Dom, month: ss.Month, dow: ss.Dow, loc: loc}
	if c.minute&^starBit == 0 || c.hour&^starBit == 0 || c.month&^starBit == 0 {
		return nil, fmt.Errorf("window %q: cron %q never occurs", label, w.Cron)
	}
	// A spec such as "0 0 30 2 *" parses but never occurs: refuse it instead of never opening.
	if c.next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("window %q: cron %q never occurs", label, w.Cron)
	}
	return c, nil
}

// parseCron shields callers from panics inside the cron parser on hostile input.
func parseCron(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("invalid cron expression")
		}
	}()
	return parser.Parse(spec)
}

func loadZone(name string) (*time.Location, error) {
	switch name {
	case "", "UTC":
		return time.UTC, nil
	}
	if strings.ContainsAny(name, "\x00\\") || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("time zone %q: not an IANA zone name", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: unknown (want an IANA name such as Europe/Berlin)", name)
	}
	return loc, nil
}

func (w Window) get() *compiled {
	if w.c != nil {
		return w.c
	}
	c, err := w.compile()
	if err != nil {
		return nil
	}
	return c
}

// Validate reports why a window is invalid, or nil.
func (w Window) Validate() error {
	_, err := w.compile()
	return err
}

// Occurrence returns the occurrence of w that contains now, if any: start <= now < end.
// When occurrences overlap it is the one that closes last.
func (w Window) Occurrence(now time.Time) (start, end time.Time, ok bool) {
	c := w.get()
	if c == nil {
		return time.Time{}, time.Time{}, false
	}
	s := c.prev(now, w.Duration)
	if s.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	e := s.Add(w.Duration)
	if !now.Before(e) {
		return time.Time{}, time.Time{}, false
	}
	return s, e, true
}

// Next returns the first opening of w strictly after t, or the zero time if it never opens
// within the search horizon (about eight years) or w is invalid.
func (w Window) Next(t time.Time) time.Time {
	c := w.get()
	if c == nil {
		return time.Time{}
	}
	return c.next(t)
}

// Active reports whether now falls inside an occurrence of w. If it does, the time is when that
// occurrence closes; if not, the time is the next opening (zero if none). An invalid window is
// never active and returns the zero time.
func (w Window) Active(now time.Time) (bool, time.Time) {
	if _, end, ok := w.Occurrence(now); ok {
		return true, end
	}
	return false, w.Next(now)
}

// String renders the window as its playbook fields.
func (w Window) String() string {
	tz := w.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	return fmt.Sprintf("%s (cron %q for %s, %s)", w.Name, w.Cron, w.Duration, tz)
}

// Decision is the outcome of Evaluate.
type Decision struct {
	// Admitted: the change may proceed now.
	Admitted bool
	// Unrestricted: no windows were given, so nothing restricts the time (Admitted is true).
	Unrestricted bool
	// Window is the admitting window's name when Admitted, otherwise the window that opens next
	// ("" if none ever opens).
	Window string
	// Start and End bound the admitting occurrence (zero when not admitted).
	Start, End time.Time
	// Next is the earliest next opening when not admitted (zero if none ever opens).
	Next time.Time
	// Invalid names the windows skipped because they are invalid (they never admit).
	Invalid []string
	// Reason is one line for people and the journal.
	Reason string
}

// Evaluate decides whether any of windows admits a change at now. With several admitting
// windows it reports the one whose occurrence closes last (the first listed on a tie).
func Evaluate(windows []Window, now time.Time) Decision {
	if len(windows) == 0 {
		return Decision{Admitted: true, Unrestricted: true, Reason: "no change windows are defined"}
	}
	var d Decision
	for _, w := range windows {
		if w.get() == nil {
			name := w.Name
			if name == "" {
				name = "(unnamed)"
			}
			d.Invalid = append(d.Invalid, name)
			continue
		}
		if s, e, ok := w.Occurrence(now); ok {
			if !d.Admitted || e.After(d.End) {
				d.Admitted, d.Window, d.Start, d.End = true, w.Name, s, e
			}
			continue
		}
		if d.Admitted {
			continue
		}
		if n := w.Next(now); !n.IsZero() && (d.Next.IsZero() || n.Before(d.Next)) {
			d.Next, d.Window = n, w.Name
		}
	}
	if d.Admitted {
		d.Next = time.Time{}
		d.Reason = fmt.Sprintf("inside change window %q (%s to %s)", d.Window,
			d.Start.Format(time.RFC3339), d.End.Format(time.RFC3339))
		return d
	}
	switch {
	case d.Next.IsZero() && len(d.Invalid) == len(windows):
		d.Reason = fmt.Sprintf("outside every change window: all %d windows are invalid", len(windows))
	case d.Next.IsZero():
		d.Reason = "outside every change window, and none opens again"
	default:
		d.Reason = fmt.Sprintf("outside every change window; next opening: %q at %s (in %s)", d.Window,
			d.Next.Format(time.RFC3339), d.Next.Sub(now).Round(time.Minute))
	}
	if len(d.Invalid) > 0 {
		d.Reason += fmt.Sprintf(" (invalid windows ignored: %s)", strings.Join(d.Invalid, ", "))
	}
	return d
}

// --- occurrence arithmetic ---

// dayMatches applies cron's day rule: if either day field is "*", both must match; otherwise
// either may match.
func (c *compiled) dayMatches(month time.Month, day int, wd time.Weekday) bool {
	if c.month&(1<<uint(month)) == 0 {
		return false
	}
	domMatch := c.dom&(1<<uint(day)) != 0
	dowMatch := c.dow&(1<<uint(wd)) != 0
	if c.dom&starBit != 0 || c.dow&starBit != 0 {
		return domMatch && dowMatch
	}
	return domMatch || dowMatch
}

// starts returns the instants of every occurrence on the civil date (y, m, d) in c.loc.
func (c *compiled) starts(y int, m time.Month, d int, f func(time.Time)) {
	// A day with no UTC-offset change within a day either side resolves with time.Date alone.
	noon := time.Date(y, m, d, 12, 0, 0, 0, c.loc)
	_, o1 := noon.Add(-36 * time.Hour).Zone()
	_, o2 := noon.Add(36 * time.Hour).Zone()
	steady := o1 == o2 && offsetAt(noon) == o1
	for h := 0; h < 24; h++ {
		if c.hour&(1<<uint(h)) == 0 {
			continue
		}
		for mi := 0; mi < 60; mi++ {
			if c.minute&(1<<uint(mi)) == 0 {
				continue
			}
			if steady {
				f(time.Date(y, m, d, h, mi, 0, 0, c.loc))
			} else {
				f(resolve(y, m, d, h, mi, c.loc))
			}
		}
	}
}

func offsetAt(t time.Time) int {
	_, o := t.Zone()
	return o
}

// resolve maps a wall-clock time to an instant in loc: the earliest instant when the wall time
// occurs twice, and, when it does not occur (a DST gap), the instant it has under the offset in
// force before the gap, which lies after the gap by as much as the wall time lay inside it.
func resolve(y int, m time.Month, d, h, mi int, loc *time.Location) time.Time {
	wall := time.Date(y, m, d, h, mi, 0, 0, time.UTC).Unix()
	probe := time.Date(y, m, d, h, mi, 0, 0, loc)
	offsets := []int{
		offsetAt(time.Unix(wall-86400, 0).In(loc)),
		offsetAt(probe),
		offsetAt(time.Unix(wall+86400, 0).In(loc)),
	}
	var best time.Time
	for _, o := range offsets {
		t := time.Unix(wall-int64(o), 0).In(loc)
		if t.Year() == y && t.Month() == m && t.Day() == d && t.Hour() == h && t.Minute() == mi {
			if best.IsZero() || t.Before(best) {
				best = t
			}
		}
	}
	if !best.IsZero() {
		return best
	}
	return time.Unix(wall-int64(offsets[0]), 0).In(loc)
}

// prev returns the latest occurrence start <= now that could still contain now (start >
// now-lookback), or the zero time.
func (c *compiled) prev(now time.Time, lookback time.Duration) time.Time {
	nl := now.In(c.loc)
	day := time.Date(nl.Year(), nl.Month(), nl.Day(), 12, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	maxDays := int(lookback/(24*time.Hour)) + 3
	var best time.Time
	hitDay := -1
	for i := 0; i <= maxDays; i++ {
		if hitDay >= 0 && i > hitDay+1 {
			break
		}
		dd := day.AddDate(0, 0, -i)
		if !c.dayMatches(dd.Month(), dd.Day(), dd.Weekday()) {
			continue
		}
		c.starts(dd.Year(), dd.Month(), dd.Day(), func(t time.Time) {
			if !t.After(now) && (best.IsZero() || t.After(best)) {
				best = t
				if hitDay < 0 {
					hitDay = i
				}
			}
		})
	}
	if best.IsZero() || !best.After(now.Add(-lookback)) {
		return time.Time{}
	}
	return best
}

// next returns the earliest occurrence start strictly after t, or the zero time if there is
// none within the horizon.
func (c *compiled) next(t time.Time) time.Time {
	tl := t.In(c.loc)
	day := time.Date(tl.Year(), tl.Month(), tl.Day(), 12, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	var best time.Time
	hitDay := -1
	for i := 0; i <= horizonDays; i++ {
		if hitDay >= 0 && i > hitDay+1 {
			break
		}
		dd := day.AddDate(0, 0, i)
		if !c.dayMatches(dd.Month(), dd.Day(), dd.Weekday()) {
			continue
		}
		c.starts(dd.Year(), dd.Month(), dd.Day(), func(s time.Time) {
			if s.After(t) && (best.IsZero() || s.Before(best)) {
				best = s
				if hitDay < 0 {
					hitDay = i
				}
			}
		})
	}
	return best
}
