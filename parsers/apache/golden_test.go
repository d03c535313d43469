package apache

import (
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/internal/golden"
)

// Specs of the custom formats the golden cases were written with (by a real
// apache2 2.4.71 run with these LogFormats).
const (
	specEverything = `%a %{c}a %h %{CF-Connecting-IP}i %{X-Forwarded-For}i [%{%Y-%m-%dT%H:%M:%S}t] [%{sec}t] [%{msec}t] [%{usec}t] %m %U%q %H %>s %<s %b %B %D %T %{ms}T %{us}T "%{CF-Ray}i" %v %V %p %P %{tid}P %X %I %O %S %k %L %R %f %% %!200,304{Host}i`
	specStrftimeZ  = `%{%d/%b/%Y %H:%M:%S %z}t %a "%r" %>s %B %{ms}T %{Host}i`
)

func goldenOpts() parsers.Options { return parsers.Options{Location: time.UTC, Ref: golden.Ref} }

func TestGoldenAccess(t *testing.T) {
	cases := []struct {
		dir string
		f   *Format
	}{
		{"../testdata/apache_access", Combined()},
		{"../testdata/apache_access/common", Common()},
		{"../testdata/apache_access/vhost_combined", VhostCombined()},
		{"../testdata/apache_access/custom_everything", mustCompile(t, "everything", specEverything)},
		{"../testdata/apache_access/custom_strftime", mustCompile(t, "strf_z", specStrftimeZ)},
	}
	for _, c := range cases {
		t.Run(c.f.Name(), func(t *testing.T) { golden.Run(t, c.dir, NewAccess(c.f, goldenOpts())) })
	}
}

func TestGoldenError(t *testing.T) {
	golden.Run(t, "../testdata/apache_error", NewError(goldenOpts()))
}

func mustCompile(t testing.TB, name, spec string) *Format {
	t.Helper()
	f, err := CompileLogFormat(name, spec)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
