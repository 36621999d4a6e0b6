package facts

import (
	"reflect"
	"testing"
)

func TestMissing(t *testing.T) {
	have := DNSQuery{Server: "192.0.2.11", Name: "dc2.contoso.com", Type: "A"}
	want := DNSQuery{Server: "192.0.2.12", Name: "dc2.contoso.com", Type: "A"}
	open := TCPProbe{Host: "dc2.contoso.com", Port: 389}
	closed := TCPProbe{Host: "dc2.contoso.com", Port: 135}
	s := &Snapshot{DNS: []DNSObservation{{DNSQuery: have, Rcode: "NOERROR"}}, Reach: []ReachObservation{{TCPProbe: open, Result: ReachOpen}}}
	md, mt := Missing(s, []DNSQuery{have, want}, []TCPProbe{open, closed})
	if !reflect.DeepEqual(md, []DNSQuery{want}) || !reflect.DeepEqual(mt, []TCPProbe{closed}) {
		t.Errorf("Missing = %v %v", md, mt)
	}
	if md, mt := Missing(s, nil, nil); md != nil || mt != nil {
		t.Errorf("nothing asked: %v %v", md, mt)
	}
}
