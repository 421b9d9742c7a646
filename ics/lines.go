package ics

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxKeep is how much of a logical line the reader keeps to look at: the
// lines the importer reads (BEGIN, END, UID, RECURRENCE-ID, DTSTAMP, TZID
// parameters) are short. Longer lines (an inline ATTACH) are passed over,
// not kept, in the index pass.
const maxKeep = 64 << 10

var bom = []byte("\xef\xbb\xbf")

// contentLine is one logical line (RFC 5545 §3.1): a physical line and its
// continuation lines, which start with a space or a tab.
type contentLine struct {
	text  []byte // unfolded, without line breaks; at most maxKeep bytes unless raw is kept
	long  bool   // text was cut at maxKeep
	raw   []byte // the physical lines joined with CRLF, each with its CRLF (only when keepRaw)
	start int64  // offset of the line's first byte in the input
	line  int    // physical line number of the first line, from 1
}

// lineReader splits an input into content lines. It accepts CRLF and bare
// LF, strips a UTF-8 byte order mark at the start of any line (a BOM
// in the middle of a file comes from concatenated files), and skips empty
// lines, counting them: RFC 5545 has no empty content lines, but exporters
// write them.
type lineReader struct {
	br      *bufio.Reader // the input, or nil when reading data
	data    []byte        // the unread rest of an in-memory input
	keepRaw bool
	off     int64 // offset of the next unread byte
	line    int   // number of the last physical line read
	empty   int   // empty lines skipped
	buf     []byte
}

func newLineReader(r io.Reader, keepRaw bool) *lineReader {
	return newLineReaderSize(r, keepRaw, 64<<10)
}

// newLineReaderSize is newLineReader with a buffer of size bytes; lines
// longer than the buffer are read all the same.
func newLineReaderSize(r io.Reader, keepRaw bool, size int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, size), keepRaw: keepRaw}
}

// newBytesLineReader reads data, which must not change meanwhile, without
// copying it into a buffer.
func newBytesLineReader(data []byte, keepRaw bool) *lineReader {
	return &lineReader{data: data, keepRaw: keepRaw}
}

// readSlice is bufio.Reader.ReadSlice('\n') on either kind of input.
func (lr *lineReader) readSlice() ([]byte, error) {
	if lr.br != nil {
		return lr.br.ReadSlice('\n')
	}
	if len(lr.data) == 0 {
		return nil, io.EOF
	}
	i := bytes.IndexByte(lr.data, '\n')
	if i < 0 {
		line := lr.data
		lr.data = nil
		return line, io.EOF
	}
	line := lr.data[:i+1]
	lr.data = lr.data[i+1:]
	return line, nil
}

// peek returns the next byte, if any.
func (lr *lineReader) peek() (byte, bool) {
	if lr.br != nil {
		c, err := lr.br.Peek(1)
		if err != nil {
			return 0, false
		}
		return c[0], true
	}
	if len(lr.data) == 0 {
		return 0, false
	}
	return lr.data[0], true
}

// physical reads one physical line without its line break into lr.buf
// (keeping at most limit bytes) and reports its full length. It returns
// io.EOF when the input is exhausted.
func (lr *lineReader) physical(limit int) (n int, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.readSlice()
		lr.off += int64(len(chunk))
		n += len(chunk)
		if room := limit - len(lr.buf); room > 0 {
			lr.buf = append(lr.buf, chunk[:min(room, len(chunk))]...)
		}
		switch {
		case err == nil:
			lr.line++
			lr.trim()
			return n, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && n > 0:
			lr.line++
			lr.trim()
			return n, nil
		default:
			return 0, err
		}
	}
}

// trim drops the line break from lr.buf.
func (lr *lineReader) trim() {
	b := lr.buf
	if len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	lr.buf = b
}

// next returns the next content line, or io.EOF.
func (lr *lineReader) next() (contentLine, error) {
	limit := maxKeep
	if lr.keepRaw {
		limit = int(^uint(0) >> 1)
	}
	for {
		start := lr.off
		n, err := lr.physical(limit)
		if err != nil {
			return contentLine{}, err
		}
		b := bytes.TrimPrefix(lr.buf, bom)
		if len(b) == 0 {
			lr.empty++
			continue
		}
		cl := contentLine{start: start, line: lr.line}
		cl.text = append(cl.text, b...)
		cl.long = n > limit
		if lr.keepRaw {
			cl.raw = append(append(cl.raw, b...), '\r', '\n')
		}
		for {
			if c, ok := lr.peek(); !ok || (c != ' ' && c != '\t') {
				break
			}
			n, err := lr.physical(limit)
			if err != nil {
				break
			}
			part := lr.buf[1:]
			if room := maxKeep - len(cl.text); !lr.keepRaw && len(part) > room {
				part, cl.long = part[:max(room, 0)], true
			}
			cl.text = append(cl.text, part...)
			if n > limit {
				cl.long = true
			}
			if lr.keepRaw {
				cl.raw = append(append(cl.raw, lr.buf...), '\r', '\n')
			}
		}
		return cl, nil
	}
}

// name returns the upper-cased property name of a content line.
func (cl *contentLine) name() string {
	i := bytes.IndexAny(cl.text, ";:")
	if i < 0 {
		i = len(cl.text)
	}
	return upper(cl.text[:i])
}

// value returns the value of a content line: what follows the first colon
// outside a quoted parameter value (RFC 5545 §3.1).
func (cl *contentLine) value() string { return string(cl.valueBytes()) }

// valueBytes is value without a copy: a slice of cl.text.
func (cl *contentLine) valueBytes() []byte {
	quoted := false
	for i, c := range cl.text {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ':' && !quoted:
			return cl.text[i+1:]
		}
	}
	return nil
}

// params calls fn with each parameter name (upper-cased) and raw value
// (quotes removed; a list stays comma-separated) of a content line.
func (cl *contentLine) params(fn func(name, value string)) {
	t := cl.text
	i := bytes.IndexAny(t, ";:")
	for i >= 0 && i < len(t) && t[i] == ';' {
		t = t[i+1:]
		eq := bytes.IndexByte(t, '=')
		if eq < 0 {
			return
		}
		name := upper(t[:eq])
		t = t[eq+1:]
		var val []byte
		quoted := false
		j := 0
		for ; j < len(t); j++ {
			c := t[j]
			if c == '"' {
				quoted = !quoted
				continue
			}
			if !quoted && (c == ';' || c == ':') {
				break
			}
			val = append(val, c)
		}
		fn(name, string(val))
		i = j
	}
}

func upper(b []byte) string {
	for _, c := range b {
		if 'a' <= c && c <= 'z' {
			return string(bytes.ToUpper(b))
		}
	}
	return string(b)
}
