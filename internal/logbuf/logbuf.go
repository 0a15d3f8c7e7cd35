// Package logbuf is a log destination for tests: a buffer that many goroutines (the app's
// handlers, pollers and simulator) may write to at once while the test reads it.
package logbuf

import (
	"strings"
	"sync"
)

// Buffer collects writes; its zero value is ready to use. It is safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
