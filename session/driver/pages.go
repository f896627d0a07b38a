package driver

import "github.com/sessionkit/sessionkit/session"

// ValidateMessagePages checks the pages of a ListMessagePages call.
func ValidateMessagePages(pages []session.MessagePage) error {
	if len(pages) == 0 {
		return InvalidArgument("pages", "none asked for")
	}
	for i, p := range pages {
		if p.Offset < 0 {
			return InvalidArgument("offset", "page %d: %d is negative", i, p.Offset)
		}
	}
	return nil
}
