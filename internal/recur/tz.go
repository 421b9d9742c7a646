package recur

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the binary carries the zone database

	"github.com/emersion/go-ical"
)

// A resolver reads TZIDs and floating times for one calendar object.
type resolver struct {
	cal      *ical.Calendar
	floating *time.Location
	locs     map[string]*time.Location
	dflt     *time.Location // while reading a component with a zoned DTSTART: its zone
}

func newResolver(cal *ical.Calendar, opts *Options) *resolver {
	r := &resolver{cal: cal, floating: time.UTC}
	if opts != nil && opts.Floating != nil {
		r.floating = opts.Floating
	}
	return r
}

func (r *resolver) location(tzid string) (*time.Location, error) {
	if loc, ok := r.locs[tzid]; ok {
		return loc, nil
	}
	loc, err := LoadLocation(tzid, r.cal)
	if err != nil {
		return nil, err
	}
	if r.locs == nil {
		r.locs = make(map[string]*time.Location)
	}
	r.locs[tzid] = loc
	return loc, nil
}

// namedZones caches successful name lookups (IANA and Windows names); it
// only grows by names that resolve, so it stays small.
var namedZones sync.Map // string → *time.Location

// LoadLocation resolves a TZID as real clients write them: an IANA name
// ("Europe/Berlin"); an IANA name behind a vendor prefix
// ("/mozilla.org/20050126_1/Europe/Berlin", "/softwarestudio.org/…",
// "posix/Europe/Vaduz") or with spaces for underscores; a Windows zone name
// ("W. Europe Standard Time", per the CLDR windowsZones table); and last a
// zone built from the VTIMEZONE in cal with that TZID (cal may be nil).
// Surrounding spaces are ignored. Known names win over the object's own
// VTIMEZONE because clients ship simplified or outdated rules for them.
// An unresolvable TZID is an error wrapping ErrInvalid.
func LoadLocation(tzid string, cal *ical.Calendar) (loc *time.Location, err error) {
	defer recoverInvalid(&err)
	name := strings.TrimSpace(tzid)
	if name == "" {
		return nil, fmt.Errorf("%w: empty TZID", ErrInvalid)
	}
	if loc := loadNamed(name); loc != nil {
		return loc, nil
	}
	if cal != nil {
		for _, c := range cal.Children {
			if c.Name != ical.CompTimezone {
				continue
			}
			if id := c.Props.Get(ical.PropTimezoneID); id == nil || strings.TrimSpace(id.Value) != name {
				continue
			}
			loc, err := zoneFromVTimezone(name, c)
			if err != nil {
				return nil, fmt.Errorf("%w: TZID %q: %w", ErrInvalid, name, err)
			}
			return loc, nil
		}
	}
	return nil, fmt.Errorf("%w: unknown TZID %q", ErrInvalid, name)
}

func loadNamed(name string) *time.Location {
	if v, ok := namedZones.Load(name); ok {
		return v.(*time.Location)
	}
	loc := lookupNamed(name)
	if loc != nil {
		namedZones.Store(name, loc)
	}
	return loc
}

func lookupNamed(name string) *time.Location {
	if len(name) > 256 {
		return nil
	}
	if iana, ok := windowsZones[name]; ok {
		name = iana
	}
	if loc := loadIANA(name); loc != nil {
		return loc
	}
	if s := strings.ReplaceAll(name, " ", "_"); s != name {
		if loc := loadIANA(s); loc != nil {
			return loc
		}
	}
	// A vendor prefix: try each suffix after a slash, longest first.
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		if loc := loadIANA(name[i+1:]); loc != nil && strings.Contains(name[i+1:], "/") {
			return loc
		}
	}
	return nil
}

func loadIANA(name string) *time.Location {
	switch name {
	case "", "Local":
		return nil
	case "UTC", "Z", "GMT", "Etc/UTC", "Etc/GMT":
		return time.UTC
	}
	for _, c := range name {
		if c <= ' ' || c > '~' || c == '\\' {
			return nil
		}
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}

// vtzCache keeps zones built from VTIMEZONEs, by TZID and definition.
var vtzCache struct {
	sync.Mutex
	m map[string]*time.Location
}

const vtzCacheSize = 256

// zoneFromVTimezone builds a time.Location from a VTIMEZONE's STANDARD and
// DAYLIGHT observances (RFC 5545 §3.6.5): every onset (DTSTART, RRULE,
// RDATE) up to the year 2200 becomes a transition of a synthesized TZif.
func zoneFromVTimezone(name string, c *ical.Component) (*time.Location, error) {
	var key strings.Builder
	key.WriteString(name)
	for _, sub := range c.Children {
		key.WriteString("\x00" + sub.Name)
		for _, pn := range []string{ical.PropDateTimeStart, ical.PropTimezoneOffsetFrom, ical.PropTimezoneOffsetTo, ical.PropRecurrenceRule, ical.PropRecurrenceDates, ical.PropTimezoneName} {
			for _, p := range sub.Props[pn] {
				key.WriteString("\x01" + pn + "\x02" + p.Value)
			}
		}
	}
	vtzCache.Lock()
	loc, ok := vtzCache.m[key.String()]
	vtzCache.Unlock()
	if ok {
		return loc, nil
	}
	loc, err := buildZone(name, c)
	if err != nil {
		return nil, err
	}
	vtzCache.Lock()
	if vtzCache.m == nil || len(vtzCache.m) >= vtzCacheSize {
		vtzCache.m = make(map[string]*time.Location)
	}
	vtzCache.m[key.String()] = loc
	vtzCache.Unlock()
	return loc, nil
}

type tzType struct {
	off  int
	dst  bool
	abbr string
}

type tzTrans struct {
	when int64
	typ  tzType
}

// maxTransitions bounds the transitions built from one VTIMEZONE.
const maxTransitions = 5000

func buildZone(name string, c *ical.Component) (*time.Location, error) {
	var trans []tzTrans
	limit := time.Date(MaxYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &resolver{floating: time.UTC}
	for _, sub := range c.Children {
		if sub.Name != "STANDARD" && sub.Name != "DAYLIGHT" {
			continue
		}
		from, err := parseOffset(sub.Props.Get(ical.PropTimezoneOffsetFrom))
		if err != nil {
			return nil, err
		}
		to, err := parseOffset(sub.Props.Get(ical.PropTimezoneOffsetTo))
		if err != nil {
			return nil, err
		}
		typ := tzType{off: to, dst: sub.Name == "DAYLIGHT"}
		if p := sub.Props.Get(ical.PropTimezoneName); p != nil {
			typ.abbr = p.Value
		}
		fromZone := time.FixedZone("", from)
		onset := func(w time.Time) {
			t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, fromZone)
			trans = append(trans, tzTrans{when: t.Unix(), typ: typ})
		}
		dp := sub.Props.Get(ical.PropDateTimeStart)
		if dp == nil {
			return nil, fmt.Errorf("%s without DTSTART", sub.Name)
		}
		start, err := r.parseTime(dp.Value, "", false)
		if err != nil {
			return nil, err
		}
		onset(start.wall)
		for _, rp := range sub.Props[ical.PropRecurrenceRule] {
			// The onsets are wall times in TZOFFSETFROM: iterate there so
			// that a UTC UNTIL compares right.
			dt := time.Date(start.wall.Year(), start.wall.Month(), start.wall.Day(), start.wall.Hour(), start.wall.Minute(), start.wall.Second(), 0, fromZone)
			ru, err := parseRule(rp.Value, timeVal{abs: dt.UTC(), wall: dt, loc: fromZone, date: start.date}, r, maxTransitions)
			if err != nil {
				return nil, err
			}
			next, err := ru.iterator(time.Time{})
			if err != nil {
				return nil, err
			}
			for n := 0; ; n++ {
				t, ok := next()
				if !ok || !t.Before(limit) {
					break
				}
				if n >= maxTransitions {
					return nil, fmt.Errorf("more than %d transitions", maxTransitions)
				}
				onset(t)
			}
		}
		for _, rp := range sub.Props[ical.PropRecurrenceDates] {
			vals, err := r.propValues(&rp, MaxDates)
			if err != nil {
				return nil, err
			}
			for _, v := range vals {
				onset(v.start.wall)
			}
		}
		if len(trans) > maxTransitions {
			return nil, fmt.Errorf("more than %d transitions", maxTransitions)
		}
	}
	if len(trans) == 0 {
		return nil, fmt.Errorf("no STANDARD or DAYLIGHT observance")
	}
	sort.SliceStable(trans, func(i, j int) bool { return trans[i].when < trans[j].when })
	// Before the first onset, the zone is that onset's TZOFFSETFROM; it is
	// type 0 and used by no transition, which is how Go's TZif reader
	// picks the zone for times before the first transition.
	first := trans[0]
	var firstFrom int
	for _, sub := range c.Children {
		if sub.Name != "STANDARD" && sub.Name != "DAYLIGHT" {
			continue
		}
		to, _ := parseOffset(sub.Props.Get(ical.PropTimezoneOffsetTo))
		abbr := ""
		if p := sub.Props.Get(ical.PropTimezoneName); p != nil {
			abbr = p.Value
		}
		if to == first.typ.off && abbr == first.typ.abbr && (sub.Name == "DAYLIGHT") == first.typ.dst {
			firstFrom, _ = parseOffset(sub.Props.Get(ical.PropTimezoneOffsetFrom))
			break
		}
	}
	data := encodeTZif(tzType{off: firstFrom}, trans)
	return time.LoadLocationFromTZData(name, data)
}

// parseOffset reads a UTC-OFFSET value: ±HHMM or ±HHMMSS.
func parseOffset(p *ical.Prop) (int, error) {
	if p == nil {
		return 0, fmt.Errorf("missing TZOFFSETFROM or TZOFFSETTO")
	}
	s := strings.TrimSpace(p.Value)
	if len(s) != 5 && len(s) != 7 || (s[0] != '+' && s[0] != '-') {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	h, ok1 := digits(s[1:3])
	m, ok2 := digits(s[3:5])
	sec, ok3 := 0, true
	if len(s) == 7 {
		sec, ok3 = digits(s[5:7])
	}
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	off := h*3600 + m*60 + sec
	if s[0] == '-' {
		off = -off
	}
	return off, nil
}

// encodeTZif writes a version 2 TZif file (RFC 8536) holding the
// transitions, with 64-bit times and an empty version 1 block.
func encodeTZif(before tzType, trans []tzTrans) []byte {
	types := []tzType{before}
	index := map[tzType]int{before: 0}
	var abbrs bytes.Buffer
	abbrIdx := map[string]int{}
	var idx []byte
	var times []int64
	last := int64(-1 << 62)
	for _, t := range trans {
		if t.when == last && len(times) > 0 {
			idx = idx[:len(idx)-1]
			times = times[:len(times)-1]
		}
		i, ok := index[t.typ]
		if !ok {
			if len(types) == 255 {
				continue
			}
			i = len(types)
			index[t.typ] = i
			types = append(types, t.typ)
		}
		times = append(times, t.when)
		idx = append(idx, byte(i))
		last = t.when
	}
	var buf bytes.Buffer
	header := func(ntime, ntype, nchar int) {
		buf.WriteString("TZif2")
		buf.Write(make([]byte, 15))
		for _, n := range []int{0, 0, 0, ntime, ntype, nchar} {
			binary.Write(&buf, binary.BigEndian, uint32(n))
		}
	}
	// Version 1 block: no transitions, one type, one abbreviation byte.
	header(0, 1, 1)
	buf.Write([]byte{0, 0, 0, 0, 0, 0})
	buf.WriteByte(0)
	abbr := func(t tzType) string {
		a := t.abbr
		if strings.ContainsRune(a, 0) || len(a) > 16 {
			return ""
		}
		return a
	}
	abbrIdx[""] = 0
	abbrs.WriteByte(0)
	for _, t := range types {
		a := abbr(t)
		if _, ok := abbrIdx[a]; !ok && abbrs.Len()+len(a)+1 <= 255 {
			abbrIdx[a] = abbrs.Len()
			abbrs.WriteString(a)
			abbrs.WriteByte(0)
		}
	}
	header(len(times), len(types), abbrs.Len())
	for _, w := range times {
		binary.Write(&buf, binary.BigEndian, w)
	}
	buf.Write(idx)
	for _, t := range types {
		a := abbr(t)
		binary.Write(&buf, binary.BigEndian, int32(t.off))
		dst := byte(0)
		if t.dst {
			dst = 1
		}
		buf.WriteByte(dst)
		buf.WriteByte(byte(abbrIdx[a]))
	}
	buf.Write(abbrs.Bytes())
	buf.WriteString("\n\n")
	return buf.Bytes()
}
