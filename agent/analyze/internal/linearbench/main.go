// Command linearbench checks that analyze costs the same per line however
// long an incident lasts: it generates combined logs of 1M and 3M lines
// with a steady 1 % of 502/504 all along (one chronic incident as long as
// the log, genlog -steady) and times `origin-agent analyze` against
// `grep -cE '" 50[24] '` on the same files in the same run, alternating,
// best of -runs. It prints the ratios the bars name: analyze/grep
// per size (bar 1.5) and analyze 3M / analyze 1M (bar 3.6).
//
//	go run ./agent/analyze/internal/linearbench -bin bin/origin-agent
//
// A benchmark, not a test: it reports and exits 0 whenever it could
// measure, 1 when it could not.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type timing struct {
	wall, cpu time.Duration
	maxRSS    int64 // KiB
}

func main() {
	bin := flag.String("bin", "bin/origin-agent", "the origin-agent binary to measure")
	dir := flag.String("dir", "", "where to write the logs (default: a temporary directory, removed after)")
	runs := flag.Int("runs", 5, "runs of each command per size; the best counts")
	sizes := flag.String("sizes", "1000000,3000000", "log sizes in lines (the first is the base of the growth ratio)")
	flag.Parse()
	if err := run(*bin, *dir, *runs, *sizes); err != nil {
		fmt.Fprintln(os.Stderr, "linearbench:", err)
		os.Exit(1)
	}
}

func run(bin, dir string, runs int, sizeList string) error {
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%v (make build first)", err)
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "linearbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var sizes []int
	for _, s := range strings.Split(sizeList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-sizes: %v", err)
		}
		sizes = append(sizes, n)
	}
	var base time.Duration
	for i, n := range sizes {
		path := filepath.Join(dir, fmt.Sprintf("steady-%d.log", n))
		if _, err := os.Stat(path); err != nil {
			gen := exec.Command("go", "run", "./agent/analyze/internal/genlog", "-steady", "-n", strconv.Itoa(n), "-o", path)
			if out, err := gen.CombinedOutput(); err != nil {
				return fmt.Errorf("genlog: %v\n%s", err, out)
			}
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		var g, a timing
		var gOut, aOut []byte
		for r := 0; r < runs; r++ {
			// grep's output must go to a pipe: with stdout on /dev/null
			// GNU grep stops at the first match.
			t, out, err := measure("grep", "-cE", `" 50[24] `, path)
			if err != nil {
				return fmt.Errorf("grep: %v", err)
			}
			g, gOut = best(g, t), out
			t, out, err = measure(bin, "analyze", "--format", "json", path)
			if err != nil {
				return fmt.Errorf("analyze: %v\n%s", err, out)
			}
			a, aOut = best(a, t), out
		}
		incidents := bytes.Count(aOut, []byte(`"cause":`))
		fmt.Printf("%d lines (%d MB), one incident all along (%d incident(s) found, grep counted %s gateway lines):\n",
			n, st.Size()>>20, incidents, strings.TrimSpace(string(gOut)))
		fmt.Printf("  grep     %6.3f s wall  %6.3f s cpu\n", g.wall.Seconds(), g.cpu.Seconds())
		fmt.Printf("  analyze  %6.3f s wall  %6.3f s cpu  %d MB peak RSS\n", a.wall.Seconds(), a.cpu.Seconds(), a.maxRSS>>10)
		fmt.Printf("  analyze/grep %.2f× wall (bar 1.5×)\n", a.wall.Seconds()/g.wall.Seconds())
		if i == 0 {
			base = a.wall
		} else {
			fmt.Printf("  analyze %d lines / %d lines: %.2f× wall for %.1f× the lines (bar 3.6× for 3×)\n",
				n, sizes[0], a.wall.Seconds()/base.Seconds(), float64(n)/float64(sizes[0]))
		}
	}
	return nil
}

// best keeps the faster run (the one least disturbed by the machine).
func best(a, b timing) timing {
	if a.wall == 0 || b.wall < a.wall {
		return b
	}
	return a
}

func measure(name string, args ...string) (timing, []byte, error) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return timing{}, out.Bytes(), err
	}
	ps := cmd.ProcessState
	t := timing{wall: wall, cpu: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		t.maxRSS = ru.Maxrss
	}
	return t, out.Bytes(), nil
}
