package plan

import (
	"fmt"
	"strings"
	"testing"
)

func TestUnmatchedGroups(t *testing.T) {
	links := []LinkRef{
		{Destination: "DC3", Source: "DC1", NC: "DC=lab", LastResult: 1722},
		{Destination: "DC3", Source: "DC1", NC: "CN=Configuration,DC=lab", LastResult: 1722},
		{Destination: "DC3", Source: "DC1", NC: "CN=Schema,CN=Configuration,DC=lab", LastResult: 8453},
		{Destination: "DC2", SourceDSAGUID: "0f1e", NC: "DC=lab", LastResult: 5},
	}
	g := GroupUnmatched(links)
	var got []string
	for _, u := range g {
		got = append(got, u.String())
	}
	want := []string{
		"DC2<-0f1e fails with result 5 on 1 naming context(s) (DC=lab)",
		"DC3<-DC1 fails with result 1722 on 2 naming context(s) (DC=lab, CN=Configuration,DC=lab)",
		"DC3<-DC1 fails with result 8453 on 1 naming context(s) (CN=Schema,CN=Configuration,DC=lab)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("groups:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// a forest-wide failure of another kind stays bounded
	links = nil
	for i := 0; i < 500; i++ {
		links = append(links, LinkRef{Destination: fmt.Sprintf("DC%03d", i), Source: "HUB", NC: "DC=lab", LastResult: 1722})
	}
	g = GroupUnmatched(links)
	if len(g) != MaxUnmatchedGroups {
		t.Fatalf("%d groups, want %d", len(g), MaxUnmatchedGroups)
	}
	if last := g[len(g)-1].String(); last != "481 more partnership(s) fail with other errors" {
		t.Errorf("last: %q", last)
	}

	// hostile names do not fake lines
	g = GroupUnmatched([]LinkRef{{Destination: "DC1\nDC9<-DC8: healed", Source: "DC2\u202e", NC: "DC=lab", LastResult: 2}})
	if s := g[0].String(); strings.ContainsAny(s, "\n\u202e") {
		t.Errorf("unescaped: %q", s)
	}
}
