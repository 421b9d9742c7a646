package caldav

import (
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"time"

	gocaldav "github.com/emersion/go-webdav/caldav"

	"github.com/calbolt/calbolt/internal/recur"
	"github.com/calbolt/calbolt/store"
)

// calendarQueryReq is a CALDAV:calendar-query body (RFC 4791 §7.8).
type calendarQueryReq struct {
	XMLName  xml.Name     `xml:"urn:ietf:params:xml:ns:caldav calendar-query"`
	Prop     *reportProps `xml:"DAV: prop"`
	AllProp  *struct{}    `xml:"DAV: allprop"`
	Filter   *filterEl    `xml:"urn:ietf:params:xml:ns:caldav filter"`
	Timezone string       `xml:"urn:ietf:params:xml:ns:caldav timezone"`
}

type filterEl struct {
	CompFilter *compFilterEl `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
}

type compFilterEl struct {
	Name         string         `xml:"name,attr"`
	IsNotDefined *struct{}      `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TimeRange    *timeRangeEl   `xml:"urn:ietf:params:xml:ns:caldav time-range"`
	PropFilters  []propFilterEl `xml:"urn:ietf:params:xml:ns:caldav prop-filter"`
	CompFilters  []compFilterEl `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
}

type propFilterEl struct {
	Name         string          `xml:"name,attr"`
	IsNotDefined *struct{}       `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TimeRange    *timeRangeEl    `xml:"urn:ietf:params:xml:ns:caldav time-range"`
	TextMatch    *textMatchEl    `xml:"urn:ietf:params:xml:ns:caldav text-match"`
	ParamFilters []paramFilterEl `xml:"urn:ietf:params:xml:ns:caldav param-filter"`
}

type paramFilterEl struct {
	Name         string       `xml:"name,attr"`
	IsNotDefined *struct{}    `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TextMatch    *textMatchEl `xml:"urn:ietf:params:xml:ns:caldav text-match"`
}

type textMatchEl struct {
	Text      string `xml:",chardata"`
	Collation string `xml:"collation,attr"`
	Negate    string `xml:"negate-condition,attr"`
}

type timeRangeEl struct {
	Start string `xml:"start,attr"`
	End   string `xml:"end,attr"`
}

// Bounds on a calendar-query filter.
const (
	maxFilterNodes   = 200
	maxTextMatchLen  = 1024
	openRangeStartYr = 1900
	openRangeEndYr   = 2200
)

// filterBuilder converts the XML filter into go-webdav's query model,
// validating it (RFC 4791 §9.7) and counting its nodes.
type filterBuilder struct {
	nodes      int
	collations map[*gocaldav.TextMatch]string // go-webdav's TextMatch has no collation field
}

func (b *filterBuilder) count() error {
	b.nodes++
	if b.nodes > maxFilterNodes {
		return validFilter("the filter is too complex")
	}
	return nil
}

func (b *filterBuilder) timeRange(tr *timeRangeEl) (time.Time, time.Time, error) {
	if tr.Start == "" && tr.End == "" {
		return time.Time{}, time.Time{}, validFilter("time-range needs start or end")
	}
	start := time.Date(openRangeStartYr, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(openRangeEndYr, 1, 1, 0, 0, 0, 0, time.UTC)
	var err error
	if tr.Start != "" {
		if start, err = parseUTC(tr.Start); err != nil {
			return start, end, validFilter("time-range start must be a UTC date-time")
		}
	}
	if tr.End != "" {
		if end, err = parseUTC(tr.End); err != nil {
			return start, end, validFilter("time-range end must be a UTC date-time")
		}
	}
	if !end.After(start) {
		return start, end, validFilter("time-range end must be after its start")
	}
	return start, end, nil
}

func (b *filterBuilder) textMatch(tm *textMatchEl) (*gocaldav.TextMatch, error) {
	if err := b.count(); err != nil {
		return nil, err
	}
	switch tm.Collation {
	case "", "i;ascii-casemap", "i;octet", "i;unicode-casemap":
	default:
		return nil, precondition(http.StatusForbidden, "c:supported-collation", "unsupported collation "+tm.Collation)
	}
	if len(tm.Text) > maxTextMatchLen {
		return nil, validFilter("text-match is too long")
	}
	m := &gocaldav.TextMatch{Text: tm.Text, NegateCondition: tm.Negate == "yes"}
	if tm.Collation != "" {
		if b.collations == nil {
			b.collations = map[*gocaldav.TextMatch]string{}
		}
		b.collations[m] = tm.Collation
	}
	return m, nil
}

func (b *filterBuilder) comp(el *compFilterEl) (*gocaldav.CompFilter, error) {
	if err := b.count(); err != nil {
		return nil, err
	}
	if el.Name == "" {
		return nil, validFilter("comp-filter needs a name")
	}
	f := &gocaldav.CompFilter{Name: el.Name, IsNotDefined: el.IsNotDefined != nil}
	if el.TimeRange != nil {
		var err error
		if f.Start, f.End, err = b.timeRange(el.TimeRange); err != nil {
			return nil, err
		}
	}
	for i := range el.PropFilters {
		pf, err := b.prop(&el.PropFilters[i])
		if err != nil {
			return nil, err
		}
		f.Props = append(f.Props, *pf)
	}
	for i := range el.CompFilters {
		cf, err := b.comp(&el.CompFilters[i])
		if err != nil {
			return nil, err
		}
		f.Comps = append(f.Comps, *cf)
	}
	return f, nil
}

func (b *filterBuilder) prop(el *propFilterEl) (*gocaldav.PropFilter, error) {
	if err := b.count(); err != nil {
		return nil, err
	}
	if el.Name == "" {
		return nil, validFilter("prop-filter needs a name")
	}
	f := &gocaldav.PropFilter{Name: el.Name, IsNotDefined: el.IsNotDefined != nil}
	var err error
	if el.TimeRange != nil {
		if f.Start, f.End, err = b.timeRange(el.TimeRange); err != nil {
			return nil, err
		}
	}
	if el.TextMatch != nil {
		if f.TextMatch, err = b.textMatch(el.TextMatch); err != nil {
			return nil, err
		}
	}
	for _, p := range el.ParamFilters {
		if p.Name == "" {
			return nil, validFilter("param-filter needs a name")
		}
		pf := gocaldav.ParamFilter{Name: p.Name, IsNotDefined: p.IsNotDefined != nil}
		if p.TextMatch != nil {
			if pf.TextMatch, err = b.textMatch(p.TextMatch); err != nil {
				return nil, err
			}
		}
		f.ParamFilter = append(f.ParamFilter, pf)
	}
	return f, nil
}

// reportQuery answers calendar-query (RFC 4791 §7.8) on a calendar (Depth 1;
// a missing Depth is taken as 1) or on one object. When the filter has a
// time-range on the main component, only objects whose span-index entry
// overlaps it are read; every candidate is then matched with the recurrence
// engine, so overridden, excluded, all-day and floating instances count
// right.
func (h *handler) reportQuery(w http.ResponseWriter, r *http.Request, res resource, body []byte) error {
	var req calendarQueryReq
	if err := decodeXML(body, &req); err != nil {
		return err
	}
	if req.Filter == nil || req.Filter.CompFilter == nil {
		return validFilter("calendar-query needs a filter")
	}
	var b filterBuilder
	filter, err := b.comp(req.Filter.CompFilter)
	if err != nil {
		return err
	}
	if filter.Name != "VCALENDAR" {
		return validFilter("the filter's top comp-filter must be VCALENDAR")
	}
	pr, dr, err := propRequestOf(r, req.Prop)
	if err != nil {
		return err
	}
	if req.Prop == nil && req.AllProp != nil {
		pr.names, pr.allProp = nil, true
	}
	d, err := depth(r, 1)
	if err != nil {
		return err
	}

	var cal store.Calendar
	var candidates []store.Object
	switch res.kind {
	case kindCalendar:
		if cal, err = h.db.Calendar(res.user, res.calendar); err != nil {
			return err
		}
		if d != 0 {
			if candidates, err = h.queryCandidates(res, filter); err != nil {
				return err
			}
		}
	case kindObject:
		if cal, err = h.db.Calendar(res.user, res.calendar); err != nil {
			return err
		}
		o, err := h.db.Object(res.user, res.calendar, res.object)
		if err != nil {
			return err
		}
		candidates = []store.Object{o}
	default:
		if _, err := h.load(r, res, false); err != nil {
			return err
		}
		return errUnsupportedRep
	}

	opts := &recur.Options{Floating: floatingZone(&cal)}
	if req.Timezone != "" {
		// RFC 4791 §9.8: the query's own timezone for floating times.
		if tz := zoneOf(req.Timezone); tz != nil {
			opts.Floating = tz
		}
	}
	var matched []store.Object
	fastStart, fastEnd, fast := eventRange(filter)
	for _, o := range candidates {
		if fast {
			if ok, known := h.instances.match(cal.ID, &o, opts, fastStart, fastEnd); known {
				if ok {
					if !pr.wantsData() {
						o.Data = nil
					}
					matched = append(matched, o)
				}
				continue
			}
		}
		ic, err := decodeCalendar(o.Data)
		if err != nil {
			h.log.Warn("stored object does not parse", "user", res.user, "calendar", res.calendar, "object", o.Name, "err", err)
			continue
		}
		ok, err := matchCompFilterCollations(filter, ic, opts, b.collations)
		if err != nil {
			// One object the engine cannot read (say, an unknown TZID
			// that slipped in before validation) must not fail the
			// whole REPORT.
			if !errors.Is(err, recur.ErrInvalid) && !errors.Is(err, recur.ErrTooManyInstances) {
				return err
			}
			h.log.LogAttrs(r.Context(), slog.LevelWarn, "object skipped in calendar-query",
				slog.String("object", o.Name), slog.Any("err", err))
			continue
		}
		if ok {
			if !pr.wantsData() {
				o.Data = nil
			}
			matched = append(matched, o)
		}
	}
	ms := newMultistatus(w)
	h.writeObjects(ms, r, res.user, &cal, matched, pr, dr)
	return ms.close()
}

// queryCandidates returns the objects a filter can match: by the span index
// when the main component filter has a time-range, else every object of
// that component.
func (h *handler) queryCandidates(res resource, f *gocaldav.CompFilter) ([]store.Object, error) {
	var comp string
	var start, end time.Time
	if len(f.Comps) == 1 && !f.Comps[0].IsNotDefined {
		comp = f.Comps[0].Name
		start, end = f.Comps[0].Start, f.Comps[0].End
	}
	var objs []store.Object
	var err error
	if !start.IsZero() || !end.IsZero() {
		objs, err = h.db.ObjectsInRange(res.user, res.calendar, start.Unix(), end.Unix())
	} else {
		var infos []store.Object
		if infos, err = h.db.ObjectInfos(res.user, res.calendar); err != nil {
			return nil, err
		}
		names := make([]string, 0, len(infos))
		for _, o := range infos {
			if comp == "" || o.Component == comp {
				names = append(names, o.Name)
			}
		}
		objs, err = h.db.Objects(res.user, res.calendar, names)
	}
	if err != nil {
		return nil, err
	}
	if comp == "" {
		return objs, nil
	}
	out := objs[:0]
	for _, o := range objs {
		if o.Component == comp {
			out = append(out, o)
		}
	}
	return out, nil
}
