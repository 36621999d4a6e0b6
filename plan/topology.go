package plan

import "fmt"

// Topology is the replication topology a plan was made from, kept in the plan so that a saved
// plan can be drawn without the facts (fix8524 report): every DC with its site, and every
// inbound partnership (destination, source DSA) with how many of its links fail. It is not part
// of any fingerprint: apply acts on the findings only.
type Topology struct {
	Forest       string         `json:"forest,omitempty"` // the forest root domain's DNS name
	DCs          []TopologyDC   `json:"dcs"`              // sorted by site, then name
	Partnerships []TopologyLink `json:"partnerships"`     // sorted by destination, then source DSA GUID
}

// TopologyDC is one DC of the topology.
type TopologyDC struct {
	Name    string `json:"name"`
	Site    string `json:"site,omitempty"` // "" when the site is not known
	Domain  string `json:"domain,omitempty"`
	DSAGUID string `json:"dsa_guid,omitempty"`
	// Unread is why the DC's inbound replication status could not be read ("" when it was):
	// its inbound partnerships are missing from Partnerships, which does not mean it has none.
	Unread string `json:"unread,omitempty"`
}

// TopologyLink is one inbound partnership: the links of one destination from one source DSA,
// one per naming context.
type TopologyLink struct {
	Destination   string `json:"destination"`
	Source        string `json:"source,omitempty"` // the source DC's name; "" when its DSA is not in the topology
	SourceDSAGUID string `json:"source_dsa_guid"`
	NCs           int    `json:"ncs"`     // links of the partnership (one per NC)
	Failing       int    `json:"failing"` // of them, those whose last result is not 0
}

// String renders a need for humans.
func (n Need) String() string {
	switch n.Kind {
	case NeedDNS:
		rd := ""
		if n.DNS.NoRecurse {
			rd = " (no recursion)"
		}
		return fmt.Sprintf("DNS %s %s from %s%s", n.DNS.Type, n.DNS.Name, n.DNS.Server, rd)
	case NeedTCP:
		return fmt.Sprintf("TCP %s:%d", n.TCP.Host, n.TCP.Port)
	default:
		s := n.Fact
		if n.DC != "" {
			s += " of " + n.DC
		}
		if n.Reason != "" {
			s += " (" + n.Reason + ")"
		}
		return s
	}
}
