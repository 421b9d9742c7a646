package freebusy

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/emersion/go-ical"
)

// UTC DATE-TIME and PERIOD formats (RFC 5545 §3.3.5 form #2, §3.3.9).
const utcFormat = "20060102T150405Z"

// Component returns a VFREEBUSY for [start, end) listing periods (as
// Merge returns them), one FREEBUSY property per period with its FBTYPE
// (RFC 5545 §3.6.4, §3.8.2.6). It carries no summary, location or UID of
// any event: the UID is derived from the window and the periods, so the
// same answer has the same UID. Callers add ORGANIZER/ATTENDEE for iTIP.
func Component(periods []Period, start, end, stamp time.Time) *ical.Component {
	c := ical.NewComponent(ical.CompFreeBusy)
	h := sha256.New()
	h.Write([]byte(start.UTC().Format(utcFormat) + end.UTC().Format(utcFormat)))
	for _, p := range periods {
		h.Write([]byte(p.Type.String() + p.Start.UTC().Format(utcFormat) + p.End.UTC().Format(utcFormat)))
	}
	c.Props.SetText(ical.PropUID, "freebusy-"+hex.EncodeToString(h.Sum(nil)[:12]))
	c.Props.SetDateTime(ical.PropDateTimeStamp, stamp.UTC().Truncate(time.Second))
	c.Props.SetDateTime(ical.PropDateTimeStart, start.UTC())
	c.Props.SetDateTime(ical.PropDateTimeEnd, end.UTC())
	for _, p := range periods {
		prop := ical.NewProp(ical.PropFreeBusy)
		prop.Params.Set(ical.ParamFreeBusyType, p.Type.String())
		prop.Value = p.Start.UTC().Format(utcFormat) + "/" + p.End.UTC().Format(utcFormat)
		c.Props.Add(prop)
	}
	return c
}
