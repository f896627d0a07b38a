package driver

import (
	"unicode/utf16"
	"unicode/utf8"
)

// CheckJSONText reports whether data is JSON text that decodes without loss:
// valid UTF-8, and no \u escape that is a lone surrogate. encoding/json
// replaces both silently with U+FFFD, so distinct inputs would alias to one
// stored value (two ids, two texts); callers decoding untrusted JSON reject
// them first. It checks only the text's encoding, not its grammar.
func CheckJSONText(data []byte) error {
	if !utf8.Valid(data) {
		return InvalidArgument("json", "is not valid UTF-8")
	}
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(data) && data[i+1] == 'u' {
				r, ok := hex4(data, i+2)
				if ok && utf16.IsSurrogate(r) {
					// A high surrogate must be followed by an escaped low one.
					lo, okLo := rune(0), false
					if r < 0xDC00 && i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
						lo, okLo = hex4(data, i+8)
					}
					if !okLo || lo < 0xDC00 || lo > 0xDFFF {
						return InvalidArgument("json", "string escape \\u%04X at byte %d is a lone surrogate", r, i)
					}
					i += 6 // the low half is consumed with this pair
				}
			}
			i++ // skip the escaped character
		}
	}
	return nil
}

// hex4 parses the four hex digits at data[at:].
func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
