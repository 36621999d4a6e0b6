package heal

import (
	"strings"
	"testing"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/engine/notify"
)

// A failing link of another kind makes the run need a human (exit 2): the notification must
// say which link, or the person paged cannot find it.
func TestItemsNameUnmatchedLinks(t *testing.T) {
	r := &Report{Plan: &engine.Plan{Unmatched: []engine.LinkRef{
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
