package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// rawFormatRune returns the first rune of b that a log viewer would act on
// if written raw (a format character, a line or paragraph separator, a C1
// control, an invalid byte), or -1 if there is none. It is written apart
// from escapeRune on purpose.
func rawFormatRune(b []byte) rune {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return rune(b[0])
		}
		if unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || (r >= 0x80 && r <= 0x9f) {
			return r
		}
		b = b[size:]
	}
	return -1
}

type stringer string

func (s stringer) String() string { return string(s) }

type label string

// TestLogEscape logs client-chosen text in both formats. The text format
// shows the value quoted with one backslash escape per rune; the JSON
// format holds the same escape, backslash included, once decoded (so
// that jq -r and log viewers show it, not the rune). Neither writes the
// rune raw. Newlines and ESC are escaped by slog as before, ordinary
// non-ASCII text is left alone.
func TestLogEscape(t *testing.T) {
	cases := []struct {
		name  string
		value any
		text  string // in the text line
		json  string // the value decoded from the JSON line
	}{
		{"RLO", "invoice\u202efdp.exe", `name="invoice\u202efdp.exe"`, `invoice\u202efdp.exe`},
		{"LRI", "a\u2066b\u2069c", `name="a\u2066b\u2069c"`, `a\u2066b\u2069c`},
		{"ZWSP", "zero\u200bwidth", `name="zero\u200bwidth"`, `zero\u200bwidth`},
		{"BOM", "\ufeffbom.txt", `name="\ufeffbom.txt"`, `\ufeffbom.txt`},
		{"LRM-RLM", "\u200e\u200f", `name="\u200e\u200f"`, `\u200e\u200f`},
		{"soft-hyphen", "soft\u00adhyphen", `name="soft\u00adhyphen"`, `soft\u00adhyphen`},
		{"tag", "flag\U000e0067", `name="flag\U000e0067"`, `flag\U000e0067`},
		{"LS", "line\u2028sep", `name="line\u2028sep"`, `line\u2028sep`},
		{"PS", "para\u2029sep", `name="para\u2029sep"`, `para\u2029sep`},
		{"C1-CSI", "c1\u009b31m", `name="c1\u009b31m"`, `c1\u009b31m`},
		{"invalid-UTF-8", "bad\xff\xfe.txt", `name="bad\xff\xfe.txt"`, `bad\xff\xfe.txt`},
		{"cut-rune", "cut\xe2\x80", `name="cut\xe2\x80"`, `cut\xe2\x80`},
		{"with-space", "my \u202efile", `name="my \u202efile"`, `my \u202efile`},
		{"emoji", "😀 café 中文.txt", `name="😀 café 中文.txt"`, "😀 café 中文.txt"},
		{"plain", "notes.txt", `name=notes.txt`, "notes.txt"},
		{"newline", "a\nb", `name="a\nb"`, "a\nb"},
		{"ESC", "\x1b[31mred", `name="\x1b[31mred"`, "\x1b[31mred"},
		{"error", errors.New("open /srv/a\u202eb: permission denied"), `name="open /srv/a\u202eb: permission denied"`, `open /srv/a\u202eb: permission denied`},
		{"stringer", stringer("s\u200bt"), `name="s\u200bt"`, `s\u200bt`},
		{"string-kind", label("l\u2060l"), `name="l\u2060l"`, `l\u2060l`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, format := range []string{"text", "json"} {
				var buf bytes.Buffer
				newLogger(format, &buf).Info("request", "name", tc.value)
				line := buf.Bytes()
				if r := rawFormatRune(line); r >= 0 {
					t.Errorf("%s: raw %U in %q", format, r, line)
				}
				if bytes.Count(line, []byte("\n")) != 1 {
					t.Errorf("%s: not one line: %q", format, line)
				}
				if format == "text" {
					if !bytes.Contains(line, []byte(" "+tc.text+"\n")) {
						t.Errorf("text: %q\n want %s at its end", line, tc.text)
					}
					continue
				}
				var rec struct{ Name string }
				if err := json.Unmarshal(line, &rec); err != nil {
					t.Fatalf("json: %v: %q", err, line)
				}
				if rec.Name != tc.json {
					t.Errorf("json: %q\n name decodes to %q, want %q", line, rec.Name, tc.json)
				}
			}
		})
	}
}

// TestLogEscapeAllRunes checks every rune escapeRune selects, and every
// Cf, Zl and Zp rune, alone and next to a space, in both formats: the
// text handler's own quoting must keep covering what logescape.go leaves
// to it.
func TestLogEscapeAllRunes(t *testing.T) {
	var text, js bytes.Buffer
	tl, jl := newLogger("text", &text), newLogger("json", &js)
	n := 0
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if !escapeRune(r) && !unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			continue
		}
		if !escapeRune(r) {
			t.Errorf("escapeRune(%U) is false", r)
		}
		n++
		for _, v := range []string{string(r), "a " + string(r)} {
			text.Reset()
			js.Reset()
			tl.Info("m", "v", v)
			jl.Info("m", "v", v)
			for _, line := range [][]byte{text.Bytes(), js.Bytes()} {
				if got := rawFormatRune(line); got >= 0 {
					t.Fatalf("raw %U in %q", got, line)
				}
			}
			want := fmt.Sprintf(`\u%04x`, r)
			if r > 0xffff {
				want = fmt.Sprintf(`\U%08x`, r)
			}
			if !strings.Contains(text.String(), want) || strings.Contains(text.String(), `\\`) {
				t.Fatalf("text: %q; want one %s", text.String(), want)
			}
			var rec struct{ V string }
			if err := json.Unmarshal(js.Bytes(), &rec); err != nil || !strings.HasSuffix(rec.V, want) {
				t.Fatalf("json: %q decodes to %q (%v); want %s at its end", js.String(), rec.V, err, want)
			}
		}
	}
	if n < 150 {
		t.Errorf("only %d runes checked", n)
	}
}

// TestLogEscapeNoAlloc: a value with nothing to escape costs no
// allocation, nor does a record's level.
func TestLogEscapeNoAlloc(t *testing.T) {
	attrs := []slog.Attr{
		slog.String("name", "notes-2024.txt"),
		slog.String("name", "😀 café 中文 résumé.pdf"),
		slog.Any(slog.LevelKey, slog.LevelWarn),
		slog.Int("n", 3),
	}
	for _, a := range attrs {
		if n := testing.AllocsPerRun(100, func() { escapeFormatAttr(nil, a) }); n != 0 {
			t.Errorf("%v: %v allocations", a, n)
		}
	}
	if s := "😀 café"; escapeFormat(s) != s || needsEscape(s) {
		t.Errorf("%q changed", s)
	}
}

// TestLogEscapeJournal: under journald, the JSON format both drops the
// time and escapes, behind the priority prefix.
func TestLogEscapeJournal(t *testing.T) {
	f, st := journalFile(t)
	t.Setenv(envJournalStream, journalStreamID(st))
	for format, want := range map[string]string{"text": `name="a\u202eb"`, "json": `"name":"a\\u202eb"`} {
		rewind(t, f)
		newLogger(format, f).Warn("request failed", "name", "a\u202eb")
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if r := rawFormatRune(b); r >= 0 || !bytes.HasPrefix(b, []byte("<4>")) ||
			bytes.Contains(b, []byte("time")) || !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s: %q; want a <4> prefix, no time, %s", format, b, want)
		}
	}
}
