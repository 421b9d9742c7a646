package caldav

import (
	"errors"
	"net/http"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/internal/calobj"
	"github.com/calbolt/calbolt/internal/recur"
	"github.com/calbolt/calbolt/store"
)

// Limits advertised as CalDAV properties (RFC 4791 §5.2.6-§5.2.8) and
// enforced on PUT.
const (
	minDateTime  = "19000101T000000Z"
	maxDateTime  = "22001231T235959Z"
	maxInstances = recur.DefaultMaxInstances
)

// decodeCalendar parses exactly one VCALENDAR (see calobj.Decode).
func decodeCalendar(data []byte) (*ical.Calendar, error) { return calobj.Decode(data) }

// parseObject validates a PUT body as a calendar object resource for cal
// (RFC 4791 §4.1) with calobj.Parse, the rules the importer applies too,
// and answers a refusal with its CalDAV precondition.
func parseObject(body []byte, cal *store.Calendar) (*calobj.Object, error) {
	obj, err := calobj.Parse(body, cal, nil)
	if err != nil {
		return nil, objectError(err)
	}
	return obj, nil
}

// objectError maps a calobj refusal to its precondition (RFC 4791
// §5.3.2.1): 403 with the condition element named by the error's kind.
func objectError(err error) error {
	var ce *calobj.Error
	if !errors.As(err, &ce) {
		return err
	}
	return precondition(http.StatusForbidden, "c:"+string(ce.Kind), ce.Msg)
}

// supports reports whether cal accepts components named comp.
func supports(cal *store.Calendar, comp string) bool { return calobj.Supports(cal, comp) }
