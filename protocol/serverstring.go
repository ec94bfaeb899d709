package protocol

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxServerString bounds how much of a string a server chose (an error's
// reason, a mode, a hash) is quoted in a message.
const MaxServerString = 200

// ServerString makes a string a server chose fit to quote on a terminal,
// in a log line, a CSV cell or a report: data, not markup or control.
// Control characters (line breaks, ESC, DEL, C1), the format characters
// that reorder or hide what is written (U+202E, U+200B, ...), the line
// and paragraph separators and invalid UTF-8 are written as Go escapes
// (\r, \x1b, \u202e), and the string is cut at MaxServerString bytes,
// saying how long it was. Printable characters, accents and other scripts
// among them, are left as they are: "file \"x\" not found" stays readable.
func ServerString(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if b.Len() >= MaxServerString {
			fmt.Fprintf(&b, "... (%d bytes in all)", len(s))
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r):
			q := fmt.Sprintf("%+q", string(r))
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports whether r must not be written raw: a control
// character, a format character (category Cf: bidi controls, zero-width
// characters, the BOM), or a line or paragraph separator.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}
