package detect

import (
	"log/slog"

	"github.com/origin-agent/origin-agent/parsers"
)

// ChooseLines is how many lines of a new file the daemon looks at before
// it picks the file's format; fewer when no more are there yet.
const ChooseLines = 8

// Chooser picks a followed file's parser the way `analyze` does (Choose
// over the configured formats, then the built-in ones), from the first
// lines of each file generation: a file that appears after start, or one
// rotated in with another format, is judged on its own lines.
type Chooser struct {
	path    string
	formats []Format
	opts    parsers.Options
	log     *slog.Logger
	byFile  map[Generation]parsers.Func
	last    parsers.Func // the latest generation's parser: the fallback
	lastEnd map[Generation]int64
}

// Generation identifies a file generation by device and inode; a file
// truncated in place (copytruncate) is told by its offsets going back.
type Generation struct{ Dev, Ino uint64 }

// NewChooser chooses among formats for the file at path; o are the
// parsers' options. A nil log discards.
func NewChooser(path string, formats []Format, o parsers.Options, log *slog.Logger) *Chooser {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Chooser{path: path, formats: formats, opts: o, log: log, byFile: map[Generation]parsers.Func{}, lastEnd: map[Generation]int64{}}
}

// Known returns the parser of generation g, read up to offset, or nil
// when it must be chosen.
func (c *Chooser) Known(g Generation, offset int64) parsers.Func {
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

// Choose picks the parser for generation g, at offset, from its first
// lines.
func (c *Chooser) Choose(g Generation, offset int64, sample [][]byte) parsers.Func {
	var p parsers.Func
	f, r, ok := Choose(c.path, sample, c.formats)
	switch {
	case ok:
		i := r.Index
		p = Build(c.formats, i, c.opts, false)
		c.log.Info("log format chosen", "path", c.path, "type", f.Type, "format", f.Name, "parsed", r.Matched, "of", r.Sampled)
	case c.last != nil:
		p = c.last
		c.log.Warn("log format: no known format reads the new file's first lines; keeping the previous one", "path", c.path, "lines", len(sample))
	default:
		i := 0
		if r.Near >= 0 {
			i = r.Near
		}
		p = Build(c.formats, i, c.opts, false)
		c.log.Warn("log format: no known format reads the file's first lines; trying one anyway", "path", c.path, "format", c.formats[i].Name, "lines", len(sample))
	}
	if len(c.byFile) > 8 { // generations long gone
		clear(c.byFile)
		clear(c.lastEnd)
	}
	c.byFile[g], c.lastEnd[g], c.last = p, offset, p
	return p
}
