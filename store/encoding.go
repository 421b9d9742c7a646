package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// On-disk layout (bbolt):
//
//	meta                      format version
//	users                     user name -> JSON userRecord
//	o/<owner>                 one bucket per user, holding one bucket per calendar:
//	  <calendar>
//	    meta                  JSON calendarRecord (properties, ID, Created)
//	    state                 calState: SyncSeq, Objects, Modified, PrunedBelow (32 bytes)
//	    objects/              name -> canonical iCalendar bytes
//	    objinfo/              name -> objInfo (uid, component, etag, size, modified, span, seq)
//	    uids/                 uid -> name
//	    spans/                spanKey(start, name) -> 8-byte end
//	    changes/              8-byte seq -> kind byte + name; one entry per name
//	    tombstones/           name -> 8-byte seq of its deletion
//
// Every live object has exactly one change entry, at the seq in its objinfo;
// every deleted name has a tombstone and exactly one change entry, at the
// tombstone's seq. So the change log is as long as objects plus tombstones,
// and "entries after seq N" is exactly "the latest change of every name
// changed after N".
var (
	bucketMeta   = []byte("meta")
	bucketUsers  = []byte("users")
	ownerPrefix  = "o/"
	keyFormat    = []byte("format")
	formatV1     = []byte{1}
	keyCalMeta   = []byte("meta")
	keyCalState  = []byte("state")
	bucketObjs   = []byte("objects")
	bucketInfo   = []byte("objinfo")
	bucketUIDs   = []byte("uids")
	bucketSpans  = []byte("spans")
	bucketChange = []byte("changes")
	bucketTombs  = []byte("tombstones")
)

// calendarSubBuckets are created with every calendar.
var calendarSubBuckets = [][]byte{bucketObjs, bucketInfo, bucketUIDs, bucketSpans, bucketChange, bucketTombs}

func ownerKey(owner string) []byte { return []byte(ownerPrefix + owner) }

// Limits on what the store accepts.
const (
	maxNameLen      = 255  // calendar and object names, bytes
	maxUserNameLen  = 64   // user names, bytes
	maxUIDLen       = 4096 // far above real UIDs, far below bbolt's key limit
	maxComponentLen = 64
)

// validName reports whether s may be a calendar or object name: non-empty,
// at most 255 bytes of UTF-8, no '/', no control characters, not "." or "..".
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen || s == "." || s == ".." || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '/' || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// validUserName reports whether s may be a user name: 1 to 64 bytes of
// [A-Za-z0-9._@+-], not starting with '.'.
func validUserName(s string) bool {
	if s == "" || len(s) > maxUserNameLen || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '@', c == '+', c == '-':
		default:
			return false
		}
	}
	return true
}

// CheckUserName returns an error wrapping ErrInvalidName unless name may be
// a user name: 1 to 64 bytes of [A-Za-z0-9._@+-], not starting with '.'.
// Callers use it to refuse a name before asking for anything else.
func CheckUserName(name string) error {
	if !validUserName(name) {
		return fmt.Errorf("%w: user name %q must be 1-64 bytes of [A-Za-z0-9._@+-] not starting with '.'", ErrInvalidName, name)
	}
	return nil
}

func checkName(kind, name string) error {
	if !validName(name) {
		return fmt.Errorf("%w: %s name %q must be 1-255 bytes of UTF-8 without '/' or control characters, not \".\" or \"..\"", ErrInvalidName, kind, name)
	}
	return nil
}

// checkObject validates what a caller hands PutObject or PutObjects.
func checkObject(obj *Object) error {
	if err := checkName("object", obj.Name); err != nil {
		return err
	}
	switch {
	case obj.UID == "" || len(obj.UID) > maxUIDLen:
		return fmt.Errorf("%w: object %q: uid must be 1-%d bytes", ErrInvalidObject, obj.Name, maxUIDLen)
	case obj.Component == "" || len(obj.Component) > maxComponentLen:
		return fmt.Errorf("%w: object %q: component must be 1-%d bytes", ErrInvalidObject, obj.Name, maxComponentLen)
	case obj.Span.End < obj.Span.Start:
		return fmt.Errorf("%w: object %q: span end %d before start %d", ErrInvalidObject, obj.Name, obj.Span.End, obj.Span.Start)
	}
	return nil
}

// etagOf returns the strong entity tag of data: the hex of the first 16
// bytes of its SHA-256.
func etagOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// newCalendarID returns 16 random hex characters.
func newCalendarID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: calendar id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// now returns the current time in UTC at nanosecond resolution, without a
// monotonic reading, so it equals what a later read decodes.
func now() time.Time { return time.Unix(0, time.Now().UnixNano()).UTC() }

func fromNano(n int64) time.Time { return time.Unix(0, n).UTC() }

// seqKey encodes a sequence number as an 8-byte big-endian key.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// sortableInt maps int64 to uint64 preserving order, so negative span starts
// sort before positive ones in big-endian keys.
func sortableInt(v int64) uint64 { return uint64(v) ^ (1 << 63) }

func unsortableInt(u uint64) int64 { return int64(u ^ (1 << 63)) }

// spanKey is the spans bucket key of an object: its sortable start, then
// its name.
func spanKey(start int64, name string) []byte {
	k := make([]byte, 8, 8+len(name))
	binary.BigEndian.PutUint64(k, sortableInt(start))
	return append(k, name...)
}

func spanValue(end int64) []byte { return binary.BigEndian.AppendUint64(nil, sortableInt(end)) }

func decodeSpanEntry(k, v []byte) (start, end int64, name string, err error) {
	if len(k) < 8 || len(v) != 8 {
		return 0, 0, "", errors.New("store: corrupt span index entry")
	}
	return unsortableInt(binary.BigEndian.Uint64(k)), unsortableInt(binary.BigEndian.Uint64(v)), string(k[8:]), nil
}

// Change-log values: one kind byte, then the object name.
const (
	changeByteUpsert = 'u'
	changeByteDelete = 'd'
)

func changeValue(kind ChangeKind, name string) []byte {
	b := make([]byte, 1, 1+len(name))
	b[0] = changeByteUpsert
	if kind == ChangeKindDelete {
		b[0] = changeByteDelete
	}
	return append(b, name...)
}

func decodeChange(k, v []byte) (seq uint64, kind ChangeKind, name string, err error) {
	if len(k) != 8 || len(v) < 1 {
		return 0, 0, "", errors.New("store: corrupt change-log entry")
	}
	switch v[0] {
	case changeByteUpsert:
		kind = ChangeKindUpsert
	case changeByteDelete:
		kind = ChangeKindDelete
	default:
		return 0, 0, "", fmt.Errorf("store: corrupt change-log entry: kind %q", v[0])
	}
	return binary.BigEndian.Uint64(k), kind, string(v[1:]), nil
}

// objInfo is what the objinfo bucket holds per object: everything but the
// data, so listings never touch the objects bucket.
type objInfo struct {
	uid, component, etag string
	size                 int64
	modified             int64 // Unix nanoseconds
	span                 Span
	seq                  uint64 // seq of the object's change-log entry
}

const objInfoV1 = 1

func (i *objInfo) encode() []byte {
	b := make([]byte, 0, 1+5*binary.MaxVarintLen64+3+len(i.uid)+len(i.component)+len(i.etag))
	b = append(b, objInfoV1)
	b = binary.AppendUvarint(b, i.seq)
	b = binary.AppendVarint(b, i.modified)
	b = binary.AppendVarint(b, i.size)
	b = binary.AppendVarint(b, i.span.Start)
	b = binary.AppendVarint(b, i.span.End)
	for _, s := range [...]string{i.etag, i.component, i.uid} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

var errCorruptInfo = errors.New("store: corrupt object info")

func decodeInfo(b []byte) (objInfo, error) {
	var i objInfo
	if len(b) == 0 || b[0] != objInfoV1 {
		return i, errCorruptInfo
	}
	b = b[1:]
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	i.seq = uv()
	i.modified = sv()
	i.size = sv()
	i.span.Start = sv()
	i.span.End = sv()
	// The three strings share one allocation.
	var bounds [3][2]int
	rest := b
	for k := range bounds {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return objInfo{}, errCorruptInfo
		}
		off := len(rest) - len(b) + n
		bounds[k] = [2]int{off, off + int(l)}
		b = b[n+int(l):]
	}
	if len(b) != 0 {
		return objInfo{}, errCorruptInfo
	}
	all := string(rest)
	i.etag = all[bounds[0][0]:bounds[0][1]]
	i.component = all[bounds[1][0]:bounds[1][1]]
	i.uid = all[bounds[2][0]:bounds[2][1]]
	return i, nil
}

// object returns the exported form of the info, without data.
func (i *objInfo) object(name string) Object {
	return Object{
		Name:      name,
		UID:       i.uid,
		Component: i.component,
		Span:      i.span,
		ETag:      i.etag,
		Size:      i.size,
		Modified:  fromNano(i.modified),
	}
}

// calState is the part of a calendar that changes with every member write,
// kept apart from the JSON properties so a write re-encodes 32 bytes.
type calState struct {
	seq      uint64 // SyncSeq
	objects  uint64 // number of objects
	modified int64  // Unix nanoseconds
	// prunedBelow is the oldest sync-token seq still accepted. It is 0 as
	// long as the change log keeps every tombstone; a future pruning of
	// tombstones with seq < N must raise it to N, so that tokens that might
	// miss those deletions become ErrInvalidSyncToken.
	prunedBelow uint64
}

const calStateLen = 32

func (s calState) encode() []byte {
	b := make([]byte, 0, calStateLen)
	b = binary.BigEndian.AppendUint64(b, s.seq)
	b = binary.BigEndian.AppendUint64(b, s.objects)
	b = binary.BigEndian.AppendUint64(b, uint64(s.modified))
	return binary.BigEndian.AppendUint64(b, s.prunedBelow)
}

func decodeState(b []byte) (calState, error) {
	if len(b) != calStateLen {
		return calState{}, errors.New("store: corrupt calendar state")
	}
	return calState{
		seq:         binary.BigEndian.Uint64(b[0:]),
		objects:     binary.BigEndian.Uint64(b[8:]),
		modified:    int64(binary.BigEndian.Uint64(b[16:])),
		prunedBelow: binary.BigEndian.Uint64(b[24:]),
	}, nil
}

// userRecord is a user as stored in the users bucket.
type userRecord struct {
	Name         string    `json:"name"`
	PasswordHash string    `json:"passwordHash,omitempty"`
	Email        string    `json:"email,omitempty"`
	Created      time.Time `json:"created"`
}

// calendarRecord is a calendar's properties as stored under its meta key.
type calendarRecord struct {
	ID          string            `json:"id"`
	Created     time.Time         `json:"created"`
	DisplayName string            `json:"displayName,omitempty"`
	Description string            `json:"description,omitempty"`
	Color       string            `json:"color,omitempty"`
	Order       int               `json:"order,omitempty"`
	Timezone    string            `json:"timezone,omitempty"`
	Components  []string          `json:"components,omitempty"`
	Transparent bool              `json:"transparent,omitempty"`
	DeadProps   map[string]string `json:"deadProps,omitempty"`
}

func recordOf(c *Calendar) calendarRecord {
	return calendarRecord{
		ID:          c.ID,
		Created:     c.Created,
		DisplayName: c.DisplayName,
		Description: c.Description,
		Color:       c.Color,
		Order:       c.Order,
		Timezone:    c.Timezone,
		Components:  c.Components,
		Transparent: c.Transparent,
		DeadProps:   c.DeadProps,
	}
}

func (r *calendarRecord) calendar(name string, st calState) Calendar {
	return Calendar{
		Name:        name,
		DisplayName: r.DisplayName,
		Description: r.Description,
		Color:       r.Color,
		Order:       r.Order,
		Timezone:    r.Timezone,
		Components:  r.Components,
		Transparent: r.Transparent,
		DeadProps:   r.DeadProps,
		ID:          r.ID,
		SyncSeq:     st.seq,
		Created:     r.Created,
		Modified:    fromNano(st.modified),
		Objects:     int(st.objects),
	}
}

func decodeCalendarRecord(b []byte) (calendarRecord, error) {
	var r calendarRecord
	if b == nil {
		return r, errors.New("store: missing calendar properties")
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("store: corrupt calendar properties: %w", err)
	}
	return r, nil
}

func decodeUser(b []byte) (User, error) {
	var r userRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return User{}, fmt.Errorf("store: corrupt user record: %w", err)
	}
	return User(r), nil
}

func encodeUser(u User) ([]byte, error) {
	b, err := json.Marshal(userRecord(u))
	if err != nil {
		return nil, fmt.Errorf("store: encode user: %w", err)
	}
	return b, nil
}
