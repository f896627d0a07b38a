package server

import "regexp"

// backendPrefix matches the operation prefixes backends put on their errors
// ("sqlite create session: ", "mongo: get session: "). They help an operator
// reading the log, which keeps the full error; an API client gets the
// message without them, because which store is behind the service is not
// its business and the words mean nothing to it.
var backendPrefix = regexp.MustCompile(`\b(?:sqlite|mongo|memory|rediscache|cache)(?::? [a-z_]+)*: `)

// publicMessage is err's message for an API client.
func publicMessage(err error) string {
	return backendPrefix.ReplaceAllString(err.Error(), "")
}
