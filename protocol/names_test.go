package protocol

import (
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	valid := []string{
		"a.txt",
		"a b",
		"café",
		"😀.png",
		"日本語",
		"a.",
		"a..b",
		"x~y",
		"trailing space ",
		" leading space",
		`quote"inside`,
		"a\u00a0b",   // no-break space: not a control character
		"a\u200bb",   // zero-width space
		"\ufffd",     // the replacement character itself is valid UTF-8
		"\U0010ffff", // the last code point
		strings.Repeat("a", MaxNameLen),
		strings.Repeat("é", MaxNameLen/2) + "a", // 255 bytes in 128 runes
	}
	for _, name := range valid {
		if err := ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", name, err)
		}
	}
	invalid := []string{
		"",
		".",
		"..",
		"...",
		".hidden",
		"./a",
		"a/b",
		"/abs",
		"dir/",
		`a\b`,
		`\`,
		"a\x00b",
		"a\nb",
		"a\rb",
		"a\tb",
		"\x01",
		"\x1f",
		"\x7f",
		"a\u0080b", // C1 control characters
		"\u0085",
		"\u009f",
		strings.Repeat("a", MaxNameLen+1),
		strings.Repeat("é", MaxNameLen/2+1), // 256 bytes in 128 runes
		"\xff",
		"a\xc3",
		"\xed\xa0\x80", // an encoded surrogate
		"\xc0\xaf",     // an overlong '/'
		" ",            // only white space
		"   ",
		"\u00a0",
		" \u3000\u2003", // ideographic and em spaces
	}
	for _, name := range invalid {
		if err := ValidateName(name); err == nil {
			t.Errorf("ValidateName(%q) = nil, want an error", name)
		}
	}
}
