package carrier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// journalEntry is one line of the journal: a message, or a later delivery
// status of one.
type journalEntry struct {
	Number  string   `json:"number"`
	Message *Message `json:"message,omitempty"`
	SID     string   `json:"sid,omitempty"`
	Status  string   `json:"status,omitempty"`
}

// Journal makes the carrier remember across restarts, as a phone does: it
// replays the messages kept in the file at path (JSON lines, created 0600),
// then appends every new message and delivery status to it. The file is
// plain text, so only `amparo demo`, whose numbers are fictional, uses it.
// A last line cut short by a crash is dropped. Call Journal before the
// carrier is used; log reports a write that failed.
func (c *Carrier) Journal(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("carrier: journal: %w", err)
	}
	data, err := io.ReadAll(f)
	if err == nil {
		data = data[:bytes.LastIndexByte(data, '\n')+1]
		err = f.Truncate(int64(len(data)))
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("carrier: journal: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e journalEntry
		if err := json.Unmarshal(line, &e); err != nil {
			f.Close()
			return fmt.Errorf("carrier: journal %s, line %d: %w", path, i+1, err)
		}
		if e.Message != nil {
			c.threads[e.Number] = append(c.threads[e.Number], *e.Message)
		} else {
			c.applyStatus(e.Number, e.SID, e.Status)
		}
	}
	c.journal, c.log = f, log
	return nil
}

// remember appends e to the journal, if any. The caller holds c.mu, so lines
// are in the order the changes were made.
func (c *Carrier) remember(e journalEntry) {
	if c.journal == nil {
		return
	}
	line, err := json.Marshal(e)
	if err == nil {
		_, err = c.journal.Write(append(line, '\n'))
	}
	if err != nil && c.log != nil {
		c.log.Warn("carrier: journal write failed; the demo phone will not show this after a restart", "err", err)
	}
}
