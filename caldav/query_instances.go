package caldav

import (
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"
	gocaldav "github.com/emersion/go-webdav/caldav"

	"github.com/calbolt/calbolt/internal/recur"
	"github.com/calbolt/calbolt/store"
)

// The calendar-query every client syncs with — the events of a time range
// (VCALENDAR > VEVENT with a time-range and nothing else) — is answered
// from remembered instance spans: per object version, calendar quarter and
// floating zone, the spans of its VEVENT instances. A candidate from the
// span index is then tested without parsing it; only objects not seen yet
// in that quarter are parsed and expanded, once. Any other filter takes
// the general path (match.go).

// maxFastQuarters bounds the quarters one query walks on the fast path;
// wider (or open-ended) ranges take the general path.
const maxFastQuarters = 9

// instanceCacheSize caps the remembered (object, quarter) entries; when
// full, the cache starts over.
const instanceCacheSize = 200_000

type instKey struct {
	cal, name, etag, zone string
	quarter               int
}

// instSpan is one instance: its span and the facts recur.Overlaps needs.
type instSpan struct {
	start, end                    int64
	hasStart, hasEnd, hasDuration bool
	allDay                        bool
}

type instEntry struct {
	spans   []instSpan
	invalid bool // the object could not be expanded: take the general path
}

type instanceCache struct {
	mu sync.Mutex
	m  map[instKey]*instEntry
}

func newInstanceCache() *instanceCache {
	return &instanceCache{m: map[instKey]*instEntry{}}
}

// eventRange reports whether f asks only for the events of a time range,
// and returns the range.
func eventRange(f *gocaldav.CompFilter) (start, end time.Time, ok bool) {
	if f.IsNotDefined || len(f.Props) > 0 || len(f.Comps) != 1 || hasTimeRange(f.Start, f.End) {
		return start, end, false
	}
	c := &f.Comps[0]
	if !strings.EqualFold(c.Name, ical.CompEvent) || c.IsNotDefined || len(c.Props) > 0 || len(c.Comps) > 0 ||
		c.Start.IsZero() || c.End.IsZero() {
		return start, end, false
	}
	if quarterOf(c.End.Add(-time.Nanosecond))-quarterOf(c.Start)+1 > maxFastQuarters {
		return start, end, false
	}
	return c.Start, c.End, true
}

func quarterOf(t time.Time) int {
	t = t.UTC()
	return t.Year()*4 + (int(t.Month())-1)/3
}

func quarterStart(q int) time.Time {
	return time.Date(q/4, time.Month(q%4*3+1), 1, 0, 0, 0, 0, time.UTC)
}

func zoneKey(loc *time.Location) string {
	if loc == nil {
		return ""
	}
	return loc.String()
}

// match reports whether some VEVENT instance of o overlaps [start, end)
// (RFC 4791 §9.9). known is false when the object cannot be judged here
// (it does not parse or expand): the caller then takes the general path.
func (c *instanceCache) match(calID string, o *store.Object, opts *recur.Options, start, end time.Time) (ok, known bool) {
	zone := zoneKey(opts.Floating)
	var ic *ical.Calendar
	event := &ical.Component{Name: ical.CompEvent}
	for q := quarterOf(start); quarterStart(q).Before(end); q++ {
		k := instKey{cal: calID, name: o.Name, etag: o.ETag, zone: zone, quarter: q}
		c.mu.Lock()
		e := c.m[k]
		c.mu.Unlock()
		if e == nil {
			if ic == nil {
				var err error
				if ic, err = decodeCalendar(o.Data); err != nil {
					return false, false
				}
			}
			e = expandQuarter(ic, opts, q)
			c.mu.Lock()
			if len(c.m) >= instanceCacheSize {
				c.m = map[instKey]*instEntry{}
			}
			c.m[k] = e
			c.mu.Unlock()
		}
		if e.invalid {
			return false, false
		}
		for _, s := range e.spans {
			in := recur.Instance{
				Start: time.Unix(s.start, 0).UTC(), End: time.Unix(s.end, 0).UTC(), Component: event,
				HasStart: s.hasStart, HasEnd: s.hasEnd, HasDuration: s.hasDuration, AllDay: s.allDay,
			}
			if recur.Overlaps(in, start, end) {
				return true, true
			}
		}
	}
	return false, true
}

// expandQuarter lists the VEVENT instances of ic that overlap quarter q.
func expandQuarter(ic *ical.Calendar, opts *recur.Options, q int) *instEntry {
	o := *opts
	o.Select = func(c *ical.Component) bool { return c.Name == ical.CompEvent }
	e := &instEntry{}
	err := recur.Each(ic, quarterStart(q), quarterStart(q+1), &o, func(in recur.Instance) bool {
		if in.Start.Nanosecond() != 0 || in.End.Nanosecond() != 0 {
			e.invalid = true // not representable in seconds: let the general path judge
			return false
		}
		e.spans = append(e.spans, instSpan{start: in.Start.Unix(), end: in.End.Unix(),
			hasStart: in.HasStart, hasEnd: in.HasEnd, hasDuration: in.HasDuration, allDay: in.AllDay})
		return true
	})
	if err != nil {
		e.invalid = true
	}
	return e
}
