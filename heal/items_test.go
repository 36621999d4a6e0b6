package heal

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/internal/notify"
	"github.com/fix8524/fix8524/plan"
)

// A failing link of another kind makes the run need a human (exit 2): the notification must
// say which link, or the person paged cannot find it.
func TestItemsNameUnmatchedLinks(t *testing.T) {
	r := &Report{Plan: &plan.Plan{Unmatched: []plan.LinkRef{
		{Destination: "DC3", Source: "DC1", NC: "DC=lab", LastResult: 1722},
		{Destination: "DC3", Source: "DC1", NC: "CN=Configuration,DC=lab", LastResult: 1722},
	}}}
	items := r.Items()
	if len(items) != 1 {
		t.Fatalf("items: %+v", items)
	}
	it := items[0]
	if it.Status != notify.ItemHeld || it.Code != "unmatched" || it.Finding != "DC3<-DC1" || it.Target != "DC3" ||
		!strings.Contains(it.Reason, "result 1722 on 2 naming context(s)") {
		t.Errorf("item: %+v", it)
	}
}

// A forest-wide latent problem must not bury the run's output: at most maxWarningLines
// warnings are printed, then one line counts the rest.
func TestWarningLinesAreBounded(t *testing.T) {
	for _, n := range []int{0, 1, maxWarningLines, maxWarningLines + 1, 500} {
		ws := make([]plan.Warning, n)
		for i := range ws {
			ws[i] = plan.Warning{ID: fmt.Sprintf("DC%d<-DC0", i), Name: "link_address_latent", Message: "m"}
		}
		lines := warningLines(ws, maxWarningLines)
		shown := min(n, maxWarningLines)
		want := shown
		if n > maxWarningLines {
			want++
		}
		if len(lines) != want {
			t.Fatalf("%d warnings: %d lines, want %d", n, len(lines), want)
		}
		for i := 0; i < shown; i++ {
			if lines[i] != fmt.Sprintf("heal: warning DC%d<-DC0 link_address_latent: m", i) {
				t.Errorf("%d warnings: line %d = %q", n, i, lines[i])
			}
		}
		if n > maxWarningLines {
			if got, w := lines[shown], fmt.Sprintf("heal: %d more warning(s): see the plan (fix8524 plan)", n-maxWarningLines); got != w {
				t.Errorf("%d warnings: last line %q, want %q", n, got, w)
			}
		}
	}
}
