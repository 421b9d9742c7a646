package caldav

import (
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/calbolt/calbolt/store"
)

// propfindReq is a DAV:propfind body (RFC 4918 §14.20). An empty body means
// allprop.
type propfindReq struct {
	XMLName  xml.Name  `xml:"DAV: propfind"`
	AllProp  *struct{} `xml:"DAV: allprop"`
	PropName *struct{} `xml:"DAV: propname"`
	Prop     *nameList `xml:"DAV: prop"`
	Include  *nameList `xml:"DAV: include"`
}

// propRequest is what a PROPFIND, REPORT or sync-collection asks for.
type propRequest struct {
	names    []xml.Name
	allProp  bool
	propName bool
	minimal  bool // leave out 404 propstats
}

func (pr propRequest) wantsData() bool {
	for _, n := range pr.names {
		if n == pCalendarData {
			return true
		}
	}
	return false
}

func parsePropfind(r *http.Request) (propRequest, error) {
	body, err := readXMLBody(r)
	if err != nil {
		return propRequest{}, err
	}
	pr := propRequest{minimal: preferMinimal(r)}
	if body == nil {
		pr.allProp = true
		return pr, nil
	}
	var req propfindReq
	if err := decodeXML(body, &req); err != nil {
		return propRequest{}, err
	}
	switch {
	case req.Prop != nil:
		pr.names = *req.Prop
	case req.PropName != nil:
		pr.propName = true
	case req.AllProp != nil:
		pr.allProp = true
		if req.Include != nil {
			pr.names = *req.Include
		}
	default:
		return propRequest{}, errBadRequestXML
	}
	return pr, nil
}

// servePropfind answers PROPFIND (RFC 4918 §9.1) with Depth 0 or 1;
// Depth: infinity is refused with DAV:propfind-finite-depth. A missing Depth
// header is taken as 0, as Radicale and most clients expect.
func (h *handler) servePropfind(w http.ResponseWriter, r *http.Request, res resource) error {
	d, err := depth(r, 0)
	if err != nil {
		return err
	}
	if d < 0 {
		return errFiniteDepth
	}
	if err := h.access(r, res); err != nil {
		return err
	}
	pr, err := parsePropfind(r)
	if err != nil {
		return err
	}
	t, err := h.load(r, res, pr.wantsData())
	if err != nil {
		return err
	}
	var members []*target
	if d == 1 {
		if members, err = h.members(r, t, pr.wantsData()); err != nil {
			return err
		}
	}
	ms := newMultistatus(w)
	h.writeProps(ms, r, t, pr)
	for _, m := range members {
		h.writeProps(ms, r, m, pr)
	}
	return ms.close()
}

// writeProps writes one DAV:response for t.
func (h *handler) writeProps(ms *msWriter, r *http.Request, t *target, pr propRequest) {
	ok := propstat{status: http.StatusOK}
	missing := propstat{status: http.StatusNotFound}
	switch {
	case pr.propName:
		for _, n := range liveProps(t.res.kind) {
			ok.props = append(ok.props, element(n, ""))
		}
		if t.cal != nil && t.res.kind == kindCalendar {
			for k := range t.cal.DeadProps {
				ok.props = append(ok.props, element(parsePropKey(k), ""))
			}
		}
	default:
		names := pr.names
		if pr.allProp {
			names = append(append([]xml.Name{}, allprop...), pr.names...)
			if t.res.kind == kindCalendar {
				for k := range t.cal.DeadProps {
					names = append(names, parsePropKey(k))
				}
			}
		}
		for _, n := range names {
			if v, found := h.prop(r, t, n); found {
				ok.props = append(ok.props, v)
			} else if !pr.allProp && !pr.minimal {
				missing.props = append(missing.props, element(n, ""))
			}
		}
	}
	ms.response(t.res.href(), []propstat{ok, missing})
}

// load fetches what res names from the store; ErrNotFound when it does not
// exist.
func (h *handler) load(r *http.Request, res resource, withData bool) (*target, error) {
	t := &target{res: res}
	switch res.kind {
	case kindPrincipal, kindHome, kindInbox, kindOutbox:
		u, err := h.db.User(res.user)
		if err != nil {
			return nil, err
		}
		t.user = u
	case kindCalendar:
		c, err := h.db.Calendar(res.user, res.calendar)
		if err != nil {
			return nil, err
		}
		t.cal = &c
	case kindObject:
		c, err := h.db.Calendar(res.user, res.calendar)
		if err != nil {
			return nil, err
		}
		o, err := h.db.Object(res.user, res.calendar, res.object)
		if err != nil {
			return nil, err
		}
		if !withData {
			o.Data = nil
		}
		t.cal, t.obj = &c, &o
	case kindNone:
		return nil, errNotFound
	}
	return t, nil
}

// members lists t's children for Depth: 1.
func (h *handler) members(r *http.Request, t *target, withData bool) ([]*target, error) {
	user := userOf(r)
	switch t.res.kind {
	case kindServerRoot, kindRoot:
		// The context path shows the user's own principal and home.
		return []*target{
			{res: resource{kind: kindPrincipals}},
			{res: resource{kind: kindCalendars}},
		}, nil
	case kindPrincipals:
		u, err := h.db.User(user)
		if err != nil {
			return nil, err
		}
		return []*target{{res: resource{kind: kindPrincipal, user: user}, user: u}}, nil
	case kindCalendars:
		u, err := h.db.User(user)
		if err != nil {
			return nil, err
		}
		return []*target{{res: resource{kind: kindHome, user: user}, user: u}}, nil
	case kindHome:
		cals, err := h.db.Calendars(t.res.user)
		if err != nil {
			return nil, err
		}
		out := make([]*target, len(cals))
		for i := range cals {
			out[i] = &target{res: resource{kind: kindCalendar, user: t.res.user, calendar: cals[i].Name}, cal: &cals[i]}
		}
		return out, nil
	case kindCalendar:
		var objs []store.Object
		var err error
		if withData {
			infos, ierr := h.db.ObjectInfos(t.res.user, t.res.calendar)
			if ierr != nil {
				return nil, ierr
			}
			names := make([]string, len(infos))
			for i, o := range infos {
				names[i] = o.Name
			}
			objs, err = h.db.Objects(t.res.user, t.res.calendar, names)
		} else {
			objs, err = h.db.ObjectInfos(t.res.user, t.res.calendar)
		}
		if err != nil {
			return nil, err
		}
		out := make([]*target, len(objs))
		for i := range objs {
			out[i] = objectTarget(t.res.user, t.cal, &objs[i])
		}
		return out, nil
	}
	return nil, nil
}

func objectTarget(user string, cal *store.Calendar, o *store.Object) *target {
	return &target{res: resource{kind: kindObject, user: user, calendar: cal.Name, object: o.Name}, cal: cal, obj: o}
}

// isNotFound reports whether err means the resource is absent.
func isNotFound(err error) bool {
	return errors.Is(err, store.ErrNotFound) || err == errNotFound
}
