package firewall

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const apiBody = `{"result":{"ipv4_cidrs":["173.245.48.0/20","103.21.244.0/22","103.22.200.0/22","103.31.4.0/22","141.101.64.0/18","108.162.192.0/18"],"ipv6_cidrs":["2400:cb00::/32","2606:4700::/32","2803:f800::/32","2405:b500::/32","2405:8100::/32"],"etag":"38f79d050aa027e3be3865e495dcc9bc"},"success":true,"errors":[],"messages":[]}`

const v4Body = "173.245.48.0/20\n103.21.244.0/22\n103.22.200.0/22\n103.31.4.0/22\n141.101.64.0/18\n108.162.192.0/18\n190.93.240.0/20\n"
const v6Body = "2400:cb00::/32\r\n2606:4700::/32\r\n2803:f800::/32\r\n2405:b500::/32\r\n2405:8100::/32\r\n"

func TestEmbedded(t *testing.T) {
	r, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.V4) != 15 || len(r.V6) != 7 || r.Source != SourceEmbedded {
		t.Fatalf("embedded: %d v4, %d v6, source %q", len(r.V4), len(r.V6), r.Source)
	}
	for _, p := range r.All() {
		if IsStale(p) {
			t.Errorf("embedded %s is stale", p)
		}
	}
}

func TestParseList(t *testing.T) {
	five := "173.245.48.0/20\n103.21.244.0/22\n103.22.200.0/22\n103.31.4.0/22\n141.101.64.0/18\n"
	tests := []struct {
		name, body string
		fam        Family
		want       int
		err        string
	}{
		{"plain", v4Body, IPv4, 7, ""},
		{"crlf and blank lines", "\n" + strings.ReplaceAll(v6Body, "\r\n", "\r\n\n"), IPv6, 5, ""},
		{"no trailing newline", strings.TrimSpace(five), IPv4, 5, ""},
		{"too few", "173.245.48.0/20\n103.21.244.0/22\n", IPv4, 0, "2 ipv4 ranges"},
		{"empty", "", IPv4, 0, "0 ipv4 ranges"},
		{"html error page", "<!DOCTYPE html>\n<html><body>Attention Required</body></html>\n", IPv4, 0, "not a CIDR"},
		{"wrong family", v6Body, IPv4, 0, "is not ipv4"},
		{"host bits", strings.Replace(five, "173.245.48.0/20", "173.245.48.1/20", 1), IPv4, 0, "host bits"},
		{"private", five + "10.0.0.0/8\n", IPv4, 0, "not a public range"},
		{"loopback", five + "127.0.0.0/8\n", IPv4, 0, "not a public range"},
		{"link-local v6", v6Body + "fe80::/64\n", IPv6, 0, "not a public range"},
		{"multicast", five + "224.0.0.0/8\n", IPv4, 0, "not a public range"},
		{"default route", five + "0.0.0.0/0\n", IPv4, 0, "too wide"},
		{"duplicate", five + "103.31.4.0/22\n", IPv4, 0, "overlaps"},
		{"overlap", five + "173.245.48.0/21\n", IPv4, 0, "overlaps"},
		{"bare address", five + "1.1.1.1\n", IPv4, 0, "not a CIDR"},
		{"too many", strings.Repeat("x\n", 0) + manyRanges(101), IPv4, 0, "more than 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseList([]byte(tt.body), tt.fam)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrBadList) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("got %d ranges, err %v; want %d", len(got), err, tt.want)
			}
		})
	}
}

func manyRanges(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(netip.AddrFrom4([4]byte{100, byte(i), 0, 0}).String() + "/16\n")
	}
	return b.String()
}

func TestParseAPI(t *testing.T) {
	r, err := ParseAPI([]byte(apiBody))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.V4) != 6 || len(r.V6) != 5 || r.ETag != "38f79d050aa027e3be3865e495dcc9bc" {
		t.Fatalf("got %+v", r)
	}
	for _, bad := range []string{
		`{"result":null,"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}`,
		`{"result":{"ipv4_cidrs":[],"ipv6_cidrs":[]},"success":true}`,
		`{"result":{"ipv4_cidrs":["173.245.48.0/20"],`,
		`<html>502 Bad Gateway</html>`,
	} {
		if _, err := ParseAPI([]byte(bad)); !errors.Is(err, ErrBadList) {
			t.Errorf("ParseAPI(%.40q) err = %v, want ErrBadList", bad, err)
		}
	}
}

func TestIsStale(t *testing.T) {
	tests := []struct {
		p    string
		want bool
	}{
		{"104.16.0.0/12", true},
		{"199.27.128.0/21", true},
		{"199.27.132.0/22", true},
		{"104.16.0.0/13", false},
		{"104.24.0.0/14", false},
		{"173.245.48.0/20", false},
		{"199.27.0.0/16", false},
	}
	for _, tt := range tests {
		if got := IsStale(netip.MustParsePrefix(tt.p)); got != tt.want {
			t.Errorf("IsStale(%s) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// cfServer serves the three endpoints with the given bodies ("" → 404).
func cfServer(t *testing.T, api, v4, v6 string) URLs {
	t.Helper()
	mux := http.NewServeMux()
	serve := func(path, body string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if body == "" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("ETag", `"v4etag"`)
			w.Write([]byte(body))
		})
	}
	serve("/client/v4/ips", api)
	serve("/ips-v4", v4)
	serve("/ips-v6", v6)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return URLs{API: srv.URL + "/client/v4/ips", V4: srv.URL + "/ips-v4", V6: srv.URL + "/ips-v6"}
}

func TestUpdate(t *testing.T) {
	old, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Run("api", func(t *testing.T) {
		urls := cfServer(t, apiBody, "", "")
		r, d, err := Update(ctx, nil, urls, old)
		if err != nil {
			t.Fatal(err)
		}
		if r.Source != urls.API || r.ETag == "" || r.Fetched.IsZero() || len(r.V4) != 6 {
			t.Fatalf("got %+v", r)
		}
		// old has 15+7, new 6+5: 11 removed, none added
		if len(d.Added) != 0 || len(d.Removed) != 11 {
			t.Fatalf("diff %+v", d)
		}
	})
	t.Run("api garbage, plain lists good", func(t *testing.T) {
		urls := cfServer(t, "<html>oops</html>", v4Body, v6Body)
		r, _, err := Update(ctx, nil, urls, old)
		if err != nil || r.Source != urls.V4 || len(r.V4) != 7 || len(r.V6) != 5 || r.ETag != `"v4etag"` {
			t.Fatalf("got %+v, %v", r, err)
		}
	})
	bad := []struct {
		name, api, v4, v6, why string
	}{
		{"all 404", "", "", "", "404"},
		{"empty v4", "", "\n", v6Body, "0 ipv4 ranges"},
		{"garbage v6", "", v4Body, "<html>captive portal</html>", "not a CIDR"},
		{"too few", `{"result":{"ipv4_cidrs":["173.245.48.0/20"],"ipv6_cidrs":[]},"success":true}`, "", "", "1 ipv4 ranges"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			urls := cfServer(t, tt.api, tt.v4, tt.v6)
			r, d, err := Update(ctx, nil, urls, old)
			if err == nil || !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), "keeping the embedded list") {
				t.Fatalf("err = %v, want %q", err, tt.why)
			}
			if r.Source != old.Source || len(r.V4) != len(old.V4) || !d.Empty() {
				t.Fatalf("old list not kept: %+v %+v", r, d)
			}
		})
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	r, err := Load(dir)
	if !errors.Is(err, ErrUsingEmbedded) || !errors.Is(err, fs.ErrNotExist) || r.Source != SourceEmbedded || len(r.V4) != 15 {
		t.Fatalf("missing file: %+v, %v", r, err)
	}
	fetched, err := ParseAPI([]byte(apiBody))
	if err != nil {
		t.Fatal(err)
	}
	if err := fetched.Save(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, RangesFile))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("stat: %v %v", fi, err)
	}
	got, err := Load(dir)
	if err != nil || got.Source != SourceFile || !DiffRanges(fetched, got).Empty() || got.ETag != fetched.ETag {
		t.Fatalf("load: %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left: %v", entries)
	}
	os.WriteFile(filepath.Join(dir, RangesFile), []byte(`{"ipv4_cidrs":["10.0.0.0/8"]}`), 0o644)
	r, err = Load(dir)
	if !errors.Is(err, ErrUsingEmbedded) || !errors.Is(err, ErrBadList) || r.Source != SourceEmbedded {
		t.Fatalf("invalid file: %+v, %v", r, err)
	}
	if err := fetched.Save(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("save into a missing dir succeeded")
	}
}
