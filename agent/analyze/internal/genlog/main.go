// Command genlog writes a synthetic nginx access log in the combined format
// for benchmarks: N lines, one request every few milliseconds, with bursts
// of 502/504 making up 1% of the lines (-steady: every 100th line, all
// along: one incident as long as the log).
//
//	go run ./agent/analyze/internal/genlog -n 1000000 -o /tmp/big.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	n := flag.Int("n", 1_000_000, "lines")
	out := flag.String("o", "", "output file (default stdout)")
	bursts := flag.Int("bursts", 10, "number of error bursts (together 1% of the lines)")
	steady := flag.Bool("steady", false, "spread the 1% of 502/504 evenly over the whole log (one chronic incident) instead of bursts")
	flag.Parse()
	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	defer bw.Flush()
	r := rand.New(rand.NewPCG(1, 2))
	paths := []string{"/", "/index.php", "/products/item-%d", "/category/shoes?page=%d", "/api/cart/%d", "/static/app.%d.js", "/wp-login.php", "/search?q=item%d"}
	agents := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile/15E148",
		"curl/8.4.0",
	}
	t := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	burstLen := *n / 100 / max(*bursts, 1)
	every := *n / max(*bursts, 1)
	for i := 0; i < *n; i++ {
		t = t.Add(time.Duration(2+r.IntN(6)) * time.Millisecond)
		status := 200
		switch x := r.IntN(100); {
		case x < 5:
			status = 404
		case x < 8:
			status = 301
		}
		if *steady {
			if i%100 == 50 {
				status = []int{502, 504}[r.IntN(2)]
			}
		} else if burstLen > 0 && i%every >= every/2 && i%every < every/2+burstLen {
			status = []int{502, 504}[r.IntN(2)]
		}
		p := paths[r.IntN(len(paths))]
		if len(p) > 0 && p[len(p)-1] == 'd' || contains(p, "%d") {
			p = fmt.Sprintf(p, r.IntN(100000))
		}
		fmt.Fprintf(bw, "198.51.%d.%d - - [%s] \"GET %s HTTP/1.1\" %d %d \"https://www.example.com/\" \"%s\"\n",
			r.IntN(256), r.IntN(256), t.Format("02/Jan/2006:15:04:05 -0700"), p, status, 200+r.IntN(40000), agents[r.IntN(len(agents))])
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
