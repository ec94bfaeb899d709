package protocol

import (
	"strconv"
	"unicode/utf8"
)

// Field is one key and value of a reply object. Replies are built from
// ordered fields, not maps, because clients compare replies byte for byte
// with what Python's json.dumps writes, keys in a fixed order.
//
// Value may be a string, int, int64, uint64, bool, []string or []Field
// (a nested object).
type Field struct {
	Key   string
	Value any
}

// AppendObject appends fields as one JSON object formatted exactly as
// Python's json.dumps formats it with default settings: separators ", "
// and ": ", and every byte outside printable ASCII escaped.
func AppendObject(dst []byte, fields ...Field) []byte {
	dst = append(dst, '{')
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = AppendString(dst, f.Key)
		dst = append(dst, ": "...)
		dst = appendValue(dst, f.Value)
	}
	return append(dst, '}')
}

func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return AppendString(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case uint64:
		return strconv.AppendUint(dst, v, 10)
	case bool:
		return strconv.AppendBool(dst, v)
	case []string:
		dst = append(dst, '[')
		for i, s := range v {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = AppendString(dst, s)
		}
		return append(dst, ']')
	case []Field:
		return AppendObject(dst, v...)
	case nil:
		return append(dst, "null"...)
	default:
		panic("protocol: unsupported JSON value type")
	}
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string the way json.dumps writes it with
// ensure_ascii=True: '"' and '\\' escaped, \n \r \t \b \f by name, other
// bytes outside space..'~' as \uXXXX (UTF-16 surrogate pairs beyond the BMP).
// Invalid UTF-8 is written as \ufffd, as Python cannot hold it in a str.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= ' ' && c <= '~' && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		default:
			if c < utf8.RuneSelf {
				dst = appendU(dst, rune(c))
				break
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r >= 0x10000 {
				r -= 0x10000
				dst = appendU(dst, 0xd800+(r>>10))
				dst = appendU(dst, 0xdc00+(r&0x3ff))
			} else {
				dst = appendU(dst, r)
			}
			i += size
			start = i
			continue
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u',
		hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
