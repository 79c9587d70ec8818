package referral

import "testing"

// TestTransitionMatrix checks every (from, to) pair against the state
// machine written out edge by edge, independently of the table in code.
func TestTransitionMatrix(t *testing.T) {
	t.Parallel()
	allowed := map[[2]Status]bool{
		{Pending, Notified}: true, {Pending, Acknowledged}: true, {Pending, Declined}: true,
		{Pending, Escalated}: true, {Pending, Revoked}: true, {Pending, Expired}: true,
		{Notified, Acknowledged}: true, {Notified, Declined}: true, {Notified, Escalated}: true,
		{Notified, Revoked}: true, {Notified, Expired}: true,
		{Acknowledged, Accepted}: true, {Acknowledged, Declined}: true, {Acknowledged, Revoked}: true,
		{Acknowledged, Expired}: true,
		{Accepted, Completed}:   true, {Accepted, Revoked}: true, {Accepted, Expired}: true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			if got, want := CanTransition(from, to), allowed[[2]Status{from, to}]; got != want {
				t.Errorf("%s → %s: CanTransition = %v, want %v", from, to, got, want)
			}
		}
	}
	for _, final := range []Status{Declined, Completed, Revoked, Expired, Escalated} {
		if final.Open() || len(transitions[final]) != 0 {
			t.Errorf("%s must be final and closed", final)
		}
	}
}

func TestReasonIsACode(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"imminent_danger", "override:child_at_risk", "sms_no", "a"} {
		if checkReason(ok) != nil {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "She said", "two words", "x\n", "Ñandú", string(make([]byte, 65))} {
		if checkReason(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
