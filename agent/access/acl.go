package access

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The POSIX access ACL as Linux stores it in the system.posix_acl_access
// extended attribute (linux/posix_acl_xattr.h): a little-endian u32
// version (2), then one 8-byte entry per line of `getfacl`: u16 tag, u16
// permission bits (rwx = 4|2|1), u32 uid or gid (named entries only).
const (
	xattrACLAccess = "system.posix_acl_access"
	aclVersion     = 2
	undefinedID    = 0xFFFFFFFF
)

// Tag is the kind of an ACL entry.
type Tag uint16

const (
	TagUserObj  Tag = 0x01 // the owner (mode's user bits)
	TagUser     Tag = 0x02 // a named user
	TagGroupObj Tag = 0x04 // the owning group
	TagGroup    Tag = 0x08 // a named group
	TagMask     Tag = 0x10 // upper bound for named entries and the owning group
	TagOther    Tag = 0x20 // everybody else (mode's other bits)
)

// Perm bits, as in a mode's triplets.
const (
	PermRead  uint16 = 4
	PermWrite uint16 = 2
	PermExec  uint16 = 1
)

// Entry is one line of an ACL.
type Entry struct {
	Tag  Tag
	Perm uint16
	ID   uint32 // uid or gid for TagUser and TagGroup
}

// ACL is an access ACL, entries sorted as the kernel wants them (by tag,
// then id).
type ACL []Entry

// ParseACL decodes a system.posix_acl_access value. It rejects what the
// kernel would: a wrong version, a size that is not a whole number of
// entries, unknown tags or permission bits, a missing or doubled
// USER_OBJ/GROUP_OBJ/OTHER, a named entry without a mask.
func ParseACL(b []byte) (ACL, error) {
	if len(b) < 4 || (len(b)-4)%8 != 0 {
		return nil, fmt.Errorf("acl: %d bytes is not a header and whole entries", len(b))
	}
	if v := binary.LittleEndian.Uint32(b); v != aclVersion {
		return nil, fmt.Errorf("acl: version %d, want %d", v, aclVersion)
	}
	var a ACL
	for p := 4; p < len(b); p += 8 {
		e := Entry{Tag: Tag(binary.LittleEndian.Uint16(b[p:])), Perm: binary.LittleEndian.Uint16(b[p+2:]), ID: binary.LittleEndian.Uint32(b[p+4:])}
		if e.Perm&^7 != 0 {
			return nil, fmt.Errorf("acl: permission bits %#x", e.Perm)
		}
		switch e.Tag {
		case TagUser, TagGroup:
		case TagUserObj, TagGroupObj, TagMask, TagOther:
			e.ID = undefinedID
		default:
			return nil, fmt.Errorf("acl: unknown tag %#x", uint16(e.Tag))
		}
		a = append(a, e)
	}
	if err := a.valid(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a ACL) valid() error {
	count := map[Tag]int{}
	named := 0
	seen := map[[2]uint32]bool{}
	for _, e := range a {
		count[e.Tag]++
		if e.Tag == TagUser || e.Tag == TagGroup {
			named++
			k := [2]uint32{uint32(e.Tag), e.ID}
			if seen[k] {
				return fmt.Errorf("acl: %s twice", e)
			}
			seen[k] = true
		}
	}
	for _, t := range []Tag{TagUserObj, TagGroupObj, TagOther} {
		if count[t] != 1 {
			return fmt.Errorf("acl: %d %s entries, want 1", count[t], t)
		}
	}
	if count[TagMask] > 1 || (named > 0 && count[TagMask] == 0) {
		return errors.New("acl: named entries need exactly one mask")
	}
	return nil
}

// Bytes encodes the ACL for setxattr, sorted as the kernel requires.
func (a ACL) Bytes() []byte {
	s := append(ACL(nil), a...)
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].Tag != s[j].Tag {
			return s[i].Tag < s[j].Tag
		}
		return s[i].ID < s[j].ID
	})
	b := make([]byte, 4, 4+8*len(s))
	binary.LittleEndian.PutUint32(b, aclVersion)
	for _, e := range s {
		id := e.ID
		if e.Tag != TagUser && e.Tag != TagGroup {
			id = undefinedID
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(e.Tag))
		b = binary.LittleEndian.AppendUint16(b, e.Perm)
		b = binary.LittleEndian.AppendUint32(b, id)
	}
	return b
}

// minimalACL is the ACL a mode alone stands for.
func minimalACL(mode uint32) ACL {
	return ACL{
		{Tag: TagUserObj, Perm: uint16(mode>>6) & 7, ID: undefinedID},
		{Tag: TagGroupObj, Perm: uint16(mode>>3) & 7, ID: undefinedID},
		{Tag: TagOther, Perm: uint16(mode) & 7, ID: undefinedID},
	}
}

func (a ACL) find(t Tag, id uint32) int {
	for i, e := range a {
		if e.Tag == t && (t != TagUser && t != TagGroup || e.ID == id) {
			return i
		}
	}
	return -1
}

// Extended reports whether the ACL says more than a mode can.
func (a ACL) Extended() bool { return len(a) > 3 }

// WithUser returns the ACL with perm added for uid and the mask raised to
// let it through, and whether anything changed. It refuses (error) when
// raising the mask would also widen what another named entry or the owning
// group may do: the grant must give exactly uid its bits and nothing else.
func (a ACL) WithUser(uid uint32, perm uint16) (ACL, bool, error) {
	out := append(ACL(nil), a...)
	mi := out.find(TagMask, 0)
	ui := out.find(TagUser, uid)
	if ui >= 0 && out[ui].Perm&perm == perm && (mi < 0 || out[mi].Perm&perm == perm) {
		return a, false, nil
	}
	if ui >= 0 {
		out[ui].Perm |= perm
	} else {
		out = append(out, Entry{Tag: TagUser, Perm: perm, ID: uid})
	}
	if mi >= 0 {
		old, raised := out[mi].Perm, out[mi].Perm|perm
		for _, e := range out {
			if (e.Tag == TagUser && e.ID != uid) || e.Tag == TagGroup || e.Tag == TagGroupObj {
				if e.Perm&raised != e.Perm&old {
					return a, false, fmt.Errorf("raising the ACL mask to %s would also give %s", permString(raised), e)
				}
			}
		}
		out[mi].Perm = raised
	} else {
		// No mask yet: the mask setfacl computes, the union of the group
		// class, which leaves the owning group exactly its old bits.
		m := out[out.find(TagGroupObj, 0)].Perm | perm
		out = append(out, Entry{Tag: TagMask, Perm: m, ID: undefinedID})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Tag != out[j].Tag {
			return out[i].Tag < out[j].Tag
		}
		return out[i].ID < out[j].ID
	})
	return out, true, nil
}

func (t Tag) String() string {
	switch t {
	case TagUserObj, TagUser:
		return "user"
	case TagGroupObj, TagGroup:
		return "group"
	case TagMask:
		return "mask"
	case TagOther:
		return "other"
	}
	return "tag" + strconv.Itoa(int(t))
}

// String is the getfacl form of the entry ("user:1001:r--"; owner and
// owning group have an empty qualifier).
func (e Entry) String() string {
	q := ""
	if e.Tag == TagUser || e.Tag == TagGroup {
		q = strconv.FormatUint(uint64(e.ID), 10)
	}
	return e.Tag.String() + ":" + q + ":" + permString(e.Perm)
}

// String is the ACL as getfacl -n prints it, comma-separated.
func (a ACL) String() string {
	var s []string
	for _, e := range a {
		s = append(s, e.String())
	}
	return strings.Join(s, ",")
}

func permString(p uint16) string {
	b := []byte("---")
	if p&PermRead != 0 {
		b[0] = 'r'
	}
	if p&PermWrite != 0 {
		b[1] = 'w'
	}
	if p&PermExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}
