package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// multistatus is the part of a DAV:multistatus body (RFC 4918 §14.16,
// RFC 6578 §6.4) the scenarios check.
type multistatus struct {
	Responses []msResponse `xml:"DAV: response"`
	SyncToken string       `xml:"DAV: sync-token"`
}

// msResponse is one DAV:response: either a status for its href (a deleted
// member in a sync report, a missing one in a multiget) or propstats.
type msResponse struct {
	Href      string       `xml:"DAV: href"`
	Status    string       `xml:"DAV: status"`
	Propstats []msPropstat `xml:"DAV: propstat"`
}

type msPropstat struct {
	Status string `xml:"DAV: status"`
	Prop   struct {
		ETag         string `xml:"DAV: getetag"`
		CalendarData string `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
	} `xml:"DAV: prop"`
}

// parseMultistatus decodes a 207 body.
func parseMultistatus(body []byte) (*multistatus, error) {
	var ms multistatus
	d := xml.NewDecoder(bytes.NewReader(body))
	// Find the root first, so that a body that is not a multistatus is
	// reported as such instead of as an empty one.
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("multistatus: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Space != "DAV:" || se.Name.Local != "multistatus" {
				return nil, fmt.Errorf("multistatus: root element is {%s}%s", se.Name.Space, se.Name.Local)
			}
			if err := d.DecodeElement(&ms, &se); err != nil {
				return nil, fmt.Errorf("multistatus: %w", err)
			}
			return &ms, nil
		}
	}
}

// statusCode returns the code of an HTTP status line ("HTTP/1.1 404 Not
// Found" → 404), or 0 if there is none.
func statusCode(line string) int {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return 0
	}
	return n
}

// member is one resource a multistatus names, with its status and, when
// found, its etag and data.
type member struct {
	path   string // decoded path of the href
	status int    // the response's status, or its first propstat's
	etag   string
	data   string
}

// members flattens ms into one member per response, the hrefs decoded to
// paths so they compare with the paths the client built.
func (ms *multistatus) members() ([]member, error) {
	out := make([]member, 0, len(ms.Responses))
	for _, r := range ms.Responses {
		p, err := hrefPath(r.Href)
		if err != nil {
			return nil, err
		}
		m := member{path: p, status: statusCode(r.Status)}
		for _, ps := range r.Propstats {
			code := statusCode(ps.Status)
			if code == 200 {
				m.status = 200
				m.etag = strings.TrimSpace(ps.Prop.ETag)
				m.data = ps.Prop.CalendarData
				break
			}
			if m.status == 0 {
				m.status = code
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// hrefPath returns the decoded path of a DAV:href, which may be a path or
// an absolute URL (RFC 4918 §8.3).
func hrefPath(href string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return "", fmt.Errorf("multistatus: href %q: %w", href, err)
	}
	return u.Path, nil
}
