package agent

import (
	"log/slog"

	"github.com/origin-agent/origin-agent/agent/positions"
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/detect"
)

// chooseLines is how many lines of a new file the daemon looks at before
// it picks the file's format; fewer when no more are there yet.
const chooseLines = 8

// chooser picks a watched file's parser the way `analyze` does
// (detect.Choose over the configured formats, then the built-in ones),
// from the first lines of each file generation: a file that appears after
// start, or one rotated in with another format, is judged on its own lines.
type chooser struct {
	w       Watch
	log     *slog.Logger
	byFile  map[fileGen]parsers.Func
	last    parsers.Func // the latest generation's parser: the fallback
	lastEnd map[fileGen]int64
}

// fileGen identifies a file generation by device and inode; a file
// truncated in place (copytruncate) is told by its offsets going back.
type fileGen struct{ dev, ino uint64 }

func newChooser(w Watch, log *slog.Logger) *chooser {
	return &chooser{w: w, log: log, byFile: map[fileGen]parsers.Func{}, lastEnd: map[fileGen]int64{}}
}

// known returns the parser of l's generation, or nil when it must be chosen.
func (c *chooser) known(k positions.Key, offset int64) parsers.Func {
	g := fileGen{k.Dev, k.Ino}
	p, ok := c.byFile[g]
	if !ok {
		return nil
	}
	if offset < c.lastEnd[g] { // truncated and rewritten in place
		delete(c.byFile, g)
		return nil
	}
	c.lastEnd[g] = offset
	return p
}

// choose picks the parser for the generation of k from its first lines.
func (c *chooser) choose(k positions.Key, offset int64, sample [][]byte) parsers.Func {
	g := fileGen{k.Dev, k.Ino}
	var p parsers.Func
	f, r, ok := detect.Choose(c.w.Path, sample, c.w.Formats)
	switch {
	case ok:
		i := r.Index
		p = detect.Build(c.w.Formats, i, c.w.Options, false)
		c.log.Info("log format chosen", "path", c.w.Path, "type", f.Type, "format", f.Name, "parsed", r.Matched, "of", r.Sampled)
	case c.last != nil:
		p = c.last
		c.log.Warn("log format: no known format reads the new file's first lines; keeping the previous one", "path", c.w.Path, "lines", len(sample))
	default:
		i := 0
		if r.Near >= 0 {
			i = r.Near
		}
		p = detect.Build(c.w.Formats, i, c.w.Options, false)
		c.log.Warn("log format: no known format reads the file's first lines; trying one anyway", "path", c.w.Path, "format", c.w.Formats[i].Name, "lines", len(sample))
	}
	if len(c.byFile) > 8 { // generations long gone
		clear(c.byFile)
		clear(c.lastEnd)
	}
	c.byFile[g], c.lastEnd[g], c.last = p, offset, p
	return p
}
