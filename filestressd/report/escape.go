package report

import (
	"strings"
	"unicode"
)

// Text from a CSV or a command line (a server mode, an error, a host, a
// label) is data, not markup: these make it so in Markdown, in SVG and in
// file names.

// oneLine replaces line breaks, tabs and other control characters with
// spaces, so that a value cannot start a line of its own.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// mdEscaper escapes what Markdown or the HTML inside it would read:
// emphasis, code, links, tables, headings, tags and entities.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, `|`, `\|`, `#`, `\#`,
	`<`, "&lt;", `>`, "&gt;", `&`, "&amp;", `~`, `\~`, `!`, `\!`,
)

// md is s as literal text in Markdown, on one line.
func md(s string) string { return mdEscaper.Replace(oneLine(s)) }

// code is s, a file name, in a Markdown code span; a name that a span
// would not keep literal (a backtick ends it, a | splits a table's cell
// even inside it) or that holds markup is escaped text instead.
func code(s string) string {
	if strings.ContainsAny(s, "`|<>&\\") || oneLine(s) != s {
		return md(s)
	}
	return "`" + s + "`"
}

// xmlEscaper escapes what XML would read as markup.
var xmlEscaper = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&quot;", `'`, "&#39;")

// xmlText is s as XML character data or an attribute value: control
// characters, which XML 1.0 forbids, become spaces.
func xmlText(s string) string { return xmlEscaper.Replace(oneLine(s)) }

// fileWord is s as part of a file name: letters, digits, '.', '-' and
// '_' kept, anything else a '-'.
func fileWord(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_') {
			return r
		}
		return '-'
	}, s)
}
