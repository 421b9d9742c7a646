package caldav

import (
	"encoding/xml"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/store"
)

// propertyUpdate is a DAV:propertyupdate body (RFC 4918 §14.19): set and
// remove instructions, applied in document order.
type propertyUpdate struct {
	XMLName xml.Name       `xml:"DAV: propertyupdate"`
	Items   []propSetOrRem `xml:",any"`
}

type propSetOrRem struct {
	XMLName xml.Name
	Prop    struct {
		Props []rawProp `xml:",any"`
	} `xml:"DAV: prop"`
}

// Bounds on client-set dead properties.
const (
	maxDeadProps    = 64
	maxDeadPropSize = 4096
)

// propResult is the outcome of setting or removing one property.
type propResult struct {
	name   xml.Name
	status int
	cond   string // precondition element for a 403, if any
}

var errPropsFailed = errors.New("caldav: property update failed")

// colorRE accepts Apple's calendar-color ("#RRGGBB" or "#RRGGBBAA") and
// the CSS3 colour names RFC 7986 §5.9 uses for COLOR ("turquoise").
var colorRE = regexp.MustCompile(`^(#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?|[A-Za-z]{3,20})$`)

// protectedProps are live properties a client cannot set (RFC 4918 §15).
var protectedProps = map[xml.Name]bool{
	pGetETag: true, pGetContentType: true, pGetContentLength: true, pGetLastModified: true,
	pCreationDate: true, pOwner: true, pCurrentUserPrinc: true, pCurrentUserPriv: true,
	pSupportedRepSet: true, pSyncToken: true, pGetCTag: true, pSupportedCalData: true,
	pMaxResourceSize: true, pMinDateTime: true, pMaxDateTime: true, pMaxInstances: true,
	pResourceID: true, pCalendarData: true, pPrincipalURL: true, pCalHomeSet: true,
	pCalUserAddrSet: true, pPrincipalCollSet: true, pSupportedLock: true, pLockDiscovery: true,
}

// Caps on the calendar properties a client sets: they are returned in
// every listing, so they must stay small (dead properties have their own
// cap).
const (
	maxDisplayName = 1 << 10
	maxDescription = 16 << 10
	maxTimezone    = 64 << 10
)

// applyProp sets (or removes) one property on cal. creating allows the
// properties only MKCALENDAR may set (resourcetype, the component set).
func applyProp(cal *store.Calendar, p rawProp, remove, creating bool) propResult {
	res := propResult{name: p.XMLName, status: http.StatusOK}
	forbid := func(cond string) propResult {
		res.status, res.cond = http.StatusForbidden, cond
		return res
	}
	text := strings.TrimSpace(p.Text)
	switch p.XMLName {
	case pDisplayName:
		cal.DisplayName = ""
		if !remove {
			if len(text) > maxDisplayName {
				return forbid("")
			}
			cal.DisplayName = text
		}
	case pCalDescription:
		cal.Description = ""
		if !remove {
			if len(p.Text) > maxDescription {
				return forbid("")
			}
			cal.Description = p.Text
		}
	case pCalendarColor:
		cal.Color = ""
		if !remove {
			if !colorRE.MatchString(text) {
				return forbid("")
			}
			cal.Color = text
		}
	case pCalendarOrder:
		cal.Order = 0
		if !remove {
			n, err := strconv.Atoi(text)
			if err != nil {
				return forbid("")
			}
			cal.Order = n
		}
	case pCalTimezone:
		cal.Timezone = ""
		if !remove {
			if len(p.Text) > maxTimezone || !validTimezone(p.Text) {
				return forbid("<c:valid-calendar-data/>")
			}
			cal.Timezone = p.Text
		}
	case pScheduleCalTransp:
		cal.Transparent = false
		if !remove {
			for _, c := range p.Children {
				if c.XMLName == name(nsCalDAV, "transparent") {
					cal.Transparent = true
				}
			}
		}
	case pSupportedCompSet:
		if !creating || remove {
			return forbid("<d:cannot-modify-protected-property/>")
		}
		var comps []string
		for _, c := range p.Children {
			if c.XMLName != name(nsCalDAV, "comp") {
				continue
			}
			n := strings.ToUpper(c.attr("name"))
			switch n {
			case "VEVENT", "VTODO", "VJOURNAL":
				comps = append(comps, n)
			default:
				return forbid("<c:supported-calendar-component/>")
			}
		}
		if len(comps) == 0 {
			return forbid("<c:supported-calendar-component/>")
		}
		cal.Components = comps
	case pResourceType:
		if !creating || remove {
			return forbid("<d:cannot-modify-protected-property/>")
		}
		isCal := false
		for _, c := range p.Children {
			switch c.XMLName {
			case name(nsCalDAV, "calendar"):
				isCal = true
			case name(nsDAV, "collection"):
			default:
				return forbid("<d:valid-resourcetype/>")
			}
		}
		if !isCal {
			return forbid("<d:valid-resourcetype/>")
		}
	default:
		if protectedProps[p.XMLName] {
			return forbid("<d:cannot-modify-protected-property/>")
		}
		key := propKey(p.XMLName)
		if remove {
			delete(cal.DeadProps, key)
			break
		}
		value := renderValue(p)
		_, had := cal.DeadProps[key]
		if len(key)+len(value) > maxDeadPropSize || (len(cal.DeadProps) >= maxDeadProps && !had) {
			res.status = http.StatusInsufficientStorage
			return res
		}
		if cal.DeadProps == nil {
			cal.DeadProps = map[string]string{}
		}
		cal.DeadProps[key] = value
	}
	return res
}

// renderValue re-serialises a dead property's value from its parsed
// elements, declaring every element's namespace on the element itself, so
// the value means the same wherever it is written back (RFC 4918 §4.3). The
// client's prefixes are not kept: they were only bound in its request.
// Mixed content keeps its elements and drops whitespace-only text between
// them.
func renderValue(p rawProp) string {
	if len(p.Children) == 0 {
		return escape(p.Text)
	}
	var b strings.Builder
	for _, c := range p.Children {
		o, cl := qname(c.XMLName)
		b.WriteString("<" + o)
		for _, a := range c.Attrs {
			if a.Name.Space == "" && a.Name.Local != "xmlns" {
				b.WriteString(" " + a.Name.Local + `="` + escape(a.Value) + `"`)
			}
		}
		inner := renderValue(c)
		if inner == "" {
			b.WriteString("/>")
			continue
		}
		b.WriteString(">" + inner + "</" + cl + ">")
	}
	return b.String()
}

// validTimezone checks a CALDAV:calendar-timezone value: an iCalendar
// object with exactly one VTIMEZONE (RFC 4791 §5.2.2).
func validTimezone(s string) bool {
	cal, err := decodeCalendar([]byte(s))
	if err != nil {
		return false
	}
	n := 0
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			n++
		}
	}
	return n == 1
}

// serveProppatch answers PROPPATCH (RFC 4918 §9.2): all instructions
// succeed or none is applied, failures answered per property with 424 for
// the rest.
func (h *handler) serveProppatch(w http.ResponseWriter, r *http.Request, res resource) error {
	if err := h.access(r, res); err != nil {
		return err
	}
	body, err := requireXMLBody(r)
	if err != nil {
		return err
	}
	var req propertyUpdate
	if err := decodeXML(body, &req); err != nil {
		return err
	}
	t, err := h.load(r, res, false)
	if err != nil {
		return err
	}
	var results []propResult
	if res.kind == kindCalendar {
		_, err = h.db.UpdateCalendar(res.user, res.calendar, func(cal *store.Calendar) error {
			results = applyUpdate(cal, req.Items, false)
			if failed(results) {
				return errPropsFailed
			}
			return nil
		})
		if err != nil && !errors.Is(err, errPropsFailed) {
			return err
		}
	} else {
		// Principals, homes and objects have no writable properties.
		for _, it := range req.Items {
			for _, p := range it.Prop.Props {
				results = append(results, propResult{name: p.XMLName, status: http.StatusForbidden,
					cond: "<d:cannot-modify-protected-property/>"})
			}
		}
	}
	ms := newMultistatus(w)
	ms.response(t.res.href(), resultStats(results))
	return ms.close()
}

// applyUpdate applies set/remove instructions in order; after the first
// failure the remaining ones are reported as 424 Failed Dependency.
func applyUpdate(cal *store.Calendar, items []propSetOrRem, creating bool) []propResult {
	var results []propResult
	for _, it := range items {
		var remove bool
		switch it.XMLName {
		case name(nsDAV, "set"):
		case name(nsDAV, "remove"):
			remove = true
		default:
			continue
		}
		for _, p := range it.Prop.Props {
			results = append(results, applyProp(cal, p, remove, creating))
		}
	}
	if failed(results) {
		for i := range results {
			if results[i].status == http.StatusOK {
				results[i].status = http.StatusFailedDependency
			}
		}
	}
	return results
}

func failed(results []propResult) bool {
	for _, r := range results {
		if r.status != http.StatusOK {
			return true
		}
	}
	return false
}

func resultStats(results []propResult) []propstat {
	var order []int
	group := map[int][]string{}
	for _, r := range results {
		if _, ok := group[r.status]; !ok {
			order = append(order, r.status)
		}
		group[r.status] = append(group[r.status], element(r.name, ""))
	}
	out := make([]propstat, 0, len(order))
	for _, s := range order {
		out = append(out, propstat{status: s, props: group[s]})
	}
	return out
}
