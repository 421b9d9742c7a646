package caldav

import (
	"encoding/xml"
	"net/http"

	"github.com/calbolt/calbolt/store"
)

// calendarMultigetReq is a CALDAV:calendar-multiget body (RFC 4791 §7.9).
type calendarMultigetReq struct {
	XMLName xml.Name     `xml:"urn:ietf:params:xml:ns:caldav calendar-multiget"`
	Prop    *reportProps `xml:"DAV: prop"`
	Hrefs   []string     `xml:"DAV: href"`
}

// maxMultigetHrefs bounds one calendar-multiget.
const maxMultigetHrefs = 10000

// reportMultiget answers calendar-multiget: every href is resolved like a
// request path, so an href into another user's space answers 404 exactly as
// a missing object does.
func (h *handler) reportMultiget(w http.ResponseWriter, r *http.Request, res resource, body []byte) error {
	var req calendarMultigetReq
	if err := decodeXML(body, &req); err != nil {
		return err
	}
	if len(req.Hrefs) > maxMultigetHrefs {
		return errorf(http.StatusRequestEntityTooLarge, "too many hrefs in one calendar-multiget")
	}
	if res.kind != kindCalendar && res.kind != kindObject && res.kind != kindHome {
		return errUnsupportedRep
	}
	if _, err := h.load(r, res, false); err != nil {
		return err
	}
	pr, dr, err := propRequestOf(r, req.Prop)
	if err != nil {
		return err
	}
	user := userOf(r)

	// Group hrefs by calendar so each calendar is read once.
	type wanted struct {
		href string
		obj  resource
	}
	var order []wanted
	byCal := map[string][]string{}
	for _, href := range req.Hrefs {
		p, ok := hrefPath(href, r)
		obj := parsePath(p)
		if !ok || obj.kind != kindObject || obj.user != user {
			order = append(order, wanted{href: href})
			continue
		}
		order = append(order, wanted{href: href, obj: obj})
		byCal[obj.calendar] = append(byCal[obj.calendar], obj.object)
	}
	found := map[resource]*store.Object{}
	cals := map[string]*store.Calendar{}
	for calName, names := range byCal {
		cal, err := h.db.Calendar(user, calName)
		if isNotFound(err) {
			continue
		} else if err != nil {
			return err
		}
		objs, err := h.db.Objects(user, calName, names)
		if err != nil {
			return err
		}
		cals[calName] = &cal
		for i := range objs {
			if !pr.wantsData() {
				objs[i].Data = nil
			}
			found[resource{kind: kindObject, user: user, calendar: calName, object: objs[i].Name}] = &objs[i]
		}
	}

	ms := newMultistatus(w)
	for _, wt := range order {
		o, ok := found[wt.obj]
		if wt.obj.kind != kindObject || !ok {
			ms.status(wt.href, http.StatusNotFound)
			continue
		}
		h.writeObjects(ms, r, user, cals[wt.obj.calendar], []store.Object{*o}, pr, dr)
	}
	return ms.close()
}
