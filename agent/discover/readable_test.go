package discover

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/agent/access"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// TestAccessStockPHPFPM lays out php-fpm as Debian does — its log root:root
// 0600, its socket www-data:www-data 0660, nginx's log www-data:adm 0640 —
// with real owners and modes, and asks what a service user in group adm
// can use: the php-fpm log is named with the path unit as its fix, the
// socket is "not needed", the nginx log is readable.
func TestAccessStockPHPFPM(t *testing.T) {
	testenv.Require(t, testenv.Root())
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(name string, mode os.FileMode, uid, gid int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fpmLog := mk("php8.2-fpm.log", 0o600, 0, 0)
	nginxLog := mk("nginx-access.log", 0o640, 33, 4)
	sock := filepath.Join(dir, "php8.2-fpm.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.Chown(sock, 33, 33); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o660); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "php-fpm.conf")
	if err := os.WriteFile(conf, []byte("[global]\nerror_log = "+fpmLog+"\n[www]\nuser = www-data\nlisten = "+sock+
		"\npm = static\npm.max_children = 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := Discover(context.Background(), Options{System: OS(), NginxConf: "off", ApacheConf: "off", Kernel: "off",
		PHPFPMConf: conf, NginxAccess: []string{nginxLog}})
	u := access.User{Name: "origin-agent", UID: 65534, GIDs: []uint32{65534, 4}}
	got := map[string]Readable{}
	for _, r := range h.Access(u, true) {
		got[r.Path] = r
		t.Logf("%+v", r)
	}
	if r := got[fpmLog]; r.OK || r.Fix != LogAccessFix || !strings.Contains(r.Reason, "root:root 0600") {
		t.Errorf("php-fpm log: %+v", r)
	}
	// A log php-fpm has not written yet is "not yet", with no fix.
	h2 := Discover(context.Background(), Options{System: OS(), NginxConf: "off", ApacheConf: "off", Kernel: "off",
		PHPFPMConf: "off", PHPFPM: []string{filepath.Join(dir, "php8.3-fpm.log")}})
	if r := h2.Access(u, true); len(r) != 1 || r[0].OK || !r[0].Missing || r[0].Fix != "" {
		t.Errorf("missing php-fpm log: %+v", r)
	}
	if r := got[nginxLog]; !r.OK {
		t.Errorf("nginx log: %+v", r)
	}
	if r := got[sock]; r.Kind != "probe" || r.OK || r.Needed || !strings.Contains(r.Fix, "listen.acl_users = origin-agent") {
		t.Errorf("socket probe: %+v", r)
	}
	// As the plain user, outside adm, the nginx log's fix is group adm.
	if r := (&Host{opts: h.opts, PHPFPM: h.PHPFPM}).Access(access.User{Name: "x", UID: 65534, GIDs: []uint32{65534}}, false); len(r) == 0 {
		t.Fatal("no verdicts")
	} else {
		for _, it := range r {
			if it.Path == nginxLog && (it.OK || !strings.HasPrefix(it.Fix, "usermod -aG adm x")) {
				t.Errorf("nginx log for a user outside adm: %+v", it)
			}
		}
	}
}
