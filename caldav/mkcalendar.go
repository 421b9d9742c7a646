package caldav

import (
	"encoding/xml"
	"errors"
	"mime"
	"net/http"

	"github.com/calbolt/calbolt/store"
)

// mkcalendarReq is a CALDAV:mkcalendar (RFC 4791 §5.3.1) or extended
// DAV:mkcol (RFC 5689 §5.1) body.
type mkcalendarReq struct {
	XMLName xml.Name
	Set     []propSetOrRem `xml:"DAV: set"`
}

// serveMkcalendar creates a calendar with MKCALENDAR, or with MKCOL: an
// extended MKCOL must ask for a calendar resourcetype, and a plain MKCOL in
// the calendar home also creates a calendar, since calbolt keeps nothing
// but calendars there.
func (h *handler) serveMkcalendar(w http.ResponseWriter, r *http.Request, res resource) error {
	mkcol := r.Method == "MKCOL"
	// RFC 4918 §9.3: a body the server does not understand is 415, before
	// anything else is looked at.
	if ct := r.Header.Get("Content-Type"); ct != "" && r.ContentLength != 0 {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/xml" && mt != "text/xml") {
			return errorf(http.StatusUnsupportedMediaType, r.Method+" takes an XML body")
		}
	}
	noParent := errorf(http.StatusConflict, "the parent collection does not exist")
	if res.kind == kindNone {
		return noParent // RFC 4918 §9.3.1: missing intermediate collections
	}
	if err := h.access(r, res); err != nil {
		if res.kind == kindCalendar || res.kind == kindObject {
			// Another user's home: as if the parent did not exist.
			return noParent
		}
		return err
	}
	switch res.kind {
	case kindCalendar:
	case kindObject:
		if _, err := h.db.Calendar(res.user, res.calendar); err != nil {
			if isNotFound(err) {
				return noParent
			}
			return err
		}
		// RFC 4791 §4.2: calendar collections hold no collections.
		return precondition(http.StatusForbidden, "c:calendar-collection-location-ok",
			"calendars cannot be created inside a calendar")
	default:
		if _, err := h.load(r, res, false); err == nil {
			return errMethod
		}
		return errorf(http.StatusConflict, "calendars are created in the calendar home")
	}
	if _, err := h.db.Calendar(res.user, res.calendar); err == nil {
		if mkcol {
			return errMethod // RFC 4918 §9.3.1
		}
		return precondition(http.StatusForbidden, "d:resource-must-be-null", "a resource exists at this URL")
	} else if !isNotFound(err) {
		return err
	}

	body, err := readXMLBody(r)
	if err != nil {
		return err
	}
	cal := store.Calendar{Name: res.calendar, Components: []string{"VEVENT", "VTODO"}}
	var results []propResult
	if body != nil {
		var req mkcalendarReq
		if err := decodeXML(body, &req); err != nil {
			return err
		}
		want := name(nsCalDAV, "mkcalendar")
		if mkcol {
			want = name(nsDAV, "mkcol")
		}
		if req.XMLName != want {
			return errorf(http.StatusUnsupportedMediaType, "unexpected request body for "+r.Method)
		}
		for i := range req.Set {
			req.Set[i].XMLName = name(nsDAV, "set")
		}
		results = applyUpdate(&cal, req.Set, true)
		if mkcol && !setsCalendarType(req.Set) {
			results = append(results, propResult{name: pResourceType, status: http.StatusForbidden})
		}
	}
	if failed(results) {
		resp := "c:mkcalendar-response"
		if mkcol {
			resp = "d:mkcol-response"
		}
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		var b []byte
		b = append(b, xmlHeader+"<"+resp+nsDecls+">"...)
		for _, ps := range resultStats(results) {
			b = append(b, "<d:propstat><d:prop>"...)
			for _, p := range ps.props {
				b = append(b, p...)
			}
			b = append(b, "</d:prop><d:status>"+statusLine(ps.status)+"</d:status></d:propstat>"...)
		}
		b = append(b, "</"+resp+">\n"...)
		_, _ = w.Write(b)
		return nil
	}
	if _, err := h.db.CreateCalendar(res.user, cal); err != nil {
		if errors.Is(err, store.ErrExists) {
			return errMethod
		}
		return err
	}
	w.Header().Set("Location", res.href())
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// setsCalendarType reports whether an extended MKCOL sets a resourcetype
// (whose value applyProp has checked names a calendar).
func setsCalendarType(sets []propSetOrRem) bool {
	for _, s := range sets {
		for _, p := range s.Prop.Props {
			if p.XMLName == pResourceType {
				return true
			}
		}
	}
	return false
}
