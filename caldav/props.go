package caldav

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/calbolt/calbolt/busytime"
	"github.com/calbolt/calbolt/store"
)

// target is a resource loaded from the store, ready for property lookup.
type target struct {
	res  resource
	user store.User      // for principal and home
	cal  *store.Calendar // for calendar and object
	obj  *store.Object   // for object
}

func name(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }

// Property names calbolt computes (live properties).
var (
	pResourceType      = name(nsDAV, "resourcetype")
	pDisplayName       = name(nsDAV, "displayname")
	pGetETag           = name(nsDAV, "getetag")
	pGetContentType    = name(nsDAV, "getcontenttype")
	pGetContentLength  = name(nsDAV, "getcontentlength")
	pGetLastModified   = name(nsDAV, "getlastmodified")
	pCreationDate      = name(nsDAV, "creationdate")
	pOwner             = name(nsDAV, "owner")
	pCurrentUserPrinc  = name(nsDAV, "current-user-principal")
	pPrincipalURL      = name(nsDAV, "principal-URL")
	pPrincipalCollSet  = name(nsDAV, "principal-collection-set")
	pCurrentUserPriv   = name(nsDAV, "current-user-privilege-set")
	pSupportedRepSet   = name(nsDAV, "supported-report-set")
	pSyncToken         = name(nsDAV, "sync-token")
	pResourceID        = name(nsDAV, "resource-id")
	pSupportedLock     = name(nsDAV, "supportedlock")
	pLockDiscovery     = name(nsDAV, "lockdiscovery")
	pCalHomeSet        = name(nsCalDAV, "calendar-home-set")
	pCalUserAddrSet    = name(nsCalDAV, "calendar-user-address-set")
	pCalDescription    = name(nsCalDAV, "calendar-description")
	pCalTimezone       = name(nsCalDAV, "calendar-timezone")
	pSupportedCompSet  = name(nsCalDAV, "supported-calendar-component-set")
	pSupportedCalData  = name(nsCalDAV, "supported-calendar-data")
	pMaxResourceSize   = name(nsCalDAV, "max-resource-size")
	pMinDateTime       = name(nsCalDAV, "min-date-time")
	pMaxDateTime       = name(nsCalDAV, "max-date-time")
	pMaxInstances      = name(nsCalDAV, "max-instances")
	pCalendarData      = name(nsCalDAV, "calendar-data")
	pScheduleCalTransp = name(nsCalDAV, "schedule-calendar-transp")
	pScheduleInboxURL  = name(nsCalDAV, "schedule-inbox-URL")
	pScheduleOutboxURL = name(nsCalDAV, "schedule-outbox-URL")
	pCalUserType       = name(nsCalDAV, "calendar-user-type")
	pGetCTag           = name(nsCS, "getctag")
	pCalendarColor     = name(nsApple, "calendar-color")
	pCalendarOrder     = name(nsApple, "calendar-order")
)

// allprop lists what DAV:allprop returns (RFC 4918 §9.1: the live
// properties it defines plus dead properties; CalDAV's expensive ones such as
// calendar-data are left out per RFC 4791 §9.6).
var allprop = []xml.Name{pResourceType, pDisplayName, pGetETag, pGetContentType,
	pGetContentLength, pGetLastModified, pCreationDate}

// liveProps lists the properties each kind of resource has, for
// DAV:propname.
func liveProps(k kind) []xml.Name {
	common := []xml.Name{pResourceType, pDisplayName, pCurrentUserPrinc, pCurrentUserPriv}
	switch k {
	case kindPrincipal:
		return append(common, pPrincipalURL, pPrincipalCollSet, pCalHomeSet, pCalUserAddrSet,
			pScheduleInboxURL, pScheduleOutboxURL, pCalUserType)
	case kindInbox, kindOutbox:
		return append(common, pOwner, pSupportedRepSet)
	case kindHome:
		return append(common, pOwner, pSupportedRepSet, pPrincipalCollSet)
	case kindCalendar:
		return append(common, pOwner, pSupportedRepSet, pSyncToken, pGetCTag, pCalDescription,
			pCalTimezone, pSupportedCompSet, pSupportedCalData, pMaxResourceSize, pMinDateTime,
			pMaxDateTime, pMaxInstances, pScheduleCalTransp, pCalendarColor, pCalendarOrder,
			pCreationDate, pGetLastModified, pResourceID)
	case kindObject:
		return append(common, pOwner, pGetETag, pGetContentType, pGetContentLength,
			pGetLastModified, pCreationDate, pCalendarData)
	}
	return common
}

// privileges an owner has on their resources (RFC 3744 §5.4, RFC 4791
// §6.1.1 read-free-busy). Thunderbird reads write access from this.
const ownerPrivileges = "<d:privilege><d:all/></d:privilege>" +
	"<d:privilege><d:read/></d:privilege>" +
	"<d:privilege><d:write/></d:privilege>" +
	"<d:privilege><d:write-properties/></d:privilege>" +
	"<d:privilege><d:write-content/></d:privilege>" +
	"<d:privilege><d:bind/></d:privilege>" +
	"<d:privilege><d:unbind/></d:privilege>" +
	"<d:privilege><d:read-current-user-privilege-set/></d:privilege>" +
	"<d:privilege><c:read-free-busy/></d:privilege>"

// The outbox adds the scheduling privileges (RFC 6638 §6.2.2) to the
// owner's; the inbox lets the owner take deliveries (§6.1.3), though
// calbolt delivers none.
const (
	outboxPrivileges = ownerPrivileges +
		"<d:privilege><c:schedule-send/></d:privilege>" +
		"<d:privilege><c:schedule-send-freebusy/></d:privilege>"
	inboxPrivileges = ownerPrivileges +
		"<d:privilege><c:schedule-deliver/></d:privilege>"
)

const freeBusyReport = "<d:supported-report><d:report><c:free-busy-query/></d:report></d:supported-report>"

const calendarReports = "<d:supported-report><d:report><c:calendar-query/></d:report></d:supported-report>" +
	"<d:supported-report><d:report><c:calendar-multiget/></d:report></d:supported-report>" +
	"<d:supported-report><d:report><d:sync-collection/></d:report></d:supported-report>" +
	freeBusyReport

func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

func componentSet(cal *store.Calendar) []string {
	if len(cal.Components) == 0 {
		return []string{"VEVENT", "VTODO"}
	}
	return cal.Components
}

// prop renders one property of t; found is false when t has no such
// property (a 404 propstat). r is the request, for the user and host.
func (h *handler) prop(r *http.Request, t *target, n xml.Name) (string, bool) {
	user := userOf(r)
	v := func(inner string) (string, bool) { return element(n, inner), true }
	text := func(s string) (string, bool) { return element(n, escape(s)), true }

	// Properties every resource has.
	switch n {
	case pCurrentUserPrinc:
		return v(hrefXML(principalHref(user)))
	case pCurrentUserPriv:
		if t.res.kind == kindServerRoot || t.res.kind == kindRoot || t.res.kind == kindPrincipals || t.res.kind == kindCalendars {
			return v("<d:privilege><d:read/></d:privilege>")
		}
		switch t.res.kind {
		case kindOutbox:
			return v(outboxPrivileges)
		case kindInbox:
			return v(inboxPrivileges)
		}
		return v(ownerPrivileges)
	case pSupportedLock, pLockDiscovery:
		return "", false
	}

	switch t.res.kind {
	case kindServerRoot, kindRoot, kindPrincipals, kindCalendars:
		switch n {
		case pResourceType:
			return v("<d:collection/>")
		case pDisplayName:
			return text("calbolt")
		case pPrincipalCollSet:
			return v(hrefXML(principalsPath))
		}
	case kindPrincipal:
		switch n {
		case pResourceType:
			return v("<d:collection/><d:principal/>")
		case pDisplayName:
			return text(t.user.Name)
		case pPrincipalURL:
			return v(hrefXML(principalHref(t.user.Name)))
		case pPrincipalCollSet:
			return v(hrefXML(principalsPath))
		case pCalHomeSet:
			return v(hrefXML(homeHref(t.user.Name)))
		case pCalUserAddrSet:
			// Thunderbird sends free-busy requests from the first
			// mailto: here, so it comes first.
			return v(hrefXML(busytime.Address(t.user, r.Host)) + hrefXML(principalHref(t.user.Name)))
		case pScheduleInboxURL:
			return v(hrefXML(inboxHref(t.user.Name)))
		case pScheduleOutboxURL:
			return v(hrefXML(outboxHref(t.user.Name)))
		case pCalUserType:
			return text("INDIVIDUAL") // RFC 6638 §2.4.2
		}
	case kindInbox, kindOutbox:
		switch n {
		case pResourceType:
			if t.res.kind == kindInbox {
				return v("<d:collection/><c:schedule-inbox/>")
			}
			return v("<d:collection/><c:schedule-outbox/>")
		case pDisplayName:
			if t.res.kind == kindInbox {
				return text("Scheduling inbox")
			}
			return text("Scheduling outbox")
		case pOwner:
			return v(hrefXML(principalHref(t.res.user)))
		case pSupportedRepSet:
			return v("")
		}
	case kindHome:
		switch n {
		case pResourceType:
			return v("<d:collection/>")
		case pDisplayName:
			return text(t.user.Name)
		case pOwner:
			return v(hrefXML(principalHref(t.user.Name)))
		case pSupportedRepSet:
			return v(freeBusyReport) // with Depth: 1, over all calendars
		case pPrincipalCollSet:
			return v(hrefXML(principalsPath))
		}
	case kindCalendar:
		if n == pOwner {
			return v(hrefXML(principalHref(t.res.user)))
		}
		return h.calendarProp(t.cal, n)
	case kindObject:
		return h.objectProp(t, n)
	}
	return "", false
}

func (h *handler) calendarProp(cal *store.Calendar, n xml.Name) (string, bool) {
	v := func(inner string) (string, bool) { return element(n, inner), true }
	text := func(s string) (string, bool) { return element(n, escape(s)), true }
	switch n {
	case pResourceType:
		return v("<d:collection/><c:calendar/>")
	case pDisplayName:
		if cal.DisplayName == "" {
			return text(cal.Name)
		}
		return text(cal.DisplayName)
	case pSupportedRepSet:
		return v(calendarReports)
	case pSyncToken, pGetCTag:
		return text(cal.SyncToken())
	case pCalDescription:
		if cal.Description == "" {
			return "", false
		}
		return text(cal.Description)
	case pCalTimezone:
		if cal.Timezone == "" {
			return "", false
		}
		return text(cal.Timezone)
	case pSupportedCompSet:
		var b strings.Builder
		for _, c := range componentSet(cal) {
			b.WriteString(`<c:comp name="` + escape(c) + `"/>`)
		}
		return v(b.String())
	case pSupportedCalData:
		return v(`<c:calendar-data content-type="text/calendar" version="2.0"/>`)
	case pMaxResourceSize:
		return text(strconv.FormatInt(h.maxSize, 10))
	case pMinDateTime:
		return text(minDateTime)
	case pMaxDateTime:
		return text(maxDateTime)
	case pMaxInstances:
		return text(strconv.Itoa(maxInstances))
	case pScheduleCalTransp:
		if cal.Transparent {
			return v("<c:transparent/>")
		}
		return v("<c:opaque/>")
	case pCalendarColor:
		if cal.Color == "" {
			return "", false
		}
		return text(cal.Color)
	case pCalendarOrder:
		return text(strconv.Itoa(cal.Order))
	case pCreationDate:
		return text(cal.Created.UTC().Format(time.RFC3339))
	case pGetLastModified:
		return text(httpDate(cal.Modified))
	case pResourceID:
		return v(hrefXML("urn:uuid:" + cal.ID))
	}
	if inner, ok := cal.DeadProps[propKey(n)]; ok {
		return v(inner)
	}
	return "", false
}

func (h *handler) objectProp(t *target, n xml.Name) (string, bool) {
	v := func(inner string) (string, bool) { return element(n, inner), true }
	text := func(s string) (string, bool) { return element(n, escape(s)), true }
	o := t.obj
	switch n {
	case pResourceType:
		return v("")
	case pGetETag:
		return text(quoteETag(o.ETag))
	case pGetContentType:
		return text(objectContentType(o))
	case pGetContentLength:
		return text(strconv.FormatInt(o.Size, 10))
	case pGetLastModified:
		return text(httpDate(o.Modified))
	case pCreationDate:
		return text(o.Modified.UTC().Format(time.RFC3339))
	case pOwner:
		return v(hrefXML(principalHref(t.res.user)))
	case pCalendarData:
		if o.Data == nil {
			return "", false // callers load data when they ask for it
		}
		return text(string(o.Data))
	}
	return "", false
}

func objectContentType(o *store.Object) string {
	if o.Component == "" {
		return "text/calendar; charset=utf-8"
	}
	return "text/calendar; charset=utf-8; component=" + strings.ToLower(o.Component)
}

func quoteETag(etag string) string { return `"` + etag + `"` }
