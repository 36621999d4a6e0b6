package hostprobe_test

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts/hostprobe"
	labwinrm "github.com/fix8524/fix8524/lab/winrm"
	"github.com/fix8524/fix8524/remote"
	"github.com/fix8524/fix8524/remote/winrm"
)

// TestProbesOverWinRM runs both Windows probes end to end: remote/winrm over NTLM-sealed
// HTTP to the lab WS-Management server, whose handler recognizes the probes by their marker
// and checks the parameters it received as $P.
func TestProbesOverWinRM(t *testing.T) {
	dnsJSON, err := os.ReadFile("testdata/dnsclient-windows.json")
	if err != nil {
		t.Fatal(err)
	}
	eventsJSON, err := os.ReadFile("testdata/events.json")
	if err != nil {
		t.Fatal(err)
	}
	var gotParams map[string]string
	h := &labwinrm.Mux{ByName: map[string]labwinrm.Handler{
		hostprobe.NameDNSClientWindows: labwinrm.HandlerFunc(func(ctx context.Context, cmd *labwinrm.Command, stdout, stderr io.Writer) int {
			_, _ = stdout.Write(dnsJSON)
			return 0
		}),
		hostprobe.NameEvents: labwinrm.HandlerFunc(func(ctx context.Context, cmd *labwinrm.Command, stdout, stderr io.Writer) int {
			gotParams = cmd.Params
			_, _ = stdout.Write(eventsJSON)
			return 0
		}),
	}}
	srv, err := labwinrm.Start(labwinrm.Config{Users: map[string]string{`LAB\probe`: "pw-Probe-1"}, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := winrm.New(winrm.Config{Target: remote.Target{Host: "dc1.lab.test", Address: "127.0.0.1", Port: srv.Port()},
		User: `LAB\probe`, Password: "pw-Probe-1", Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := hostprobe.ReadDNSClient(context.Background(), c, hostprobe.Windows)
	if err != nil || len(d.Servers) != 3 {
		t.Fatalf("dns client: %+v %v", d, err)
	}
	since := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ev, err := hostprobe.ReadEvents(context.Background(), c, hostprobe.EventQuery{Since: since, IDs: []int{2087, 1925}, Max: 10})
	if err != nil || len(ev.Events) != 4 {
		t.Fatalf("events: %+v %v", ev, err)
	}
	if gotParams["Ids"] != "2087,1925" || gotParams["Since"] != "2026-11-25T12:00:00Z" || gotParams["Max"] != "10" {
		t.Fatalf("server received $P = %v", gotParams)
	}
}
