package protocol

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// unquoteStrict decodes a JSON string literal (quotes included, as
// json.Valid accepts it) from a request. encoding/json replaces invalid
// UTF-8 and lone surrogates (\ud800) with U+FFFD, so that two different
// names a client sent would name one file; a request's strings are names
// and commands, so such a string is refused instead, as text requests
// refuse invalid UTF-8.
func unquoteStrict(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", errors.New("not a string")
	}
	body := raw[1 : len(raw)-1]
	if !utf8.Valid(body) {
		return "", errors.New("not valid UTF-8")
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c < 0x20 {
			return "", fmt.Errorf("a raw control character %q", c)
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(body) {
			return "", errors.New("a backslash at the end")
		}
		i++
		e := body[i]
		if c := jsonEscapes[e]; c != 0 {
			out = append(out, c)
			continue
		}
		if e != 'u' {
			return "", fmt.Errorf("an invalid escape \\%c", e)
		}
		r, ok := hex4(body[i+1:])
		if !ok {
			return "", errors.New(`a \u escape without 4 hex digits`)
		}
		i += 4
		if utf16.IsSurrogate(r) {
			r2, ok := rune(0), false
			if i+2 < len(body) && body[i+1] == '\\' && body[i+2] == 'u' {
				r2, ok = hex4(body[i+3:])
			}
			pair := utf16.DecodeRune(r, r2)
			if !ok || pair == utf8.RuneError {
				return "", fmt.Errorf(`a lone surrogate \u%04x`, r)
			}
			r = pair
			i += 6
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out), nil
}

// jsonEscapes maps the character after a backslash to what a JSON escape
// of one character stands for; zero for the others (\u has hex digits).
var jsonEscapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hex4 reads the 4 hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, ok := hexValue(b[:4])
	return rune(v), ok
}

// hexValue reads hex digits, any case.
func hexValue(b []byte) (int, bool) {
	v := 0
	for _, h := range b {
		switch {
		case '0' <= h && h <= '9':
			v = v<<4 | int(h-'0')
		case 'a' <= h && h <= 'f':
			v = v<<4 | int(h-'a'+10)
		case 'A' <= h && h <= 'F':
			v = v<<4 | int(h-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
