package parsers

import "time"

// Options are what a parser needs to know about its file that the lines do
// not say. They are fixed when the parser is made; parsing stays pure.
type Options struct {
	// Location is used for time stamps that carry no zone (nginx error log,
	// php-fpm, classic syslog). Nil means UTC.
	Location *time.Location
	// Ref anchors stamps that carry no year (classic syslog "Nov 20 10:01:02"):
	// the year is Ref's, or the one before when the month lies after Ref's
	// month (a December line read in January). Typically the file's mtime.
	// Zero means the year is unknown and year 1 is used (and Event.NoYear set).
	Ref time.Time
}

// Loc returns o.Location, or UTC when unset.
func (o Options) Loc() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

// InferYear returns the year to give a yearless stamp of month m.
func (o Options) InferYear(m time.Month) int {
	if o.Ref.IsZero() {
		return 1
	}
	y := o.Ref.Year()
	if m > o.Ref.Month() {
		y--
	}
	return y
}
