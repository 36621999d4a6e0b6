package apply_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/facts"
)

// A real DC keeps the repsFrom values of a source whose NTDS Settings were deleted until its
// KCC runs (repadmin /showrepl: "deleted DSA"; samba-tool showrepl: "is deleted"), while the
// simulated world drops them with the object. Seen on the Samba lab (e2e): the cleanup ran,
// the object was gone, and apply waited for the deleted DSA's CNAME to resolve, then failed.
// The finding's links name a DSA that is no longer in the topology: the cleanup is verified
// and replication is confirmed without retrying from the deleted DSA.
func TestCleanupWithRepsFromLeftUntilKCC(t *testing.T) {
	e := staleEnv(t, "", dc3Leftovers, "")
	var stale []facts.Link
	var guid string
	for _, l := range e.lab.links() {
		if strings.EqualFold(l.Destination, "DC1") && l.LastResult != 0 {
			stale = append(stale, l)
			guid = l.SourceDSAGUID
		}
	}
	if len(stale) == 0 {
		t.Fatal("the scenario has no failing link into DC1")
	}
	e.lab.mangle = func(_ int, s *facts.Snapshot) {
		if facts.NewIndex(s).DCByGUID(guid) != nil {
			return // not deleted yet
		}
		for _, l := range s.Links {
			if strings.EqualFold(l.SourceDSAGUID, guid) {
				return
			}
		}
		s.Links = append(s.Links, stale...) // what the destination still holds until its KCC runs
	}
	e.approve(e.now, time.Hour, nil, cleanupID)
	res := e.run(nil)
	if res.Outcome != apply.Succeeded {
		t.Fatalf("outcome %s %+v\n%s\n%s", res.Outcome, res.Refusals, e.out.String(), e.dumpJournal())
	}
	if n := e.lab.count("metadata_cleanup"); n != 1 {
		t.Fatalf("cleanup ran %d times", n)
	}
	if n := e.lab.count("retry_replication"); n != 0 {
		t.Fatalf("replication was retried %d times from a deleted DSA", n)
	}
	for _, f := range res.Findings {
		if f.ID == "DC1<-DC3" && (len(f.Leftovers) == 0 || !strings.Contains(f.Confirmed, "removed")) {
			t.Fatalf("DC1<-DC3: confirmed %q, %d leftovers", f.Confirmed, len(f.Leftovers))
		}
	}
}
