package hotline

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/amparo/amparo/hotline/internal/hotlinedb"
)

// The statements the webhook queues by hand get their arguments from
// queryArgs, in field order: each Params struct must have one field per
// placeholder of its query, as sqlc generates it.
func TestPipelinedParamsMatchTheirPlaceholders(t *testing.T) {
	t.Parallel()
	placeholder := regexp.MustCompile(`\$([0-9]+)`)
	for _, c := range []struct {
		sql    string
		params any
	}{
		{hotlinedb.InsertInbound, hotlinedb.InsertInboundParams{}},
		{hotlinedb.Admit, hotlinedb.AdmitParams{}},
		{hotlinedb.UpdateConversation, hotlinedb.UpdateConversationParams{}},
		{hotlinedb.InsertConversation, hotlinedb.InsertConversationParams{}},
	} {
		highest := 0
		for _, m := range placeholder.FindAllStringSubmatch(c.sql, -1) {
			n, _ := strconv.Atoi(m[1])
			highest = max(highest, n)
		}
		if got := len(queryArgs(c.params)); got != highest {
			t.Errorf("%T gives %d arguments; its query has %d placeholders", c.params, got, highest)
		}
	}
}
