package caldav

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/calbolt/calbolt/store"
)

// syncCollectionReq is a DAV:sync-collection body (RFC 6578 §6.1).
type syncCollectionReq struct {
	XMLName   xml.Name `xml:"DAV: sync-collection"`
	SyncToken string   `xml:"DAV: sync-token"`
	SyncLevel string   `xml:"DAV: sync-level"`
	Limit     *struct {
		NResults string `xml:"DAV: nresults"`
	} `xml:"DAV: limit"`
	Prop *reportProps `xml:"DAV: prop"`
}

// maxSyncResults caps a client's DAV:limit.
const maxSyncResults = 100000

// smallDelta is the number of changed members below which sync-collection
// fetches them one by one rather than listing the calendar's info index.
const smallDelta = 64

// reportSync answers sync-collection (RFC 6578 §3.2) on a calendar: every
// member changed since the token, with a 404 response for each deleted one,
// and the new token. With a DAV:limit the result is truncated and the
// request-URI answered with 507 (§3.6), so the client asks again with the
// token it got. Thunderbird sends this REPORT with Depth: 1, so the Depth
// header is not enforced.
func (h *handler) reportSync(w http.ResponseWriter, r *http.Request, res resource, body []byte) error {
	var req syncCollectionReq
	if err := decodeXML(body, &req); err != nil {
		return err
	}
	if res.kind != kindCalendar {
		if _, err := h.load(r, res, false); err != nil {
			return err
		}
		return errUnsupportedRep
	}
	switch strings.TrimSpace(req.SyncLevel) {
	case "", "1", "infinite":
		// A calendar has no member collections, so both levels agree.
	default:
		return errorf(http.StatusBadRequest, "invalid sync-level")
	}
	limit := 0
	if req.Limit != nil {
		n, err := strconv.Atoi(strings.TrimSpace(req.Limit.NResults))
		if err != nil || n <= 0 {
			return errorf(http.StatusBadRequest, "invalid nresults in limit")
		}
		limit = min(n, maxSyncResults)
	}
	pr, dr, err := propRequestOf(r, req.Prop)
	if err != nil {
		return err
	}
	cal, err := h.db.Calendar(res.user, res.calendar)
	if err != nil {
		return err
	}
	changes, token, more, err := h.db.Changes(res.user, res.calendar, strings.TrimSpace(req.SyncToken), limit)
	if err != nil {
		return err
	}

	var names []string
	for _, c := range changes {
		if c.Kind == store.ChangeKindUpsert {
			names = append(names, c.Name)
		}
	}
	// A short delta reads just its objects; a long one (an initial sync)
	// reads the info index once instead, which never touches object bytes.
	objs := map[string]*store.Object{}
	var list []store.Object
	if pr.wantsData() || len(names) < smallDelta {
		list, err = h.db.Objects(res.user, res.calendar, names)
	} else {
		list, err = h.db.ObjectInfos(res.user, res.calendar)
	}
	if err != nil {
		return err
	}
	for i := range list {
		if !pr.wantsData() {
			list[i].Data = nil
		}
		objs[list[i].Name] = &list[i]
	}

	ms := newMultistatus(w)
	for _, c := range changes {
		o, ok := objs[c.Name]
		if c.Kind == store.ChangeKindDelete || !ok {
			ms.status(objectHref(res.user, res.calendar, c.Name), http.StatusNotFound)
			continue
		}
		h.writeObjects(ms, r, res.user, &cal, []store.Object{*o}, pr, dr)
	}
	if more {
		ms.raw("<d:response>" + hrefXML(res.href()) + "<d:status>" + statusLine(http.StatusInsufficientStorage) +
			"</d:status><d:error><d:number-of-matches-within-limits/></d:error></d:response>")
	}
	ms.raw("<d:sync-token>" + escape(token) + "</d:sync-token>")
	return ms.close()
}
