package ldapread

import "github.com/go-ldap/ldap/v3"

// Conn returns the client's underlying connection, bound and with its TLS set up, for the
// write operations apply performs through actions/ldapdelete (an LDAP tree delete during a
// metadata cleanup). Closing the Client closes it.
func (c *Client) Conn() *ldap.Conn { return c.conn }
