package session

// MaxIDBytes is the longest session or agent id accepted, in bytes.
const MaxIDBytes = 256
