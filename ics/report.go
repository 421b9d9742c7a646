package ics

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Why an object was rejected, beyond calobj's kinds (which Rejection.Kind
// also carries: valid-calendar-data, valid-calendar-object-resource,
// supported-calendar-component, max-instances).
const (
	// KindSyntax is a structural error the index pass found: a component
	// without its END, content outside any VCALENDAR.
	KindSyntax = "syntax"
	// KindTooLarge is a resource bigger than the server's max-resource-size
	// (RFC 4791 §5.2.5), as a PUT of it would be.
	KindTooLarge = "max-resource-size"
)

// What the importer repairs, as keys of Report.Repairs.
const (
	RepairWindowsTZID = "Windows TZID mapped to IANA"
	RepairTZIDSpaces  = "spaces around TZID removed"
	RepairDTSTAMP     = "missing DTSTAMP added"
	RepairUID         = "missing UID made from the content"
	RepairEmptyLines  = "empty lines skipped"
	RepairDuplicate   = "identical duplicate component dropped"
	RepairMissingEnd  = "missing END:VCALENDAR"
	RepairMethod      = "METHOD left out (RFC 4791 §4.1)"
)

// MaxDetails caps the per-object lists of a Report, so that its size does
// not grow with the input's; the counts stay exact, and
// RejectionsOmitted and RepairDetailsOmitted say how many were left out.
const MaxDetails = 1000

// maxDetailText caps the UID and reason of one detail.
const maxDetailText = 1024

// Report says what an import did. It is the JSON body of an HTTP import
// and what `calbolt import` prints.
type Report struct {
	Calendar        string `json:"calendar"`
	CalendarCreated bool   `json:"calendarCreated,omitempty"`
	DryRun          bool   `json:"dryRun,omitempty"`
	Strict          bool   `json:"strict,omitempty"`
	// Components counts the components read (VEVENT, VTODO, …), VTIMEZONEs
	// not included; Objects the resources they made that were accepted.
	Components int `json:"components"`
	Objects    int `json:"objects"`
	// Created, Updated and Unchanged split Objects by what the store did
	// (or, in a dry run, would do).
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Rejected counts refused resources (and structure errors);
	// Rejections details the first MaxDetails, RejectionsOmitted counts
	// the others.
	Rejected          int         `json:"rejected"`
	Rejections        []Rejection `json:"rejections,omitempty"`
	RejectionsOmitted int         `json:"rejectionsOmitted,omitempty"`
	// Repaired counts accepted resources that were repaired; Repairs counts
	// repairs by kind (Repair… constants); RepairDetails details the first
	// MaxDetails repaired resources, RepairDetailsOmitted counts the others.
	Repaired             int            `json:"repaired"`
	Repairs              map[string]int `json:"repairs,omitempty"`
	RepairDetails        []Repaired     `json:"repairDetails,omitempty"`
	RepairDetailsOmitted int            `json:"repairDetailsOmitted,omitempty"`
	// Notes are remarks about the whole run, e.g. a calendar time zone
	// that could not be set.
	Notes []string `json:"notes,omitempty"`
	// Error, when set, says why the run stopped before its end: a strict
	// run's first rejection, or a failed write. Chunks written before it
	// stay written; running the import again completes it.
	Error string `json:"error,omitempty"`
}

// Rejection is one refused resource.
type Rejection struct {
	File      string `json:"file,omitempty"`
	Line      int    `json:"line"`
	UID       string `json:"uid,omitempty"`
	Component string `json:"component,omitempty"`
	Kind      string `json:"kind"`
	Reason    string `json:"reason"`
}

// Repaired is one accepted resource that was repaired.
type Repaired struct {
	File    string   `json:"file,omitempty"`
	Line    int      `json:"line"`
	UID     string   `json:"uid"`
	Repairs []string `json:"repairs"`
}

func (r *Report) reject(rej Rejection) {
	r.Rejected++
	if len(r.Rejections) < MaxDetails {
		rej.UID, rej.Reason = clip(rej.UID), clip(rej.Reason)
		r.Rejections = append(r.Rejections, rej)
	} else {
		r.RejectionsOmitted++
	}
}

// merge adds the rejections of o to r.
func (r *Report) merge(o *Report) {
	for _, rej := range o.Rejections {
		r.reject(rej)
	}
	r.Rejected += o.RejectionsOmitted
	r.RejectionsOmitted += o.RejectionsOmitted
}

// clip shortens s to maxDetailText bytes (at a UTF-8 boundary), marking
// the cut with "…".
func clip(s string) string {
	if len(s) <= maxDetailText {
		return s
	}
	i := maxDetailText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func (r *Report) repaired(rep Repaired, kinds []string) {
	if len(kinds) == 0 {
		return
	}
	r.Repaired++
	for _, k := range kinds {
		r.repair(k, 1)
	}
	if len(r.RepairDetails) < MaxDetails {
		rep.UID = clip(rep.UID)
		rep.Repairs = kinds
		r.RepairDetails = append(r.RepairDetails, rep)
	} else {
		r.RepairDetailsOmitted++
	}
}

func (r *Report) repair(kind string, n int) {
	if n == 0 {
		return
	}
	if r.Repairs == nil {
		r.Repairs = map[string]int{}
	}
	r.Repairs[kind] += n
}

// OK reports whether the run finished and accepted everything it read.
func (r *Report) OK() bool { return r.Error == "" && r.Rejected == 0 }

// Summary is the report in a few lines for people, as the CLI prints it.
func (r *Report) Summary() string {
	var b strings.Builder
	verb := "imported into"
	if r.DryRun {
		verb = "would import into"
	}
	fmt.Fprintf(&b, "%d objects %s %q: %d created, %d updated, %d unchanged; %d rejected, %d repaired\n",
		r.Objects, verb, r.Calendar, r.Created, r.Updated, r.Unchanged, r.Rejected, r.Repaired)
	if r.CalendarCreated {
		fmt.Fprintf(&b, "created the calendar %q\n", r.Calendar)
	}
	for _, rej := range r.Rejections {
		where := fmt.Sprintf("line %d", rej.Line)
		if rej.File != "" {
			where = fmt.Sprintf("%s:%d", rej.File, rej.Line)
		}
		what := rej.Component
		if rej.UID != "" {
			what += " " + rej.UID
		}
		fmt.Fprintf(&b, "rejected %s: %s: %s (%s)\n", where, strings.TrimSpace(what), rej.Reason, rej.Kind)
	}
	if r.RejectionsOmitted > 0 {
		fmt.Fprintf(&b, "… and %d more rejected (the report details the first %d)\n", r.RejectionsOmitted, len(r.Rejections))
	}
	kinds := make([]string, 0, len(r.Repairs))
	for k := range r.Repairs {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "repaired: %s: %d\n", k, r.Repairs[k])
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "stopped: %s\n", r.Error)
	}
	return b.String()
}
