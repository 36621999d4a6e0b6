package window

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func mustNew(t *testing.T, cronSpec string, d time.Duration, tz string) Window {
	t.Helper()
	w, err := New("w", cronSpec, d, tz)
	if err != nil {
		t.Fatalf("New(%q, %s, %q): %v", cronSpec, d, tz, err)
	}
	return w
}

func utc(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

func TestActive(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	ny := mustLoc(t, "America/New_York")
	sydney := mustLoc(t, "Australia/Sydney")
	lordHowe := mustLoc(t, "Australia/Lord_Howe")
	at := func(loc *time.Location, y int, m time.Month, d, h, mi int) time.Time {
		return time.Date(y, m, d, h, mi, 0, 0, loc)
	}
	cases := []struct {
		name   string
		cron   string
		dur    time.Duration
		tz     string
		now    time.Time
		active bool
		want   time.Time // end when active, next opening when not
	}{
		// 2025-06-07 is a Saturday.
		{"weekend before opening", "0 22 * * SAT", 6 * time.Hour, "", utc(2025, 6, 7, 21, 59), false, utc(2025, 6, 7, 22, 0)},
		{"weekend at opening", "0 22 * * SAT", 6 * time.Hour, "", utc(2025, 6, 7, 22, 0), true, utc(2025, 6, 8, 4, 0)},
		{"weekend across midnight and week boundary", "0 22 * * SAT", 6 * time.Hour, "", utc(2025, 6, 8, 3, 59), true, utc(2025, 6, 8, 4, 0)},
		{"weekend end is exclusive", "0 22 * * SAT", 6 * time.Hour, "", utc(2025, 6, 8, 4, 0), false, utc(2025, 6, 14, 22, 0)},
		{"weekend midweek", "0 22 * * SAT", 6 * time.Hour, "UTC", utc(2025, 6, 11, 12, 0), false, utc(2025, 6, 14, 22, 0)},
		{"sunday night into monday", "0 20 * * SUN", 10 * time.Hour, "", utc(2025, 6, 9, 5, 30), true, utc(2025, 6, 9, 6, 0)},
		{"month boundary", "0 18 31 * *", 12 * time.Hour, "", utc(2025, 8, 1, 5, 0), true, utc(2025, 8, 1, 6, 0)},
		{"month boundary skips 30-day months", "0 18 31 * *", 12 * time.Hour, "", utc(2025, 7, 1, 5, 0), false, utc(2025, 7, 31, 18, 0)},
		{"long monthly window looks back 20 days", "@monthly", 20 * 24 * time.Hour, "", utc(2025, 6, 20, 23, 0), true, utc(2025, 6, 21, 0, 0)},
		{"long monthly window closed", "@monthly", 20 * 24 * time.Hour, "", utc(2025, 6, 21, 0, 0), false, utc(2025, 7, 1, 0, 0)},
		{"daily descriptor", "@daily", time.Hour, "", utc(2025, 6, 7, 0, 30), true, utc(2025, 6, 7, 1, 0)},
		{"overlapping occurrences close last", "*/10 * * * *", time.Hour, "", utc(2025, 6, 7, 12, 5), true, utc(2025, 6, 7, 13, 0)},
		{"leap day", "0 0 29 2 *", time.Hour, "", utc(2025, 3, 1, 0, 0), false, utc(2028, 2, 29, 0, 0)},
		{"day-of-month OR day-of-week", "0 0 1 * MON", time.Hour, "", utc(2025, 6, 3, 0, 0), false, utc(2025, 6, 9, 0, 0)},
		{"day-of-month OR day-of-week, the 1st", "0 0 1 * MON", time.Hour, "", utc(2025, 6, 30, 0, 30), true, utc(2025, 6, 30, 1, 0)},
		{"zone shifts the window", "0 22 * * SAT", 2 * time.Hour, "Europe/Berlin", utc(2025, 6, 7, 20, 30), true, utc(2025, 6, 7, 22, 0)},

		// Europe/Berlin: DST begins 2025-03-30 02:00 CET -> 03:00 CEST; ends 2025-10-26 03:00 CEST -> 02:00 CET.
		{"berlin gap start shifted forward", "30 2 * * *", time.Hour, "Europe/Berlin", at(berlin, 2025, 3, 30, 3, 0), false, utc(2025, 3, 30, 1, 30)},
		{"berlin gap start open at 03:30 CEST", "30 2 * * *", time.Hour, "Europe/Berlin", utc(2025, 3, 30, 1, 30), true, utc(2025, 3, 30, 2, 30)},
		{"berlin gap next day normal", "30 2 * * *", time.Hour, "Europe/Berlin", utc(2025, 3, 30, 2, 30), false, utc(2025, 3, 31, 0, 30)},
		{"berlin repeated hour opens on first pass", "30 2 * * *", 30 * time.Minute, "Europe/Berlin", utc(2025, 10, 26, 0, 40), true, utc(2025, 10, 26, 1, 0)},
		{"berlin repeated hour not reopened on second pass", "30 2 * * *", 30 * time.Minute, "Europe/Berlin", utc(2025, 10, 26, 1, 40), false, utc(2025, 10, 27, 1, 30)},
		{"berlin duration is elapsed time across DST end", "0 22 * * SAT", 6 * time.Hour, "Europe/Berlin", utc(2025, 10, 26, 1, 30), true, utc(2025, 10, 26, 2, 0)},
		{"berlin closes at 03:00 CET after six real hours", "0 22 * * SAT", 6 * time.Hour, "Europe/Berlin", at(berlin, 2025, 10, 26, 3, 0), false, utc(2025, 11, 1, 21, 0)},
		{"berlin window spanning DST start", "0 1 * * SUN", 2 * time.Hour, "Europe/Berlin", at(berlin, 2025, 3, 30, 3, 30), true, at(berlin, 2025, 3, 30, 4, 0)},

		// America/New_York: DST begins 2025-03-09 02:00 EST -> 03:00 EDT; ends 2025-11-02 02:00 EDT -> 01:00 EST.
		{"new york gap", "30 2 * * *", time.Hour, "America/New_York", at(ny, 2025, 3, 9, 3, 0), false, utc(2025, 3, 9, 7, 30)},
		{"new york repeated hour first pass", "30 1 * * *", 20 * time.Minute, "America/New_York", utc(2025, 11, 2, 5, 35), true, utc(2025, 11, 2, 5, 50)},
		{"new york repeated hour second pass", "30 1 * * *", 20 * time.Minute, "America/New_York", utc(2025, 11, 2, 6, 35), false, utc(2025, 11, 3, 6, 30)},

		// Australia/Sydney: DST ends 2025-04-06 03:00 AEDT -> 02:00 AEST (southern hemisphere).
		{"sydney repeated hour first pass", "30 2 * * SUN", 10 * time.Minute, "Australia/Sydney", utc(2025, 4, 5, 15, 35), true, utc(2025, 4, 5, 15, 40)},
		{"sydney repeated hour second pass", "30 2 * * SUN", 10 * time.Minute, "Australia/Sydney", utc(2025, 4, 5, 16, 35), false, at(sydney, 2025, 4, 13, 2, 30)},
		// Lord Howe shifts by 30 minutes: 2025-10-05 02:00 -> 02:30 (+10:30 -> +11).
		{"lord howe half-hour gap", "15 2 * * *", 10 * time.Minute, "Australia/Lord_Howe", at(lordHowe, 2025, 10, 5, 2, 50), true, at(lordHowe, 2025, 10, 5, 2, 55)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := mustNew(t, c.cron, c.dur, c.tz)
			active, when := w.Active(c.now)
			if active != c.active || !when.Equal(c.want) {
				t.Fatalf("Active(%s) = %v, %s; want %v, %s", c.now.UTC().Format(time.RFC3339), active, when.UTC().Format(time.RFC3339),
					c.active, c.want.UTC().Format(time.RFC3339))
			}
			// A literal Window (compiled lazily) must agree.
			lit := Window{Name: "w", Cron: c.cron, Duration: c.dur, TimeZone: c.tz}
			if a2, w2 := lit.Active(c.now); a2 != active || !w2.Equal(when) {
				t.Fatalf("literal window disagrees: %v %s", a2, w2)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	cases := []struct {
		name, cron, dur, tz, want string
	}{
		{"w", "@every 1h", "1h", "", "@every"},
		{"w", "TZ=Europe/Berlin 0 22 * * SAT", "1h", "", "TZ="},
		{"w", "CRON_TZ=UTC 0 22 * * SAT", "1h", "", "TZ="},
		{"w", "TZ=x", "1h", "", "TZ="}, // robfig/cron panics on this one
		{"w", "0 0 22 * * SAT", "1h", "", "5 fields"},
		{"w", "0 22 * *", "1h", "", "5 fields"},
		{"w", "", "1h", "", "empty"},
		{"w", "0 25 * * *", "1h", "", "cron"},
		{"w", "0 0 30 2 *", "1h", "", "never occurs"},
		{"w", "0 0 31 4,6,9,11 *", "1h", "", "never occurs"},
		{"w", "@sometimes", "1h", "", "descriptor"},
		{"w", "0 22 * * SAT", "0s", "", "positive"},
		{"w", "0 22 * * SAT", "-1h", "", "positive"},
		{"w", "0 22 * * SAT", "32d", "", "longer than"},
		{"w", "0 22 * * SAT", "soon", "", "duration"},
		{"w", "0 22 * * SAT", "1h", "Mars/Olympus_Mons", "unknown"},
		{"w", "0 22 * * SAT", "1h", "../../etc/passwd", "IANA"},
		{"", "0 22 * * SAT", "1h", "", "name"},
	}
	for _, c := range cases {
		_, err := Parse(c.name, c.cron, c.dur, c.tz)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q, %q, %q, %q) = %v; want error containing %q", c.name, c.cron, c.dur, c.tz, err, c.want)
		}
	}
	for _, ok := range [][3]string{
		{"0 22 * * SAT", "6h", "Europe/Berlin"},
		{"@weekly", "2d", "Local"},
		{"*/15 8-17 * JAN-MAR MON-FRI", "1d12h", "America/New_York"},
		{"0 0 29 2 *", "90m", "UTC"},
		{"0 0 * * ?", "31d", ""},
	} {
		if _, err := Parse("ok", ok[0], ok[1], ok[2]); err != nil {
			t.Errorf("Parse(%q, %q, %q): %v", ok[0], ok[1], ok[2], err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"6h": 6 * time.Hour, "90m": 90 * time.Minute, "2d": 48 * time.Hour, "1d12h": 36 * time.Hour, " 1h30m ": 90 * time.Minute, "0d": 0,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "xd", "-1d", "+1d", "1d-2h", "1.5d", "1dd", "999d", "1w", "12"} {
		if d, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %s; want an error", bad, d)
		}
	}
}

func TestEvaluate(t *testing.T) {
	sat, _ := New("weekend", "0 22 * * SAT", 6*time.Hour, "UTC")
	nightly, _ := New("nightly", "0 1 * * *", 2*time.Hour, "UTC")
	longSat, _ := New("long-weekend", "0 20 * * SAT", 12*time.Hour, "UTC")
	broken := Window{Name: "broken", Cron: "@every 1h", Duration: time.Hour}

	d := Evaluate(nil, utc(2025, 6, 7, 12, 0))
	if !d.Admitted || !d.Unrestricted {
		t.Fatalf("no windows: %+v", d)
	}

	d = Evaluate([]Window{sat, nightly}, utc(2025, 6, 10, 12, 0)) // Tuesday noon
	if d.Admitted || d.Window != "nightly" || !d.Next.Equal(utc(2025, 6, 11, 1, 0)) {
		t.Fatalf("tuesday noon: %+v", d)
	}
	if !strings.Contains(d.Reason, "outside every change window") || !strings.Contains(d.Reason, "nightly") {
		t.Fatalf("reason: %q", d.Reason)
	}

	d = Evaluate([]Window{sat, nightly, longSat}, utc(2025, 6, 8, 1, 30)) // all three open
	if !d.Admitted || d.Window != "long-weekend" || !d.End.Equal(utc(2025, 6, 8, 8, 0)) || !d.Start.Equal(utc(2025, 6, 7, 20, 0)) {
		t.Fatalf("overlap: %+v", d)
	}
	if !d.Next.IsZero() {
		t.Fatalf("admitted decision carries Next: %+v", d)
	}

	d = Evaluate([]Window{broken, sat}, utc(2025, 6, 7, 23, 0))
	if !d.Admitted || d.Window != "weekend" || len(d.Invalid) != 1 || d.Invalid[0] != "broken" {
		t.Fatalf("broken + open: %+v", d)
	}
	d = Evaluate([]Window{broken}, utc(2025, 6, 7, 23, 0))
	if d.Admitted || !d.Next.IsZero() || !strings.Contains(d.Reason, "invalid") {
		t.Fatalf("only broken: %+v", d)
	}
}

// TestAgainstBruteForce compares Active with a minute-by-minute scan in a zone with a fixed
// offset, where wall clocks have no DST gaps or repeats.
func TestAgainstBruteForce(t *testing.T) {
	specs := []struct {
		cron string
		dur  time.Duration
	}{
		{"0 22 * * SAT", 6 * time.Hour},
		{"*/20 3-5 * * MON,WED", 45 * time.Minute},
		{"15 0 1,15 * *", 50 * time.Hour},
		{"0 12 * * 0", 7*24*time.Hour + time.Minute}, // always open once it has opened
		{"59 23 31 12 *", 3 * time.Hour},
		{"0 0 1 * MON", 90 * time.Minute},
	}
	tz := "Etc/GMT-3" // UTC+03:00, no DST
	loc := mustLoc(t, tz)
	from := time.Date(2024, 12, 20, 0, 0, 0, 0, loc)
	to := from.Add(30 * 24 * time.Hour)
	for _, s := range specs {
		w := mustNew(t, s.cron, s.dur, tz)
		c := w.get()
		var starts []time.Time
		for m := from.Add(-s.dur - 24*time.Hour); m.Before(to.Add(8 * 24 * time.Hour)); m = m.Add(time.Minute) {
			l := m.In(loc)
			if c.minute&(1<<uint(l.Minute())) != 0 && c.hour&(1<<uint(l.Hour())) != 0 && c.dayMatches(l.Month(), l.Day(), l.Weekday()) {
				starts = append(starts, m)
			}
		}
		for now := from; now.Before(to); now = now.Add(37 * time.Minute) {
			// Latest start <= now.
			i := sort.Search(len(starts), func(i int) bool { return starts[i].After(now) })
			wantActive := i > 0 && now.Before(starts[i-1].Add(s.dur))
			var want time.Time
			if wantActive {
				want = starts[i-1].Add(s.dur)
			} else if i < len(starts) {
				want = starts[i]
			}
			active, got := w.Active(now)
			if active != wantActive || (!want.IsZero() && !got.Equal(want)) {
				t.Fatalf("%s for %s at %s: Active = %v %s; brute force %v %s", s.cron, s.dur, now, active, got, wantActive, want)
			}
		}
	}
}

// TestOpeningIsActive: at the instant of every next opening the window is active, including
// openings moved by DST.
func TestOpeningIsActive(t *testing.T) {
	for _, tz := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Tehran", "UTC"} {
		w := mustNew(t, "*/30 0-3 * * *", 20*time.Minute, tz)
		now := utc(2025, 3, 1, 0, 0)
		for i := 0; i < 2000; i++ {
			n := w.Next(now)
			if n.IsZero() || !n.After(now) {
				t.Fatalf("%s: Next(%s) = %s", tz, now, n)
			}
			if ok, end := w.Active(n); !ok || !end.After(n) {
				t.Fatalf("%s: not active at its own opening %s", tz, n)
			}
			now = n
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("weekend", "0 22 * * SAT", "6h", "Europe/Berlin", int64(1748000000))
	f.Add("w", "@daily", "1d", "", int64(0))
	f.Add("w", "*/7 1-3 1,15 FEB-MAR MON-FRI", "90m", "America/New_York", int64(1741500000))
	f.Add("w", "TZ=x", "1h", "", int64(0))
	f.Add("w", "0 0 29 2 ?", "31d", "Australia/Lord_Howe", int64(-1))
	f.Fuzz(func(t *testing.T, name, cronSpec, dur, tz string, unix int64) {
		w, err := Parse(name, cronSpec, dur, tz)
		if err != nil {
			return
		}
		// Keep instants within a few centuries so the horizon arithmetic stays meaningful.
		now := time.Unix(unix%(200*365*86400), 0)
		active, when := w.Active(now)
		if active {
			s, e, ok := w.Occurrence(now)
			if !ok || s.After(now) || !now.Before(e) || !e.Equal(when) || e.Sub(s) != w.Duration {
				t.Fatalf("inconsistent occurrence: %s..%s at %s (Active end %s)", s, e, now, when)
			}
		} else if !when.IsZero() {
			if !when.After(now) {
				t.Fatalf("next opening %s not after %s", when, now)
			}
			if ok, _ := w.Active(when); !ok {
				t.Fatalf("not active at its own opening %s", when)
			}
		}
		_ = Evaluate([]Window{w}, now).Reason
	})
}
