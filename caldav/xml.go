package caldav

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// XML namespaces and the prefixes calbolt writes them with.
const (
	nsDAV    = "DAV:"
	nsCalDAV = "urn:ietf:params:xml:ns:caldav"
	nsCS     = "http://calendarserver.org/ns/"
	nsApple  = "http://apple.com/ns/ical/"
	// nsCalbolt holds calbolt's own elements, such as the human-readable
	// message in an error body.
	nsCalbolt = "urn:calbolt"
)

var nsPrefix = map[string]string{nsDAV: "d", nsCalDAV: "c", nsCS: "cs", nsApple: "ical"}

const xmlHeader = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// nsDecls declares every fixed prefix on a response's root element.
const nsDecls = ` xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:ical="http://apple.com/ns/ical/"`

// Bounds on request bodies a client controls.
const (
	maxXMLBody     = 4 << 20 // bytes of a PROPFIND/PROPPATCH/REPORT/MKCALENDAR body
	maxXMLDepth    = 32      // element nesting
	maxXMLElements = 50000   // elements in one body
)

// qname writes an element name with its fixed prefix, or with a local
// declaration for a namespace calbolt does not know.
func qname(n xml.Name) (open, close string) {
	if p, ok := nsPrefix[n.Space]; ok {
		return p + ":" + n.Local, p + ":" + n.Local
	}
	if n.Space == "" {
		return n.Local + ` xmlns=""`, n.Local
	}
	return "x:" + n.Local + ` xmlns:x="` + escape(n.Space) + `"`, "x:" + n.Local
}

// element renders <name>inner</name>; inner is XML already.
func element(n xml.Name, inner string) string {
	o, c := qname(n)
	if inner == "" {
		return "<" + o + "/>"
	}
	return "<" + o + ">" + inner + "</" + c + ">"
}

// escape makes s safe as XML character data or a double-quoted attribute
// value: like xml.EscapeText it writes CR as "&#xD;" (so CRLF line ends in
// calendar-data survive the parser's newline normalisation) and replaces
// characters XML cannot carry with U+FFFD, but it leaves apostrophes alone
// and writes quotes as "&quot;", so ETags read naturally.
func escape(s string) string {
	clean := true
	for _, r := range s {
		if r == '&' || r == '<' || r == '>' || r == '"' || r == '\r' || !isXMLChar(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\r':
			b.WriteString("&#xD;")
		case !isXMLChar(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isXMLChar reports whether r may appear in an XML document (XML 1.0 §2.2).
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func hrefXML(href string) string { return "<d:href>" + escape(href) + "</d:href>" }

func statusLine(code int) string {
	return fmt.Sprintf("HTTP/1.1 %d %s", code, http.StatusText(code))
}

// propstat groups rendered properties by status.
type propstat struct {
	status int
	props  []string // rendered property elements
}

// msWriter streams a DAV:multistatus (RFC 4918 §13) response.
type msWriter struct {
	w *bufio.Writer
}

func newMultistatus(w http.ResponseWriter) *msWriter {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(xmlHeader + "<d:multistatus" + nsDecls + ">")
	return &msWriter{w: bw}
}

// response writes one DAV:response with propstats (statuses in ascending
// order, empty groups skipped).
func (m *msWriter) response(href string, stats []propstat) {
	sort.SliceStable(stats, func(i, j int) bool { return stats[i].status < stats[j].status })
	m.w.WriteString("<d:response>" + hrefXML(href))
	empty := true
	for _, ps := range stats {
		if len(ps.props) > 0 {
			empty = false
		}
	}
	if empty {
		// RFC 4918 §14.24: a response holds a propstat or a status.
		stats = []propstat{{status: http.StatusOK, props: []string{""}}}
	}
	for _, ps := range stats {
		if len(ps.props) == 0 {
			continue
		}
		m.w.WriteString("<d:propstat><d:prop>")
		for _, p := range ps.props {
			m.w.WriteString(p)
		}
		m.w.WriteString("</d:prop><d:status>" + statusLine(ps.status) + "</d:status></d:propstat>")
	}
	m.w.WriteString("</d:response>")
}

// status writes a DAV:response carrying only a status (e.g. 404 for a
// multiget href or a deleted member in sync-collection).
func (m *msWriter) status(href string, code int) {
	m.w.WriteString("<d:response>" + hrefXML(href) + "<d:status>" + statusLine(code) + "</d:status></d:response>")
}

// raw appends XML inside the multistatus (e.g. DAV:sync-token).
func (m *msWriter) raw(s string) { m.w.WriteString(s) }

// close ends the multistatus. A write error here means the client went
// away mid-response: errClientGone, for which nothing more is sent.
func (m *msWriter) close() error {
	m.w.WriteString("</d:multistatus>\n")
	if err := m.w.Flush(); err != nil {
		return errClientGone
	}
	return nil
}

var errClientGone = errors.New("caldav: client went away mid-response")

var errXMLLimits = errors.New("caldav: request XML exceeds limits")

// readXMLBody reads a bounded request body and checks its nesting depth and
// element count before anything decodes it into structs.
func readXMLBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxXMLBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errXMLLimits
		}
		// A malformed chunk or a client gone mid-body: its fault, not ours.
		return nil, errorf(http.StatusBadRequest, "could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	depth, elems := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errBadXML
		}
		switch t := tok.(type) {
		case xml.StartElement:
			// Namespaces in XML 1.0 §3: a prefix cannot be bound to the
			// empty name; encoding/xml accepts it, RFC 4918 §8.2 does not.
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" && a.Value == "" {
					return nil, errBadXML
				}
			}
			depth++
			elems++
			if depth > maxXMLDepth || elems > maxXMLElements {
				return nil, errXMLLimits
			}
		case xml.EndElement:
			depth--
		}
	}
	if elems == 0 {
		return nil, errBadXML
	}
	return body, nil
}

var errBadXML = errors.New("caldav: malformed request XML")

// requireXMLBody is readXMLBody for methods whose body is mandatory
// (PROPPATCH, REPORT).
func requireXMLBody(r *http.Request) ([]byte, error) {
	body, err := readXMLBody(r)
	if err == nil && body == nil {
		err = errBadRequestXML
	}
	return body, err
}

// decodeXML decodes body into v; the root element name is checked by v's
// XMLName tag.
func decodeXML(body []byte, v any) error {
	if err := xml.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %v", errBadXML, err)
	}
	return nil
}

// rootName returns the name of the body's root element.
func rootName(body []byte) (xml.Name, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.Name{}, errBadXML
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name, nil
		}
	}
}

// nameList collects the child element names of an element such as DAV:prop.
type nameList []xml.Name

func (l *nameList) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			*l = append(*l, t.Name)
			if err := d.Skip(); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// rawProp is one property element of a PROPPATCH or MKCALENDAR body.
type rawProp struct {
	XMLName  xml.Name
	Text     string     `xml:",chardata"`
	Inner    string     `xml:",innerxml"`
	Children []rawProp  `xml:",any"`
	Attrs    []xml.Attr `xml:",any,attr"`
}

// attr returns the value of the unqualified attribute local, or "".
func (p rawProp) attr(local string) string {
	for _, a := range p.Attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// propKey is how a dead property is keyed in store.Calendar.DeadProps.
func propKey(n xml.Name) string { return "{" + n.Space + "}" + n.Local }

func parsePropKey(k string) xml.Name {
	// A namespace may contain '}', a local name may not.
	if i := strings.LastIndexByte(k, '}'); strings.HasPrefix(k, "{") && i > 0 {
		return xml.Name{Space: k[1:i], Local: k[i+1:]}
	}
	return xml.Name{Local: k}
}
