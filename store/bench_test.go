package store

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchBase is the start of the benchmark calendars' time range.
var benchBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// benchObject is a realistic event of about 700 bytes; every hundredth one
// recurs forever.
func benchObject(i int, rev string) Object {
	start := benchBase + int64(i)*6300 // 10,000 events over about two years
	end := start + 3600
	if i%100 == 0 {
		end = SpanForever
	}
	uid := fmt.Sprintf("%08d-bench@example.org", i)
	data := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbolt//bench//EN\r\nBEGIN:VEVENT\r\n" +
		"UID:" + uid + "\r\nDTSTAMP:20240101T000000Z\r\n" +
		"DTSTART:" + time.Unix(start, 0).UTC().Format("20060102T150405Z") + "\r\n" +
		"DURATION:PT1H\r\nSUMMARY:Benchmark event " + rev + "\r\n" +
		"DESCRIPTION:" + strings.Repeat("lorem ipsum ", 35) + "\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	return Object{Name: uid + ".ics", UID: uid, Component: "VEVENT", Span: Span{start, end}, Data: []byte(data)}
}

// openBench returns a store holding one calendar "work" of alice with n
// objects, imported in chunks of 1,000.
func openBench(b *testing.B, n int, opts *Options) *DB {
	b.Helper()
	db, err := Open(filepath.Join(b.TempDir(), "calbolt.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	mustUser(b, db, "alice")
	mustCalendar(b, db, "alice", "work")
	for lo := 0; lo < n; lo += 1000 {
		objs := make([]Object, 0, 1000)
		for i := lo; i < min(lo+1000, n); i++ {
			objs = append(objs, benchObject(i, "1"))
		}
		if _, err := db.PutObjects("alice", "work", objs); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

func BenchmarkPutObject(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts *Options
	}{{"fsync", nil}, {"nosync", &Options{NoSync: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			db := openBench(b, 1000, bc.opts)
			i := 0
			for b.Loop() {
				o := benchObject(i%1000, fmt.Sprint(i))
				if _, _, err := db.PutObject("alice", "work", o, Condition{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkObjectInfos10k(b *testing.B) {
	db := openBench(b, 10000, &Options{NoSync: true})
	for b.Loop() {
		infos, err := db.ObjectInfos("alice", "work")
		if err != nil || len(infos) != 10000 {
			b.Fatalf("ObjectInfos = %d, %v, want 10000", len(infos), err)
		}
	}
}

func BenchmarkObjectsInRangeWeek10k(b *testing.B) {
	db := openBench(b, 10000, &Options{NoSync: true})
	const week = 7 * 24 * 3600
	for _, bc := range []struct {
		name  string
		start int64
	}{
		{"first week", benchBase},
		{"last week", benchBase + 10000*6300 - week}, // scans the whole span index
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				objs, err := db.ObjectsInRange("alice", "work", bc.start, bc.start+week)
				if err != nil || len(objs) == 0 {
					b.Fatalf("ObjectsInRange = %d, %v", len(objs), err)
				}
			}
		})
	}
}

func BenchmarkChanges10k(b *testing.B) {
	db := openBench(b, 10000, &Options{NoSync: true})
	token := mustCal(b, db, "alice", "work").SyncToken()
	for i := range 100 {
		mustPut(b, db, "alice", "work", benchObject(i*100, "2"))
	}
	b.Run("initial", func(b *testing.B) {
		for b.Loop() {
			ch, _, _, err := db.Changes("alice", "work", "", 0)
			if err != nil || len(ch) != 10000 {
				b.Fatalf("Changes = %d, %v, want 10000", len(ch), err)
			}
		}
	})
	b.Run("100 since token", func(b *testing.B) {
		for b.Loop() {
			ch, _, _, err := db.Changes("alice", "work", token, 0)
			if err != nil || len(ch) != 100 {
				b.Fatalf("Changes = %d, %v, want 100", len(ch), err)
			}
		}
	})
}
