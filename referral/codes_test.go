package referral

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/roster"
)

// Codes come from crypto/rand: twenty referrals to one phone get twenty
// distinct codes in range, and not the run 1000, 1001, … that the smallest
// free code would give.
func TestReplyCodesAreDrawnAtRandom(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	h.svc.pickCode = randomPick
	police := []casefile.Need{casefile.NeedPolice}
	var codes []string
	for range 20 {
		r := h.create(h.openCase(casefile.CaseInput{Needs: police, Consent: map[casefile.Need]bool{casefile.NeedPolice: true}}))
		if len(r) != 1 || r[0].CodePhone != phonePol {
			t.Fatalf("referral = %+v", r)
		}
		codes = append(codes, r[0].ReplyCode)
	}
	sorted := slices.Clone(codes)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(codes) {
		t.Fatalf("a code was handed out twice on one phone: %v", codes)
	}
	for _, c := range codes {
		if len(c) != 4 || c < "1000" || c > "9999" {
			t.Fatalf("code %q out of range", c)
		}
	}
	if codes[0] == "1000" && codes[1] == "1001" && codes[2] == "1002" {
		t.Fatalf("codes are sequential: %v", codes)
	}
}

// The draw covers exactly the free codes: the k-th free one skips every
// code in use or quarantined, and the picker is offered their number.
func TestCodeDrawSkipsCodesInUse(t *testing.T) {
	t.Parallel()
	used := []int{1000, 1002, 1003, 9999}
	for _, tt := range []struct{ k, want int }{{0, 1001}, {1, 1004}, {2, 1005}, {8995, 9998}} {
		if got := nthFree(tt.k, used); got != tt.want {
			t.Errorf("nthFree(%d) = %d, want %d", tt.k, got, tt.want)
		}
	}
	h := newHarness(t, testDirectory)
	var offered []int
	h.svc.pickCode = func(n int) (int, error) { offered = append(offered, n); return n - 1, nil }
	police := []casefile.Need{casefile.NeedPolice}
	a := h.create(h.openCase(casefile.CaseInput{Needs: police, Consent: map[casefile.Need]bool{casefile.NeedPolice: true}}))[0]
	b := h.create(h.openCase(casefile.CaseInput{Needs: police, Consent: map[casefile.Need]bool{casefile.NeedPolice: true}}))[0]
	if a.ReplyCode != "9999" || b.ReplyCode != "9998" || !slices.Equal(offered, []int{9000, 8999}) {
		t.Fatalf("codes %s %s, offered %v; want 9999, 9998 from 9000 then 8999 free codes", a.ReplyCode, b.ReplyCode, offered)
	}
}

// A phone that sends wrong codes is stopped after WithWrongCodeLimit of
// them, counted in PostgreSQL so that two server copies share the count; the
// reply that reaches the limit alerts the supervisor, once; while locked even
// the right code acts on nothing; the next window reads codes again.
func TestWrongCodesLockThePhoneAndAlertTheSupervisor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	h.onCall(roster.Supervisor, phoneSup)
	other := New(h.pool, h.cases, h.inserter, h.rec, h.clk) // a second server copy
	copies := []*Service{h.svc, other}
	reply := func(i int, text string) ReplyOutcome {
		var out ReplyOutcome
		h.inTx(func(tx pgx.Tx) (err error) {
			out, err = copies[i%2].HandleProviderReply(h.ctx, tx, phoneA, text)
			return err
		})
		return out
	}
	r := h.create(h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth},
		Consent: map[casefile.Need]bool{casefile.NeedHealth: true}}))[0]
	if k := h.dispatch(r.ID); k != river.EventKindJobCompleted {
		t.Fatalf("dispatch: %s", k)
	}
	wrong := "OK 2000"
	if r.ReplyCode == "2000" {
		wrong = "OK 3000"
	}
	for i := range 4 {
		if out := reply(i, wrong); out.Result != ReplyUnknownCode {
			t.Fatalf("wrong code %d: %+v", i+1, out)
		}
	}
	if _, alerts := h.rec.snapshot(); len(alerts) != 0 {
		t.Fatalf("alerted before the limit: %+v", alerts)
	}
	if out := reply(4, wrong); out.Result != ReplyCodesLocked {
		t.Fatalf("fifth wrong code: %+v", out)
	}
	if out := reply(5, "OK "+r.ReplyCode); out.Result != ReplyCodesLocked || out.ReferralID != uuid.Nil {
		t.Fatalf("right code while locked: %+v", out)
	}
	if s := h.get(r.ID).Status; s != Notified {
		t.Fatalf("a locked phone's reply moved the referral to %s", s)
	}
	reply(6, wrong)
	_, alerts := h.rec.snapshot()
	if want := []roster.Alert{{Phone: phoneSup, Kind: roster.AlertCodesLocked, Reference: "A"}}; !slices.Equal(alerts, want) {
		t.Fatalf("alerts = %+v, want %+v", alerts, want)
	}
	h.clk.Advance(24*time.Hour + time.Minute)
	if out := reply(7, "OK "+r.ReplyCode); out.Result != ReplyAcknowledged {
		t.Fatalf("right code in the next window: %+v", out)
	}
}

// DrawCode, which staff danger alerts use, skips codes in use and does not
// hand out the smallest free one every time.
func TestDrawCodeIsRandomAndSkipsUsed(t *testing.T) {
	t.Parallel()
	used := []int{1000, 1001, 1002}
	seen := map[int]bool{}
	for range 20 {
		c, err := DrawCode(used)
		if err != nil {
			t.Fatal(err)
		}
		if c < 1003 || c > 9999 {
			t.Fatalf("DrawCode = %d, want a free four-digit code", c)
		}
		seen[c] = true
	}
	if len(seen) < 2 {
		t.Errorf("20 draws gave %d distinct codes: not random", len(seen))
	}
	all := make([]int, 0, 9000)
	for c := 1000; c <= 9999; c++ {
		all = append(all, c)
	}
	if _, err := DrawCode(all); err != ErrNoFreeCode {
		t.Errorf("DrawCode with every code used: %v, want ErrNoFreeCode", err)
	}
}
