package firewall

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		file string
		want []Frontend
	}{
		{"ufw.save", []Frontend{FrontendUFW}},
		{"firewalld.save", []Frontend{FrontendFirewalld}},
		{"docker.save", []Frontend{FrontendDocker}},
		{"plain.save", nil},
	}
	for _, tt := range tests {
		if got := Detect(nil, fileRules(t, tt.file)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.file, got, tt.want)
		}
	}
	rs := mustRules(t, "-P INPUT ACCEPT\n-N f2b-sshd\n-N ORIGIN-AGENT-CF\n")
	if got := Detect(&NftRuleset{Tables: []string{"inet firewalld"}}, rs); !slices.Equal(got, []Frontend{FrontendFirewalld, FrontendFail2ban, FrontendOwn}) {
		t.Errorf("got %v", got)
	}
}

func TestBackend(t *testing.T) {
	for in, want := range map[string]string{
		"iptables v1.8.9 (nf_tables)": "nf_tables",
		"iptables v1.8.9 (legacy)":    "legacy",
		"iptables v1.6.1":             "legacy",
		"bash: iptables: not found":   "",
	} {
		if got := Backend(in); got != want {
			t.Errorf("Backend(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeLister serves captured files.
type fakeLister struct{ v4, v6, sets, nft, version string }

func (f fakeLister) file(name string) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("fake: %w", ErrNotInstalled)
	}
	return os.ReadFile("testdata/" + name)
}
func (f fakeLister) Rules(_ context.Context, fam Family) ([]byte, error) {
	if fam == IPv4 {
		return f.file(f.v4)
	}
	return f.file(f.v6)
}
func (f fakeLister) Version(context.Context) (string, error) { return f.version, nil }
func (f fakeLister) IPSets(context.Context) ([]byte, error)  { return f.file(f.sets) }
func (f fakeLister) Nft(context.Context) ([]byte, error)     { return f.file(f.nft) }

func TestRead(t *testing.T) {
	fw, err := Read(context.Background(), fakeLister{v4: "ufw-legacy-warning.S", v6: "ufw6.save", nft: "ufw-iptables-nft.nft.json", version: "iptables v1.8.9 (nf_tables)"})
	if err != nil {
		t.Fatal(err)
	}
	if fw.Backend != "nf_tables" || !slices.Equal(fw.Frontends, []Frontend{FrontendUFW}) || len(fw.Warnings) != 1 || fw.V6 == nil || fw.Nft == nil {
		t.Fatalf("got %+v", fw)
	}
	_, err = Read(context.Background(), fakeLister{})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("nothing readable: %v", err)
	}
}
