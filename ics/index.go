package ics

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/maphash"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/emersion/go-ical"
)

// The index pass reads every input once, front to back, and remembers
// where each top-level component is — not its bytes, not even its UID.
// The import pass then reads each resource's components back with ReadAt,
// so memory grows with the number of components, not with their bytes:
// one compRef each (24 bytes, no pointers, so the garbage collector never
// scans them), and, during the index pass only, a 128-bit hash of its UID
// (16 bytes) and, while the chains are linked, 4 bytes more — about 50
// bytes a component at the peak, counting append's spare capacity, and
// about 27 after the index pass.
//
// Components whose UIDs hash alike are chained together, in file order:
// done sorts the components by hash and links each run. The hash is only
// a hint: the import pass reads every UID of a chain back from the input,
// with the same code as the index pass (compScan), and splits a chain whose
// components turn out to have different UIDs into one resource per UID. A
// collision therefore costs a little time, never a wrong merge.

// compRef locates one top-level component of a VCALENDAR in an input, in
// 24 bytes.
type compRef struct {
	off  int64  // offset of its BEGIN line in its input
	size uint32 // bytes up to and including its END line (math.MaxUint32 and fHuge when larger)
	line uint32 // line number of its BEGIN line (saturating at math.MaxUint32)
	next int32  // index in index.refs of the next component of its chain; 0 for none
	meta uint32 // flags (f…) in the low 8 bits, the index into index.vcals above
}

// maxVCals is how many distinct vcalInfos compRef.meta can refer to.
const maxVCals = 1 << 24

func (c compRef) has(f uint8) bool { return c.meta&uint32(f) != 0 }

// vcal is the index into index.vcals of c's input and calendar properties.
func (c compRef) vcal() int32 { return int32(c.meta >> 8) }

const (
	fFirst   uint8 = 1 << iota // the first component of its chain: a resource starts here
	fRID                       // has a RECURRENCE-ID
	fGenUID                    // had no UID: its UID is made from its content
	fBroken                    // cannot be imported; pass 2 reads the reason back
	fEndVCal                   // cut short by END:VCALENDAR (fBroken too)
	fEOF                       // cut short by the end of the input (fBroken too)
	fHuge                      // 4 GiB or more
	fKeyed                     // chained by the hash of its UID (index.keys)
)

// uidKey is a 128-bit hash of a UID.
type uidKey [2]uint64

// newUIDHash returns the UID hash of one import: two 64-bit maphash values
// under random seeds, so the same within a run and unpredictable across
// runs.
func newUIDHash() func([]byte) uidKey {
	s1, s2 := maphash.MakeSeed(), maphash.MakeSeed()
	return func(uid []byte) uidKey { return uidKey{maphash.Bytes(s1, uid), maphash.Bytes(s2, uid)} }
}

// vcalInfo holds what the import uses of a VCALENDAR: its input, and the
// calendar properties the resource header keeps (PRODID and CALSCALE, RFC
// 5545 §3.7). Identical ones are stored once, so a file of a million
// one-event VCALENDARs costs one.
type vcalInfo struct {
	input            int
	prodID, calScale string
}

// maxInterned caps the distinct strings index.intern keeps.
const maxInterned = 256

// index is the result of the index pass.
type index struct {
	hash       func([]byte) uidKey
	refs       []compRef
	keys       []uidKey         // the hash of each fKeyed component's UID, by refs index; nil after done
	groups     int              // chains (components with fFirst), once done
	zones      map[string]int32 // VTIMEZONE (in refs) by trimmed TZID; the first definition wins
	vcals      []vcalInfo
	vcalIDs    map[vcalInfo]int32
	nVCal      int             // VCALENDARs seen
	calName    string          // first X-WR-CALNAME
	calZone    string          // first X-WR-TIMEZONE
	comps      map[string]*int // components read by name (maxInterned names)
	otherComps int             // components of further names
	problems   []Rejection     // structure errors outside any resource, the first MaxDetails
	moreProbs  int             // structure errors beyond those
	repairs    map[string]int
	noVCal     bool // no VCALENDAR at all
	bytesRead  int64
	interned   map[string]string
	overflow   bool // more than maxVCals: the index pass fails

	// The VCALENDAR being read: its properties, and where its components
	// start in refs (their vcal is set when it ends).
	open      vcalInfo
	openFirst int
	isOpen    bool
}

func newIndex() *index {
	return &index{
		hash: newUIDHash(), zones: map[string]int32{},
		vcalIDs: map[vcalInfo]int32{}, comps: map[string]*int{}, repairs: map[string]int{},
		interned: map[string]string{},
	}
}

// done ends the index pass: it links the components of each UID hash into
// a chain, in file order, marks the first of each, and drops the hashes.
func (ix *index) done() {
	ix.link(ix.sortByKey())
	ix.keys = nil
}

// sortByKey returns the indexes of the fKeyed components, sorted by their
// UID hash and, within a hash, in file order.
func (ix *index) sortByKey() []int32 {
	n := 0
	for i := range ix.refs {
		if ix.refs[i].has(fKeyed) {
			n++
		}
	}
	perm := make([]int32, 0, n)
	for i := range ix.refs {
		if ix.refs[i].has(fKeyed) {
			perm = append(perm, int32(i))
		}
	}
	keys := ix.keys
	slices.SortFunc(perm, func(a, b int32) int {
		ka, kb := &keys[a], &keys[b]
		if c := cmp.Compare(ka[0], kb[0]); c != 0 {
			return c
		}
		if c := cmp.Compare(ka[1], kb[1]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return perm
}

// link chains the runs of equal hashes in perm (from sortByKey).
func (ix *index) link(perm []int32) {
	for j := 0; j < len(perm); {
		head := perm[j]
		ix.refs[head].meta |= uint32(fFirst)
		ix.groups++
		k := j + 1
		for ; k < len(perm) && ix.keys[perm[k]] == ix.keys[head]; k++ {
			ix.refs[perm[k-1]].next = perm[k]
		}
		j = k
	}
}

// count returns how many components named name were read.
func (ix *index) count(name string) int {
	if p := ix.comps[name]; p != nil {
		return *p
	}
	return 0
}

// intern returns b as a string, the same string for the same bytes (up to
// maxInterned of them), so component names cost no allocation each.
func (ix *index) intern(b []byte) string {
	if s, ok := ix.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(ix.interned) < maxInterned {
		ix.interned[s] = s
	}
	return s
}

func (ix *index) problem(r Rejection) {
	if len(ix.problems) < MaxDetails {
		ix.problems = append(ix.problems, r)
	} else {
		ix.moreProbs++
	}
}

// openCal starts a VCALENDAR of input.
func (ix *index) openCal(input int) {
	ix.closeCal()
	ix.nVCal++
	ix.open, ix.openFirst, ix.isOpen = vcalInfo{input: input}, len(ix.refs), true
}

// closeCal ends the current VCALENDAR, if any: its properties are known
// now, so its components get their vcal.
func (ix *index) closeCal() {
	if !ix.isOpen {
		return
	}
	ix.isOpen = false
	id, ok := ix.vcalIDs[ix.open]
	if !ok {
		if len(ix.vcals) >= maxVCals {
			// Sixteen million inputs or distinct PRODIDs: keep the
			// components apart from what they cannot refer to.
			ix.refs, ix.keys = ix.refs[:ix.openFirst], ix.keys[:ix.openFirst]
			ix.overflow = true
			return
		}
		id = int32(len(ix.vcals))
		ix.vcals = append(ix.vcals, ix.open)
		ix.vcalIDs[ix.open] = id
	}
	for i := ix.openFirst; i < len(ix.refs); i++ {
		ix.refs[i].meta = ix.refs[i].meta&0xff | uint32(id)<<8
	}
}

// add records a component that the scanner s has read whole (or cut short,
// by flags), from off to end.
func (ix *index) add(s *compScan, off, end int64, line int, flags uint8) {
	if len(ix.refs) >= math.MaxInt32 {
		// Two billion components: far beyond any import size limit.
		panic("ics: too many components")
	}
	if s.broken != "" {
		flags |= fBroken
	}
	c := compRef{off: off, line: uint32(min(line, math.MaxUint32)), meta: uint32(flags)}
	if size := end - off; size >= math.MaxUint32 {
		c.size, c.meta = math.MaxUint32, c.meta|uint32(fHuge)
	} else {
		c.size = uint32(size)
	}
	i := int32(len(ix.refs))
	if s.name == ical.CompTimezone {
		if len(s.uid) > 0 && !c.has(fBroken|fHuge) {
			if _, dup := ix.zones[string(s.uid)]; !dup {
				ix.zones[string(s.uid)] = i
				ix.refs = append(ix.refs, c)
				ix.keys = append(ix.keys, uidKey{})
			}
		}
		return
	}
	if p := ix.comps[s.name]; p != nil {
		*p++
	} else if len(ix.comps) < maxInterned {
		n := 1
		ix.comps[s.name] = &n
	} else {
		ix.otherComps++
	}
	uid := s.uid
	if len(uid) == 0 {
		if c.has(fBroken) {
			// Broken and without a UID: a resource of its own.
			c.meta |= uint32(fFirst)
			ix.groups++
			ix.refs = append(ix.refs, c)
			ix.keys = append(ix.keys, uidKey{})
			return
		}
		uid = s.genUID()
		c.meta |= uint32(fGenUID)
	}
	c.meta |= uint32(fKeyed)
	ix.refs = append(ix.refs, c)
	ix.keys = append(ix.keys, ix.hash(uid))
}

// scan runs the index pass over one input. progress, when not nil, gets
// the bytes read so far.
func (ix *index) scan(input int, file string, r io.Reader, progress func(int64)) error {
	lr := newLineReader(r, false)
	var (
		inCal   bool
		s       = compScan{ix: ix, sum: sha256.New()}
		inComp  bool
		off     int64
		garbage = 0 // first line of a run of lines outside any VCALENDAR
		sawCal  bool
	)
	flushGarbage := func() {
		if garbage > 0 {
			ix.problem(Rejection{File: file, Line: garbage,
				Kind: KindSyntax, Reason: "content outside BEGIN:VCALENDAR … END:VCALENDAR"})
			garbage = 0
		}
	}
	for {
		cl, err := lr.next()
		if progress != nil && lr.line%4096 == 0 {
			progress(lr.off)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("ics: reading %s: %w", file, err)
		}
		if inComp {
			switch s.feed(&cl) {
			case feedEnd:
				ix.add(&s, off, lr.off, s.line, 0)
				inComp = false
			case feedEndCal:
				ix.add(&s, off, cl.start, s.line, fEndVCal)
				inComp, inCal = false, false
				ix.closeCal()
			}
			continue
		}
		name := cl.name()
		if !inCal {
			if name == "BEGIN" && strings.EqualFold(strings.TrimSpace(cl.value()), ical.CompCalendar) {
				flushGarbage()
				inCal, sawCal = true, true
				ix.openCal(input)
				continue
			}
			if garbage == 0 {
				garbage = cl.line
			}
			continue
		}
		// Calendar level.
		vc := &ix.open
		switch name {
		case "BEGIN":
			comp := trimUpper(cl.valueBytes())
			if string(comp) == ical.CompCalendar {
				// A VCALENDAR inside a VCALENDAR: the previous one lacked
				// its END.
				ix.repairs[RepairMissingEnd]++
				ix.openCal(input)
				continue
			}
			s.begin(ix.intern(comp), cl.line, true)
			off, inComp = cl.start, true
		case "END":
			if strings.EqualFold(strings.TrimSpace(cl.value()), ical.CompCalendar) {
				inCal = false
				ix.closeCal()
			} else {
				ix.problem(Rejection{File: file, Line: cl.line, Kind: KindSyntax,
					Reason: fmt.Sprintf("END:%s without its BEGIN", strings.TrimSpace(cl.value()))})
			}
		case ical.PropProductID:
			vc.prodID = cl.value()
		case ical.PropCalendarScale:
			vc.calScale = cl.value()
		case "X-WR-CALNAME":
			if ix.calName == "" {
				ix.calName = unescapeText(cl.value())
			}
		case "X-WR-TIMEZONE":
			if ix.calZone == "" {
				ix.calZone = strings.TrimSpace(cl.value())
			}
		case ical.PropMethod:
			// RFC 4791 §4.1: a calendar object resource has no METHOD;
			// the resources are written without it.
			ix.repairs[RepairMethod]++
		}
	}
	flushGarbage()
	if inComp {
		ix.add(&s, off, lr.off, s.line, fEOF)
		inCal = false
	}
	if inCal {
		ix.repairs[RepairMissingEnd]++
	}
	ix.closeCal()
	if ix.overflow {
		return fmt.Errorf("ics: reading %s: more than %d inputs or distinct VCALENDAR headers", file, maxVCals)
	}
	if !sawCal && lr.line > 0 {
		ix.noVCal = true
	}
	if lr.empty > 0 {
		ix.repairs[RepairEmptyLines] += lr.empty
	}
	ix.bytesRead += lr.off
	if progress != nil {
		progress(lr.off)
	}
	return nil
}

// maxDepth is how deep components may nest in a top-level component;
// deeper is broken (go-ical would refuse it anyway), and not remembered.
const maxDepth = 64

// compScan follows the content lines of one top-level component, after its
// BEGIN line: it finds its UID (or, for a VTIMEZONE, its TZID), whether it
// has a RECURRENCE-ID, whether it is broken and why, and the content hash
// that names a component without UID. The index pass runs it over the
// input, and the import pass again over the component's bytes alone, to
// read back what the index did not keep: as it sees the same lines, it
// finds the same.
type compScan struct {
	ix     *index // for interning names; may be nil
	name   string // of the component, upper-cased
	line   int    // of its BEGIN line
	stack  []string
	deep   int // levels open beyond maxDepth
	uid    []byte
	rid    bool
	broken string
	sum    hash.Hash
	hashed bool // sum is being written
}

type feedResult int

const (
	feedMore   feedResult = iota
	feedEnd               // the component's END
	feedEndCal            // END:VCALENDAR with the component still open
)

// begin starts a component; hashed asks for the content hash.
func (s *compScan) begin(name string, line int, hashed bool) {
	s.name, s.line = name, line
	s.stack = append(s.stack[:0], name)
	s.deep = 0
	s.uid = s.uid[:0]
	s.rid = false
	s.broken = ""
	s.hashed = hashed
	if hashed {
		if s.sum == nil {
			s.sum = sha256.New()
		}
		s.sum.Reset()
	}
}

func (s *compScan) name2(b []byte) string {
	if s.ix != nil {
		return s.ix.intern(b)
	}
	return string(b)
}

func (s *compScan) write(cl *contentLine) {
	if s.hashed {
		s.sum.Write(cl.text)
		s.sum.Write([]byte{'\n'})
	}
}

// feed takes the next line of the component.
func (s *compScan) feed(cl *contentLine) feedResult {
	name := cl.name()
	depth := len(s.stack) + s.deep
	switch name {
	case "BEGIN":
		if len(s.stack) >= maxDepth {
			s.deep++
			if s.broken == "" {
				s.broken = fmt.Sprintf("components nested deeper than %d at line %d", maxDepth, cl.line)
			}
		} else {
			s.stack = append(s.stack, s.name2(trimUpper(cl.valueBytes())))
		}
	case "END":
		v := trimUpper(cl.valueBytes())
		switch {
		case s.deep > 0 && string(v) != ical.CompCalendar:
			s.deep--
		case string(v) == s.stack[len(s.stack)-1]:
			s.stack = s.stack[:len(s.stack)-1]
		case string(v) == ical.CompCalendar:
			if s.broken == "" {
				s.broken = s.unclosed(false)
			}
			return feedEndCal
		default:
			if s.broken == "" {
				s.broken = fmt.Sprintf("END:%s at line %d where END:%s belongs", v, cl.line, s.stack[len(s.stack)-1])
			}
			// Resynchronise on the component it closes, if open.
			for i := len(s.stack) - 1; i >= 0; i-- {
				if s.stack[i] == string(v) {
					s.stack = s.stack[:i]
					break
				}
			}
		}
		if len(s.stack) == 0 {
			return feedEnd
		}
		return feedMore
	}
	if depth != 1 {
		s.write(cl)
		return feedMore
	}
	switch name {
	case ical.PropUID:
		if cl.long {
			s.broken = fmt.Sprintf("UID longer than %d bytes", maxKeep)
		} else if v := cl.valueBytes(); len(s.uid) == 0 && len(bytes.TrimSpace(v)) > 0 {
			s.uid = append(s.uid[:0], v...)
		}
	case ical.PropTimezoneID:
		if s.name == ical.CompTimezone && !cl.long {
			s.uid = append(s.uid[:0], bytes.TrimSpace(cl.valueBytes())...)
		}
	case ical.PropRecurrenceID:
		s.rid = true
	case ical.PropDateTimeStamp:
		// Exporters stamp every component with the time of the export:
		// leave it out of the content hash so a UID made from it is
		// the same in the next export.
		return feedMore
	}
	s.write(cl)
	return feedMore
}

// unclosed is why a component still open at its calendar's end (eof:
// the input's end) is broken.
func (s *compScan) unclosed(eof bool) string {
	if eof {
		return fmt.Sprintf("BEGIN:%s at line %d has no END:%s (the file ends first)", s.stack[0], s.line, s.stack[0])
	}
	top := s.stack[len(s.stack)-1]
	return fmt.Sprintf("BEGIN:%s at line %d has no END:%s", top, s.line, top)
}

// genUID is the UID of a component without one: a hash of its content
// without DTSTAMP.
func (s *compScan) genUID() []byte {
	var sum [sha256.Size]byte
	h := s.sum.Sum(sum[:0])
	return hex.AppendEncode([]byte("calbolt-import-"), h[:16])
}

// compInfo is what the import pass reads back of a component.
type compInfo struct {
	name   string
	uid    string // as the index pass found it, made from the content for fGenUID
	broken string
}

// readBack reads c's name, UID and, when it is broken, the reason, from
// raw (its bytes) or, when raw is nil, from its input.
func (im *importer) readBack(c compRef, raw []byte) (compInfo, error) {
	var lr *lineReader
	if raw != nil {
		lr = newBytesLineReader(raw, false)
	} else {
		in := im.inputs[im.ix.vcals[c.vcal()].input]
		lr = newLineReaderSize(io.NewSectionReader(in.R, c.off, int64(c.size)), false, 4<<10)
	}
	lr.line = int(c.line) - 1
	first, err := lr.next()
	if err != nil {
		return compInfo{}, fmt.Errorf("ics: reading back line %d: %w", c.line, err)
	}
	var s compScan
	s.begin(string(trimUpper(first.valueBytes())), int(c.line), c.has(fGenUID))
	for {
		cl, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return compInfo{}, err
		}
		if s.feed(&cl) != feedMore {
			break
		}
	}
	info := compInfo{name: s.name, uid: string(s.uid), broken: s.broken}
	if c.has(fGenUID) {
		info.uid = string(s.genUID())
	}
	if c.has(fBroken) && info.broken == "" {
		switch {
		case c.has(fEOF):
			info.broken = s.unclosed(true)
		case c.has(fEndVCal):
			info.broken = s.unclosed(false)
		default:
			info.broken = "broken component" // not reached: the reason is in its lines
		}
	}
	return info, nil
}

// trimUpper returns b without surrounding white space and upper-cased, as
// strings.ToUpper(strings.TrimSpace(…)) would, without copying when it is
// upper case already.
func trimUpper(b []byte) []byte {
	b = bytes.TrimSpace(b)
	for _, c := range b {
		if 'a' <= c && c <= 'z' || c >= 0x80 {
			return bytes.ToUpper(b)
		}
	}
	return b
}

// unescapeText undoes RFC 5545 §3.3.11 TEXT escaping.
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
