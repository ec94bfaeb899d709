package main

import (
	"encoding"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Log values carry text that clients choose: file names above all, and
// the errors that quote them. A name with U+202E (RIGHT-TO-LEFT OVERRIDE)
// or U+2066 (LEFT-TO-RIGHT ISOLATE) makes a log viewer show the rest of
// the line reordered, a zero-width space or a BOM hides text, so that
// "invoice\u202efdp.exe" reads as "invoiceexe.pdf" and a name can pass for
// another. Such runes must be shown as escapes, never written raw.
//
// -log-format text needs no help: slog.TextHandler quotes any value with
// a rune that is not printable (unicode.IsPrint) or is a space, which
// takes in every rune escapeFormatAttr escapes, and writes it with
// strconv.Quote, which escapes them as \u202e and invalid bytes as \xff.
// Escaping before it would only double the backslash inside the quotes
// ("a \\u202e"). slog.JSONHandler, however, writes them raw (escaping
// only control bytes below 0x20, U+2028 and U+2029), and JSON escapes
// would not do: jq -r and log viewers decode them back into the raw rune.
// So for JSON the value itself is rewritten, and decodes to the visible
// escape "\u202e" (with its backslash).

// escapeFormatAttr is a slog ReplaceAttr that replaces, in string values
// and in values that are logged as strings (errors, fmt.Stringers,
// encoding.TextMarshalers, types whose kind is string), every rune
// escapeRune selects and every invalid UTF-8 byte by a backslash escape.
// Composite values (structs, slices, maps) are not looked into:
// fileserverd logs none.
func escapeFormatAttr(groups []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); needsEscape(s) {
			a.Value = slog.StringValue(escapeFormat(s))
		}
	case slog.KindAny:
		if s, ok := anyString(a.Value.Any()); ok && needsEscape(s) {
			a.Value = slog.StringValue(escapeFormat(s))
		}
	}
	return a
}

// anyString returns the text that slog's handlers log for v when that is
// a string, as JSONHandler takes it.
func anyString(v any) (string, bool) {
	switch v := v.(type) {
	case nil, slog.Level, []byte:
		// Ours, or (for []byte) written in base64.
		return "", false
	case error:
		return v.Error(), true
	case encoding.TextMarshaler:
		b, err := v.MarshalText()
		return string(b), err == nil
	case fmt.Stringer:
		return v.String(), true
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return rv.String(), true
	}
	return "", false
}

// escapeRune reports whether r must not reach a log raw: format
// characters (category Cf: bidi controls U+202A-U+202E, U+2066-U+2069,
// U+200E, U+200F, U+061C, zero-width U+200B-U+200D, U+2060, U+FEFF, soft
// hyphen U+00AD, ...), the line and paragraph separators U+2028 and
// U+2029, and the C1 controls (U+0080-U+009F: U+0085 is a line break,
// U+009B starts an escape sequence on some terminals), which
// JSONHandler leaves raw. Controls below 0x20 are left to the handlers,
// which escape them ("\n", "\u001b"), and so is DEL, which hides
// nothing (and which the text handler writes raw).
func escapeRune(r rune) bool {
	switch {
	case r < 0x80:
		return false
	case r <= 0x9f, r == '\u2028', r == '\u2029':
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// needsEscape reports whether escapeFormat would change s. It does not
// allocate.
func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || escapeRune(r) {
			return true
		}
		i += size
	}
	return false
}

// escapeFormat replaces in s every rune escapeRune selects by \u followed
// by 4 lower-case hex digits (\U and 8 above U+FFFF), and every invalid
// UTF-8 byte by \x and 2, as strconv.Quote writes them. Other text,
// accents, CJK and emoji among it, stays as it is.
func escapeFormat(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&0xf])
		case escapeRune(r):
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// chainReplace returns a ReplaceAttr that applies f, then g; either may be
// nil.
func chainReplace(f, g func([]string, slog.Attr) slog.Attr) func([]string, slog.Attr) slog.Attr {
	if f == nil {
		return g
	}
	if g == nil {
		return f
	}
	return func(groups []string, a slog.Attr) slog.Attr { return g(groups, f(groups, a)) }
}
