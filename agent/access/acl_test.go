package access

import (
	"bytes"
	"strings"
	"testing"
)

func TestACLRoundTrip(t *testing.T) {
	a := ACL{
		{Tag: TagUserObj, Perm: 6, ID: undefinedID},
		{Tag: TagUser, Perm: 4, ID: 1001},
		{Tag: TagGroupObj, Perm: 0, ID: undefinedID},
		{Tag: TagGroup, Perm: 5, ID: 4},
		{Tag: TagMask, Perm: 5, ID: undefinedID},
		{Tag: TagOther, Perm: 0, ID: undefinedID},
	}
	b := a.Bytes()
	if len(b) != 4+8*len(a) {
		t.Fatalf("%d bytes", len(b))
	}
	back, err := ParseACL(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.String(), "user::rw-,user:1001:r--,group::---,group:4:r-x,mask::r-x,other::---"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if !bytes.Equal(back.Bytes(), b) {
		t.Error("re-encoding differs")
	}
}

func TestParseACLRejects(t *testing.T) {
	good := minimalACL(0o640).Bytes()
	for name, b := range map[string][]byte{
		"empty":     nil,
		"short":     good[:7],
		"version":   append([]byte{1, 0, 0, 0}, good[4:]...),
		"perm":      func() []byte { c := append([]byte(nil), good...); c[6] = 8; return c }(),
		"tag":       func() []byte { c := append([]byte(nil), good...); c[4] = 0x40; return c }(),
		"no other":  good[:len(good)-8],
		"no mask":   append(append([]byte(nil), good...), 2, 0, 4, 0, 1, 0, 0, 0),
		"two users": ACL{{Tag: TagUserObj}, {Tag: TagUser, ID: 5}, {Tag: TagUser, ID: 5}, {Tag: TagGroupObj}, {Tag: TagMask}, {Tag: TagOther}}.Bytes(),
	} {
		if _, err := ParseACL(b); err == nil {
			t.Errorf("%s: accepted %x", name, b)
		}
	}
}

func TestWithUser(t *testing.T) {
	const uid = 999
	for _, c := range []struct {
		name, acl string // acl as String() prints it; "" = minimal of mode 0600
		perm      uint16
		want      string // "" = unchanged
		err       string
	}{
		// php-fpm's log: root 0600, no ACL. The mask becomes the owning
		// group's bits plus r, so the group still gets nothing.
		{name: "0600 file", perm: Read, want: "user::rw-,user:999:r--,group::---,mask::r--,other::---"},
		{name: "already", acl: "user::rw-,user:999:r--,group::---,mask::r--,other::---", perm: Read},
		{name: "adds x to r", acl: "user::rw-,user:999:r--,group::---,mask::r--,other::---", perm: Search,
			want: "user::rw-,user:999:r-x,group::---,mask::r-x,other::---"},
		{name: "mask raised, nobody else widened", acl: "user::rw-,user:5:r--,group::r--,mask::---,other::---", perm: Read,
			err: "would also give user:5:r--"},
		{name: "mask raised for us only", acl: "user::rw-,user:5:-w-,group::---,mask::-w-,other::---", perm: Read,
			want: "user::rw-,user:5:-w-,user:999:r--,group::---,mask::rw-,other::---"},
		{name: "masked entry of ours", acl: "user::rw-,user:999:r--,group::---,mask::---,other::---", perm: Read,
			want: "user::rw-,user:999:r--,group::---,mask::r--,other::---"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := minimalACL(0o600)
			if c.acl != "" {
				a = parseString(t, c.acl)
			}
			got, changed, err := a.WithUser(uid, c.perm)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.want == "" {
				if changed || got.String() != a.String() {
					t.Errorf("changed to %s", got)
				}
				return
			}
			if !changed || got.String() != c.want {
				t.Errorf("got %s (changed %v), want %s", got, changed, c.want)
			}
			if _, err := ParseACL(got.Bytes()); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
}

// parseString reads the String() form back (numeric qualifiers only).
func parseString(t *testing.T, s string) ACL {
	t.Helper()
	var a ACL
	for _, f := range strings.Split(s, ",") {
		p := strings.Split(f, ":")
		var e Entry
		switch {
		case p[0] == "user" && p[1] == "":
			e.Tag = TagUserObj
		case p[0] == "user":
			e.Tag = TagUser
		case p[0] == "group" && p[1] == "":
			e.Tag = TagGroupObj
		case p[0] == "group":
			e.Tag = TagGroup
		case p[0] == "mask":
			e.Tag = TagMask
		default:
			e.Tag = TagOther
		}
		e.ID = undefinedID
		if p[1] != "" {
			var id uint32
			for _, ch := range p[1] {
				id = id*10 + uint32(ch-'0')
			}
			e.ID = id
		}
		for i, ch := range p[2] {
			if ch != '-' {
				e.Perm |= 4 >> i
			}
		}
		a = append(a, e)
	}
	return a
}

func FuzzParseACL(f *testing.F) {
	f.Add(minimalACL(0o640).Bytes())
	f.Add(ACL{{Tag: TagUserObj, Perm: 6}, {Tag: TagUser, Perm: 4, ID: 7}, {Tag: TagGroupObj}, {Tag: TagMask, Perm: 4}, {Tag: TagOther}}.Bytes())
	f.Add([]byte{2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseACL(b)
		if err != nil {
			return
		}
		back, err := ParseACL(a.Bytes())
		if err != nil {
			t.Fatalf("re-encoded ACL does not parse: %v", err)
		}
		if !bytes.Equal(back.Bytes(), a.Bytes()) {
			t.Fatalf("round trip: %s → %s", a, back)
		}
		if na, _, err := a.WithUser(12345, Read); err == nil {
			if _, err := ParseACL(na.Bytes()); err != nil {
				t.Fatalf("WithUser made an invalid ACL %s: %v", na, err)
			}
		}
	})
}
