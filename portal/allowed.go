package portal

import "github.com/amparo/amparo/casefile"

// Allowed reports whether the reader may do a, an action on no case; the
// layout offers only the pages Decide lets her open.
func (v view) Allowed(a Action) bool { return Decide(v.User, a, nil) == nil }

// CaseAllowed reports whether the reader's role may do a on a case she may
// open. Pages that ask are shown only for such a case, so the scope is one
// that is always hers and only the role decides.
func (v view) CaseAllowed(a Action) bool {
	return Decide(v.User, a, &casefile.Scope{AssignedTo: v.User.ID}) == nil
}
