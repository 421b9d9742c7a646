package ics

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/store"
)

// exportBatch is how many objects Export reads per store call.
const exportBatch = 500

// Export writes owner's calendar as one iCalendar file (RFC 5545 §3.4): a
// VCALENDAR with the calendar's name (X-WR-CALNAME) and time zone
// (X-WR-TIMEZONE, the de-facto properties Google, Apple and Outlook read
// on import), every VTIMEZONE the objects carry — once per TZID — and then
// every component of every object, as stored. It streams: objects are read
// in batches, twice (zones first, then components), never all at once.
//
// The calendar-level properties of individual objects (their PRODID, an
// X- property beside their components) have no place in one VCALENDAR and
// are left out. Objects changed while the export runs may appear in their
// old or new state; cal is the calendar as read before the export.
func Export(w io.Writer, st Store, owner string, cal store.Calendar) error {
	infos, err := st.ObjectInfos(owner, cal.Name)
	if err != nil {
		return err
	}
	names := make([]string, len(infos))
	for i, o := range infos {
		names[i] = o.Name
	}
	slices.Sort(names)
	bw := bufio.NewWriterSize(w, 64<<10)

	// Zones: the calendar's own, then those the objects carry.
	zones := map[string]bool{}
	var zoneOrder [][]byte
	addZones := func(data []byte, emit func([]byte)) {
		eachComponent(data, func(name, tzid string, raw []byte) {
			if name == ical.CompTimezone && tzid != "" && !zones[tzid] {
				zones[tzid] = true
				emit(raw)
			}
		})
	}
	collect := func(raw []byte) { zoneOrder = append(zoneOrder, raw) }
	calZone := ""
	if cal.Timezone != "" {
		eachComponent([]byte(cal.Timezone), func(name, tzid string, raw []byte) {
			if name == ical.CompTimezone && calZone == "" {
				calZone = tzid
			}
		})
		addZones([]byte(cal.Timezone), collect)
	}
	if err := eachObject(st, owner, cal.Name, names, func(o *store.Object) error {
		addZones(o.Data, collect)
		return nil
	}); err != nil {
		return err
	}

	bw.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbolt//calbolt//EN\r\nCALSCALE:GREGORIAN\r\n")
	name := cal.DisplayName
	if name == "" {
		name = cal.Name
	}
	writeProp(bw, "X-WR-CALNAME", escapeText(name))
	if cal.Description != "" {
		writeProp(bw, "X-WR-CALDESC", escapeText(cal.Description))
	}
	if calZone != "" {
		writeProp(bw, "X-WR-TIMEZONE", calZone)
	}
	for _, z := range zoneOrder {
		bw.Write(z)
	}
	if err := eachObject(st, owner, cal.Name, names, func(o *store.Object) error {
		eachComponent(o.Data, func(name, tzid string, raw []byte) {
			if name != ical.CompTimezone {
				bw.Write(raw)
			}
		})
		// A zone an object gained after the first pass: still valid
		// iCalendar after the components that use it.
		addZones(o.Data, func(raw []byte) { bw.Write(raw) })
		return nil
	}); err != nil {
		return err
	}
	bw.WriteString("END:VCALENDAR\r\n")
	return bw.Flush()
}

// eachObject calls fn with the objects named, read in batches; objects
// deleted meanwhile are skipped.
func eachObject(st Store, owner, calendar string, names []string, fn func(*store.Object) error) error {
	for len(names) > 0 {
		n := min(len(names), exportBatch)
		objs, err := st.Objects(owner, calendar, names[:n])
		if err != nil {
			return err
		}
		for i := range objs {
			if err := fn(&objs[i]); err != nil {
				return err
			}
		}
		names = names[n:]
	}
	return nil
}

// eachComponent calls fn with each top-level component of a stored
// VCALENDAR: its name, its TZID (for a VTIMEZONE) and its content lines as
// stored, with CRLF line ends.
func eachComponent(data []byte, fn func(name, tzid string, raw []byte)) {
	lr := newBytesLineReader(data, true)
	var (
		depth int
		name  string
		tzid  string
		buf   []byte
	)
	for {
		cl, err := lr.next()
		if err != nil {
			return
		}
		switch cl.name() {
		case "BEGIN":
			depth++
			if depth == 2 {
				name, tzid, buf = strings.ToUpper(strings.TrimSpace(cl.value())), "", nil
			}
		case "END":
			depth--
			if depth == 1 {
				buf = append(buf, cl.raw...)
				fn(name, tzid, buf)
				buf = nil
				continue
			}
		case ical.PropTimezoneID:
			if depth == 2 && name == ical.CompTimezone {
				tzid = strings.TrimSpace(cl.value())
			}
		}
		if depth >= 2 {
			buf = append(buf, cl.raw...)
		}
	}
}

// writeProp writes a property, folded at 75 octets (RFC 5545 §3.1) without
// splitting a UTF-8 sequence.
func writeProp(w *bufio.Writer, name, value string) {
	line := name + ":" + value
	for len(line) > 75 {
		i := 75
		for i > 0 && line[i]&0xc0 == 0x80 {
			i--
		}
		w.WriteString(line[:i] + "\r\n ")
		line = line[i:]
	}
	w.WriteString(line + "\r\n")
}

// escapeText applies RFC 5545 §3.3.11 TEXT escaping.
func escapeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// ExportETag is the entity tag of an export of cal: it changes whenever a
// member of the calendar changes (the sync token) or the calendar's name,
// description or time zone does.
func ExportETag(cal store.Calendar) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%s", cal.SyncToken(), cal.DisplayName, cal.Description, cal.Timezone)))
	return "export-" + hex.EncodeToString(sum[:16])
}
