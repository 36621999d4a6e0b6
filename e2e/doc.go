// Package e2e is fix8524's end-to-end suite against real Samba AD domain controllers (the lab
// of lab/samba): the real fix8524 binary, built outside the lab's network namespace and run
// inside it, diagnoses and heals every reproducible cause of replication error 8524 that the
// article describes, and replication is checked to work again afterwards.
//
// The suite itself has the build tag "samba" and needs root and the Samba packages
// (lab/samba/lab.sh install):
//
//	go test -tags samba -v -timeout 30m ./e2e/
//
// The untagged files hold what the suite needs that can be tested anywhere: the WS-Management
// handler that stands in for a Windows DC by doing the Samba equivalent of each script
// (WindowsStandIn), the helper that opens a listener inside a network namespace from a
// process outside it (ListenInNetNS), and the MTTR log line (MTTR, ParseMTTR).
package e2e
