package e2e

import "testing"

func TestInNetNSRefuses(t *testing.T) {
	for _, name := range []string{"", "..", "../../proc/1/ns/net", "a/b", "fix8524-no-such-namespace-e2e"} {
		called := false
		if err := InNetNS(name, func() error { called = true; return nil }); err == nil || called {
			t.Errorf("InNetNS(%q): err %v, f called %v", name, err, called)
		}
	}
}
