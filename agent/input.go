package agent

import (
	"context"
	"errors"

	"github.com/origin-agent/origin-agent/agent/correlate"
)

// InputSource produces inputs for the correlator on its own goroutine.
// Run sends on out until ctx ends, selecting on ctx.Done() for every send,
// and returns nil on cancellation; it never closes out.
type InputSource interface {
	Name() string
	Run(ctx context.Context, out chan<- Item) error
}

// Item is one input in flight with its acknowledgement.
type Item struct {
	Input correlate.Input
	// Ack, when set, is called by the agent after the input was accepted.
	Ack func()
	// Source names a non-file source (Pump sets it), for
	// origin_agent_source_inputs_total.
	Source string

	skip bool // an unparseable line: not observed, only acknowledged in order
}

// Reader is what a Pump reads: kmsg.Reader, journal.Follower,
// oomwatch.Watcher. Run sends records on out until ctx ends (it never
// closes out) and returns ctx's error or why it stopped.
type Reader[T any] interface {
	Run(ctx context.Context, out chan<- T) error
}

// Pump is the InputSource of a Reader: it runs the reader and hands each
// record on as the input Convert makes of it, in order, one record
// converted after the one before was handed on; a record Convert declines
// (false) is dropped. The converters live next to what they convert
// (kmsg.Reader.Input, journal.Input, oomwatch.Input).
type Pump[T any] struct {
	Label   string
	Reader  Reader[T]
	Convert func(T) (correlate.Input, bool)
}

// Name is the source's label in logs and in
// origin_agent_source_inputs_total.
func (p *Pump[T]) Name() string { return p.Label }

// Run runs the reader until ctx ends or the reader fails.
func (p *Pump[T]) Run(ctx context.Context, out chan<- Item) error {
	recs := make(chan T, 256)
	errc := make(chan error, 1)
	go func() { errc <- p.Reader.Run(ctx, recs) }()
	for {
		select {
		case <-ctx.Done():
			return ignoreCancel(<-errc)
		case err := <-errc:
			return ignoreCancel(err)
		case r := <-recs:
			in, ok := p.Convert(r)
			if !ok {
				continue
			}
			select {
			case out <- Item{Input: in, Source: p.Label}:
			case <-ctx.Done():
				return ignoreCancel(<-errc)
			}
		}
	}
}

func ignoreCancel(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
