package demo

import (
	"io"
	"testing"

	"github.com/fix8524/fix8524/lab/scenario"
)

// FuzzReplicateParams: whatever parameters a client sends, the handler answers with an exit
// code and never panics.
func FuzzReplicateParams(f *testing.F) {
	f.Add("dc1.contoso.com", "dc2.contoso.com", `["DC=contoso,DC=com"]`, "")
	f.Add("DC1", "8a7baee5-cd81-4c8c-9c0f-b10030574016", "", "DC=contoso,DC=com")
	f.Add("", "", "[", "")
	f.Add("dc1.contoso.com", "dc2.contoso.com", `[1,2]`, "")
	sc, err := scenario.Load("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, dest, src, ncs, nc string) {
		d := &Demo{Scenario: sc, World: sc.NewWorld()}
		code := runReplicate(d, "DC1", map[string]string{"destination": dest, "source": src, "ncs": ncs, "nc": nc}, io.Discard, io.Discard)
		if code != 0 && code != 1 {
			t.Fatalf("exit code %d", code)
		}
	})
}
