// Package secdesc reads just enough of a self-relative Windows security descriptor (the
// nTSecurityDescriptor attribute, MS-DTYP 2.4.6) to answer one question: is the object
// "protected from accidental deletion", i.e. does its DACL carry an effective deny ACE for
// Everyone that covers DELETE or DELETE_TREE. It also builds such descriptors for the simulated
// forest.
package secdesc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Access mask bits (MS-DTYP 2.4.3, MS-ADTS 5.1.3.2).
const (
	RightDelete     = 0x00010000 // DELETE
	RightDeleteTree = 0x00000040 // ADS_RIGHT_DS_DELETE_TREE
)

// ACE types and flags (MS-DTYP 2.4.4.1).
const (
	aceAccessAllowed      = 0x00
	aceAccessDenied       = 0x01
	aceAccessDeniedObject = 0x06
	aceFlagInheritOnly    = 0x08
)

const (
	controlDACLPresent  = 0x0004
	controlSelfRelative = 0x8000
)

// MaxBytes bounds the descriptors this package reads.
const MaxBytes = 256 << 10

var everyone = []byte{1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}            // S-1-1-0
var authenticatedUsers = []byte{1, 1, 0, 0, 0, 0, 0, 5, 11, 0, 0, 0} // S-1-5-11

// ProtectedFromDeletion reports whether the descriptor denies Everyone DELETE or DELETE_TREE on
// the object itself. An error means the descriptor could not be read (the answer is unknown);
// a descriptor without a DACL is not protected.
func ProtectedFromDeletion(sd []byte) (bool, error) {
	if len(sd) > MaxBytes {
		return false, fmt.Errorf("security descriptor is %d bytes, more than %d", len(sd), MaxBytes)
	}
	if len(sd) < 20 {
		return false, fmt.Errorf("security descriptor is %d bytes, shorter than its 20-byte header", len(sd))
	}
	if sd[0] != 1 {
		return false, fmt.Errorf("security descriptor revision %d is not 1", sd[0])
	}
	le := binary.LittleEndian
	control := le.Uint16(sd[2:])
	if control&controlSelfRelative == 0 {
		return false, errors.New("security descriptor is not self-relative")
	}
	off := int(le.Uint32(sd[16:]))
	if control&controlDACLPresent == 0 || off == 0 {
		return false, nil
	}
	if off < 20 || off+8 > len(sd) {
		return false, fmt.Errorf("DACL offset %d lies outside the %d-byte descriptor", off, len(sd))
	}
	acl := sd[off:]
	size := int(le.Uint16(acl[2:]))
	count := int(le.Uint16(acl[4:]))
	if size < 8 || size > len(acl) {
		return false, fmt.Errorf("DACL size %d does not fit the descriptor", size)
	}
	acl = acl[:size]
	pos := 8
	for i := 0; i < count; i++ {
		if pos+4 > len(acl) {
			return false, fmt.Errorf("ACE %d starts past the end of the DACL", i)
		}
		typ, flags, asz := acl[pos], acl[pos+1], int(le.Uint16(acl[pos+2:]))
		if asz < 8 || pos+asz > len(acl) {
			return false, fmt.Errorf("ACE %d has size %d outside the DACL", i, asz)
		}
		ace := acl[pos : pos+asz]
		pos += asz
		if flags&aceFlagInheritOnly != 0 {
			continue
		}
		mask := le.Uint32(ace[4:])
		var sid []byte
		switch typ {
		case aceAccessDenied:
			sid = ace[8:]
		case aceAccessDeniedObject:
			// Object-specific deny ACEs limit the right to one property set or class; the
			// "protect from deletion" ACE is a plain deny. Skip them.
			continue
		default:
			continue
		}
		if mask&(RightDelete|RightDeleteTree) != 0 && sidEquals(sid, everyone) {
			return true, nil
		}
	}
	return false, nil
}

func sidEquals(b, sid []byte) bool {
	if len(b) < 8 {
		return false
	}
	n := 8 + 4*int(b[1])
	if n > len(b) || n != len(sid) {
		return false
	}
	for i := range sid {
		if b[i] != sid[i] {
			return false
		}
	}
	return true
}

// Build returns a self-relative descriptor whose DACL allows Authenticated Users read access
// and, when protected, denies Everyone DELETE and DELETE_TREE (what "Protect object from
// accidental deletion" adds).
func Build(protected bool) []byte {
	var aces [][]byte
	if protected {
		aces = append(aces, ace(aceAccessDenied, RightDelete|RightDeleteTree, everyone))
	}
	aces = append(aces, ace(aceAccessAllowed, 0x00020094, authenticatedUsers)) // READ_CONTROL|LIST|READ_PROP|LIST_OBJECT
	aclSize := 8
	for _, a := range aces {
		aclSize += len(a)
	}
	sd := make([]byte, 20, 20+aclSize)
	sd[0] = 1
	binary.LittleEndian.PutUint16(sd[2:], controlDACLPresent|controlSelfRelative)
	binary.LittleEndian.PutUint32(sd[16:], 20)
	acl := make([]byte, 8)
	acl[0] = 4 // ACL_REVISION_DS
	binary.LittleEndian.PutUint16(acl[2:], uint16(aclSize))
	binary.LittleEndian.PutUint16(acl[4:], uint16(len(aces)))
	sd = append(sd, acl...)
	for _, a := range aces {
		sd = append(sd, a...)
	}
	return sd
}

func ace(typ byte, mask uint32, sid []byte) []byte {
	a := make([]byte, 8+len(sid))
	a[0] = typ
	binary.LittleEndian.PutUint16(a[2:], uint16(len(a)))
	binary.LittleEndian.PutUint32(a[4:], mask)
	copy(a[8:], sid)
	return a
}
